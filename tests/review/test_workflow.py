"""Scan results through the verdict policy into cases, and decisions into platform actions."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from bastion.banks.from_media import entries_from_extraction
from bastion.demo.media import make_photo
from bastion.review.intake import with_verdict
from bastion.runtime import Bastion
from bastion.settings import Settings
from bastion.signals.extract import extract_signals

ROOT = Path(__file__).resolve().parents[2]


def _bank(bastion: Bastion, bank: str, photo: bytes, **options: str) -> None:
    extraction = extract_signals(photo, filename="banked.jpg", for_bank=True)
    entries, _ = entries_from_extraction(extraction, source="test")
    with bastion.db.session() as session:
        bastion.banks.create(session, name=bank, actor="test", **options)  # type: ignore[arg-type]
        bastion.banks.add_entries(session, bank, entries, actor="test")


def _recompressed(photo: bytes) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(photo)).save(out, format="JPEG", quality=70)
    return out.getvalue()


def _scan(bastion: Bastion, data: bytes) -> tuple[dict[str, object], int | None]:
    result = with_verdict(bastion, bastion.scanner.scan_bytes(data, name="post.jpg"))
    assert result.verdict is not None
    return result.verdict, result.case_id


def test_a_near_exact_match_in_a_trusted_bank_is_acted_on_and_on_record(
    bastion: Bastion,
) -> None:
    photo = make_photo(901)
    _bank(bastion, "attack-imagery", photo, severity="critical")
    verdict, case_id = _scan(bastion, _recompressed(photo))
    assert verdict["action"] == "act" and case_id is not None
    with bastion.db.session() as session:
        case = bastion.cases.get(session, case_id)
        assert case.status == "closed" and case.verdict == "act" and case.reasons
        [decision] = bastion.decisions.history(session, case_id)
        assert (decision.outcome, decision.decided_by) == ("confirm", "system:policy")
        [action] = bastion.actions.list(session, case_id=case_id)
    assert action.event == "case.decided" and action.payload["action"] == "remove"
    assert action.idempotency_key == f"decision:{decision.id}"


def test_a_partner_bank_match_opens_a_review_case_and_the_decision_becomes_an_action(
    bastion: Bastion,
) -> None:
    photo = make_photo(902)
    _bank(bastion, "partner-list", photo, source="partner")
    verdict, case_id = _scan(bastion, photo)
    assert verdict["action"] == "review" and case_id is not None
    with bastion.db.session() as session:
        case = bastion.cases.get(session, case_id)
        assert case.status == "open" and case.group_key == f"entry:{case.entry_id}"
        assert bastion.actions.list(session, case_id=case_id) == []
        decision = bastion.workbench.decide(
            session,
            case_id,
            outcome="false_positive",
            actor="user:amira",
            expected_version=case.version,
            rationale="Satire account, not propaganda.",
        )
        [action] = bastion.actions.list(session, case_id=case_id)
    assert action.payload["action"] == "keep" and action.decision_id == decision.id


def test_an_appeal_that_reverses_a_removal_asks_the_platform_to_restore(
    bastion: Bastion,
) -> None:
    photo = make_photo(903)
    _bank(bastion, "partner-list-2", photo, source="partner")
    _, case_id = _scan(bastion, photo)
    assert case_id is not None
    with bastion.db.session() as session:
        case = bastion.cases.get(session, case_id)
        bastion.workbench.decide(
            session, case_id, outcome="confirm", actor="user:amira", expected_version=case.version
        )
    with bastion.db.session() as session:
        bastion.decisions.appeal(
            session, case_id, complaint="It is news.", submitted_by="u-1", actor="key:platform"
        )
    with bastion.db.session() as session:
        case = bastion.cases.get(session, case_id)
        bastion.workbench.decide(
            session,
            case_id,
            outcome="false_positive",
            actor="user:ben",
            expected_version=case.version,
        )
        actions = bastion.actions.list(session, case_id=case_id)
    assert [a.payload["action"] for a in actions] == ["restore", "remove"]  # newest first


def test_a_threat_to_life_is_escalated_and_an_unrelated_item_opens_nothing(
    bastion: Bastion,
) -> None:
    photo = make_photo(904)
    _bank(bastion, "threats", photo, source="partner")
    with bastion.db.session() as session:
        bastion.banks.update(session, "threats", actor="test", labels=["tvec2"])
    verdict, case_id = _scan(bastion, photo)
    assert verdict["escalate"] is True and verdict["priority"] == 100 and case_id is not None
    with bastion.db.session() as session:
        assert bastion.escalations.get(session, case_id) is not None
    nothing, no_case = _scan(bastion, make_photo(905))
    assert nothing["action"] == "none" and no_case is None


def test_a_removal_redirects_the_user_to_a_resource_in_their_language(
    settings: Settings, tmp_path: Path
) -> None:
    configured = settings.model_copy(
        update={"redirect_resources": ROOT / "docs/examples/redirect-resources.json"}
    )
    app = Bastion.from_settings(configured)
    try:
        photo = make_photo(906)
        _bank(app, "partner-list-3", photo, source="partner")
        _, case_id = _scan(app, photo)
        assert case_id is not None
        with app.db.session() as session:
            case = app.cases.get(session, case_id)
            app.workbench.decide(
                session, case_id, outcome="confirm", actor="user:a", expected_version=case.version
            )
            actions = app.actions.list(session, case_id=case_id)
    finally:
        app.close()
    redirect = next(a for a in actions if a.kind == "redirect")
    assert redirect.payload["resource"]["url"].startswith("https://example.org/")
