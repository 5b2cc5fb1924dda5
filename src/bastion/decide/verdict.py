"""From a scan result to a verdict: ``act``, ``review`` or ``none``, with reasons and a priority.

:func:`decide` is a pure function of the result, the policy and the banks' details: no database,
no clock, so the same inputs always give the same verdict and a verdict can be recomputed later to
explain it. Every piece of evidence that counted (or was deliberately ignored) yields one reason,
written for a moderator: which rule, which evidence, and what it did.

Precedence (docs/decisions.md):

1. Suppressed matches (known false positives) and negative-bank matches never count.
2. The TVEC.01 exception (classifier exception head, or a match labelled ``tvec01``) forbids
   automatic action: a match that would have acted goes to review instead, with both reasons.
3. A near-exact match against a trusted bank acts, unless automatic action is off, the entry is
   quarantined or the match came through a robust variant (unless the policy allows variants).
4. Everything else that points at TVEC goes to review.
5. A threat to life (``tvec2`` by default) raises the priority to 100 and asks for escalation,
   whatever the action is.
6. Financing evidence (``decide/finance_rules.py``) goes to review: a wallet on a sanctions
   list, a listed name, a payment instrument beside appeal wording or a material-support flag.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bastion.banks.records import BankInfo, Severity
from bastion.classify.classifier import CategoryScore
from bastion.classify.entities import EntityHit
from bastion.decide.finance_rules import finance_findings
from bastion.decide.policy import DEFAULT_POLICY, EXCEPTION_CODE, NOT_TVEC, Policy
from bastion.errors import BastionError
from bastion.match.records import Match
from bastion.match.scanner import ScanResult
from bastion.signals.registry import get_signal_type
from bastion.taxonomy import BY_CODE

ACT = "act"
REVIEW = "review"
NONE = "none"
_RANK = {NONE: 0, REVIEW: 1, ACT: 2}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What should happen to a scanned item, and why.

    ``priority`` is 0-100, higher first (the scale of review cases: 100 threat to life, 80
    critical bank, 60 high bank, 40 default; 0 when nothing needs doing). ``category`` is the main
    TVEC code the evidence points at (None when none does), ``labels`` every code it points at.
    ``flags`` name the rules that fired (``trusted_match``, ``exception``, ``quarantined``...).
    """

    action: str
    priority: int
    reasons: list[str]
    escalate: bool = False
    category: str | None = None
    language: str | None = None
    labels: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "priority": self.priority,
            "reasons": list(self.reasons),
            "escalate": self.escalate,
            "category": self.category,
            "language": self.language,
            "labels": list(self.labels),
            "flags": list(self.flags),
        }


@dataclass(slots=True)
class _Finding:
    action: str
    priority: int
    reason: str
    flags: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    escalate: bool = False


def decide(
    result: ScanResult,
    policy: Policy = DEFAULT_POLICY,
    banks: Mapping[str, BankInfo] | None = None,
) -> Verdict:
    """The verdict for one scan result under ``policy``.

    ``banks``: the details of the banks the matches came from, by name (source, severity,
    labels), used to tell whether a bank is trusted to act automatically. A bank missing from the
    mapping is trusted only when the policy names it, and its severity is the match's own.
    """
    banks = banks or {}
    findings: list[_Finding] = []
    exception = _exception_evidence(result, findings)
    for match in result.matches:
        findings.extend(_match_findings(match, policy, banks, exception))
    if result.text is not None:
        for score in result.text.scores:
            found = _score_finding(score, policy)
            if found is not None:
                findings.append(found)
        findings.extend(_entity_findings(result.text.entities, policy))
    for found_money in finance_findings(result, policy):
        findings.append(
            _Finding(
                REVIEW,
                found_money.priority,
                found_money.reason,
                flags=found_money.flags,
                labels=found_money.labels,
            )
        )
    if exception and policy.exception.review:
        findings.append(
            _Finding(
                REVIEW,
                policy.exception.priority,
                "TVEC.01 exception rule: the item looks educational, journalistic or research "
                "material; a person decides, never automatic action",
                flags=("exception",),
                labels=(EXCEPTION_CODE,),
            )
        )
    return _verdict(result, policy, findings, exception)


# --- evidence ---------------------------------------------------------------------------------


