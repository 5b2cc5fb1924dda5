"""Feedback to partners: sightings ("we have seen this too") and opinions (disputes) about the
entries their feeds brought, queued in the database and delivered through the feed's client.

The STIX object's id is derived from (this instance, the indicator, the time queued), so a
delivery repeated after a crash, or by two replicas at once, posts the same object again and the
partner keeps one: delivery needs no claim.
"""

from __future__ import annotations

import builtins
import logging
from typing import Any, Final, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.errors import BastionError, EntryNotFound, InvalidInput, NotFound
from bastion.share import stix
from bastion.share.feeds import Feedback
from bastion.share.instance import this_instance
from bastion.share.subscriptions import Subscriptions
from bastion.storage.db import Database
from bastion.storage.models import BankEntryRow, BankRow, utcnow
from bastion.storage.share_models import FeedbackRow, PartnerRow, SubscriptionRow

log = logging.getLogger(__name__)

KINDS: Final = ("sighting", "opinion")
OPINIONS: Final = stix.OPINIONS  # the STIX 2.1 opinion vocabulary
MAX_EXPLANATION: Final = 2000


def feedback_record(row: FeedbackRow, bank: str | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "direction": row.direction,
        "kind": row.kind,
        "stix_id": row.stix_id,
        "indicator_id": row.indicator_id,
        "entry_id": row.entry_id,
        "bank": bank,
        "partner": row.partner_name,
        "opinion": row.opinion or None,
        "count": row.count,
        "status": row.status,
        "error": row.error or None,
        "created_at": row.created_at.isoformat(),
        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
    }


