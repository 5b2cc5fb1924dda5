"""The FIU evidence report as a PDF: :func:`render_report_pdf` turns the report dictionary into A4.

The reader is a financial intelligence unit officer, not an engineer: plain labels, one section
per kind of evidence, the TLP marking at the top and in every page footer, and the SHA-256 of the
JSON report so the two documents can be tied together. Text evidence only: no image of the
content is ever drawn (moderator and officer safety).

Everything taken from the report is untrusted (it quotes posts): it is escaped before it reaches
reportlab's Paragraph markup, so a ``<font>`` or ``<a href>`` in a post prints as text. Non-Latin
text needs a TrueType font that covers it; without one the text is transliterated with
``anyascii`` and marked "(transliterated)", so a PDF is always produced. Arabic is shaped with
``arabic-reshaper`` when it is installed and laid out right to left by a small bidi pass of our
own (python-bidi is LGPL); without the reshaper its transliteration follows in brackets.
"""

from __future__ import annotations

import io
import logging
import os
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, Final
from xml.sax.saxutils import escape

from anyascii import anyascii

# reportlab ships no type hints and types-reportlab is not a project dependency: its names are Any.
# "unused-ignore" keeps mypy --strict clean should the stubs be installed one day.
from reportlab.lib import colors  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.enums import TA_RIGHT  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped,unused-ignore]
from reportlab.platypus import (  # type: ignore[import-untyped,unused-ignore]
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

try:  # optional (MIT): joins Arabic letters into their contextual forms
    import arabic_reshaper  # type: ignore[import-untyped,import-not-found,unused-ignore]

    _reshape: Callable[[str], str] | None = arabic_reshaper.reshape
except ImportError:  # pragma: no cover - depends on the environment
    _reshape = None

__all__ = ["FONT_CANDIDATES", "render_report_pdf"]

log = logging.getLogger(__name__)

_DEJAVU: Final = "/usr/share/fonts/truetype/dejavu/DejaVuSans"
_FREE: Final = "/usr/share/fonts/truetype/freefont/FreeSans"
# (regular, bold) TrueType fonts tried in order after the caller's ``font_path``. DejaVu Sans
# covers Latin, Cyrillic, Greek and Arabic (with its presentation forms); Noto Sans and FreeSans
# lack Arabic, which is then transliterated.
FONT_CANDIDATES: Final = (
    (f"{_DEJAVU}.ttf", f"{_DEJAVU}-Bold.ttf"),
    ("/usr/share/fonts/dejavu/DejaVuSans.ttf", "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
    (
        "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
        "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    ),
    (f"{_FREE}.ttf", f"{_FREE}Bold.ttf"),
)
DASH: Final = "—"  # what a missing value shows
_MARGIN: Final = 15 * mm
_WIDTH: Final = A4[0] - 2 * _MARGIN
# Invisible characters used to disguise text (bidi overrides, zero-width spaces): printed as a
# visible code point, never silently obeyed or dropped.
_MARKED: Final = frozenset(
    {0x200B, 0x200E, 0x200F, 0x2060, 0xFEFF, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}
)
_MIRROR: Final = dict(zip("()[]{}<>«»", ")(][}{><»«", strict=True))
_TLP: Final = {  # TLP 2.0 colour and meaning, printed in the banner
    "clear": ("#FFFFFF", "Disclosure is not limited."),
    "green": ("#33FF00", "Limited disclosure: the recipient's community, not public channels."),
    "amber": (
        "#FFC000",
        "Limited disclosure: the recipient's organisation and its clients, on a "
        "need-to-know basis.",
    ),
    "amber+strict": ("#FFC000", "Limited disclosure: the recipient's organisation only."),
    "red": ("#FF2B2B", "For the eyes and ears of the individual recipients only, no further."),
}
# Label/value tables as "Label=path;...": a dotted path into the mapping, "@" for a timestamp.
_HEADER: Final = (
    "Bastion instance=instance.name;Instance key=instance.fingerprint;Generated at (UTC)="
    "@generated_at;Case id=case.id;Case title=case.title;Priority=case.priority;Status=case.status;"
    "Category=case.category;Labels=case.labels;Opened at (UTC)=@case.opened_at;"
    "Language=case.language;Report format=report_version"
)
_HIT: Final = (
    "List=list.name;List source=list.source;List date=list.published;List version=list.version;"
    "Entity id on the list=entity.external_id;Entity name=entity.caption;Entity type=entity.schema;"
    "Other names=entity.names;Programmes=entity.programs;What matched=what;"
    "Matched value=match.value;Explanation=match.explanation"
)
_CONTENT: Final = (
    "Content id=id;Name=name;Received at (UTC)=@received_at;Source=source;Kind=kind;"
    "SHA-256=sha256;Donation appeal=found;Appeal phrases=appeal.phrases;"
    "Text excerpt (instrument in bold)=rich"
)
# The instrument table: heading=path per column, and the column widths in mm (Evidence: the rest).
_INSTRUMENTS: Final = (
    "#=n;Kind=kind;Scheme=scheme;Value=rich;Status=status;Look-alikes=folded;"
    "First seen=@first_seen;Times seen=times_seen;Evidence=evidence"
)
_COLUMNS_MM: Final = (7, 18, 15, 40, 14, 15, 22, 11)

Run = tuple[str, bool]  # a piece of text and whether it is bold


@dataclass(frozen=True, slots=True)
class _Rich:
    """Text with bold pieces, as opposed to a plain report value."""

    runs: tuple[Run, ...]


@dataclass(frozen=True, slots=True)
class _Fonts:
    """The registered font pair; ``cmap`` is None for the built-in Helvetica (cp1252 only)."""

    regular: str
    bold: str
    cmap: frozenset[int] | None

    def covers(self, ch: str) -> bool:
        """Whether ``ch`` has a glyph, so it need not be transliterated."""
        if self.cmap is None:
            return ch.encode("cp1252", "ignore") != b""
        return ord(ch) in self.cmap


_HELVETICA: Final = _Fonts("Helvetica", "Helvetica-Bold", None)
_LOADED: dict[tuple[str, str], _Fonts] = {}


def _register(regular: str, bold: str) -> _Fonts:
    """Register a TrueType pair once per process (reportlab's font registry is global)."""
    if (regular, bold) not in _LOADED:
        name, face = f"BastionReport{len(_LOADED)}", TTFont(f"BastionReport{len(_LOADED)}", regular)
        pdfmetrics.registerFont(face)
        pdfmetrics.registerFont(TTFont(f"{name}-Bold", bold))
        pdfmetrics.registerFontFamily(
            name, normal=name, bold=f"{name}-Bold", italic=name, boldItalic=f"{name}-Bold"
        )
        _LOADED[regular, bold] = _Fonts(name, f"{name}-Bold", frozenset(face.face.charToGlyph))
    return _LOADED[regular, bold]


def _load_fonts(font_path: str | None, force_fallback: bool) -> _Fonts:
    """The first usable font of ``font_path`` then :data:`FONT_CANDIDATES`, else Helvetica."""
    root, ext = os.path.splitext(font_path or "")
    pairs = [(font_path, f"{root}-Bold{ext}")] if font_path else []
    for regular, bold in [] if force_fallback else [*pairs, *FONT_CANDIDATES]:
        if os.path.isfile(regular):
            try:
                return _register(regular, bold if os.path.isfile(bold) else regular)
            except Exception as exc:  # a damaged or unsupported font file: try the next one
                log.warning("report font %s unusable: %s", regular, exc)
    return _HELVETICA


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _text(value: Any) -> str:
    """A report value as display text: lists joined, booleans as yes/no, missing as a dash."""
    if value is None or value == "" or value == [] or value == ():
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _when(value: Any) -> str:
    """An ISO-8601 timestamp shown in UTC; anything else is shown as given."""
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) and "T" in value else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        return _text(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _lookup(source: Mapping[str, Any], path: str) -> Any:
    """The value at a spec path (see :data:`_HEADER`), a timestamp formatted."""
    value: Any = source
    for key in path.lstrip("@").split("."):
        value = _map(value).get(key)
    return _when(value) if path.startswith("@") else value


def _spec(spec: str) -> list[tuple[str, str]]:
    return [(field.split("=")[0], field.split("=")[1]) for field in spec.split(";")]


def _bidi(ch: str) -> str:
    """A simplified bidi class: R (right to left), L (left to right, digits too) or N."""
    cls = unicodedata.bidirectional(ch)
    return "R" if cls in ("R", "AL") else "L" if cls in ("L", "EN", "AN") else "N"


def _visual(chars: Sequence[Run], rtl: bool) -> list[Run]:
    """One line from logical to visual order: right-to-left runs reversed (and mirrored).

    Neutrals take the direction of their strong neighbours when both agree, else the line's
    base direction. Enough for Arabic sentences quoting Latin addresses and numbers.
    """
    base = "R" if rtl else "L"
    kinds = [_bidi(c) for c, _ in chars]
    before, after, last, nxt = [base] * len(kinds), [base] * len(kinds), base, base
    for i, k in enumerate(kinds):
        before[i], last = last, (last if k == "N" else k)
    for i in range(len(kinds) - 1, -1, -1):
        after[i], nxt = nxt, (nxt if kinds[i] == "N" else kinds[i])
    resolved = [
        base if k == "N" and before[i] != after[i] else before[i] if k == "N" else k
        for i, k in enumerate(kinds)
    ]
    runs = [(k, list(g)) for k, g in groupby(zip(resolved, chars, strict=True), key=itemgetter(0))]
    out: list[Run] = []
    for k, run in reversed(runs) if rtl else runs:
        pieces = [c for _, c in run]
        out += [(_MIRROR.get(c, c), b) for c, b in reversed(pieces)] if k == "R" else pieces
    return out


def _markup(chars: Sequence[Run]) -> str:
    """Paragraph markup for characters: every piece escaped, bold pieces in ``<b>``."""
    pieces = ((b, escape("".join(c for c, _ in g))) for b, g in groupby(chars, key=itemgetter(1)))
    return "".join(f"<b>{text}</b>" if bold else text for bold, text in pieces)


def _highlighted(text: Any, spans: Any) -> _Rich | None:
    """The excerpt as runs, the ``[start, end]`` code-point spans bold; bad spans are ignored."""
    if not isinstance(text, str) or not text:
        return None
    marks = [False] * len(text)
    for pair in map(_list, _list(spans)):
        if len(pair) == 2 and all(type(v) is int for v in pair):
            start, end = max(pair[0], 0), min(max(pair[1], 0), len(text))
            marks[start:end] = [True] * max(end - start, 0)
    runs = groupby(zip(text, marks, strict=True), key=itemgetter(1))
    return _Rich(tuple(("".join(c for c, _ in g), bold) for bold, g in runs))


def _matched(match: Mapping[str, Any]) -> str:
    """What matched, in words: "Wallet address — exact", "Name — score 0.87"."""
    kind, score = match.get("kind"), match.get("score")
    what = {"wallet": "Wallet address", "name": "Name"}.get(str(kind), _text(kind))
    if isinstance(score, int | float) and not isinstance(score, bool):
        what += " — exact" if score >= 1 and kind == "wallet" else f" — score {score:.2f}"
    return what


def _title(report: Mapping[str, Any]) -> str:
    return f"Financial evidence summary — case {_text(_map(report.get('case')).get('id'))}"


class _Renderer:
    """Builds the story (the flowables) for one report with one font set."""

    def __init__(self, fonts: _Fonts, reshape: Callable[[str], str] | None) -> None:
        self.fonts, self.reshape, bold = fonts, reshape, fonts.bold
        self.body = ParagraphStyle("body", fontName=fonts.regular, fontSize=9, leading=11.5)
        self.small = ParagraphStyle("small", fontName=fonts.regular, fontSize=7.5, leading=9.2)
        self.label = ParagraphStyle("label", parent=self.small, fontName=bold)
        self.h1 = ParagraphStyle("h1", fontName=bold, fontSize=16, leading=20, spaceAfter=6)
        self.h2 = ParagraphStyle("h2", parent=self.h1, fontSize=12, leading=15, spaceBefore=10)
        self.h3 = ParagraphStyle("h3", parent=self.h1, fontSize=10, leading=13, spaceBefore=6)

    def plain(self, text: str) -> str:
        """Text for the canvas (no markup): characters the font lacks transliterated."""
        return "".join(c if self.fonts.covers(c) else anyascii(c) for c in text)

    def prepare(self, runs: Sequence[Run]) -> list[Run]:
        """Clean, shape and transliterate text into characters that the font can draw."""
        out: list[Run] = []
        translit = False
        for text, bold in runs:
            piece = "".join(
                " " if ch.isspace() else f"[U+{ord(ch):04X}]" if ord(ch) in _MARKED else ch
                for ch in text
                if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cs", "Co", "Cn")
            )
            if self.reshape is not None and self.fonts.cmap is not None:
                piece = self.reshape(piece)
            for ch in piece:
                # A ligature the font lacks (U+FDF2 "Allah") still reads as its letters.
                plain = ch if self.fonts.covers(ch) else unicodedata.normalize("NFKC", ch)
                if not all(map(self.fonts.covers, plain)):
                    plain, translit = anyascii(ch), True
                out += [(c, bold) for c in plain]
        if self.reshape is None and any(unicodedata.bidirectional(c) == "AL" for c, _ in out):
            out += [(c, False) for c in f" [{anyascii(''.join(t for t, _ in runs))}]"]
        out += [(c, False) for c in " (transliterated)"] if translit else []
        squeezed: list[Run] = []
        for ch, bold in out:  # one space between words, none at the ends
            if ch != " " or (squeezed and squeezed[-1][0] != " "):
                squeezed.append((ch, bold))
        return squeezed[:-1] if squeezed and squeezed[-1][0] == " " else squeezed

    def para(self, value: Any, style: Any = None, width: float = _WIDTH) -> Any:
        """A Paragraph for a value; right-to-left text is broken into lines and reordered here."""
        style = style or self.body
        chars = self.prepare(value.runs if isinstance(value, _Rich) else [(_text(value), False)])
        kinds = [_bidi(c) for c, _ in chars]
        if "R" not in kinds:
            return Paragraph(_markup(chars) or DASH, style)
        rtl = next(k for k in kinds if k != "N") == "R"
        lines = [_markup(_visual(line, rtl)) for line in self.lines(chars, style.fontSize, width)]
        style = ParagraphStyle("rtl", parent=style, alignment=TA_RIGHT) if rtl else style
        return Paragraph("<br/>".join(lines), style)

    def lines(self, chars: list[Run], size: float, width: float) -> list[list[Run]]:
        """Greedy line breaking in logical order (bidi reorders each line after); long words cut."""
        fonts, width = self.fonts, width - 2

        def measure(part: Sequence[Run]) -> float:
            width_of = pdfmetrics.stringWidth
            return sum(
                float(width_of(c, fonts.bold if b else fonts.regular, size)) for c, b in part
            )

        lines: list[list[Run]] = [[]]
        for is_space, group in groupby(chars, key=lambda r: r[0] == " "):
            word = [] if is_space else list(group)
            while len(word) > 1 and measure(word) > width:  # cut at the first overflowing char
                cut = max(next(i for i in range(len(word)) if measure(word[: i + 1]) > width), 1)
                lines, word = [*lines, word[:cut]], word[cut:]
            joined = [*lines[-1], (" ", False), *word] if lines[-1] else word
            if word and measure(joined) <= width:
                lines[-1] = joined
            elif word:
                lines.append(word)
        return [line for line in lines if line]

    def table(self, rows: list[list[Any]], widths: Sequence[float], header: bool = True) -> Any:
        """A grid of cells that wraps inside its columns and splits across pages by rows."""
        cells = [
            [
                self.para(v, self.label if (r if header else c) == 0 else self.small, w - 6)
                for c, (v, w) in enumerate(zip(row, widths, strict=True))
            ]
            for r, row in enumerate(rows)
        ]
        grid = Table(cells, colWidths=list(widths), repeatRows=int(header), hAlign="LEFT")
        grid.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 3),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                    (
                        "BACKGROUND",
                        (0, 0),
                        (-1, 0) if header else (0, -1),
                        colors.HexColor("#E8E8E8"),
                    ),
                ]
            )
        )
        return grid

    def fields(self, source: Mapping[str, Any], spec: str) -> Any:
        """A two-column label/value table (see :data:`_HEADER` for ``spec``)."""
        rows = [[label, _lookup(source, path)] for label, path in _spec(spec)]
        return self.table(rows, (40 * mm, _WIDTH - 40 * mm), header=False)

    def section(self, heading: str, parts: list[Any]) -> list[Any]:
        """A numbered heading and its flowables, or "None." when the report has nothing for it."""
        return [self.para(heading, self.h2), *(parts or [self.para("None.")])]

    def story(self, report: Mapping[str, Any], tlp: str) -> list[Any]:
        """All flowables of the report: title, TLP banner, header block, sections 1 to 6."""
        colour, meaning = _TLP.get(tlp, _TLP["red"])
        big = ParagraphStyle("tlp", parent=self.h1, textColor=colors.HexColor(colour))
        banner = Table(
            [[self.para(f"TLP:{tlp.upper()}", big), self.para(meaning)]],
            colWidths=(60 * mm, _WIDTH - 60 * mm),
            hAlign="LEFT",
        )
        banner.setStyle(
            TableStyle(
                [
                    ("BACKGROUND", (0, 0), (0, 0), colors.black),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ]
            )
        )
        note = (
            "Prepared by Bastion for a financial intelligence unit. Text evidence only: this "
            "document contains no image of the content."
        )
        out = [self.para(_title(report), self.h1), banner, Spacer(1, 4), self.para(note)]
        out += [Spacer(1, 4), self.fields(report, _HEADER)]
        out += self.section(
            "1. Summary", [self.para(f"• {_text(s)}") for s in _list(report.get("summary"))]
        )
        rows = [
            [
                _lookup({**i, "n": n, "rich": _value(i), "kind": _kind(i)}, path)
                for _, path in _spec(_INSTRUMENTS)
            ]
            for n, i in enumerate(map(_map, _list(report.get("instruments"))), 1)
        ]
        widths = [x * mm for x in _COLUMNS_MM]
        head = [label for label, _ in _spec(_INSTRUMENTS)]
        out += self.section(
            "2. Payment instruments",
            rows and [self.table([head, *rows], [*widths, _WIDTH - sum(widths)])],
        )
        hits = [_map(h) for h in _list(report.get("list_hits"))]
        out += self.section(
            "3. Sanctions list matches",
            [
                f
                for n, h in enumerate(hits, 1)
                for f in (
                    self.para(
                        f"Match {n} of {len(hits)}: {_text(_lookup(h, 'entity.caption'))}", self.h3
                    ),
                    self.fields({**h, "what": _matched(_map(h.get("match")))}, _HIT),
                )
            ],
        )
        out += self.section(
            "4. Content",
            [
                f
                for c in map(_map, _list(report.get("content")))
                for f in (
                    self.para(f"Content {_text(c.get('id'))}", self.h3),
                    self.fields(
                        {
                            **c,
                            "rich": _highlighted(c.get("excerpt"), c.get("highlights")),
                            "found": _appeal(_map(c.get("appeal"))),
                        },
                        _CONTENT,
                    ),
                )
            ],
        )
        history = [
            [
                _when(h.get("at")),
                h.get("actor"),
                " — ".join(
                    _text(h.get(k)) for k in ("action", "detail") if h.get(k) not in (None, "")
                ),
            ]
            for h in map(_map, _list(report.get("history")))
        ]
        out += self.section(
            "5. Decisions and history",
            history
            and [
                self.table(
                    [["When (UTC)", "Who", "What"], *history], (38 * mm, 32 * mm, _WIDTH - 70 * mm)
                )
            ],
        )
        return out + self.section(
            "6. Integrity",
            [
                self.para("SHA-256 of the JSON report delivered with this PDF:"),
                self.para(report.get("report_sha256"), self.h3),
            ],
        )


