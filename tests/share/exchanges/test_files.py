"""Local partner files: streamed pages, checkpoints by content, the folder boundary."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bastion.errors import FeedTooLarge, InvalidInput, RemoteFeedInvalid
from bastion.settings import Settings
from bastion.share.exchanges import FileSource, build_source
from bastion.share.feeds import Feedback

from .conftest import md5, partner, pdq, subscription


def _source(folder: Path, name: str, settings: Settings, **options: object) -> FileSource:
    source = build_source(partner("file", str(folder), **options), {}, subscription(name), settings)
    assert isinstance(source, FileSource)
    return source


def test_csv_pages_and_unchanged_file(tmp_path: Path, settings: Settings) -> None:
    rows = ["signal_type,value,labels,note"]
    rows += [f"md5,{md5(n)},tvec1,row {n}" for n in range(23)]
    rows += ["sha1,abcd,,", f"pdq,{pdq(1)},nonsense-label,", "md5,not-hex,,"]
    (tmp_path / "list.csv").write_text("\n".join(rows) + "\n")
    source = _source(tmp_path, "list.csv", settings)
    pages = list(source.pages({}))
    assert [len(p.items) for p in pages] == [10, 10, 3]  # 26 rows: 23 entries, 3 refused
    assert [p.more for p in pages] == [True, True, False]
    entry = pages[0].items[0].entry
    assert entry is not None and entry.labels == ["tvec1"] and entry.note == "row 0"
    assert entry.added_from == "file:list.csv" and pages[0].items[0].external_id == f"md5:{md5(0)}"
    assert [r["code"] for r in pages[2].rejected] == [
        "invalid_signal",
        "invalid_input",
        "invalid_signal",
    ]
    done = pages[-1].checkpoint
    assert done["done"] is True and len(done["sha256"]) == 64
    assert list(source.pages(done)) == []  # unchanged: nothing applied
    resumed = list(source.pages(pages[0].checkpoint))
    assert resumed[0].items[0].external_id == f"md5:{md5(10)}"
    (tmp_path / "list.csv").write_text("\n".join(rows[:3]) + "\n")
    assert [len(p.items) for p in source.pages(done)] == [2]  # changed: read again


def test_threatexchange_text_format(tmp_path: Path, settings: Settings) -> None:
    (tmp_path / "hashes.txt").write_text(
        f"pdq {pdq(1)}\nvideo_md5 {md5(2)}\n# comment\n\nraw_text hello\n"
    )
    pages = list(_source(tmp_path, "hashes.txt", settings, labels=["tvec7"]).pages({}))
    items = pages[0].items
    assert [(i.entry.signal_type, i.entry.labels) for i in items if i.entry] == [
        ("pdq", ["tvec7"]),
        ("md5", ["tvec7"]),
    ]
    assert pages[0].rejected[0]["code"] == "invalid_signal"
    (tmp_path / "bare.txt").write_text(f"{md5(5)}\n")
    bare = list(_source(tmp_path, "bare.txt", settings, signal_type="md5").pages({}))
    assert bare[0].items[0].external_id == f"md5:{md5(5)}"


def test_folder_boundary_size_cap_and_bad_files(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    (tmp_path / "outside.csv").write_text("signal_type,value\n")
    for name in ("../outside.csv", str(tmp_path / "outside.csv"), "", "list.json"):
        with pytest.raises(InvalidInput):
            _source(folder, name, settings)
    (folder / "link.csv").symlink_to(tmp_path / "outside.csv")
    with pytest.raises(InvalidInput):
        _source(folder, "link.csv", settings)
    (folder / "big.txt").write_bytes(b"md5 " + b"0" * 32 + b"\n" * (70 * 1024))
    with pytest.raises(FeedTooLarge):
        list(_source(folder, "big.txt", settings).pages({}))
    (folder / "bad.csv").write_text("value_only\nabc\n")
    with pytest.raises(RemoteFeedInvalid):
        list(_source(folder, "bad.csv", settings).pages({}))
    (folder / "latin.txt").write_bytes(b"md5 \xff\xfe\n")
    with pytest.raises(RemoteFeedInvalid):
        list(_source(folder, "latin.txt", settings).pages({}))
    with pytest.raises(InvalidInput):
        list(_source(folder, "missing.csv", settings).pages({}))


def test_a_million_rows_stream_page_by_page(tmp_path: Path, settings: Settings) -> None:
    big = settings.model_copy(
        update={"share_max_page_bytes": 64 * 1024 * 1024, "share_page_objects": 10000}
    )
    with (tmp_path / "million.txt").open("w") as handle:
        for n in range(1_000_000):
            handle.write(f"md5 {n:032x}\n")
    pages = _source(tmp_path, "million.txt", big).pages({})
    first = next(pages)
    assert len(first.items) == 10000 and first.more and first.checkpoint["line"] == 10000
    pages.close()  # the caller may stop after any page; nothing more was read


def test_no_feedback_and_nothing_secret_logged(
    tmp_path: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a.csv").write_text(f"signal_type,value\nmd5,{md5(1)}\n")
    caplog.set_level(logging.DEBUG)
    source = build_source(
        partner("file", str(tmp_path)), {"unused": "file-secret-x"}, subscription("a.csv"), settings
    )
    list(source.pages({}))
    assert "file-secret-x" not in caplog.text
    with pytest.raises(InvalidInput):
        source.send_feedback(Feedback(kind="sighting", external_id="x", seen_at=datetime.now(UTC)))
