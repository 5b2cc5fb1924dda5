"""Bulk import of bank entries from CSV, JSON or JSON Lines (``signal_type,value,labels,note``,
and optionally ``variants``: a PDQ entry's robust-matching variants, as an export writes them).

Every row is validated before anything is written. By default one bad row rejects the whole import
with every bad row's line number; ``partial=True`` imports the good rows and reports the bad ones.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Literal

from sqlalchemy.orm import Session

from bastion.banks.records import AddReport, NewEntry
from bastion.banks.service import Banks, error_item
from bastion.errors import BastionError, ImportMalformed, InvalidInput
from bastion.signals.pdq_family import parse_bank_variants
from bastion.signals.registry import get_signal_type
from bastion.signals.video_variants import parse_video_bank_variants
from bastion.taxonomy import normalize_labels, parse_label_list

ImportFormat = Literal["csv", "json", "jsonl"]
COLUMNS = ("signal_type", "value", "labels", "note", "variants")
MAX_ROWS = 1_000_000


def guess_format(data: bytes, filename: str | None = None) -> ImportFormat:
    name = (filename or "").lower()
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    head = data.lstrip()[:1]
    if head == b"[":
        return "json"
    if head == b"{":
        return "jsonl" if b"\n{" in data.strip() else "json"
    return "csv"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportMalformed(
            f"import is not UTF-8 text (byte {exc.start})",
            errors=[{"line": line, "code": ImportMalformed.code, "detail": "not UTF-8 text"}],
        ) from None


def _entry_from_fields(fields: dict[str, Any], source: str) -> NewEntry:
    unknown = set(fields) - set(COLUMNS)
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    signal_name = fields.get("signal_type")
    value = fields.get("value")
    if not isinstance(signal_name, str) or not signal_name.strip():
        raise InvalidInput("signal_type is missing")
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("value is missing")
    signal_type = get_signal_type(signal_name.strip())
    raw_labels = fields.get("labels") or []
    if isinstance(raw_labels, str):
        labels = parse_label_list(raw_labels)
    elif isinstance(raw_labels, list) and all(isinstance(x, str) for x in raw_labels):
        labels = normalize_labels(raw_labels)
    else:
        raise InvalidInput("labels must be a string or a list of strings")
    note = fields.get("note") or ""
    if not isinstance(note, str):
        raise InvalidInput("note must be a string")
    return NewEntry(
        signal_type=signal_type.name,
        value=signal_type.normalize(value.strip()),
        labels=labels,
        note=note,
        added_from=source,
        variants=_variants(fields.get("variants"), signal_type.name),
    )


def _variants(raw: Any, signal_type: str) -> dict[str, Any] | None:
    """Robust-matching variants of a PDQ or vPDQ entry, as an export writes them (CSV: JSON)."""
    if raw is None or raw == "":
        return None
    if signal_type not in ("pdq", "vpdq"):
        raise InvalidInput("variants are only for pdq and vpdq entries")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise InvalidInput(f"variants is not valid JSON: {exc}") from exc
    if signal_type == "vpdq":
        return dict(parse_video_bank_variants(raw))
    return parse_bank_variants(raw).to_json()


def _rows_csv(text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[tuple[int, dict[str, Any]]] = []
    header: list[str] | None = None
    try:
        for record in reader:
            if not record or all(not cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in record]
                if "signal_type" not in header or "value" not in header:
                    raise ImportMalformed(
                        "CSV needs a header row naming at least signal_type and value "
                        f"(columns: {','.join(COLUMNS)})",
                        errors=[
                            {
                                "line": reader.line_num,
                                "code": ImportMalformed.code,
                                "detail": "bad header",
                            }
                        ],
                    )
                continue
            if len(record) > len(header):
                rows.append((reader.line_num, {"__error__": "more cells than header columns"}))
                continue
            rows.append((reader.line_num, dict(zip(header, record, strict=False))))
            if len(rows) > MAX_ROWS:
                raise ImportMalformed(f"import has more than {MAX_ROWS} rows; split it")
    except csv.Error as exc:
        raise ImportMalformed(
            f"CSV is malformed at line {reader.line_num}: {exc}",
            errors=[{"line": reader.line_num, "code": ImportMalformed.code, "detail": str(exc)}],
        ) from None
    return rows


def _rows_json(text: str, fmt: ImportFormat) -> list[tuple[int, dict[str, Any]]]:
    if fmt == "jsonl":
        rows: list[tuple[int, dict[str, Any]]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                rows.append((number, {"__error__": f"invalid JSON: {exc.msg}"}))
                continue
            rows.append(
                (number, item if isinstance(item, dict) else {"__error__": "not an object"})
            )
        return rows
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportMalformed(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            errors=[{"line": exc.lineno, "code": ImportMalformed.code, "detail": exc.msg}],
        ) from None
    if isinstance(document, dict) and isinstance(document.get("entries"), list):
        document = document["entries"]
    if not isinstance(document, list):
        raise ImportMalformed(
            'JSON import must be a list of entries or {"entries": [...]}',
            errors=[{"line": 1, "code": ImportMalformed.code, "detail": "not a list of entries"}],
        )
    return [
        (index, item if isinstance(item, dict) else {"__error__": "not an object"})
        for index, item in enumerate(document, start=1)
    ]


def parse_entries(
    data: bytes, fmt: ImportFormat, source: str
) -> tuple[list[NewEntry], list[dict[str, Any]]]:
    """Entries that parsed, and errors as ``{"line"|"item": n, "code", "detail"}``."""
    text = _decode(data)
    rows = _rows_csv(text) if fmt == "csv" else _rows_json(text, fmt)
    position = "item" if fmt == "json" else "line"
    entries: list[NewEntry] = []
    errors: list[dict[str, Any]] = []
    for number, fields in rows:
        if "__error__" in fields:
            errors.append(
                {position: number, "code": "import_malformed", "detail": fields["__error__"]}
            )
            continue
        try:
            entries.append(_entry_from_fields(fields, f"{source}:{position} {number}"))
        except BastionError as exc:
            errors.append(error_item(position, number, exc))
    return entries, errors


def import_entries(
    banks: Banks,
    session: Session,
    bank_name: str,
    data: bytes,
    *,
    fmt: ImportFormat,
    actor: str,
    source: str = "import",
    partial: bool = False,
) -> AddReport:
    banks.get(session, bank_name)  # unknown bank fails before parsing a large file
    entries, errors = parse_entries(data, fmt, source)
    if errors and not partial:
        shown = errors[:50]
        raise ImportMalformed(
            f"{len(errors)} bad row(s); nothing was imported (use partial import to keep the rest)",
            errors=shown,
            error_count=len(errors),
        )
    if not entries and not errors:
        raise ImportMalformed(
            "the import holds no entries",
            errors=[{"line": 1, "code": ImportMalformed.code, "detail": "no entries"}],
        )
    report = banks.add_entries(session, bank_name, entries, actor=actor)
    report.errors = errors
    return report
