"""How a PDQ segment cuts 256-bit hashes into chunks for multi-index hashing.

Pigeonhole: cut a hash into chunks and give chunk ``k`` a search radius ``t_k``. If
``sum(t_k + 1) > r``, any hash within ``r`` of the query is within ``t_k`` of it in at least
one chunk, because otherwise the chunk distances alone would add up to more than ``r``. Looking
up every chunk value within ``t_k`` of the query's therefore finds every match: exact by
construction, whatever the data. A chunk with ``t_k = -1`` is not looked up at all, which is
how small radii touch fewer tables.

Chunk widths follow the number of rows: about ``log2(rows)`` bits, so a chunk value is shared
by about one row and a lookup returns few false candidates. Each chunk's table is addressed by
its top ``dir_bits`` bits (a dense offsets array must stay small next to the rows); the
remaining ``low_bits`` (at most 3) are kept beside each posting and filtered before the full
comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

HASH_BITS = 256
LOW_BITS_MAX = 3
# Below this many rows a linear scan (~11 ns a row) beats the ~30 us a table lookup costs.
MIN_TABLE_ROWS = 2048

Words = npt.NDArray[np.uint64]
Keys = npt.NDArray[np.int64]

_U32 = np.uint64(32)


def _windows(words: Words) -> Words:
    """(Q, 8) 64-bit windows starting at every 32-bit boundary of each hash.

    Any chunk of at most 32 bits lies inside the window that starts at the 32-bit boundary at
    or before it, so a chunk is always one shift and one mask away.
    """
    windows = np.empty((len(words), 8), dtype=np.uint64)
    windows[:, 0::2] = words
    windows[:, 1:7:2] = (words[:, :3] << _U32) | (words[:, 1:] >> _U32)
    windows[:, 7] = words[:, 3] << _U32
    return windows


@dataclass(frozen=True)  # not slots: the derived arrays are cached on the instance
class ChunkLayout:
    """Chunk widths (bits, most significant first, summing to 256) and directory bits."""

    widths: tuple[int, ...]
    dir_bits: tuple[int, ...]

    def __post_init__(self) -> None:
        if sum(self.widths) != HASH_BITS or len(self.widths) != len(self.dir_bits):
            raise ValueError(f"bad chunk layout {self.widths} / {self.dir_bits}")
        for width, bits in zip(self.widths, self.dir_bits, strict=True):
            if not (1 <= bits <= width <= 32 and width - bits <= LOW_BITS_MAX):
                raise ValueError(f"bad chunk {width} bits with a {bits}-bit directory")

    @staticmethod
    def for_rows(rows: int) -> ChunkLayout | None:
        """The layout for a segment of ``rows`` hashes, or None when a scan is the better index."""
        if rows < MIN_TABLE_ROWS:
            return None
        bits = math.log2(rows)
        chunks = max(8, round(HASH_BITS / bits))
        base, extra = divmod(HASH_BITS, chunks)
        widths = tuple(base + 1 if k < extra else base for k in range(chunks))
        # One bit under log2(rows): ~2 rows per directory slot keeps the directory near 2 bytes
        # per row per chunk while the low-bit filter still removes most false candidates.
        directory = max(1, math.floor(bits) - 1)
        dir_bits = tuple(min(width, max(directory, width - LOW_BITS_MAX)) for width in widths)
        return ChunkLayout(widths, dir_bits)

    @property
    def chunks(self) -> int:
        return len(self.widths)

    @cached_property
    def low_bits(self) -> npt.NDArray[np.int64]:
        return np.asarray(self.widths, dtype=np.int64) - np.asarray(self.dir_bits, dtype=np.int64)

    @cached_property
    def low_field(self) -> int:
        """Bits reserved under the row number in every posting (the widest chunk's low bits)."""
        return int(self.low_bits.max())

    @cached_property
    def dir_base(self) -> npt.NDArray[np.int64]:
        """Where each chunk's slots start in the concatenated directory."""
        sizes = np.left_shift(1, np.asarray(self.dir_bits, dtype=np.int64))
        return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)

    @property
    def dir_slots(self) -> int:
        return int(sum(1 << bits for bits in self.dir_bits))

    @cached_property
    def _extract(self) -> tuple[npt.NDArray[np.intp], Words, Words]:
        starts = np.concatenate([[0], np.cumsum(self.widths)[:-1]])
        window = (starts // 32).astype(np.intp)
        shift = (64 - starts % 32 - np.asarray(self.widths)).astype(np.uint64)
        mask = (np.uint64(1) << np.asarray(self.widths, dtype=np.uint64)) - np.uint64(1)
        return window, shift, mask

    @cached_property
    def _int_slices(self) -> list[tuple[int, int]]:
        starts = np.concatenate([[0], np.cumsum(self.widths)[:-1]])
        return [
            (HASH_BITS - int(start) - width, (1 << width) - 1)
            for start, width in zip(starts, self.widths, strict=True)
        ]

    def keys(self, words: Words) -> Keys:
        """(Q, chunks) chunk values of each hash."""
        if len(words) == 1:
            # One query (the common case): Python integers beat eight numpy calls.
            value = int.from_bytes(words.astype(">u8").tobytes(), "big")
            row = [(value >> shift) & mask for shift, mask in self._int_slices]
            return np.array([row], dtype=np.int64)
        window, shift, mask = self._extract
        return ((_windows(words)[:, window] >> shift) & mask).astype(np.int64)

    def chunk_keys(self, words: Words, chunk: int) -> Keys:
        """One chunk's values for many rows, without the (rows, 8) window temporary."""
        window, shift, mask = self._extract
        index = int(window[chunk])
        word = words[:, index // 2]
        if index % 2:
            nxt = words[:, index // 2 + 1] >> _U32 if index < 7 else np.uint64(0)
            word = (word << _U32) | nxt
        keys: Keys = ((word >> shift[chunk]) & mask[chunk]).astype(np.int64)
        return keys