class FeedbackQueue:
    """Queue feedback about partner-fed entries, deliver it, and list feedback both ways."""

    def __init__(self, db: Database, audit: AuditLog, subscriptions: Subscriptions) -> None:
        self._db = db
        self._audit = audit
        self._subscriptions = subscriptions

    def _subscription_of(
        self, session: Session, entry: BankEntryRow
    ) -> tuple[SubscriptionRow, PartnerRow] | None:
        """The subscription that brought ``entry``: its partner (``partner:<name>``) and bank,
        and, when that partner feeds the bank from several collections, its provenance."""
        if not entry.added_by.startswith("partner:"):
            return None
        partner = session.scalar(
            select(PartnerRow).where(PartnerRow.name == entry.added_by.removeprefix("partner:"))
        )
        if partner is None:
            return None
        candidates = list(
            session.scalars(
                select(SubscriptionRow)
                .where(
                    SubscriptionRow.partner_id == partner.id,
                    SubscriptionRow.bank_id == entry.bank_id,
                )
                .order_by(SubscriptionRow.id)
            )
        )
        for candidate in candidates:
            if candidate.remote_collection and entry.added_from.endswith(
                f"/collections/{candidate.remote_collection}/"
            ):
                return candidate, partner
        return (candidates[0], partner) if candidates else None

    def queue_feedback(
        self,
        session: Session,
        *,
        entry_id: int,
        kind: Literal["sighting", "opinion"] | str,
        actor: str,
        bank: str | None = None,
        count: int = 1,
        opinion: str = "",
        explanation: str = "",
    ) -> FeedbackRow | None:
        """Queue a sighting or an opinion about a partner's entry; None for our own entries."""
        if kind not in KINDS:
            raise InvalidInput(f"feedback kind is 'sighting' or 'opinion', not {kind!r}")
        if kind == "opinion":
            opinion = opinion or "disagree"
            if opinion not in OPINIONS:
                raise InvalidInput(f"opinion must be one of {', '.join(OPINIONS)}")
        elif opinion:
            raise InvalidInput("a sighting takes no opinion")
        if isinstance(count, bool) or not 1 <= count <= 999_999_999:
            raise InvalidInput("count must be from 1 to 999999999", field="count")
        if len(explanation) > MAX_EXPLANATION:
            raise InvalidInput(f"explanation is limited to {MAX_EXPLANATION} characters")
        entry = session.get(BankEntryRow, entry_id)
        bank_row = session.get(BankRow, entry.bank_id) if entry else None
        if entry is None or bank_row is None or (bank is not None and bank_row.name != bank):
            raise EntryNotFound(f"bank {bank or '?'!r} has no entry {entry_id}")
        if not entry.external_id:
            return None
        found = self._subscription_of(session, entry)
        if found is None:
            return None
        subscription, partner = found
        now = utcnow()
        me = this_instance(self._subscriptions.settings.data_dir)
        if kind == "sighting":
            obj = stix.sighting(
                entry.external_id,
                producer=me.producer,
                instance=me.name,
                seen_at=now,
                count=count,
                description=explanation,
            )
        else:
            obj = stix.opinion(
                entry.external_id,
                opinion,
                explanation,
                producer=me.producer,
                instance=me.name,
                created=now,
            )
        row = FeedbackRow(
            direction="out",
            kind=kind,
            stix_id=str(obj["id"]),
            indicator_id=entry.external_id,
            entry_id=entry.id,
            bank_id=entry.bank_id,
            partner_id=partner.id,
            partner_name=partner.name,
            opinion=opinion,
            count=count,
            # Which subscription's feed takes it, and the object as queued (for the record).
            body={"subscription_id": subscription.id, "object": obj},
            status="pending",
            created_at=now,
        )
        session.add(row)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="feedback.queue",
            target_type="feedback",
            target_id=row.id,
            details={
                "kind": kind,
                "bank": bank_row.name,
                "entry_id": entry.id,
                "partner": partner.name,
                "indicator_id": entry.external_id,
                "opinion": opinion,
            },
        )
        return row

    def deliver_one(self, feedback_id: int) -> str:
        """Send one pending piece of feedback; returns its status (``sent`` or ``failed``)."""
        with self._db.session() as session:
            row = session.get(FeedbackRow, feedback_id)
            if row is None or row.direction != "out" or row.status != "pending":
                return row.status if row else "missing"
            message = Feedback(
                kind="sighting" if row.kind == "sighting" else "opinion",
                external_id=row.indicator_id,
                seen_at=row.created_at,
                count=row.count,
                opinion=row.opinion,
                explanation=str((row.body or {}).get("object", {}).get("explanation", ""))
                or str((row.body or {}).get("object", {}).get("description", "")),
            )
            subscription = session.get(
                SubscriptionRow, int((row.body or {}).get("subscription_id") or 0)
            )
            error: BastionError | None = None
            source = None
            if subscription is None:
                error = InvalidInput("the subscription that brought the entry was deleted")
            else:
                try:
                    source, _partner, _bank = self._subscriptions.open_source(session, subscription)
                except BastionError as exc:
                    error = exc
        reference = ""
        if source is not None:
            try:
                reference = source.send_feedback(message)
            except BastionError as exc:
                error = exc
        with self._db.session() as session:
            row = session.get(FeedbackRow, feedback_id)
            if row is None:
                return "missing"
            if error is None:
                row.status, row.error, row.sent_at = "sent", "", utcnow()
            else:
                row.status, row.error = "failed", f"{error.code}: {error.detail}"[:2000]
            self._audit.record(
                session,
                actor="system:share-feedback",
                action="feedback.send",
                target_type="feedback",
                target_id=feedback_id,
                details={
                    "partner": row.partner_name,
                    "status": row.status,
                    "reference": reference[:255],
                    "error_code": error.code if error else None,
                },
            )
            return row.status

    def deliver_feedback(self, limit: int = 50) -> dict[str, int]:
        """Deliver up to ``limit`` pending pieces of feedback, oldest first."""
        with self._db.session() as session:
            pending = list(
                session.scalars(
                    select(FeedbackRow.id)
                    .where(FeedbackRow.direction == "out", FeedbackRow.status == "pending")
                    .order_by(FeedbackRow.id)
                    .limit(max(1, limit))
                )
            )
        counts = {"sent": 0, "failed": 0}
        for feedback_id in pending:
            status = self.deliver_one(feedback_id)
            if status in counts:
                counts[status] += 1
        if pending:
            log.info("feedback delivery: %d sent, %d failed", counts["sent"], counts["failed"])
        return counts

    def get(self, session: Session, feedback_id: int) -> dict[str, Any]:
        row = session.get(FeedbackRow, feedback_id)
        if row is None:
            raise NotFound(f"no feedback {feedback_id}")
        bank = session.get(BankRow, row.bank_id) if row.bank_id else None
        return feedback_record(row, bank.name if bank else None)

    def list(
        self,
        session: Session,
        *,
        direction: str | None = None,
        kind: str | None = None,
        bank: str | None = None,
        limit: int = 100,
    ) -> builtins.list[dict[str, Any]]:
        """Feedback, newest first."""
        if direction not in (None, "in", "out"):
            raise InvalidInput("direction is 'in' or 'out'", field="direction")
        if kind not in (None, *KINDS):
            raise InvalidInput("kind is 'sighting' or 'opinion'", field="kind")
        query = (
            select(FeedbackRow, BankRow.name)
            .outerjoin(BankRow, BankRow.id == FeedbackRow.bank_id)
            .order_by(FeedbackRow.id.desc())
            .limit(max(1, min(limit, 1000)))
        )
        if direction:
            query = query.where(FeedbackRow.direction == direction)
        if kind:
            query = query.where(FeedbackRow.kind == kind)
        if bank:
            query = query.where(BankRow.name == bank)
        return [feedback_record(row, name) for row, name in session.execute(query).all()]
