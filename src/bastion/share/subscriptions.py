"""Subscriptions: a local bank fed from a partner's remote collection, polled with a checkpoint.

Each page a :class:`~bastion.share.feeds.FeedSource` yields is applied in one transaction
together with the subscription's new checkpoint and counters (:mod:`bastion.share.apply`), so a
poll that fails part-way keeps what it applied and resumes after it. A background loop
(:func:`run_poll_loop`) polls due subscriptions; replicas claim a subscription with a
conditional ``UPDATE`` of ``next_poll_at`` before polling it, so two never poll it at once.
"""

from __future__ import annotations

import builtins
import importlib
import logging
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, cast

from sqlalchemy import CursorResult, Result, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.banks.service import Banks
from bastion.errors import (
    BankNotFound,
    BastionError,
    InvalidInput,
    SubscriptionExists,
    SubscriptionNotFound,
)
from bastion.settings import Settings
from bastion.share.apply import PollReport, apply_page
from bastion.share.feeds import FeedSource
from bastion.share.partners import PartnerInfo, PartnerKind, Partners
from bastion.share.taxii_client import TaxiiFeedSource, list_collections
from bastion.storage.db import Database
from bastion.storage.models import BankRow, utcnow
from bastion.storage.share_models import PartnerRow, SubscriptionRow

if TYPE_CHECKING:
    from bastion.runtime import Bastion

log = logging.getLogger(__name__)

# A claimed subscription is held this long: a poller that dies mid-poll frees it after this.
CLAIM_SECONDS: Final = 900
MAX_BACKOFF_SECONDS: Final = 6 * 3600
MIN_INTERVAL_SECONDS: Final = 10
MAX_INTERVAL_SECONDS: Final = 30 * 24 * 3600
POLLER_ACTOR: Final = "system:share-poller"
_TAXII_KINDS: Final = frozenset({PartnerKind.BASTION, PartnerKind.TAXII})


@dataclass(frozen=True, slots=True)
class SubscriptionInfo:
    id: int
    partner: str
    partner_kind: str
    bank: str
    remote_collection: str
    api_root: str
    checkpoint: dict[str, Any]
    interval_seconds: int
    require_signature: bool
    enabled: bool
    next_poll_at: datetime | None
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error_code: str
    last_error: str
    objects_received: int
    entries_added: int
    entries_revoked: int
    created_by: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
        }


def source_for(
    partner: PartnerInfo,
    credentials: Mapping[str, str],
    subscription: SubscriptionRow,
    settings: Settings,
) -> FeedSource:
    """The feed of ``subscription``: TAXII for peer Bastions and TAXII servers, the partner
    programme's own client otherwise."""
    if partner.kind in _TAXII_KINDS:
        return TaxiiFeedSource(
            subscription.api_root or partner.url,
            subscription.remote_collection,
            credentials,
            settings,
            expected_signer=partner.signer or None,
            require_signature=subscription.require_signature,
        )
    # Imported here: the programme clients are optional and load their own dependencies.
    try:
        build_source = importlib.import_module("bastion.share.exchanges").build_source
    except (ImportError, AttributeError):
        raise InvalidInput(f"no exchange client for kind {partner.kind.value!r}") from None
    return cast(FeedSource, build_source(partner, credentials, subscription, settings))


def _rowcount(result: Result[Any]) -> int:
    return cast("CursorResult[Any]", result).rowcount


def _check_interval(seconds: float) -> int:
    if isinstance(seconds, bool) or not MIN_INTERVAL_SECONDS <= seconds <= MAX_INTERVAL_SECONDS:
        raise InvalidInput(
            f"interval_seconds must be from {MIN_INTERVAL_SECONDS} to {MAX_INTERVAL_SECONDS}",
            field="interval_seconds",
        )
    return int(seconds)