def _exception_evidence(result: ScanResult, findings: list[_Finding]) -> bool:
    """Whether the TVEC.01 exception holds; its evidence becomes reasons with no action."""
    found = False
    if result.text is not None:
        for score in result.text.scores:
            if score.code == EXCEPTION_CODE and score.flagged:
                found = True
                findings.append(
                    _Finding(
                        NONE,
                        0,
                        f"classifier found educational, journalistic or research context "
                        f"(TVEC.01 score {score.score:.2f}, threshold {score.threshold:.2f}, "
                        f"model {score.model})",
                        flags=("exception",),
                    )
                )
    for match in result.matches:
        if _counts(match) and EXCEPTION_CODE in match.labels:
            found = True
            findings.append(
                _Finding(
                    NONE,
                    0,
                    f"entry {match.entry_id} in bank {match.bank!r} is labelled {EXCEPTION_CODE} "
                    "(educational, journalistic or research material)",
                    flags=("exception",),
                )
            )
    return found


def _counts(match: Match) -> bool:
    return match.bank_kind == "positive" and not match.suppressed


def _severity(match: Match, bank: BankInfo | None) -> str:
    return str(bank.severity.value) if bank is not None else match.severity


def _severity_priority(policy: Policy, severity: str) -> int:
    try:
        key = Severity(severity)
    except ValueError:
        return policy.matches.severity_priority.get(Severity.MEDIUM, 40)
    return policy.matches.severity_priority.get(key, 40)


def _display(signal_type: str) -> str:
    try:
        return get_signal_type(signal_type).display_name
    except BastionError:
        return signal_type


def _evidence(match: Match, trusted: bool) -> str:
    """``PDQ match 4 bits from entry 12 in trusted bank 'attack-footage' (threshold 31)``."""
    bank = f"{'trusted ' if trusted else ''}bank {match.bank!r}"
    detail = match.detail or {}
    name = _display(match.signal_type)
    if match.signal_type == "vpdq" and "query_match_percent" in detail:
        text = (
            f"{name} match to entry {match.entry_id} in {bank}: "
            f"{detail['query_match_percent']:g}% of the item's frames and "
            f"{detail.get('bank_match_percent', 0):g}% of the banked video's frames matched"
        )
    elif match.threshold:
        unit = " bits" if match.signal_type == "pdq" else ""
        text = (
            f"{name} match {match.distance:g}{unit} from entry {match.entry_id} in {bank} "
            f"(threshold {match.threshold:g})"
        )
    else:
        text = f"{name} identical to entry {match.entry_id} in {bank}"
    if "video_frames" in detail and match.frame_time is not None:
        text += f", in {detail['video_frames']} video frame(s) from {match.frame_time:g} s"
    if _is_variant(match):
        text += f", found through variant {match.variant or 'plain'} of the item"
        if match.bank_variant:
            text += f" and {match.bank_variant} of the banked item"
    return text


def _is_variant(match: Match) -> bool:
    return bool(match.variant or match.bank_variant)


def _untrusted_because(match: Match, policy: Policy, bank: BankInfo | None) -> str | None:
    """None when the bank is trusted to act automatically, else why it is not."""
    rule = policy.auto_action
    if match.bank in rule.exclude:
        return "the policy excludes this bank from automatic action"
    if match.bank in rule.banks:
        return None
    if bank is None:
        return "the bank's details are unknown and the policy does not name it as trusted"
    if bank.source not in rule.sources:
        allowed = ", ".join(s.value for s in rule.sources) or "no"
        return f"its source is {bank.source.value} (only {allowed} banks act automatically)"
    if bank.severity not in rule.severities:
        allowed = ", ".join(s.value for s in rule.severities) or "no"
        return f"its severity is {bank.severity.value} (only {allowed} banks act automatically)"
    if rule.labels and not set(rule.labels) & set(bank.labels):
        return f"it carries none of the labels {', '.join(rule.labels)} that act automatically"
    return None


