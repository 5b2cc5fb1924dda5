"""Local files in a folder the operator chose: a partner's list dropped on disk, read as a feed.

Formats, by the file's extension:

- ``.csv``: Bastion's import columns ``signal_type,value[,labels,note]`` with a header row;
- ``.txt``: python-threatexchange's file format, one ``<signal type> <value>`` per line (or a bare
  value, with the partner option ``signal_type``).

The file is read streaming, one page of rows at a time, after a first pass that hashes it. The
checkpoint is the file's SHA-256, its modification time and the last line applied: a re-poll of an
unchanged file applies nothing, a poll that stopped part-way resumes after the last page, and a
changed file is read again from the top (rows already held are duplicates and change nothing).
Rows removed from a file are not revoked: a file says what to hold, not what to drop.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TextIO

from bastion.errors import BastionError, FeedTooLarge, InvalidInput, RemoteFeedInvalid
from bastion.settings import Settings
from bastion.share.exchanges._pages import Record, item_or_refusal, refusal
from bastion.share.feeds import Feedback, FeedItem, FeedPage
from bastion.taxonomy import parse_label_list

# python-threatexchange's signal type names where they differ from Bastion's.
PYTX_NAMES: Final = {"video_md5": "md5", "url_md5": "md5"}
MAX_LINE: Final = 64 * 1024


class FileSource:
    def __init__(
        self,
        *,
        folder: str,
        name: str,
        labels: list[str],
        default_type: str,
        settings: Settings,
    ) -> None:
        if not folder:
            raise InvalidInput("a file partner needs a folder (its URL or the 'folder' option)")
        root = Path(folder).expanduser().resolve()
        path = (root / name).resolve()
        # The subscription names a file *in* the folder: no absolute paths, "..", or symlinks out.
        if not name or Path(name).is_absolute() or not path.is_relative_to(root) or path == root:
            raise InvalidInput("a file subscription names a file inside the partner's folder")
        if path.suffix.lower() not in (".csv", ".txt"):
            raise InvalidInput("partner files are .csv (Bastion columns) or .txt (one hash a line)")
        self._path = path
        self._name = name
        self._labels = labels
        self._default_type = default_type
        self._page_size = settings.share_page_objects
        self._max_bytes = settings.share_max_page_bytes
        self._provenance = f"file:{name}"

    def __repr__(self) -> str:
        return f"FileSource({self._name!r})"

    def pages(self, checkpoint: Mapping[str, Any]) -> Iterator[FeedPage]:
        try:
            stat = self._path.stat()
        except OSError:
            raise InvalidInput(f"partner file {self._name!r} cannot be read") from None
        if stat.st_size > self._max_bytes:
            raise FeedTooLarge(
                f"partner file {self._name!r} is larger than {self._max_bytes} bytes",
                max_bytes=self._max_bytes,
            )
        digest = self._digest()
        mtime = datetime.fromtimestamp(stat.st_mtime, UTC)
        same = checkpoint.get("sha256") == digest
        if same and checkpoint.get("done"):
            return  # unchanged since it was read to the end
        done_line = checkpoint.get("line", 0) if same else 0
        if not isinstance(done_line, int):
            raise InvalidInput("the file checkpoint is corrupt")
        base = {"sha256": digest, "mtime": mtime.isoformat()}
        page: list[Record] = []
        line = done_line
        with self._path.open("r", encoding="utf-8-sig", newline="") as handle:
            for line, record in self._records(handle, mtime):
                if line <= done_line:
                    continue
                page.append(record)
                if len(page) >= self._page_size:
                    yield _page(page, {**base, "line": line, "done": False}, more=True)
                    page = []
        yield _page(page, {**base, "line": line, "done": True}, more=False)

    def _digest(self) -> str:
        sha = hashlib.sha256()
        with self._path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                sha.update(block)
        return sha.hexdigest()

    def _records(self, handle: TextIO, mtime: datetime) -> Iterator[tuple[int, Record]]:
        try:
            if self._path.suffix.lower() == ".csv":
                yield from self._csv(handle, mtime)
            else:
                yield from self._lines(handle, mtime)
        except UnicodeDecodeError:
            raise RemoteFeedInvalid(f"partner file {self._name!r} is not UTF-8 text") from None

    def _csv(self, handle: TextIO, mtime: datetime) -> Iterator[tuple[int, Record]]:
        reader = csv.reader(handle)
        header: list[str] | None = None
        try:
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [cell.strip().lower() for cell in row]
                    if "signal_type" not in header or "value" not in header:
                        raise RemoteFeedInvalid(
                            f"partner file {self._name!r} needs a header naming "
                            "signal_type and value"
                        )
                    continue
                fields = dict(zip(header, row, strict=False))
                yield (
                    reader.line_num,
                    self._row(
                        reader.line_num,
                        fields.get("signal_type", ""),
                        fields.get("value", ""),
                        fields.get("labels", ""),
                        fields.get("note", ""),
                        mtime,
                    ),
                )
        except csv.Error as exc:
            raise RemoteFeedInvalid(
                f"partner file {self._name!r} is malformed CSV at line {reader.line_num}: {exc}"
            ) from None

    def _lines(self, handle: TextIO, mtime: datetime) -> Iterator[tuple[int, Record]]:
        for number, raw in enumerate(handle, start=1):
            text = raw.strip()
            if not text or text.startswith("#"):
                continue
            if len(text) > MAX_LINE:
                yield number, refusal(f"line {number}", InvalidInput.code, "line too long")
                continue
            if self._default_type:
                kind, value = self._default_type, text
            else:
                kind, _, value = text.partition(" ")
            yield number, self._row(number, kind, value, "", "", mtime)

    def _row(
        self, line: int, kind: str, value: str, labels: str, note: str, mtime: datetime
    ) -> Record:
        name = PYTX_NAMES.get(kind.strip().lower(), kind.strip().lower())
        external_id = f"{name}:{value.strip()}"[:255]
        if not name or not value.strip():
            return refusal(f"line {line}", InvalidInput.code, "signal type or value missing")
        try:
            row_labels = parse_label_list(labels) if labels else []
        except BastionError as exc:
            return refusal(f"line {line}", exc.code, exc.detail)
        return item_or_refusal(
            external_id,
            name,
            value,
            foreign_type=kind,
            added_from=self._provenance,
            labels=sorted(set(self._labels) | set(row_labels)),
            note=note,
            modified=mtime,
        )

    def send_feedback(self, feedback: Feedback) -> str:
        raise InvalidInput("a local file takes no feedback")


def _page(records: list[Record], checkpoint: dict[str, Any], *, more: bool) -> FeedPage:
    return FeedPage(
        items=[r for r in records if isinstance(r, FeedItem)],
        checkpoint=checkpoint,
        more=more,
        rejected=[r for r in records if not isinstance(r, FeedItem)],
    )


def folder_of(url: str, options: Mapping[str, Any]) -> str:
    folder = options.get("folder") or url
    if not isinstance(folder, str):
        raise InvalidInput("partner option 'folder' must be a path")
    return os.path.expanduser(folder.removeprefix("file://"))
