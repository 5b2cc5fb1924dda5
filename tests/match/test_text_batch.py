"""Bulk text scans give each post the result a single scan gives, in one session."""

from __future__ import annotations

from bastion.banks.records import NewEntry
from bastion.runtime import Bastion
from bastion.signals.extract import text_extraction
from bastion.storage.models import ContentRow


def test_a_batch_scans_each_post_as_a_single_scan_would(bastion: Bastion) -> None:
    bastion.db.upgrade()
    known = " ".join(f"known word{i % 31} phrase{i % 7} continues here {i}" for i in range(120))
    with bastion.db.session() as session:
        bastion.banks.create(session, name="known", actor="test", labels=["tvec1"])
        extraction = text_extraction(known)
        entries = [NewEntry(s.type, s.value) for s in extraction.signals if s.type != "sha256"]
        entries += [NewEntry(s.type, s.value) for s in extraction.variants]
        entries += [NewEntry("domain", "bad.example")]
        bastion.banks.add_entries(
            session, "known", [e for e in entries if e.signal_type != "md5"], actor="test"
        )
    posts = [
        "lovely weather at the beach today with the kids",
        "mirror of the files at https://www.bad.example/files/1 get them now",
        " ".join(known.split()[100:160]),
        "x" * 200_001,
    ]
    batch = bastion.scanner.scan_texts(posts, record=True)
    assert [r.error.code if r.error else None for r in batch] == [None, None, None, "invalid_input"]
    singles = [bastion.scanner.scan_text(p, record=False) for p in posts[:3]]
    for one, many in zip(singles, batch[:3], strict=True):
        assert [(m.entry_id, m.signal_type) for m in one.matches] == [
            (m.entry_id, m.signal_type) for m in many.matches
        ]
        assert one.text is not None and many.text is not None
        assert one.text.to_dict()["flagged"] == many.text.to_dict()["flagged"]
    assert [m.signal_type for m in batch[1].matches] == ["domain"]
    assert [m.signal_type for m in batch[2].matches] == ["text_shingles"]
    assert all(r.content_id is not None for r in batch[:3])
    with bastion.db.session() as session:
        assert session.query(ContentRow).count() == 3
