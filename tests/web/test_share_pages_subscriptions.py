"""The subscription and feedback actions of the sharing pages: subscribe, enable, disable, poll
now, delete, and queue a sighting or a dispute for an entry that came from a partner.

The first tests drive the pages against a recording stand-in for ``Bastion.subscriptions`` (what
the pages pass on, and how they show answers and refusals); the last ones use the real service
(:mod:`bastion.share.subscriptions`) and are skipped until it is there.
"""

from __future__ import annotations

import secrets
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.banks.records import NewEntry
from bastion.errors import InvalidInput, RemoteUnavailable
from bastion.share.apply import PollReport
from bastion.storage.share_models import FeedbackRow, SubscriptionRow

from .conftest import WebSite, csrf_of


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _bank_and_partner(site: WebSite) -> tuple[str, int, str]:
    """A partner, and a bank with one entry its feed brought (added by ``partner:<name>``,
    carrying the partner's indicator id): bank, entry id, partner."""
    bank, partner = _name("bank"), _name("partner")
    with site.bastion.db.session() as session:
        site.bastion.banks.create(session, name=bank, actor="test", source="partner")
        site.bastion.partners.create(
            session, name=partner, kind="bastion", actor="test", url="http://127.0.0.1:9/taxii2/"
        )
        entry = site.bastion.banks.add_entries(
            session,
            bank,
            [
                NewEntry(
                    "pdq",
                    secrets.token_hex(32),
                    external_id=f"indicator--{uuid.uuid4()}",
                    added_from="taxii:http://127.0.0.1:9/taxii2/collections/remote-2/",
                )
            ],
            actor=f"partner:{partner}",
        ).added[0]
    return bank, entry.id, partner


def _post(client: httpx.Client, page: str, action: str, data: dict[str, object]) -> httpx.Response:
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf": token, **data})


