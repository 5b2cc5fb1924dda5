"""Verdict rules for terrorist-financing evidence (``result.finance``, see ``bastion.finance``).

Kept apart from :mod:`bastion.decide.verdict` so each reads on its own; ``verdict`` calls
:func:`finance_findings` with the same pure inputs (no database, no clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bastion.decide.policy import Policy

MATERIAL_SUPPORT = "tvec4"


@dataclass(slots=True)
class FinanceFinding:
    priority: int
    reason: str
    flags: tuple[str, ...]
    labels: tuple[str, ...]


def _instrument_words(finance: Any) -> str:
    instruments = list(finance.instruments)
    shown = ", ".join(f"{i.scheme} {i.kind.replace('_', ' ')} {i.value}" for i in instruments[:3])
    more = f" and {len(instruments) - 3} more" if len(instruments) > 3 else ""
    return shown + more


def _material_support_flag(result: Any) -> Any:
    text = getattr(result, "text", None)
    if text is None:
        return None
    return next((s for s in text.scores if s.code == MATERIAL_SUPPORT and s.harmful), None)


def finance_findings(result: Any, policy: Policy) -> list[FinanceFinding]:
    """One finding per piece of financing evidence in ``result`` (a ScanResult)."""
    finance = getattr(result, "finance", None)
    rule = policy.finance
    if finance is None or not rule.enabled:
        return []
    labels = tuple(rule.labels)
    bonus = rule.obfuscation_bonus if finance.obfuscated else 0
    hidden = " (written with look-alike characters to slip past filters)" if bonus else ""
    findings: list[FinanceFinding] = []
    for hit in finance.hits:
        programs = f", programmes {', '.join(hit.programs)}" if hit.programs else ""
        dated = f", list of {hit.list_published}" if hit.list_published else ""
        if hit.match_kind == "wallet":
            findings.append(
                FinanceFinding(
                    min(100, rule.sanctions_wallet_priority + bonus),
                    f"sanctions rule: wallet {hit.matched}{hidden} is listed by "
                    f"{hit.reference}{programs}{dated}",
                    ("sanctions_hit", "sanctions_wallet"),
                    labels,
                )
            )
        else:
            findings.append(
                FinanceFinding(
                    rule.sanctions_name_priority,
                    f"sanctions rule: the text names {hit.matched!r}, like listed "
                    f"{hit.reference}{programs}{dated} (score {hit.score:.2f})",
                    ("sanctions_hit", "sanctions_name"),
                    labels,
                )
            )
    if finance.instruments:
        appeal = finance.appeal
        support = _material_support_flag(result)
        if appeal is not None and appeal.appeal:
            phrases = ", ".join(repr(p.text) for p in appeal.phrases[:3])
            findings.append(
                FinanceFinding(
                    min(100, rule.appeal_priority + bonus),
                    f"donation-appeal rule: appeal wording {phrases} (score {appeal.score:.2f}) "
                    f"beside {_instrument_words(finance)}{hidden}",
                    ("donation_appeal",),
                    labels,
                )
            )
        elif support is not None:
            findings.append(
                FinanceFinding(
                    min(100, rule.appeal_priority + bonus),
                    f"donation-appeal rule: the classifier flags material support "
                    f"(TVEC.4 score {support.score:.2f}) beside {_instrument_words(finance)}"
                    f"{hidden}",
                    ("donation_appeal",),
                    labels,
                )
            )
    return findings
