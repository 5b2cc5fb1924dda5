"""Scan results through review intake: the verdict policy, the case, the actions.

Callers that scan on a platform's behalf (the API, the demo) pass each recorded result here; the
result gains ``verdict`` and ``case_id`` (see :class:`bastion.review.workflow.Workbench`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.match.scanner import ScanResult

if TYPE_CHECKING:
    from bastion.runtime import Bastion


def with_verdict(bastion: Bastion, result: ScanResult) -> ScanResult:
    """Run a recorded scan result through review intake (verdict policy, case, actions)."""
    if result.content_id is None or result.error is not None:
        return result
    with bastion.db.session() as session:
        verdict, case = bastion.workbench.intake(session, result)
    result.verdict = verdict.to_dict()
    result.case_id = case.id if case is not None else None
    return result


def with_verdicts(bastion: Bastion, results: list[ScanResult]) -> list[ScanResult]:
    """:func:`with_verdict` for a batch, in one database session."""
    recorded = [r for r in results if r.content_id is not None and r.error is None]
    if recorded:
        with bastion.db.session() as session:
            outcomes = bastion.workbench.intake_many(session, recorded)
        for result, (verdict, case) in zip(recorded, outcomes, strict=True):
            result.verdict = verdict.to_dict()
            result.case_id = case.id if case is not None else None
    return results