def _not_near_exact_because(match: Match, policy: Policy) -> str | None:
    """None when the match is close enough to act, else why it is not."""
    rule = policy.auto_action
    name = _display(match.signal_type)
    if match.signal_type == "vpdq":
        if rule.vpdq_min_percent is None:
            return "vPDQ matches never act automatically under this policy"
        detail = match.detail or {}
        shared = max(
            float(detail.get("query_match_percent", 0.0)),
            float(detail.get("bank_match_percent", 0.0)),
        )
        if shared >= rule.vpdq_min_percent:
            return None
        return (
            f"{shared:g}% of frames shared is less than the {rule.vpdq_min_percent:g}% "
            "that acts automatically"
        )
    limit = rule.max_distance.get(match.signal_type)
    if limit is None:
        return f"{name} matches never act automatically under this policy"
    if match.distance <= limit:
        return None
    unit = " bits" if match.signal_type == "pdq" else ""
    return (
        f"low confidence: distance {match.distance:g}{unit} is more than the {limit:g}{unit} "
        "that acts automatically"
    )


def _match_findings(
    match: Match, policy: Policy, banks: Mapping[str, BankInfo], exception: bool
) -> list[_Finding]:
    bank = banks.get(match.bank)
    labels = tuple(code for code in match.labels if code != NOT_TVEC)
    if match.bank_kind != "positive":
        return [
            _Finding(
                NONE,
                0,
                f"{_evidence(match, False)}: a bank of known false positives, not evidence of TVEC",
            )
        ]
    if match.suppressed:
        by = match.suppressed_by or {}
        source = (
            f" (entry {by.get('entry_id')} in bank {by.get('bank')!r})"
            if by.get("bank") is not None
            else ""
        )
        return [
            _Finding(
                NONE,
                0,
                f"suppression rule: {_evidence(match, False)} is a known false positive{source}; "
                "ignored, never acted on",
                flags=("suppressed",),
            )
        ]
    findings = _threat_findings(match, policy)
    severity = _severity(match, bank)
    priority = _severity_priority(policy, severity)
    untrusted = _untrusted_because(match, policy, bank)
    trusted = untrusted is None
    evidence = _evidence(match, trusted)
    if match.review_only:
        why = f": {match.review_reason}" if match.review_reason else ""
        findings.append(
            _Finding(
                REVIEW,
                priority,
                f"quarantine rule: {evidence}, but the entry is quarantined{why}; "
                "review only, never automatic action",
                flags=("quarantined",),
                labels=labels,
            )
        )
        return findings
    far = _not_near_exact_because(match, policy)
    blocked: list[tuple[str, str]] = []
    if not policy.auto_action.enabled:
        blocked.append(("auto_action_off", "automatic action is turned off by the policy"))
    if untrusted is not None:
        blocked.append(("untrusted_bank", f"the bank is not trusted to act: {untrusted}"))
    if far is not None:
        blocked.append(("low_confidence", far))
    if _is_variant(match) and not policy.auto_action.variants:
        blocked.append(("robust_variant", "robust-variant matches go to review under this policy"))
    if not blocked and exception:
        findings.append(
            _Finding(
                REVIEW,
                priority,
                f"auto-action rule: {evidence}: near-exact, but the TVEC.01 exception holds back "
                "automatic action; review",
                flags=("trusted_match", "action_blocked"),
                labels=labels,
            )
        )
    elif not blocked:
        findings.append(
            _Finding(
                ACT,
                priority,
                f"auto-action rule: {evidence}: near-exact, acted automatically",
                flags=("trusted_match",),
                labels=labels,
            )
        )
    elif policy.matches.enabled:
        why = "; ".join(text for _, text in blocked)
        findings.append(
            _Finding(
                REVIEW,
                priority,
                f"match review rule: {evidence}: review ({why})",
                flags=("match", *(flag for flag, _ in blocked)),
                labels=labels,
            )
        )
    else:
        findings.append(
            _Finding(NONE, 0, f"{evidence}: match review is turned off by the policy; ignored")
        )
    return findings


def _threat_findings(match: Match, policy: Policy) -> list[_Finding]:
    rule = policy.threat_to_life
    found = []
    for code in match.labels:
        if code in rule.codes:
            escalation = ", escalation requested" if rule.escalate else ""
            found.append(
                _Finding(
                    REVIEW,
                    rule.priority,
                    f"threat-to-life rule: entry {match.entry_id} in bank {match.bank!r} is "
                    f"labelled {code} ({_category_name(code)}): top of the queue{escalation}",
                    flags=("threat_to_life",),
                    labels=(code,),
                    escalate=rule.escalate,
                )
            )
    return found


def _category_name(code: str) -> str:
    category = BY_CODE.get(code)
    return category.display_name if category is not None else code


