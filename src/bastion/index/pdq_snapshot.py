"""PDQ index snapshots: every segment's arrays in one file, opened memory-mapped.

Layout: an 8-byte magic, a 16-byte preamble (format version, header length, header CRC-32), a
JSON header naming each array's place, dtype, shape and CRC-32, then the raw arrays, each on a
64-byte boundary. Loading maps the file and checks every CRC (about 3 GB/s, which also brings
the pages into the cache the first queries will need); the tables are used straight from the
mapping, so start-up costs no rebuild and the page cache is shared between processes.

A snapshot is written to a temporary file in the same folder and renamed over the old one, so a
reader sees the old snapshot or the new one, never half of one. Any damage (truncation, flipped
bits, a foreign file) raises ConfigurationError, which callers treat as "no usable snapshot".
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.errors import ConfigurationError
from bastion.index.pdq_layout import ChunkLayout
from bastion.index.pdq_segment import Segment, Tables

MAGIC = b"BSTNPDQ\x00"
FORMAT = 1
_PREAMBLE = struct.Struct("<8sIII4x")  # magic, format, header length, header CRC
_ALIGN = 64
# The dtypes each array may have on disk; anything else is a damaged or foreign file.
_DTYPES = {
    "ids": {"<i8", "<u4"},  # offsets from the segment's id_base
    "words": {"<u8"},
    "alive": {"|b1"},
    "directory": {"<u4", "<i8"},
    "postings": {"<u4"},
}


def _aligned(offset: int) -> int:
    return -(-offset // _ALIGN) * _ALIGN


def _arrays(segment: Segment) -> dict[str, npt.NDArray[Any]]:
    arrays: dict[str, npt.NDArray[Any]] = {"ids": segment.id_offsets, "words": segment.words}
    if segment.alive is not None:
        arrays["alive"] = segment.alive
    if segment.tables is not None:
        arrays["directory"] = segment.tables.directory
        arrays["postings"] = segment.tables.postings
    # Stored little-endian whatever the machine, so snapshots move between machines.
    return {
        name: np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")) for name, a in arrays.items()
    }


def write_snapshot(path: Path, segments: Sequence[Segment]) -> None:
    blocks: list[tuple[int, npt.NDArray[Any]]] = []
    described = []
    offset = 0
    for segment in segments:
        layout = segment.tables.layout if segment.tables is not None else None
        entry: dict[str, Any] = {
            "id_base": segment.id_base,
            "layout": None if layout is None else [list(layout.widths), list(layout.dir_bits)],
            "arrays": {},
        }
        for name, array in _arrays(segment).items():
            entry["arrays"][name] = {
                "offset": offset,
                "dtype": array.dtype.str,
                "shape": list(array.shape),
                "crc32": zlib.crc32(array.data.cast("B")),
            }
            blocks.append((offset, array))
            offset = _aligned(offset + array.nbytes)
        described.append(entry)
    header = json.dumps({"segments": described}).encode()
    start = _aligned(_PREAMBLE.size + len(header))
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(_PREAMBLE.pack(MAGIC, FORMAT, len(header), zlib.crc32(header)))
            out.write(header)
            for block_offset, array in blocks:
                out.seek(start + block_offset)
                out.write(array.data.cast("B"))
            out.truncate(start + offset)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # make the rename itself durable
    finally:
        os.close(folder)


def _damaged(path: Path, why: str) -> ConfigurationError:
    return ConfigurationError(f"PDQ index snapshot {path} is unusable: {why}", path=str(path))


def read_snapshot(path: Path) -> list[Segment]:
    try:
        with open(path, "rb") as source:
            size = os.fstat(source.fileno()).st_size
            if size < _PREAMBLE.size:
                raise _damaged(path, "truncated")
            mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise _damaged(path, str(exc)) from exc
    magic, version, header_length, header_crc = _PREAMBLE.unpack_from(mapped)
    if magic != MAGIC:
        raise _damaged(path, "not a Bastion PDQ index snapshot")
    if version != FORMAT:
        raise _damaged(path, f"format {version}, this version reads {FORMAT}")
    header = bytes(mapped[_PREAMBLE.size : _PREAMBLE.size + header_length])
    if len(header) != header_length or zlib.crc32(header) != header_crc:
        raise _damaged(path, "header truncated or corrupt")
    start = _aligned(_PREAMBLE.size + header_length)
    try:
        described = json.loads(header)["segments"]
        return [_segment(mapped, start, entry) for entry in described]
    except ConfigurationError:
        raise
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise _damaged(path, f"inconsistent contents ({exc})") from exc


def _array(mapped: mmap.mmap, start: int, name: str, spec: dict[str, Any]) -> npt.NDArray[Any]:
    if spec["dtype"] not in _DTYPES[name]:
        raise ValueError(f"{name} has dtype {spec['dtype']}")
    dtype = np.dtype(spec["dtype"])
    shape = tuple(int(n) for n in spec["shape"])
    count = int(np.prod(shape, dtype=np.int64))
    begin = start + int(spec["offset"])
    end = begin + count * dtype.itemsize
    if min(shape, default=0) < 0 or begin < start or end > len(mapped):
        raise ValueError(f"{name} lies outside the file (truncated?)")
    if zlib.crc32(memoryview(mapped)[begin:end]) != spec["crc32"]:
        raise ValueError(f"{name} fails its checksum")
    array = np.frombuffer(mapped, dtype=dtype, count=count, offset=begin).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def _segment(mapped: mmap.mmap, start: int, entry: dict[str, Any]) -> Segment:
    specs = entry["arrays"]
    ids = _array(mapped, start, "ids", specs["ids"])
    words = _array(mapped, start, "words", specs["words"])
    rows = len(ids)
    if ids.ndim != 1 or words.shape != (rows, 4) or np.any(ids[1:] <= ids[:-1]):
        raise ValueError("ids and hashes disagree")
    alive = None
    if "alive" in specs:
        alive = _array(mapped, start, "alive", specs["alive"]).copy()  # writable: removals
        if alive.shape != (rows,):
            raise ValueError("tombstones disagree with ids")
    tables = None
    if entry["layout"] is not None:
        widths, dir_bits = entry["layout"]
        layout = ChunkLayout(tuple(int(w) for w in widths), tuple(int(b) for b in dir_bits))
        directory = _array(mapped, start, "directory", specs["directory"])
        postings = _array(mapped, start, "postings", specs["postings"])
        filled = layout.chunks * rows
        if (
            directory.shape != (layout.dir_slots + 1,)
            or postings.shape != (filled,)
            or int(directory[0]) != 0
            or int(directory[-1]) != filled
        ):
            raise ValueError("tables disagree with the rows")
        tables = Tables(layout, directory, postings)
    return Segment.stored(int(entry["id_base"]), ids, words, tables, alive)