def _value(item: Mapping[str, Any]) -> _Rich:
    """An instrument's canonical value in bold, then the text as written when it differs."""
    value, raw = _text(item.get("value")), item.get("raw")
    return _Rich(((value, True), (f" (as written: {raw})" if raw and raw != value else "", False)))


def _kind(item: Mapping[str, Any]) -> str:
    """An instrument kind in words: "crypto address" rather than "crypto_address"."""
    return _text(item.get("kind")).replace("_", " ")


def _appeal(appeal: Mapping[str, Any]) -> str | None:
    """The donation-appeal finding in words, None (a dash) when there is none."""
    if not appeal:
        return None
    return f"score {_text(appeal.get('score'))}, language {_text(appeal.get('language'))}"


def render_report_pdf(
    report: Mapping[str, Any], font_path: str | None = None, *, force_fallback: bool = False
) -> bytes:
    """Render the FIU evidence report dictionary as A4 PDF bytes.

    ``font_path``: a TrueType font to prefer (the ``BASTION_REPORT_FONT`` setting), tried before
    :data:`FONT_CANDIDATES`. ``force_fallback``: Helvetica and transliteration even when a font
    exists (tests; recipients whose tools mishandle embedded fonts). The document is built twice:
    the first pass counts the pages for the "page X of Y" footers. A missing TLP is shown as RED.
    """
    fonts = _load_fonts(font_path, force_fallback)
    renderer = _Renderer(fonts, _reshape)
    tlp = str(report.get("tlp") or "red").strip().lower()  # unmarked: the most restrictive
    tlp = "clear" if tlp == "white" else anyascii(tlp)[:20]
    label, title = f"TLP:{tlp.upper()}", renderer.plain(_title(report))[:90]
    colour = colors.HexColor(_TLP.get(tlp, _TLP["red"])[0])
    total, pages, data = 0, [0], b""

    def on_page(canvas: Any, _doc: Any) -> None:
        """The TLP label at the top and bottom of every page, and the page footer."""
        pages[0] = canvas.getPageNumber()
        canvas.saveState()
        for y in (A4[1] - 12 * mm, 7 * mm):
            canvas.setFillColor(colors.black)
            canvas.rect(A4[0] - _MARGIN - 38 * mm, y - 1.5 * mm, 38 * mm, 6 * mm, stroke=0, fill=1)
            canvas.setFillColor(colour)
            canvas.setFont(fonts.bold, 10)
            canvas.drawCentredString(A4[0] - _MARGIN - 19 * mm, y, label)
        canvas.setFillColor(colors.black)
        canvas.setFont(fonts.regular, 8)
        canvas.drawString(_MARGIN, 7 * mm, f"Bastion · {title} · page {pages[0]} of {total}")
        canvas.restoreState()

    for _ in range(2):
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=_MARGIN,
            rightMargin=_MARGIN,
            topMargin=20 * mm,
            bottomMargin=16 * mm,
            title=title,
            author="Bastion",
            creator="Bastion",
            subject=f"{label} financial evidence summary",
            invariant=True,
        )
        doc.build(renderer.story(report, tlp), onFirstPage=on_page, onLaterPages=on_page)
        total, data = pages[0], buffer.getvalue()
    return data
