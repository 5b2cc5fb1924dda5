"""Shared by the action tests: a settable clock, a ledger aimed at a loopback receiver, a case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bastion.act.ledger import ActionLedger
from bastion.act.webhook import WebhookAction
from bastion.audit import AuditLog
from bastion.storage.models import CaseRow, ContentRow, MatchRow
from tests.act.test_webhook import SECRET


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def ledger_for(
    audit: AuditLog,
    url: str | None,
    clock: Clock,
    *,
    max_attempts: int = 8,
    timeout: float = 5.0,
) -> ActionLedger:
    """A ledger delivering to ``url`` on loopback (one HTTP request per attempt), no jitter."""
    webhook = (
        WebhookAction(url, SECRET, allow_private=True, retries=0, backoff=0.0, timeout=timeout)
        if url
        else None
    )
    return ActionLedger(
        audit,
        webhook,
        max_attempts=max_attempts,
        backoff_initial=30.0,
        backoff_max=600.0,
        clock=clock,
        jitter=lambda: 0.0,
    )


def make_case(session: Session, *, language: str | None = "en", with_matches: bool = False) -> int:
    content_id = None
    if with_matches:
        content = ContentRow(kind="image", source="upload", name="upload.jpg")
        session.add(content)
        session.flush()
        content_id = content.id
        session.add(
            MatchRow(
                content_id=content.id,
                bank_entry_id=None,
                bank_name="tvec-test",
                signal_type="pdq",
                distance=4.0,
                threshold=31.0,
            )
        )
    case = CaseRow(
        kind="match",
        title="a match to review",
        language=language,
        content_id=content_id,
        account_ref="acct-42",
        bank_name="tvec-test",
        labels=["tvec:C1"],
    )
    session.add(case)
    session.flush()
    return case.id