def _score_finding(score: CategoryScore, policy: Policy) -> _Finding | None:
    if not score.harmful:
        return None
    evidence = (
        f"classifier flagged {score.code} ({score.display_name}): score {score.score:.2f}, "
        f"threshold {score.threshold:.2f}, model {score.model}"
    )
    threat = policy.threat_to_life
    if score.code in threat.codes:
        escalation = ", escalation requested" if threat.escalate else ""
        return _Finding(
            REVIEW,
            threat.priority,
            f"threat-to-life rule: {evidence}; top of the queue{escalation}",
            flags=("threat_to_life", "classifier"),
            labels=(score.code,),
            escalate=threat.escalate,
        )
    rule = policy.classifier
    if not rule.enabled:
        return _Finding(
            NONE, 0, f"{evidence}; classifier review is turned off by the policy, ignored"
        )
    weight = rule.weights.get(score.code, rule.min_priority)
    priority = max(rule.min_priority, min(100, round(weight * score.score)))
    return _Finding(
        REVIEW,
        priority,
        f"classifier rule: {evidence}; review, never automatic action "
        f"(priority {priority}: category weight {weight} x score {score.score:.2f}, "
        f"at least {rule.min_priority})",
        flags=("classifier",),
        labels=(score.code,),
    )


def _entity_findings(hits: list[EntityHit], policy: Policy) -> list[_Finding]:
    rule = policy.entities
    if not rule.enabled:
        return []
    seen: set[str] = set()
    found: list[_Finding] = []
    for hit in hits:
        if hit.entity_id in seen or hit.kind not in rule.kinds:
            continue
        lists = sorted({d.list for d in hit.designations if d.list in rule.lists})
        if not lists:
            continue
        seen.add(hit.entity_id)
        kind = hit.kind.replace("_", " ")
        through = f" through {hit.parent}" if hit.designations_inherited and hit.parent else ""
        found.append(
            _Finding(
                REVIEW,
                rule.priority,
                f"designated-entity rule: the text names {hit.name} ({kind}, designated"
                f"{through} by {', '.join(lists)}; matched {hit.matched_alias!r} at characters "
                f"{hit.start}-{hit.end}); review: naming a group is also what news and research "
                "do",
                flags=("entity",),
                labels=tuple(code for code in hit.tvec if code != NOT_TVEC),
            )
        )
    return found


# --- the verdict ------------------------------------------------------------------------------


def _main_category(findings: list[_Finding], policy: Policy) -> str | None:
    """The most severe code of the deciding evidence: the finding that escalates, else the one
    with the strongest action, then the highest priority; among its codes, threats to life
    first, then the heaviest classifier weight (TVEC.01 last)."""
    labelled = [f for f in findings if f.labels]
    if not labelled:
        return None
    best = max(labelled, key=lambda f: (f.escalate, _RANK[f.action], f.priority))

    def rank(code: str) -> tuple[int, int, str]:
        threat = 1 if code in policy.threat_to_life.codes else 0
        weight = -1 if code == EXCEPTION_CODE else policy.classifier.weights.get(code, 0)
        return (threat, weight, code)

    return max(best.labels, key=rank)


def _verdict(
    result: ScanResult, policy: Policy, findings: list[_Finding], exception: bool
) -> Verdict:
    action = NONE
    for finding in findings:
        if _RANK[finding.action] > _RANK[action]:
            action = finding.action
    if exception and action == ACT:  # cannot happen (acts are converted above); kept as a guard
        action = REVIEW
    counted = [f for f in findings if f.action != NONE]
    priority = max((f.priority for f in counted), default=0)
    escalate = any(f.escalate for f in counted)
    labels = {code for f in counted for code in f.labels}
    flags = sorted({flag for f in findings for flag in f.flags})
    reasons = [f.reason for f in findings]
    if not reasons:
        reasons = ["no match, classifier flag or designated entity: nothing to do"]
    if result.error is not None:
        reasons.append(f"the scan failed ({result.error.code}: {result.error.detail})")
    return Verdict(
        action=action,
        priority=priority,
        reasons=reasons,
        escalate=escalate,
        category=_main_category(counted, policy),
        language=result.text.language.code if result.text is not None else None,
        labels=sorted(labels),
        flags=flags,
    )
