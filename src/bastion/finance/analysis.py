"""The finance step of a scan: instruments found, screened, and weighed with the appeal wording.

The signals stage has already found the payment instruments in the content's text (post,
document, caption, OCR, QR codes) and added their signals, so wallet banks matched them with
everything else. This step, run by the scanner in the scan's session, adds what needs the
database or the whole text:

* wallets (every ``crypto_address`` signal, found or supplied) screened against the active
  sanctions lists, by exact match;
* listed names of people and organisations written in the text (``BASTION_FINANCE_SCREEN_NAMES``);
* the donation-appeal wording (:mod:`bastion.finance.appeals`).

:func:`record_analysis` stores the findings and hits with the content, and puts every wallet a
list hit into the hit bank (``BASTION_FINANCE_HIT_BANK``), so the wallet matches as a bank entry
wherever it appears again, and can be shared with partners like any bank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.banks.service import Banks
from bastion.finance.appeals import AppealFinding, find_appeal
from bastion.finance.findings import Instrument
from bastion.finance.list_store import UNVALIDATED_PREFIX
from bastion.finance.screening import WALLET, NameScreening, ScreeningHit, screen_wallets
from bastion.finance.wallet_bank import WALLET_SIGNAL, ListedWallet, bank_listed_wallets
from bastion.settings import Settings
from bastion.signals.base import Signal
from bastion.storage.finance_models import FinanceFindingRow, FinanceHitRow


@dataclass(slots=True)
class FinanceAnalysis:
    """What the finance step found in one scanned item."""

    instruments: list[Instrument] = field(default_factory=list)
    hits: list[ScreeningHit] = field(default_factory=list)
    appeal: AppealFinding | None = None
    # Instruments seen before in other content, by signal value: how many items carried them.
    seen_before: dict[str, int] = field(default_factory=dict)

    @property
    def wallet_hits(self) -> list[ScreeningHit]:
        return [hit for hit in self.hits if hit.match_kind == WALLET]

    @property
    def obfuscated(self) -> bool:
        """Some instrument was written with look-alike characters to slip past filters."""
        return any(instrument.folded for instrument in self.instruments)

    def to_dict(self) -> dict[str, Any]:
        return {
            "instruments": [instrument.to_dict() for instrument in self.instruments],
            "hits": [hit.to_dict() for hit in self.hits],
            "appeal": self.appeal.to_dict() if self.appeal else None,
            "seen_before": dict(self.seen_before),
            "obfuscated": self.obfuscated,
        }


class FinanceAnalyzer:
    def __init__(self, settings: Settings, audit: AuditLog, banks: Banks) -> None:
        self._settings = settings
        self._audit = audit
        self._banks = banks
        self.names = NameScreening()

    def analyze(
        self,
        session: Session,
        *,
        text: str,
        instruments: Sequence[Instrument],
        signals: Sequence[Signal],
    ) -> FinanceAnalysis | None:
        """The finance evidence of one item; None when it has neither instruments, wallets
        supplied as signals, nor text."""
        wallets = sorted({s.value for s in signals if s.type == WALLET_SIGNAL})
        if not instruments and not wallets and not text:
            return None
        analysis = FinanceAnalysis(instruments=list(instruments))
        analysis.hits = screen_wallets(session, wallets)
        if text and self._settings.finance_screen_names:
            analysis.hits.extend(
                self.names.find_in_text(
                    session, text, threshold=self._settings.finance_text_name_threshold
                )
            )
        if text:
            analysis.appeal = find_appeal(text)
        analysis.seen_before = _seen_before(session, instruments)
        if not analysis.instruments and not analysis.hits and not _appeal(analysis):
            return None
        return analysis


def _appeal(analysis: FinanceAnalysis) -> bool:
    return analysis.appeal is not None and analysis.appeal.score > 0


def _seen_before(session: Session, instruments: Sequence[Instrument]) -> dict[str, int]:
    values = sorted({instrument.signal_value for instrument in instruments})
    if not values:
        return {}
    rows = session.execute(
        select(
            FinanceFindingRow.signal_value, func.count(func.distinct(FinanceFindingRow.content_id))
        )
        .where(FinanceFindingRow.signal_value.in_(values))
        .group_by(FinanceFindingRow.signal_value)
    ).all()
    return {str(value): int(count) for value, count in rows}


def record_analysis(
    session: Session,
    analysis: FinanceAnalysis,
    *,
    content_id: int,
    settings: Settings,
    banks: Banks,
    actor: str = "system:finance",
) -> None:
    """Store the findings and hits of one recorded item; bank the wallets that hit a list."""
    rows = [
        FinanceFindingRow(
            content_id=content_id,
            kind=instrument.kind,
            scheme=instrument.scheme,
            value=instrument.value,
            signal_type=instrument.signal_type,
            signal_value=instrument.signal_value[:512],
            raw=instrument.raw,
            start=instrument.start,
            end=instrument.end,
            status=instrument.status,
            folded=instrument.folded,
            evidence=instrument.evidence,
            details=dict(instrument.details),
        )
        for instrument in analysis.instruments
    ]
    session.add_all(rows)
    session.flush()
    by_value = {row.signal_value: row.id for row in rows}
    session.add_all(
        FinanceHitRow(
            content_id=content_id,
            finding_id=by_value.get(hit.matched) if hit.match_kind == WALLET else None,
            list_id=hit.list_id,
            entity_id=hit.entity_id,
            match_kind=hit.match_kind,
            matched=hit.matched,
            listed=hit.listed,
            score=hit.score,
            explanation=hit.explanation,
            details={"start": hit.start, "end": hit.end, **hit.details},
        )
        for hit in analysis.hits
    )
    _bank_wallet_hits(session, analysis.wallet_hits, settings, banks, actor)


def _bank_wallet_hits(
    session: Session,
    hits: Sequence[ScreeningHit],
    settings: Settings,
    banks: Banks,
    actor: str,
) -> None:
    wallets = [
        ListedWallet(hit.matched, hit.list_source, hit.list_name, hit.external_id, hit.caption)
        for hit in hits
        if not hit.matched.startswith(UNVALIDATED_PREFIX)
    ]
    if wallets:
        bank_listed_wallets(
            session,
            banks,
            wallets,
            bank=settings.finance_hit_bank,
            actor=actor,
            description="Wallets found in content that matched a sanctions list "
            "(BASTION_FINANCE_HIT_BANK).",
            tlp="amber",
        )