@dataclass
class Recorder:
    """Stands in for the subscriptions service: records calls, refuses what it is told to."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refuse: Exception | None = None

    def _call(self, name: str, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))
        if self.refuse is not None:
            raise self.refuse

    def create(self, session: Session, **kwargs: Any) -> None:
        self._call("create", **kwargs)

    def update(self, session: Session, id: int, **kwargs: Any) -> None:
        self._call("update", id=id, **kwargs)

    def delete(self, session: Session, id: int, actor: str) -> None:
        self._call("delete", id=id, actor=actor)

    def poll(self, subscription_id: int, *, actor: str) -> PollReport:
        self._call("poll", id=subscription_id, actor=actor)
        return PollReport(subscription_id, partner="p", objects=5, added=4)

    def queue_feedback(self, session: Session, **kwargs: Any) -> object:
        self._call("queue_feedback", **kwargs)
        return object()  # the service answers None for an entry no partner's feed brought


@pytest.fixture
def recorder(site: WebSite, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    fake = Recorder()
    monkeypatch.setattr(site.bastion, "subscriptions", fake)
    monkeypatch.setattr(site.bastion, "feedback", fake)
    return fake


def test_the_subscribe_form_passes_what_was_typed(site: WebSite, recorder: Recorder) -> None:
    bank, _, partner = _bank_and_partner(site)
    analyst = site.user("analyst")
    page = "/ui/sharing/subscriptions"
    with closing(site.login(analyst)) as client:
        made = _post(
            client,
            page,
            page,
            {
                "partner": partner,
                "bank": bank,
                "remote_collection": " 91a7b528-80eb-42ed-a74d-c6fbd5a26116 ",
                "interval_seconds": "600",
                "require_signature": "yes",
            },
        )
        assert made.status_code == 303 and made.headers["location"] == f"{page}?done=created"
        for interval in ("soon", "5", "99999999"):
            bad = _post(
                client,
                page,
                page,
                {
                    "partner": partner,
                    "bank": bank,
                    "remote_collection": "c",
                    "interval_seconds": interval,
                },
            )
            assert bad.status_code == 400 and "interval" in bad.text
            assert 'value="c"' in bad.text  # the form again, as typed
        empty = _post(client, page, page, {"partner": partner, "bank": bank})
        assert empty.status_code == 400 and "remote collection" in empty.text
        recorder.refuse = InvalidInput("bank is TLP:RED")
        refused = _post(
            client, page, page, {"partner": partner, "bank": bank, "remote_collection": "c"}
        )
        assert refused.status_code == 400 and "bank is TLP:RED" in refused.text
    name, call = recorder.calls[0]
    assert name == "create" and call == {
        "partner": partner,
        "bank": bank,
        "remote_collection": "91a7b528-80eb-42ed-a74d-c6fbd5a26116",
        "api_root": "",
        "interval_seconds": 600,
        "require_signature": True,
        "actor": f"user:{analyst}",
    }
    assert len(recorder.calls) == 2  # nothing reached the service for the refused forms


def test_enable_disable_delete_and_poll_now(site: WebSite, recorder: Recorder) -> None:
    page = "/ui/sharing/subscriptions"
    analyst = site.user("analyst")
    with closing(site.login(analyst)) as client:
        for action, expected in (("disable", "disabled"), ("enable", "enabled")):
            done = _post(client, page, f"{page}/7/{action}", {})
            assert done.status_code == 303 and done.headers["location"] == f"{page}?done={expected}"
        kept = _post(client, page, f"{page}/7/delete", {})
        assert kept.status_code == 400 and "tick the box" in kept.text
        deleted = _post(client, page, f"{page}/7/delete", {"confirm": "yes"})
        assert deleted.status_code == 303
        polled = _post(client, page, f"{page}/7/poll", {})
        assert polled.status_code == 200 and 'id="poll-report"' in polled.text
        report = polled.text.split('id="poll-report"')[1].split("</section>")[0]
        assert "<dt>objects</dt><dd>5</dd>" in report and "<dt>added</dt><dd>4</dd>" in report
        unknown = _post(client, page, f"{page}/7/explode", {})
        assert unknown.status_code == 400
        recorder.refuse = RemoteUnavailable("connection refused")
        failed = _post(client, page, f"{page}/7/poll", {})
        assert failed.status_code == 502 and "remote_unavailable" in failed.text
    actor = f"user:{analyst}"
    assert recorder.calls[:4] == [
        ("update", {"id": 7, "enabled": False, "actor": actor}),
        ("update", {"id": 7, "enabled": True, "actor": actor}),
        ("delete", {"id": 7, "actor": actor}),
        ("poll", {"id": 7, "actor": actor}),
    ]


def test_sending_a_sighting_or_a_dispute(site: WebSite, recorder: Recorder) -> None:
    _, entry_id, _ = _bank_and_partner(site)
    page = f"/ui/sharing/feedback?entry={entry_id}"
    analyst = site.user("analyst")
    with closing(site.login(analyst)) as client:
        sent = _post(
            client,
            page,
            "/ui/sharing/feedback",
            {"entry_id": entry_id, "kind": "sighting", "count": "3"},
        )
        assert sent.status_code == 303 and sent.headers["location"] == f"{page}&done=queued"
        disputed = _post(
            client,
            page,
            "/ui/sharing/feedback",
            {
                "entry_id": entry_id,
                "kind": "opinion",
                "opinion": "strongly-disagree",
                "explanation": "a news report\r\nnot propaganda",
            },
        )
        assert disputed.status_code == 303
        for data in (
            {"entry_id": entry_id, "kind": "rumour"},
            {"entry_id": entry_id, "kind": "opinion", "opinion": "furious"},
            {"entry_id": entry_id, "kind": "sighting", "count": "-2"},
            {"entry_id": entry_id, "kind": "sighting", "explanation": "x" * 2001},
            {"entry_id": "abc", "kind": "sighting"},
        ):
            bad = _post(client, page, "/ui/sharing/feedback", data)
            assert bad.status_code == 400 and "invalid_input" in bad.text, data
    actor = f"user:{analyst}"
    assert recorder.calls == [
        (
            "queue_feedback",
            {
                "entry_id": entry_id,
                "kind": "sighting",
                "actor": actor,
                "count": 3,
                "opinion": "",
                "explanation": "",
            },
        ),
        (
            "queue_feedback",
            {
                "entry_id": entry_id,
                "kind": "opinion",
                "actor": actor,
                "count": 1,
                "opinion": "strongly-disagree",
                "explanation": "a news report\nnot propaganda",
            },
        ),
    ]


# --- with the real service -----------------------------------------------------------------


def test_a_subscription_made_on_the_page_is_stored_polled_and_deleted(site: WebSite) -> None:
    bank, _, partner = _bank_and_partner(site)
    page = "/ui/sharing/subscriptions"
    with closing(site.login(site.user("analyst"))) as client:
        made = _post(
            client,
            page,
            page,
            {
                "partner": partner,
                "bank": bank,
                "remote_collection": "remote-1",
                "interval_seconds": "300",
            },
        )
        assert made.status_code == 303, made.text
        with site.bastion.db.session() as session:
            row = session.scalars(
                select(SubscriptionRow).where(SubscriptionRow.remote_collection == "remote-1")
            ).one()
            sub_id = row.id
            assert row.interval_seconds == 300 and row.enabled
        listed = client.get(page).text
        assert f'id="subscription-{sub_id}"' in listed and partner in listed
        disabled = _post(client, page, f"{page}/{sub_id}/disable", {})
        assert disabled.status_code == 303
        # Polling an unreachable partner answers with the page, never a 500.
        polled = _post(client, page, f"{page}/{sub_id}/poll", {})
        assert polled.status_code < 500, polled.text
        deleted = _post(client, page, f"{page}/{sub_id}/delete", {"confirm": "yes"})
        assert deleted.status_code == 303
    with site.bastion.db.session() as session:
        assert session.get(SubscriptionRow, sub_id) is None


def test_a_queued_dispute_is_shown_as_pending(site: WebSite) -> None:
    bank, entry_id, partner = _bank_and_partner(site)
    own, own_entry, _ = _bank_and_partner(site)
    with site.bastion.db.session() as session:
        # An entry of our own: nobody to tell.
        own_entry = (
            site.bastion.banks.add_entries(
                session, own, [NewEntry("pdq", secrets.token_hex(32))], actor="user:curator"
            )
            .added[0]
            .id
        )
    with closing(site.login(site.user("admin"))) as client:
        made = _post(
            client,
            "/ui/sharing/subscriptions",
            "/ui/sharing/subscriptions",
            {"partner": partner, "bank": bank, "remote_collection": "remote-2"},
        )
        assert made.status_code == 303, made.text
        page = f"/ui/sharing/feedback?entry={entry_id}"
        assert "Send feedback" in client.get(f"/ui/banks/{bank}").text
        sent = _post(
            client,
            page,
            "/ui/sharing/feedback",
            {"entry_id": entry_id, "kind": "opinion", "opinion": "disagree"},
        )
        assert sent.status_code == 303, sent.text
        shown = client.get(page).text.split('id="feedback-out"')[1].split("</table>")[0]
        assert "dispute (disagree)" in shown and partner in shown and "pending" in shown
        nobody = _post(
            client,
            f"/ui/sharing/feedback?entry={own_entry}",
            "/ui/sharing/feedback",
            {"entry_id": own_entry, "kind": "sighting"},
        )
        assert nobody.status_code == 400 and "no one to tell" in nobody.text
    with site.bastion.db.session() as session:
        row = session.scalars(
            select(FeedbackRow).where(
                FeedbackRow.direction == "out", FeedbackRow.entry_id == entry_id
            )
        ).one()
    assert row.status == "pending" and row.opinion == "disagree"