class Subscriptions:
    """Create, change, poll and delete subscriptions to partner feeds."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        audit: AuditLog,
        banks: Banks,
        partners: Partners,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = db
        self.settings = settings
        self._audit = audit
        self._banks = banks
        self._partners = partners
        self._clock = clock

    # --- reading ------------------------------------------------------------------------------

    def row(self, session: Session, subscription_id: int) -> SubscriptionRow:
        row = session.get(SubscriptionRow, subscription_id)
        if row is None:
            raise SubscriptionNotFound(f"no subscription {subscription_id}")
        return row

    def info(self, session: Session, row: SubscriptionRow) -> SubscriptionInfo:
        partner = session.get(PartnerRow, row.partner_id)
        bank = session.get(BankRow, row.bank_id)
        return SubscriptionInfo(
            id=row.id,
            partner=partner.name if partner else "",
            partner_kind=partner.kind if partner else "",
            bank=bank.name if bank else "",
            remote_collection=row.remote_collection,
            api_root=row.api_root,
            checkpoint=dict(row.checkpoint or {}),
            interval_seconds=row.interval_seconds,
            require_signature=row.require_signature,
            enabled=row.enabled,
            next_poll_at=row.next_poll_at,
            last_polled_at=row.last_polled_at,
            last_success_at=row.last_success_at,
            last_error_code=row.last_error_code,
            last_error=row.last_error,
            objects_received=row.objects_received,
            entries_added=row.entries_added,
            entries_revoked=row.entries_revoked,
            created_by=row.created_by,
            created_at=row.created_at,
        )

    def get(self, session: Session, subscription_id: int) -> SubscriptionInfo:
        return self.info(session, self.row(session, subscription_id))

    def list(self, session: Session) -> builtins.list[SubscriptionInfo]:
        rows = session.scalars(select(SubscriptionRow).order_by(SubscriptionRow.id))
        return [self.info(session, row) for row in rows]

    # --- changing -----------------------------------------------------------------------------

    def create(
        self,
        session: Session,
        *,
        partner: str,
        bank: str,
        remote_collection: str,
        actor: str,
        api_root: str = "",
        interval_seconds: float | None = None,
        require_signature: bool | None = None,
    ) -> SubscriptionInfo:
        partner_row = self._partners.row(session, partner)
        bank_row = session.scalar(select(BankRow).where(BankRow.name == bank))
        if bank_row is None:
            raise BankNotFound(f"no bank named {bank!r}")
        remote = remote_collection.strip()
        if not remote or len(remote) > 255:
            raise InvalidInput(
                "remote_collection is 1 to 255 characters", field="remote_collection"
            )
        kind = PartnerKind(partner_row.kind)
        root = api_root.strip() or partner_row.url
        if kind in _TAXII_KINDS and not root:
            raise InvalidInput(
                "a TAXII subscription needs an API root: give api_root or the partner's url",
                field="api_root",
            )
        if require_signature is None:
            # Peer Bastions always sign their pages; other TAXII servers cannot.
            require_signature = kind is PartnerKind.BASTION
        interval = _check_interval(
            self.settings.share_poll_interval_seconds
            if interval_seconds is None
            else interval_seconds
        )
        row = SubscriptionRow(
            partner_id=partner_row.id,
            bank_id=bank_row.id,
            remote_collection=remote,
            api_root=root.strip(),
            checkpoint={},
            interval_seconds=interval,
            require_signature=bool(require_signature),
            enabled=True,
            next_poll_at=self._clock(),  # due at once: the first poll fills the bank
            created_by=actor,
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            taken = session.scalar(
                select(SubscriptionRow.id).where(
                    SubscriptionRow.partner_id == row.partner_id,
                    SubscriptionRow.remote_collection == row.remote_collection,
                    SubscriptionRow.bank_id == row.bank_id,
                )
            )
            if taken is None:
                raise  # another constraint: a bug, not the user's doing
            raise SubscriptionExists(
                f"bank {bank!r} already subscribes to {remote!r} of partner {partner!r}"
            ) from None
        self._audit.record(
            session,
            actor=actor,
            action="subscription.create",
            target_type="subscription",
            target_id=row.id,
            details={
                "partner": partner,
                "bank": bank,
                "remote_collection": remote,
                "api_root": row.api_root,
                "interval_seconds": interval,
                "require_signature": row.require_signature,
            },
        )
        return self.info(session, row)

    def update(
        self,
        session: Session,
        subscription_id: int,
        *,
        actor: str,
        enabled: bool | None = None,
        interval_seconds: float | None = None,
        require_signature: bool | None = None,
    ) -> SubscriptionInfo:
        row = self.row(session, subscription_id)
        changes: dict[str, Any] = {}
        if enabled is not None:
            row.enabled = changes["enabled"] = bool(enabled)
            if enabled and row.next_poll_at is None:
                row.next_poll_at = self._clock()
        if interval_seconds is not None:
            row.interval_seconds = changes["interval_seconds"] = _check_interval(interval_seconds)
        if require_signature is not None:
            row.require_signature = changes["require_signature"] = bool(require_signature)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="subscription.update",
            target_type="subscription",
            target_id=row.id,
            details=changes,
        )
        return self.info(session, row)

    def delete(self, session: Session, subscription_id: int, *, actor: str) -> None:
        """Stop the subscription. Entries it brought stay in the bank (delete them there)."""
        row = self.row(session, subscription_id)
        info = self.info(session, row)
        session.delete(row)
        session.flush()
        self._audit.record(
            session,
            actor=actor,
            action="subscription.delete",
            target_type="subscription",
            target_id=subscription_id,
            details={
                "partner": info.partner,
                "bank": info.bank,
                "remote_collection": info.remote_collection,
            },
        )

    def remote_collections(
        self, partner: PartnerInfo, credentials: Mapping[str, str]
    ) -> builtins.list[dict[str, Any]]:
        """The collections the partner's TAXII server offers us (discovery or API root URL)."""
        if partner.kind not in _TAXII_KINDS:
            raise InvalidInput(f"partner {partner.name!r} is not a TAXII server ({partner.kind})")
        if not partner.url:
            raise InvalidInput(f"partner {partner.name!r} has no url")
        return list_collections(partner.url, credentials, self.settings)

    # --- polling ------------------------------------------------------------------------------

    def open_source(
        self, session: Session, row: SubscriptionRow
    ) -> tuple[FeedSource, PartnerInfo, str]:
        """The subscription's feed, its partner and bank name; refused when either is off."""
        partner_row = session.get(PartnerRow, row.partner_id)
        bank = session.get(BankRow, row.bank_id)
        if partner_row is None or bank is None:  # cascades make this a race with a delete
            raise SubscriptionNotFound(f"no subscription {row.id}")
        if not row.enabled:
            raise InvalidInput(f"subscription {row.id} is disabled; enable it to poll it")
        if not partner_row.enabled:
            raise InvalidInput(
                f"partner {partner_row.name!r} is disabled; enable it to poll its feeds"
            )
        partner = self._partners.info(session, partner_row)
        credentials = self._partners.credentials(session, partner_row.name)
        return source_for(partner, credentials, row, self.settings), partner, bank.name

    def poll(self, subscription_id: int, *, actor: str) -> PollReport:
        """Read every page after the checkpoint, applying each in its own transaction.

        Failures of the partner's side are reported (``error_code``) and recorded on the
        subscription, never raised; pages applied before the failure stay applied.
        """
        with self._db.session() as session:
            row = self.row(session, subscription_id)
            source, partner, bank = self.open_source(session, row)
            checkpoint = dict(row.checkpoint or {})
            interval = row.interval_seconds
        report = PollReport(subscription_id=subscription_id, partner=partner.name, bank=bank)
        try:
            for page in source.pages(checkpoint):
                with self._db.session() as session:
                    apply_page(
                        session,
                        self._banks,
                        subscription_id,
                        page,
                        report,
                        partner=partner,
                        now=self._clock(),
                    )
        except BastionError as exc:
            report.error_code, report.error = exc.code, exc.detail
        now = self._clock()
        with self._db.session() as session:
            row = self.row(session, subscription_id)
            row.last_polled_at = now
            row.last_error_code = report.error_code
            row.last_error = report.error[:2000]
            if report.error_code:
                # A partner that is down is asked again later and later (up to six hours), not
                # hammered at the interval.
                row.consecutive_failures = (row.consecutive_failures or 0) + 1
                wait = min(interval * 2 ** min(row.consecutive_failures, 10), MAX_BACKOFF_SECONDS)
                row.next_poll_at = now + timedelta(seconds=max(wait, interval))
            else:
                row.consecutive_failures = 0
                row.last_success_at = now
                row.next_poll_at = now + timedelta(seconds=interval)
            # Polls that changed nothing are not changes: only those that did, or failed, are
            # audited (a poller every ten seconds would bury the log otherwise).
            if report.error_code or report.added or report.updated or report.revoked:
                self._audit.record(
                    session,
                    actor=actor,
                    action="subscription.poll",
                    target_type="subscription",
                    target_id=subscription_id,
                    details=report.summary(),
                )
        log.info(
            "polled subscription %d (%s -> %s): %d pages, %d added, %d updated, %d revoked%s",
            subscription_id,
            partner.name,
            bank,
            report.pages,
            report.added,
            report.updated,
            report.revoked,
            f", stopped: {report.error_code}" if report.error_code else "",
        )
        return report

    def _claim_next(self, now: datetime, exclude: Collection[int] = ()) -> int | None:
        """One due subscription (not in ``exclude``), claimed for this poller until
        ``now + CLAIM_SECONDS``."""
        due = or_(SubscriptionRow.next_poll_at.is_(None), SubscriptionRow.next_poll_at <= now)
        with self._db.session() as session:
            candidates = session.execute(
                select(SubscriptionRow.id, SubscriptionRow.next_poll_at)
                .join(PartnerRow, PartnerRow.id == SubscriptionRow.partner_id)
                .where(
                    SubscriptionRow.enabled,
                    PartnerRow.enabled,
                    due,
                    SubscriptionRow.id.not_in(list(exclude)),
                )
                .order_by(SubscriptionRow.next_poll_at, SubscriptionRow.id)
                .limit(20)
            ).all()
            for subscription_id, seen in candidates:
                # Of two pollers that saw the same due row, exactly one changes it.
                same = (
                    SubscriptionRow.next_poll_at.is_(None)
                    if seen is None
                    else SubscriptionRow.next_poll_at == seen
                )
                won = session.execute(
                    update(SubscriptionRow)
                    .where(SubscriptionRow.id == subscription_id, same)
                    .values(next_poll_at=now + timedelta(seconds=CLAIM_SECONDS))
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(won) == 1:
                    return int(subscription_id)
        return None

    def poll_due(
        self, now: datetime | None = None, *, limit: int = 20
    ) -> builtins.list[PollReport]:
        """Poll the subscriptions due at ``now``, one at a time."""
        reports: builtins.list[PollReport] = []
        done: set[int] = set()  # each at most once a pass, however short its interval
        for _ in range(limit):
            subscription_id = self._claim_next(now or self._clock(), done)
            if subscription_id is None:
                break
            done.add(subscription_id)
            try:
                reports.append(self.poll(subscription_id, actor=POLLER_ACTOR))
            except BastionError as exc:  # disabled or deleted since it was claimed
                log.info("subscription %d not polled: %s", subscription_id, exc.detail)
        return reports


def run_poll_loop(bastion: Bastion, stop: threading.Event, interval: float | None = None) -> None:
    """Poll due subscriptions and deliver pending feedback until ``stop`` is set.

    A database error is logged and the loop goes on: nothing is lost, the next pass retries.
    """
    wait = min(30.0, bastion.settings.share_poll_interval_seconds) if interval is None else interval
    while not stop.is_set():
        try:
            bastion.subscriptions.poll_due()
            bastion.feedback.deliver_feedback()
        except SQLAlchemyError as exc:
            log.error("subscription poll pass failed: %s", type(exc).__name__)
        except Exception:  # a bug must not end the loop for the life of the server
            log.exception("subscription poll pass failed")
        stop.wait(wait)


__all__ = ["PollReport", "SubscriptionInfo", "Subscriptions", "run_poll_loop", "source_for"]
