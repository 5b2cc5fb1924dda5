""" "Bank this stream from 00:12 to 00:40": a watched stream's seconds as a video bank entry.

The entry is a vPDQ hash made of the sampled frames the watcher kept (:mod:`.history`), timed
from the start of the range, and the same frames as its ``dense`` variant, which is what live
watchers look frames up in. Its frames are as dense as the stream was sampled (normally one a
second, not the eight a second of a banked file): enough for the watchers' evidence rule (three
frames within ten seconds) on footage that does not change completely every half second, and
for uploads, whose videos are compared by their share of matching frames.
"""

from __future__ import annotations

import math
import re
from typing import Final

from bastion.banks.records import NewEntry
from bastion.errors import InvalidInput, StreamNotWatching
from bastion.signals.video import DENSE
from bastion.signals.vpdq_format import VpdqFrame, format_vpdq
from bastion.stream.history import FrameHistory

# A clip needs this many usable frames: fewer could never satisfy a watcher's evidence rule.
MIN_CLIP_FRAMES: Final = 3
MAX_CLIP_SECONDS: Final = 3 * 3600.0
_CLOCK = re.compile(r"(?:(\d{1,3}):)?(\d{1,2}):(\d{1,2}(?:\.\d{1,3})?)")
_SECONDS = re.compile(r"(\d{1,6}(?:\.\d{1,3})?)s?")


def parse_stream_time(text: str) -> float:
    """``"00:12"``, ``"1:02:03.5"``, ``"12"``, ``"12.5s"`` as seconds."""
    value = text.strip()
    clock = _CLOCK.fullmatch(value)
    if clock is not None:
        hours, minutes, seconds = clock.groups()
        if (hours is not None and int(minutes) >= 60) or float(seconds) >= 60:
            raise InvalidInput(f"bad stream time {text[:40]!r}: minutes and seconds are 0-59")
        return int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
    plain = _SECONDS.fullmatch(value)
    if plain is not None:
        return float(plain.group(1))
    raise InvalidInput(f"bad stream time {text[:40]!r}: use mm:ss, hh:mm:ss or seconds")


def clip_entry(
    history: FrameHistory,
    start: float,
    end: float,
    *,
    min_quality: int,
    labels: list[str],
    note: str,
    source: str,
) -> NewEntry:
    """The bank entry for watch seconds ``start`` to ``end`` of a stream's history."""
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
        raise InvalidInput("the range must have 0 <= start < end")
    if end - start > MAX_CLIP_SECONDS:
        raise InvalidInput(f"a clip is at most {MAX_CLIP_SECONDS / 3600:g} hours")
    span = history.span()
    if span is None:
        raise StreamNotWatching("the stream has not shown a frame yet")
    kept = [f for f in history.between(start, end) if f.quality >= min_quality]
    if len(kept) < MIN_CLIP_FRAMES:
        raise StreamNotWatching(
            f"{len(kept)} usable sampled frame(s) between {start:g} s and {end:g} s; a clip needs "
            f"{MIN_CLIP_FRAMES}. The stream's kept history runs from {span[0]:.1f} s to "
            f"{span[1]:.1f} s.",
            history_start=round(span[0], 3),
            history_end=round(span[1], 3),
        )
    frames = [
        VpdqFrame(number, frame.quality, frame.pdq, frame.seconds - kept[0].seconds)
        for number, frame in enumerate(kept)
    ]
    value = format_vpdq(frames)
    return NewEntry(
        signal_type="vpdq",
        value=value,
        labels=labels,
        note=note,
        quality=min(frame.quality for frame in kept),
        added_from=source,
        variants={DENSE: value},
    )
