"""Exact signals: MD5 and SHA-256 of the bytes, for every kind of content.

They only ever match identical files, but they are what most partner lists (and law enforcement
hash sets) still exchange, and they cost almost nothing next to decoding.
"""

from __future__ import annotations

import hashlib
import re
from typing import ClassVar

from bastion.errors import InvalidSignal
from bastion.signals.base import BytesHasher, ContentKind, HashLimits, Signal, SignalType

_ALL_KINDS = frozenset(ContentKind)


class _HexDigest(SignalType, BytesHasher):
    """A cryptographic digest in lower-case hex."""

    algorithm: ClassVar[str]
    hex_length: ClassVar[int]
    applies_to = _ALL_KINDS

    @classmethod
    def normalize(cls, value: str) -> str:
        if not isinstance(value, str):
            raise InvalidSignal(f"{cls.name} value must be a string", signal_type=cls.name)
        text = value.strip().lower()
        if len(text) != cls.hex_length or not re.fullmatch(r"[0-9a-f]+", text):
            raise InvalidSignal(
                f"{cls.name} value must be {cls.hex_length} hex digits, got {len(text)} characters",
                signal_type=cls.name,
            )
        return text

    @classmethod
    def hash_bytes(cls, data: bytes, limits: HashLimits) -> list[Signal]:
        return [
            Signal(cls.name, hashlib.new(cls.algorithm, data, usedforsecurity=False).hexdigest())
        ]


class Md5Signal(_HexDigest):
    name = "md5"
    display_name = "MD5"
    algorithm = "md5"
    hex_length = 32


class Sha256Signal(_HexDigest):
    name = "sha256"
    display_name = "SHA-256"
    algorithm = "sha256"
    hex_length = 64
