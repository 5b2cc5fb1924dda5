"""What partners send us: the objects of a TAXII ``POST .../objects/`` to one bank's collection.

- A ``sighting`` of one of our indicators ("seen this too") and an ``opinion`` on one (a dispute
  when it disagrees) become feedback rows on the entry, shown to our analysts.
- An ``indicator`` (with a write grant) becomes an entry of the bank with the partner as its
  provenance; a revoked one removes the entry that the same partner sent before.
- Identities, marking and extension definitions are accepted (they travel with the others) and
  not stored.

Objects are checked one by one: the good ones are applied in one transaction, each bad one is a
failure of the status resource with its reason. Nothing partial is ever applied for one object.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.banks.records import BankInfo, NewEntry
from bastion.banks.service import Banks
from bastion.errors import BastionError, Conflict, StixUnsupported
from bastion.share import stix
from bastion.share.collection_feed import entry_ids_for
from bastion.share.instance import Instance
from bastion.storage.models import BankEntryRow
from bastion.storage.share_models import FeedbackRow, TaxiiStatusRow

MAX_OBJECTS_PER_POST: Final = 10_000
_PASSIVE_TYPES: Final = frozenset({"identity", "marking-definition", "extension-definition"})


@dataclass(frozen=True, slots=True)
class Sender:
    """Who posts: a partner (by name and id), or a key without a partner."""

    name: str
    partner_id: int | None
    api_key_id: int


@dataclass(slots=True)
class PostOutcome:
    successes: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    sightings: int = 0
    opinions: int = 0
    entries_added: int = 0
    entries_revoked: int = 0


def _version(obj: Mapping[str, Any]) -> str:
    value = obj.get("modified") or obj.get("created") or ""
    return str(value)[:40]


def _failure(obj: Any, error: BastionError) -> dict[str, Any]:
    ident = obj.get("id") if isinstance(obj, Mapping) else None
    found: dict[str, Any] = {
        "id": str(ident)[:255] if ident else "",
        "message": f"{error.code}: {error.detail}"[:500],
    }
    if isinstance(obj, Mapping):
        found["version"] = _version(obj)
    return found


class Inbox:
    """Applies posted objects to one bank and records the TAXII status resource."""

    def __init__(self, audit: AuditLog, banks: Banks) -> None:
        self._audit = audit
        self._banks = banks

    def receive(
        self,
        session: Session,
        *,
        instance: Instance,
        bank: BankInfo,
        objects: Sequence[Any],
        sender: Sender,
        may_add_entries: bool,
    ) -> TaxiiStatusRow:
        outcome = PostOutcome()
        refs = self._referenced_indicators(objects)
        known = entry_ids_for(session, instance, bank, frozenset(refs)) if refs else {}
        now = datetime.now(UTC)
        feedback: list[FeedbackRow] = []
        for obj in objects:
            try:
                self._one(session, obj, bank, sender, known, may_add_entries, feedback, outcome)
            except BastionError as error:
                outcome.failures.append(_failure(obj, error))
                continue
            outcome.successes.append({"id": str(obj["id"]), "version": _version(obj)})
        self._record_feedback(session, feedback, outcome)
        status = TaxiiStatusRow(
            id=str(uuid.uuid4()),
            bank_id=bank.id,
            api_key_id=sender.api_key_id,
            status="complete",
            request_timestamp=now,
            total_count=len(objects),
            success_count=len(outcome.successes),
            failure_count=len(outcome.failures),
            pending_count=0,
            successes=outcome.successes[:MAX_OBJECTS_PER_POST],
            failures=outcome.failures[:MAX_OBJECTS_PER_POST],
        )
        session.add(status)
        self._audit.record(
            session,
            actor=f"partner:{sender.name}" if sender.partner_id else sender.name,
            action="taxii.objects.add",
            target_type="bank",
            target_id=bank.name,
            details={
                "status_id": status.id,
                "objects": len(objects),
                "failures": len(outcome.failures),
                "sightings": outcome.sightings,
                "opinions": outcome.opinions,
                "entries_added": outcome.entries_added,
                "entries_revoked": outcome.entries_revoked,
            },
        )
        session.flush()
        return status

    @staticmethod
    def _referenced_indicators(objects: Sequence[Any]) -> set[str]:
        refs: set[str] = set()
        for obj in objects:
            if not isinstance(obj, Mapping):
                continue
            if obj.get("type") == "sighting" and isinstance(obj.get("sighting_of_ref"), str):
                refs.add(obj["sighting_of_ref"])
            elif obj.get("type") == "opinion" and isinstance(obj.get("object_refs"), list):
                refs.update(ref for ref in obj["object_refs"] if isinstance(ref, str))
        return {ref for ref in refs if ref.startswith("indicator--")}

    def _one(
        self,
        session: Session,
        obj: Any,
        bank: BankInfo,
        sender: Sender,
        known: Mapping[str, int | None],
        may_add_entries: bool,
        feedback: list[FeedbackRow],
        outcome: PostOutcome,
    ) -> None:
        """Check one object; feedback is collected for :meth:`_record_feedback`, indicators are
        applied at once in a savepoint (a failure undoes that object alone)."""
        if not isinstance(obj, Mapping):
            raise StixUnsupported("each object must be a JSON object")
        try:
            size = len(json.dumps(obj))
        except (TypeError, ValueError):
            raise StixUnsupported("the object is not plain JSON") from None
        if size > stix.MAX_OBJECT_CHARS:
            raise StixUnsupported(f"the object is larger than {stix.MAX_OBJECT_CHARS} characters")
        kind, ident = obj.get("type"), obj.get("id")
        if (
            not isinstance(kind, str)
            or not isinstance(ident, str)
            or obj.get("spec_version") != (stix.SPEC_VERSION)
        ):
            raise StixUnsupported("a STIX 2.1 object needs type, id and spec_version '2.1'")
        if not ident.startswith(f"{kind}--"):
            raise StixUnsupported(f"id {ident[:80]!r} is not of type {kind!r}")
        if kind in _PASSIVE_TYPES:
            return
        if kind in ("sighting", "opinion"):
            feedback.extend(_feedback_rows(obj, kind, bank, sender, known))
        elif kind == "indicator":
            if not may_add_entries:
                raise StixUnsupported(
                    "indicators need a write grant that adds entries; send sightings or opinions"
                )
            with session.begin_nested():
                self._indicator(session, obj, bank, sender, outcome)
        else:
            raise StixUnsupported(f"object type {kind[:40]!r} is not accepted here")

    @staticmethod
    def _record_feedback(session: Session, rows: list[FeedbackRow], outcome: PostOutcome) -> None:
        """Store new feedback in one go; objects sent again (same id) are recorded once."""
        wanted = {row.stix_id for row in rows}
        held: set[str] = set()
        ordered = sorted(wanted)
        for start in range(0, len(ordered), 500):
            held.update(
                session.scalars(
                    select(FeedbackRow.stix_id).where(
                        FeedbackRow.direction == "in",
                        FeedbackRow.stix_id.in_(ordered[start : start + 500]),
                    )
                )
            )
        fresh: dict[str, FeedbackRow] = {}
        for row in rows:
            if row.stix_id not in held:
                fresh.setdefault(row.stix_id, row)
        session.add_all(fresh.values())
        try:
            session.flush()
        except IntegrityError:
            # A concurrent post of the same objects recorded them first: theirs stand.
            raise Conflict("the same feedback was posted concurrently; post it again") from None
        for row in fresh.values():
            if row.kind == "sighting":
                outcome.sightings += 1
            else:
                outcome.opinions += 1

    def _indicator(
        self,
        session: Session,
        obj: Mapping[str, Any],
        bank: BankInfo,
        sender: Sender,
        outcome: PostOutcome,
    ) -> None:
        shared = stix.indicator_to_entry(obj)
        actor = f"partner:{sender.name}"
        held = session.scalar(
            select(BankEntryRow).where(
                BankEntryRow.bank_id == bank.id,
                BankEntryRow.external_id == shared.indicator_id,
                BankEntryRow.added_by == actor,
            )
        )
        modified = stix.parse_modified(obj)
        if shared.revoked:
            if held is not None:
                self._banks.delete_entry(session, bank.name, held.id, actor=actor)
                outcome.entries_revoked += 1
            return
        if held is not None:
            return  # the entry is held; a changed value arrives as revoke + new indicator
        entry = NewEntry(
            signal_type=shared.entry.signal_type,
            value=shared.entry.value,
            labels=shared.entry.labels,
            note=shared.entry.note,
            quality=shared.entry.quality,
            added_from=f"taxii:{sender.name}:{shared.indicator_id}",
            external_id=shared.indicator_id,
            external_modified=modified,
            tlp=shared.entry.tlp,
        )
        report = self._banks.add_entries(session, bank.name, [entry], actor=actor)
        outcome.entries_added += len(report.added)


def _feedback_rows(
    obj: Mapping[str, Any],
    kind: str,
    bank: BankInfo,
    sender: Sender,
    known: Mapping[str, int | None],
) -> list[FeedbackRow]:
    """The feedback rows of a sighting or an opinion about indicators of this collection."""
    if kind == "sighting":
        targets = [obj.get("sighting_of_ref")]
        count = obj.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 10**9:
            raise StixUnsupported("count must be an integer from 0 to 999999999")
        verdict: Any = ""
    else:
        targets = list(obj.get("object_refs") or [])
        count = 1
        verdict = obj.get("opinion")
        if verdict not in stix.OPINIONS:
            raise StixUnsupported(f"opinion must be one of {', '.join(stix.OPINIONS)}")
    ours = [t for t in targets if isinstance(t, str) and t in known]
    if not ours:
        raise StixUnsupported(
            "the object refers to no indicator of this collection", refs=targets[:5]
        )
    return [
        FeedbackRow(
            direction="in",
            kind=kind,
            # One row per indicator an opinion names; a sighting names one.
            stix_id=obj["id"] if len(ours) == 1 else f"{obj['id']}/{indicator_id}",
            indicator_id=indicator_id,
            entry_id=known[indicator_id],
            bank_id=bank.id,
            partner_id=sender.partner_id,
            partner_name=sender.name,
            opinion=str(verdict or ""),
            count=count,
            body=dict(obj),
            status="received",
        )
        for indicator_id in ours
    ]
