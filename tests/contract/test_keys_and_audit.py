"""API keys and the audit chain, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bastion.accounts.keys import require_scope
from bastion.errors import Forbidden, InvalidInput, KeyNotFound, Unauthorized
from bastion.runtime import Bastion
from bastion.storage.models import AuditEventRow


def test_keys_authenticate_with_scopes_and_can_be_revoked(bastion: Bastion) -> None:
    with bastion.db.session() as s:
        created = bastion.keys.create(s, name="platform", scopes=["scan", "banks:read"], actor="t")
    assert created.secret.startswith(f"bst_{created.info.prefix}_")
    with bastion.db.session() as s:
        info = bastion.keys.authenticate(s, created.secret)
        assert info.scopes == ["banks:read", "scan"] and info.last_used_at is not None
        require_scope(info, "scan")
        with pytest.raises(Forbidden):
            require_scope(info, "banks:write")
        for wrong in ["", "nonsense", created.secret + "x", created.secret[:-1], "bst__x"]:
            with pytest.raises(Unauthorized):
                bastion.keys.authenticate(s, wrong)
    with bastion.db.session() as s:
        bastion.keys.revoke(s, created.info.prefix, actor="t")
        with pytest.raises(Unauthorized):
            bastion.keys.authenticate(s, created.secret)
        with pytest.raises(KeyNotFound):
            bastion.keys.revoke(s, "00000000", actor="t")
        assert bastion.keys.list(s) == []
        assert [e.action for e in bastion.audit.list(s)] == ["key.revoke", "key.create"]
        # The secret never reaches the audit log.
        assert all(created.secret not in str(e.details) for e in bastion.audit.list(s))


def test_expired_keys_and_bad_scopes_are_refused(bastion: Bastion) -> None:
    with bastion.db.session() as s:
        past = datetime.now(UTC) - timedelta(minutes=1)
        old = bastion.keys.create(s, name="old", scopes=["admin"], actor="t", expires_at=past)
        with pytest.raises(InvalidInput):
            bastion.keys.create(s, name="x", scopes=["root"], actor="t")
        with pytest.raises(InvalidInput):
            bastion.keys.create(s, name="x", scopes=[], actor="t")
    with bastion.db.session() as s, pytest.raises(Unauthorized):
        bastion.keys.authenticate(s, old.secret)


def test_audit_chain_detects_tampering(bastion: Bastion) -> None:
    with bastion.db.session() as s:
        for name in ["a", "b", "c"]:
            bastion.banks.create(s, name=name, actor="t")
    with bastion.db.session() as s:
        report = bastion.audit.verify(s)
        assert report.intact and report.events_checked == 3
        second = bastion.audit.list(s)[1]
        s.execute(
            update(AuditEventRow).where(AuditEventRow.id == second.id).values(actor="mallory")
        )
    with bastion.db.session() as s:
        report = bastion.audit.verify(s)
        assert not report.intact and report.first_broken_id == second.id
