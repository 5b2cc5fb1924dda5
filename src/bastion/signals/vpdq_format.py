"""The vPDQ text format: one line per hashed video frame.

Each line is ``frame_number,quality,pdq_hex,seconds`` - the format of Meta's ``vpdq`` tools and
of the sample hashes in the ThreatExchange repository, e.g.::

    0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000
    30,100,c0f11178372c6aaccddea259648fbfd62f434c89c9e99b249772be216c8d055c,1.000

Bastion's canonical form (what :func:`format_vpdq` writes and banks store): lower-case hex,
seconds with three decimals, lines joined by ``\\n`` with no trailing newline, frame numbers
strictly increasing. :func:`parse_vpdq` also accepts ``\\r\\n``, surrounding blank lines and
upper-case hex; anything else is an ``InvalidSignal`` naming the (1-based) line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bastion.errors import InvalidSignal

_PDQ = re.compile(r"[0-9a-f]{64}")
_INT = re.compile(r"[0-9]{1,12}")
# A plain decimal: no exponent, no sign, no "nan"/"inf" (float() would take those).
_SECONDS = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9})?")
MAX_FRAMES = 10_000_000  # about 92 hours at 30 frames/s; guards against runaway input


@dataclass(frozen=True, slots=True)
class VpdqFrame:
    """One hashed frame: its number in decode order, PDQ quality and hash, and time in seconds."""

    frame_number: int
    quality: int
    pdq: str
    seconds: float

    def to_line(self) -> str:
        return f"{self.frame_number},{self.quality},{self.pdq},{self.seconds:.3f}"


def _invalid(line_number: int, detail: str) -> InvalidSignal:
    return InvalidSignal(f"vpdq line {line_number}: {detail}", signal_type="vpdq", line=line_number)


def _parse_line(line_number: int, line: str) -> VpdqFrame:
    fields = line.strip().split(",")
    if len(fields) != 4:
        raise _invalid(
            line_number, f"expected frame_number,quality,pdq,seconds; got {len(fields)} fields"
        )
    number, quality, pdq, seconds = (field.strip() for field in fields)
    if not _INT.fullmatch(number):
        raise _invalid(line_number, f"frame number {number[:20]!r} is not a whole number")
    if not _INT.fullmatch(quality) or int(quality) > 100:
        raise _invalid(line_number, f"quality {quality[:20]!r} is not a whole number 0-100")
    pdq = pdq.lower()
    if not _PDQ.fullmatch(pdq):
        raise _invalid(line_number, "pdq hash must be 64 hex digits")
    if not _SECONDS.fullmatch(seconds):
        raise _invalid(line_number, f"seconds {seconds[:20]!r} is not a decimal number")
    value = float(seconds)
    if not math.isfinite(value):  # pragma: no cover - the pattern already excludes it
        raise _invalid(line_number, "seconds must be finite")
    return VpdqFrame(int(number), int(quality), pdq, value)


def parse_vpdq(text: str) -> list[VpdqFrame]:
    """Parse vPDQ text into frames; raises ``InvalidSignal`` with the line number on bad input."""
    if not isinstance(text, str):
        raise InvalidSignal("vpdq value must be text", signal_type="vpdq")
    lines = text.strip().splitlines()
    if not lines or not lines[0].strip():
        raise InvalidSignal("vpdq value has no frames", signal_type="vpdq")
    if len(lines) > MAX_FRAMES:
        raise InvalidSignal(
            f"vpdq value has {len(lines)} lines, more than {MAX_FRAMES}", signal_type="vpdq"
        )
    # strip() removed leading blank lines; count them so reported line numbers match the input.
    first_line = text[: len(text) - len(text.lstrip())].count("\n") + 1
    frames: list[VpdqFrame] = []
    for offset, line in enumerate(lines):
        frame = _parse_line(first_line + offset, line)
        if frames and frame.frame_number <= frames[-1].frame_number:
            raise _invalid(
                first_line + offset,
                f"frame number {frame.frame_number} does not follow {frames[-1].frame_number}",
            )
        frames.append(frame)
    return frames


def format_vpdq(frames: Iterable[VpdqFrame]) -> str:
    """The canonical text of ``frames`` (see the module docstring)."""
    return "\n".join(frame.to_line() for frame in frames)
