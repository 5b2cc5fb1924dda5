"""How ``bastion scan`` shows the text stage to a person: language, entities, links, scores.

Works from ``ScanResult.to_dict()["text"]`` (the API's JSON), so the table can never show
something the JSON does not say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bastion.cli.output import print_table

SCORE_COLUMNS = ["category", "name", "score", "threshold", "flagged", "action", "evidence"]


def _language(language: Mapping[str, Any]) -> str:
    text = f"{language['code']} ({language['confidence']:g}, {language['script']}"
    if language.get("romanised"):
        text += ", romanised"
    if language.get("hint"):
        text += f", hint {language['hint']}"
    return text + ")"


def _entities(entities: list[Mapping[str, Any]]) -> str:
    return "\n".join(
        f"{e['name']} [{e['kind']}] at {e['start']}-{e['end']} ({e['matched_alias']})"
        for e in entities
    )


def _links(urls: list[Mapping[str, Any]]) -> str:
    lines = []
    for url in urls:
        shown = url["canonical"] or url["raw"]
        flags = f" [{', '.join(url['flags'])}]" if url["flags"] else ""
        lines.append(f"{shown}{flags}")
    return "\n".join(lines)


def _evidence(contributions: list[Mapping[str, Any]]) -> str:
    parts = []
    for item in contributions:
        if not item.get("weight"):
            continue
        if item.get("kind") == "bank_match":
            parts.append(f"bank {item.get('bank')} entry {item.get('entry_id')}")
        else:
            parts.append(str(item.get("name") or item.get("entity_id")))
    return "; ".join(parts)


def text_summary_rows(name: str, text: Mapping[str, Any], review: bool) -> list[list[Any]]:
    """Field/value rows: what the text stage found in one item."""
    flagged = [s for s in text["scores"] if s["code"] in text["flagged"]]
    return [
        ["item", name],
        ["language", _language(text["language"])],
        ["characters", text["characters"]],
        ["sources", text["sources"]],
        ["review", "yes (a person should look; no automatic action)" if review else "no"],
        [
            "flagged",
            "; ".join(f"{s['code']} {s['score']:g} >= {s['threshold']:g}" for s in flagged),
        ],
        ["entities", _entities(text["entities"])],
        ["links", _links(text["urls"])],
        ["notes", "\n".join(text["notes"])],
    ]


def score_rows(text: Mapping[str, Any]) -> list[list[Any]]:
    return [
        [
            s["code"],
            s["display_name"],
            s["score"],
            s["threshold"],
            s["flagged"],
            s["action"],
            _evidence(s["contributions"]),
        ]
        for s in text["scores"]
    ]


def print_text_stage(name: str, result: Mapping[str, Any]) -> None:
    """The text stage of one scanned item as two tables (nothing when it had no text)."""
    text = result.get("text")
    if not text:
        return
    print_table(["field", "value"], text_summary_rows(name, text, bool(result["review"])))
    scores = score_rows(text)
    if scores:
        print_table(SCORE_COLUMNS, scores, title=f"{name}: TVEC scores (signals for review)")


FINANCE_COLUMNS = ["kind", "scheme", "value", "status", "look-alikes", "offsets"]


def print_finance_stage(name: str, result: Mapping[str, Any]) -> None:
    """Payment instruments, sanctions hits and appeal wording of one item (nothing if none)."""
    finance = result.get("finance")
    if not finance:
        return
    rows = [
        [
            i["kind"],
            i["scheme"],
            i["value"],
            i["status"],
            f"yes: {i['raw']!r}" if i["folded"] else "no",
            f"{i['start']}-{i['end']}",
        ]
        for i in finance["instruments"]
    ]
    if rows:
        print_table(FINANCE_COLUMNS, rows, title=f"{name}: payment instruments")
    hits = [[h["reference"], f"{h['score']:.2f}", h["explanation"]] for h in finance["hits"]]
    if hits:
        print_table(["list entry", "score", "why"], hits, title=f"{name}: sanctions list hits")
    appeal = finance.get("appeal") or {}
    if appeal.get("phrases"):
        words = ", ".join(repr(p["text"]) for p in appeal["phrases"])
        print_table(
            ["appeal score", "wording"],
            [[f"{appeal['score']:.2f}", words]],
            title=f"{name}: donation-appeal wording",
        )
