"""HMA's signal and content type names, and its wire forms of signal values, against Bastion's.

HMA (python-threatexchange) calls an MD5 of a video file ``video_md5`` and writes a vPDQ hash as a
JSON array of ``"pdq_hex,quality,seconds"`` strings; Bastion calls the MD5 of any file ``md5`` and
keeps vPDQ as ``frame_number,quality,pdq_hex,seconds`` lines. Requests may use either name and
either vPDQ form; responses answer under the name the request used (or HMA's name when it named
none) and write vPDQ as HMA does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

from bastion.errors import InvalidInput, InvalidSignal
from bastion.signals.base import ContentKind
from bastion.signals.registry import get_signal_type
from bastion.signals.vpdq_format import MAX_FRAMES, parse_vpdq

_ANY_KIND = frozenset(ContentKind)
_VIDEO = frozenset({ContentKind.VIDEO})
_PHOTO = frozenset({ContentKind.PHOTO})


@dataclass(frozen=True, slots=True)
class HmaType:
    """One signal type name the HMA API accepts: the Bastion type behind it and its content."""

    name: str
    bastion_type: str
    kinds: frozenset[ContentKind]


_TYPES: dict[str, HmaType] = {
    t.name: t
    for t in (
        HmaType("pdq", "pdq", _PHOTO),
        HmaType("vpdq", "vpdq", _VIDEO),
        HmaType("video_md5", "md5", _VIDEO),
        HmaType("video_sha256", "sha256", _VIDEO),
        HmaType("md5", "md5", _ANY_KIND),
        HmaType("sha256", "sha256", _ANY_KIND),
    )
}
# The name a Bastion type is shown under when no request named it (bank content, index status).
HMA_NAME: dict[str, str] = {
    "pdq": "pdq",
    "vpdq": "vpdq",
    "md5": "video_md5",
    "sha256": "video_sha256",
}
# What HMA hashes when the request does not say (`types`): its default signal types per content.
DEFAULT_TYPES: dict[ContentKind, tuple[str, ...]] = {
    ContentKind.PHOTO: ("pdq",),
    ContentKind.VIDEO: ("video_md5", "vpdq"),
    ContentKind.AUDIO: (),  # HMA has no audio signal type: like any other file (exact hashes)
    ContentKind.FILE: (),
}
# HMA's content type names (the `content_type` parameter, and the multipart part names).
CONTENT_TYPES: dict[str, ContentKind] = {"photo": ContentKind.PHOTO, "video": ContentKind.VIDEO}
MAX_TYPES = 16
NO_DISTANCE = "-"  # what HMA shows as the distance of an exact match


def known_names() -> str:
    return ", ".join(sorted(_TYPES))


def hma_type(name: str) -> HmaType:
    """The type called ``name`` (an HMA or a Bastion name); 400 ``invalid_signal`` if none."""
    found = _TYPES.get(name.strip()) if isinstance(name, str) else None
    if found is None:
        raise InvalidSignal(
            f"No such SignalType {str(name)[:64]!r}; known types: {known_names()}",
            signal_type=str(name)[:64],
        )
    return found


def content_kind(name: str | None) -> ContentKind | None:
    """HMA's ``content_type`` parameter (``photo`` or ``video``), None when not given."""
    if not name:
        return None
    kind = CONTENT_TYPES.get(name.strip())
    if kind is None:
        raise InvalidInput(f"no such content_type: {name[:64]!r}; use photo or video")
    return kind


def requested_types(types: str | None) -> list[HmaType] | None:
    """HMA's comma-separated ``types`` parameter; None when absent (use the defaults)."""
    if types is None:
        return None
    names = [part.strip() for part in types.split(",") if part.strip()]
    if not names:
        raise InvalidInput("empty signal type selection")
    if len(names) > MAX_TYPES:
        raise InvalidInput(f"at most {MAX_TYPES} signal types per request")
    return [hma_type(name) for name in dict.fromkeys(names)]


def types_for(kind: ContentKind, requested: list[HmaType] | None) -> list[HmaType]:
    """The types to compute for content of ``kind``: the requested ones, else HMA's defaults."""
    if requested is None:
        chosen = [_TYPES[name] for name in DEFAULT_TYPES[kind]]
        if not chosen:
            raise InvalidInput(
                f"unsupported content: it is neither a photo nor a video ({kind.value}); "
                "ask for md5 or sha256 with the types parameter"
            )
        return chosen
    for item in requested:
        if kind not in item.kinds:
            raise InvalidInput(f"signal type {item.name!r} does not apply to a {kind.value}")
    return requested


def _vpdq_from_json(value: str) -> str:
    """HMA's vPDQ form (JSON array of ``"hex,quality,seconds"``) as Bastion's vPDQ lines."""
    try:
        items = json.loads(value)
    except (ValueError, RecursionError):
        raise InvalidSignal("vpdq value is not valid JSON", signal_type="vpdq") from None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InvalidSignal("vpdq JSON must be a list of strings", signal_type="vpdq")
    if len(items) > MAX_FRAMES:
        raise InvalidSignal(f"vpdq value has more than {MAX_FRAMES} frames", signal_type="vpdq")
    lines: list[str] = []
    for number, item in enumerate(items):
        parts = [part.strip() for part in item.split(",")]
        if len(parts) != 3:
            raise InvalidSignal(
                f"vpdq frame {number}: expected pdq_hex,quality,seconds", signal_type="vpdq"
            )
        pdq, quality, seconds = parts
        try:
            moment = float(seconds)
        except ValueError:
            moment = math.nan
        if not math.isfinite(moment) or moment < 0:
            raise InvalidSignal(
                f"vpdq frame {number}: seconds {seconds[:20]!r} is not a time", signal_type="vpdq"
            )
        lines.append(f"{number},{quality},{pdq},{moment:.3f}")
    return "\n".join(lines)


def to_bastion(item: HmaType, value: str) -> str:
    """``value`` normalised for Bastion; ``InvalidSignal`` (400) when it does not parse."""
    if not isinstance(value, str):
        raise InvalidSignal(f"{item.name} value must be a string", signal_type=item.name)
    if item.bastion_type == "vpdq" and value.lstrip().startswith("["):
        value = _vpdq_from_json(value)
    try:
        return get_signal_type(item.bastion_type).normalize(value)
    except InvalidSignal as exc:
        raise InvalidSignal(f"invalid {item.name} signal: {exc.detail}", **exc.context) from None


def to_hma(bastion_type: str, value: str) -> str:
    """A stored value as HMA writes it (vPDQ as a JSON array; other types unchanged)."""
    if bastion_type != "vpdq":
        return value
    return json.dumps([f"{f.pdq},{f.quality},{f.seconds:.3f}" for f in parse_vpdq(value)])


def bank_filter(banks: str | None) -> set[str] | None:
    """HMA's comma-separated ``banks`` parameter; None means every bank."""
    if not banks:
        return None
    names = {name.strip() for name in banks.split(",") if name.strip()}
    if len(names) > 1000:
        raise InvalidInput("at most 1000 banks in the banks parameter")
    return names


def names_of(items: Iterable[HmaType]) -> list[str]:
    return [item.name for item in items]
