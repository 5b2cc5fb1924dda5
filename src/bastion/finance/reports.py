"""The evidence summary of one case for a financial intelligence unit (FIU), as JSON and PDF.

What an analyst hands over: the payment instruments the case's content carried (and how often
each was seen across everything scanned), the sanctions list entries they matched with the list
version and the explanation of each match, the content itself as text evidence (no media), the
appeal wording, and the case's history. The JSON is the record; the PDF
(:mod:`bastion.finance.report_pdf`) is its printable form and carries the JSON's SHA-256, so
the two can be tied together. Building a report is itself audited (``finance.report``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bastion.audit import AuditLog
from bastion.errors import InvalidInput
from bastion.finance.list_store import list_summary
from bastion.finance.report_pdf import render_report_pdf
from bastion.review.cases import CaseInfo, Cases
from bastion.share.instance import this_instance
from bastion.storage.finance_models import (
    FinanceFindingRow,
    FinanceHitRow,
    SanctionsEntityRow,
    SanctionsListRow,
)
from bastion.storage.models import AuditEventRow, ContentRow, SignalRow, utcnow

REPORT_VERSION: Final = 1
MARKINGS: Final = ("clear", "green", "amber", "amber+strict", "red")
EXCERPT_CHARS: Final = 600


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def instrument_records(session: Session, content_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(FinanceFindingRow)
        .where(FinanceFindingRow.content_id == content_id)
        .order_by(FinanceFindingRow.start)
    ).all()
    values = sorted({row.signal_value for row in rows})
    seen: dict[str, tuple[Any, int, list[int]]] = {}
    if values:
        for value, first, count in session.execute(
            select(
                FinanceFindingRow.signal_value,
                func.min(FinanceFindingRow.found_at),
                func.count(func.distinct(FinanceFindingRow.content_id)),
            )
            .where(FinanceFindingRow.signal_value.in_(values))
            .group_by(FinanceFindingRow.signal_value)
        ):
            ids = session.scalars(
                select(FinanceFindingRow.content_id)
                .where(FinanceFindingRow.signal_value == value)
                .distinct()
                .order_by(FinanceFindingRow.content_id)
                .limit(20)
            ).all()
            seen[str(value)] = (first, int(count), list(ids))
    return [
        {
            "kind": row.kind,
            "scheme": row.scheme,
            "value": row.value,
            "signal": row.signal_value,
            "status": row.status,
            "folded": row.folded,
            "raw": row.raw,
            "evidence": row.evidence,
            "first_seen": _iso(seen.get(row.signal_value, (None, 0, []))[0]),
            "times_seen": seen.get(row.signal_value, (None, 0, []))[1],
            "content_ids": seen.get(row.signal_value, (None, 0, []))[2],
        }
        for row in rows
    ]


def hit_records(session: Session, case_id: int, content_id: int | None) -> list[dict[str, Any]]:
    condition = FinanceHitRow.case_id == case_id
    if content_id is not None:
        condition = condition | (FinanceHitRow.content_id == content_id)
    rows = session.execute(
        select(FinanceHitRow, SanctionsEntityRow, SanctionsListRow)
        .join(SanctionsEntityRow, SanctionsEntityRow.id == FinanceHitRow.entity_id)
        .join(SanctionsListRow, SanctionsListRow.id == FinanceHitRow.list_id)
        .where(condition)
        .order_by(FinanceHitRow.id)
    ).all()
    return [
        {
            "list": list_summary(listed),
            "entity": {
                "id": entity.id,
                "external_id": entity.external_id,
                "caption": entity.caption,
                "schema": entity.schema,
                "programs": list(entity.programs or []),
                "names": [n["name"] for n in (entity.data or {}).get("names", [])][:20],
            },
            "match": {
                "kind": hit.match_kind,
                "value": hit.matched,
                "listed": hit.listed,
                "score": round(hit.score, 4),
                "explanation": hit.explanation,
            },
        }
        for hit, entity, listed in rows
    ]


def _content(session: Session, content_id: int, report: dict[str, Any]) -> dict[str, Any]:
    row = session.get(ContentRow, content_id)
    if row is None:
        return {"id": content_id, "missing": True}
    text_meta = (row.meta or {}).get("text") or {}
    evidence = [i["evidence"] for i in report["instruments"] if i.get("evidence")]
    excerpt = " … ".join(dict.fromkeys(evidence))[:EXCERPT_CHARS]
    highlights = []
    for instrument in report["instruments"]:
        at = excerpt.find(instrument["raw"])
        if at >= 0:
            highlights.append([at, at + len(instrument["raw"])])
    signals = session.scalars(
        select(SignalRow).where(SignalRow.content_id == content_id, SignalRow.signal_type == "url")
    ).all()
    return {
        "id": row.id,
        "received_at": _iso(row.received_at),
        "source": row.source,
        "kind": row.kind,
        "sha256": row.sha256,
        "name": row.name,
        "language": text_meta.get("language"),
        "excerpt": excerpt,
        "highlights": highlights,
        "links": [signal.value for signal in signals][:20],
    }


def _history(session: Session, case_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(AuditEventRow)
        .where(AuditEventRow.target_type == "case", AuditEventRow.target_id == str(case_id))
        .order_by(AuditEventRow.id)
        .limit(200)
    ).all()
    return [
        {
            "at": _iso(row.occurred_at),
            "actor": row.actor,
            "action": row.action,
            "detail": json.dumps(row.details, ensure_ascii=False, default=str)[:300],
        }
        for row in rows
    ]


def _summary(report: dict[str, Any], case: CaseInfo) -> list[str]:
    lines = []
    instruments = report["instruments"]
    if instruments:
        kinds = sorted({i["kind"].replace("_", " ") for i in instruments})
        lines.append(
            f"The content carries {len(instruments)} payment instrument(s): {', '.join(kinds)}."
        )
    for hit in report["list_hits"]:
        lines.append(
            f"{hit['match']['value']} matches {hit['list']['name']} entry "
            f"{hit['entity']['external_id']} ({hit['entity']['caption']}), list of "
            f"{hit['list']['published'] or 'unknown date'}: {hit['match']['explanation']}"
        )
    folded = [i["value"] for i in instruments if i["folded"]]
    if folded:
        lines.append(
            "Written with look-alike characters to evade filters: " + ", ".join(folded[:5]) + "."
        )
    again = [i for i in instruments if i["times_seen"] > 1]
    for instrument in again[:5]:
        lines.append(
            f"{instrument['value']} was seen in {instrument['times_seen']} scanned items "
            f"(first {instrument['first_seen']})."
        )
    appeal = (case.details.get("finance") or {}).get("appeal")
    if appeal:
        lines.append(f"Donation-appeal wording scored {appeal:.2f}.")
    lines.extend(case.reasons[:5])
    return lines


def build_case_report(
    session: Session, case: CaseInfo, *, instance: dict[str, str], tlp: str = "amber"
) -> dict[str, Any]:
    """The evidence summary of ``case`` as a JSON-ready dictionary (see the module doc)."""
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "generated_at": utcnow().isoformat(),
        "instance": instance,
        "tlp": tlp,
        "case": {
            "id": case.id,
            "title": case.title,
            "priority": case.priority,
            "status": case.status,
            "category": case.category,
            "labels": list(case.labels),
            "opened_at": _iso(case.created_at),
            "language": case.language,
            "reasons": list(case.reasons),
        },
        "instruments": instrument_records(session, case.content_id) if case.content_id else [],
        "list_hits": hit_records(session, case.id, case.content_id),
        "content": [],
        "history": _history(session, case.id),
    }
    if case.content_id is not None:
        content = _content(session, case.content_id, report)
        finance = case.details.get("finance") or {}
        if finance.get("appeal") is not None:
            content["appeal"] = {
                "score": finance["appeal"],
                "phrases": list(finance.get("appeal_phrases") or []),
                "language": finance.get("appeal_language"),
            }
        report["content"].append(content)
    report["summary"] = _summary(report, case)
    report["report_sha256"] = report_digest(report)
    return report


def report_digest(report: dict[str, Any]) -> str:
    """SHA-256 of the report's canonical JSON, without its own digest field."""
    body = {key: value for key, value in report.items() if key != "report_sha256"}
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def report_for_case(
    session: Session,
    cases: Cases,
    audit: AuditLog,
    case_id: int,
    *,
    actor: str,
    data_dir: Path,
    tlp: str = "amber",
    form: str = "json",
) -> dict[str, Any]:
    """The report of one case, signed off in the audit log (who took which evidence out)."""
    marking = tlp.strip().lower().removeprefix("tlp:")
    if marking not in MARKINGS:
        raise InvalidInput(
            f"unknown TLP marking {tlp!r}; use one of {', '.join(MARKINGS)}", field="tlp"
        )
    case = cases.get(session, case_id)
    instance = this_instance(data_dir)
    report = build_case_report(
        session,
        case,
        instance={"name": instance.identity.get("name", ""), "fingerprint": instance.name},
        tlp=marking,
    )
    audit.record(
        session,
        actor=actor,
        action="finance.report",
        target_type="case",
        target_id=case_id,
        details={"form": form, "tlp": marking, "report_sha256": report["report_sha256"]},
    )
    return report


def report_file(report: dict[str, Any], form: str) -> tuple[bytes, str, str]:
    """The report as a file to hand over: (bytes, media type, file name)."""
    name = f"case-{report['case']['id']}-finance"
    if form == "pdf":
        return render_report_pdf(report), "application/pdf", f"{name}.pdf"
    body = json.dumps(report, ensure_ascii=False, indent=2).encode("utf-8")
    return body, "application/json", f"{name}.json"
