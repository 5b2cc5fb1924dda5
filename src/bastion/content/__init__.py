"""Content: what a piece of content is (photo, video, audio, other file), decided without
decoding it."""

from __future__ import annotations

from bastion.content.kinds import SNIFF_BYTES, Sniffed, detect_kind, hinted_kind, sniff_format

__all__ = ["SNIFF_BYTES", "Sniffed", "detect_kind", "hinted_kind", "sniff_format"]
