"""Filling banks: raw hashes, media uploads and CSV/JSON/JSONL imports; paging and editing."""

from __future__ import annotations

import hashlib
import json

import httpx

from bastion.demo.media import make_photo

from .helpers import create_bank, error_code, upload

MD5_A = hashlib.md5(b"a").hexdigest()
MD5_B = hashlib.md5(b"b").hexdigest()
SHA_C = hashlib.sha256(b"c").hexdigest()


def test_add_hashes_then_page_edit_and_delete(client: httpx.Client, bank_name: str) -> None:
    create_bank(client, bank_name, labels=["tvec1"])
    values = [hashlib.md5(str(n).encode()).hexdigest() for n in range(5)]
    added = client.post(
        f"/v1/banks/{bank_name}/entries",
        json=[
            {"signal_type": "md5", "value": v.upper(), "labels": ["tvec6"], "note": "seen"}
            for v in values
        ]
        + [{"signal_type": "md5", "value": values[0]}],
    )
    assert added.status_code == 201, added.text
    report = added.json()
    assert report["added"] == 5
    assert report["duplicates"] == 1
    assert [e["value"] for e in report["entries"]] == values  # normalised to lower case
    assert report["entries"][0]["added_by"].startswith("key:")

    first = client.get(f"/v1/banks/{bank_name}/entries", params={"limit": 3}).json()
    assert len(first["entries"]) == 3
    rest = client.get(
        f"/v1/banks/{bank_name}/entries", params={"limit": 3, "after_id": first["next_after_id"]}
    ).json()
    assert len(rest["entries"]) == 2
    assert rest["next_after_id"] is None
    assert client.get(f"/v1/banks/{bank_name}").json()["entry_count"] == 5

    entry_id = first["entries"][0]["id"]
    path = f"/v1/banks/{bank_name}/entries/{entry_id}"
    changed = client.patch(
        path,
        json={"note": "false alarm?", "labels": ["tvec7"], "disabled_until": "2099-01-01T00:00Z"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["labels"] == ["tvec7"]
    assert changed.json()["disabled_until"].startswith("2099-01-01T00:00:00")
    note_only = client.patch(path, json={"note": "kept"}).json()
    assert note_only["disabled_until"] is not None  # left out means unchanged
    assert client.patch(path, json={"disabled_until": None}).json()["disabled_until"] is None
    naive = client.patch(path, json={"disabled_until": "2099-01-01T00:00:00"})
    assert error_code(naive) == "validation_error"

    assert client.delete(path).status_code == 204
    gone = client.get(path)
    assert gone.status_code == 404
    assert error_code(gone) == "bank_entry_not_found"
    actions = {e["action"] for e in client.get("/v1/audit", params={"limit": 50}).json()["events"]}
    assert {"bank.entries.add", "bank.entry.update", "bank.entry.delete"} <= actions


def test_bad_hashes_are_refused_whole(client: httpx.Client, bank_name: str) -> None:
    create_bank(client, bank_name)
    response = client.post(
        f"/v1/banks/{bank_name}/entries",
        json=[{"signal_type": "md5", "value": MD5_A}, {"signal_type": "pdq", "value": "xyz"}],
    )
    assert response.status_code == 422
    assert error_code(response) == "invalid_signal"
    unknown_type = client.post(
        f"/v1/banks/{bank_name}/entries", json=[{"signal_type": "nope", "value": MD5_A}]
    )
    assert unknown_type.status_code == 422
    assert error_code(unknown_type) == "invalid_signal"
    assert client.get(f"/v1/banks/{bank_name}").json()["entry_count"] == 0


def test_media_upload_banks_its_signals_with_provenance(
    client: httpx.Client, bank_name: str
) -> None:
    create_bank(client, bank_name)
    photo = make_photo(9101)
    response = upload(
        client,
        f"/v1/banks/{bank_name}/entries/media",
        photo,
        filename="poster.jpg",
        fields={"labels": "tvec1,tvec7", "note": "from a channel"},
    )
    assert response.status_code == 201, response.text
    entries = response.json()["entries"]
    assert {e["signal_type"] for e in entries} >= {"pdq", "md5", "sha256"}
    assert all(e["labels"] == ["tvec1", "tvec7"] for e in entries)
    assert all(e["note"] == "from a channel" for e in entries)
    assert all(e["added_from"] == "upload:poster.jpg" for e in entries)
    sha = next(e["value"] for e in entries if e["signal_type"] == "sha256")
    assert sha == hashlib.sha256(photo).hexdigest()

    raw = client.post(
        f"/v1/banks/{bank_name}/entries/media",
        content=photo,
        headers={"Content-Type": "image/jpeg"},
        params={"filename": "again.jpg", "labels": "tvec1"},
    )
    assert raw.status_code == 201
    assert raw.json()["added"] == 0
    assert raw.json()["duplicates"] == len(entries)


def test_csv_json_and_jsonl_imports(client: httpx.Client, bank_name: str) -> None:
    create_bank(client, bank_name)
    csv_body = f"signal_type,value,labels,note\nmd5,{MD5_A},tvec1;tvec6,first\nmd5,{MD5_A},,\n"
    response = client.post(
        f"/v1/banks/{bank_name}/import",
        content=csv_body,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["added"], response.json()["duplicates"]) == (1, 1)
    assert response.json()["entries"][0]["labels"] == ["tvec1", "tvec6"]

    json_body = json.dumps([{"signal_type": "md5", "value": MD5_B, "labels": ["tvec8"]}])
    response = client.post(
        f"/v1/banks/{bank_name}/import",
        content=json_body,
        headers={"Content-Type": "application/json"},
    )
    assert response.json()["added"] == 1

    jsonl = json.dumps({"signal_type": "sha256", "value": SHA_C}) + "\n"
    response = client.post(
        f"/v1/banks/{bank_name}/import", params={"format": "jsonl"}, content=jsonl
    )
    assert response.json()["added"] == 1

    as_file = upload(
        client,
        f"/v1/banks/{bank_name}/import",
        csv_body.encode(),
        filename="list.csv",
        content_type="text/csv",
    )
    assert as_file.status_code == 201
    assert as_file.json()["duplicates"] == 2
    assert client.get(f"/v1/banks/{bank_name}").json()["entry_count"] == 3


def test_malformed_imports_name_their_lines_and_import_nothing(
    client: httpx.Client, bank_name: str
) -> None:
    create_bank(client, bank_name)
    csv_body = (
        "signal_type,value,labels\n"
        f"md5,{MD5_A},tvec1\n"
        "md5,not-a-hash,\n"
        f"pdq,{MD5_B},\n"
        f"md5,{MD5_B},tvec42\n"
    )
    response = client.post(
        f"/v1/banks/{bank_name}/import", content=csv_body, headers={"Content-Type": "text/csv"}
    )
    assert response.status_code == 422
    assert error_code(response) == "import_malformed"
    errors = response.json()["error"]["errors"]
    assert [e["line"] for e in errors] == [3, 4, 5]
    assert all(e["code"] and e["detail"] for e in errors)
    assert client.get(f"/v1/banks/{bank_name}").json()["entry_count"] == 0

    broken_json = '[{"signal_type": "md5", "value": "' + MD5_A + '"},\n {"signal_type": '
    response = client.post(
        f"/v1/banks/{bank_name}/import",
        content=broken_json,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert error_code(response) == "import_malformed"
    assert response.json()["error"]["errors"][0]["line"] == 2

    jsonl = f'{{"signal_type": "md5", "value": "{MD5_A}"}}\n{{oops\n'
    response = client.post(f"/v1/banks/{bank_name}/import?format=jsonl", content=jsonl)
    assert [e["line"] for e in response.json()["error"]["errors"]] == [2]

    empty = client.post(f"/v1/banks/{bank_name}/import", content=b"signal_type,value\n")
    assert error_code(empty) == "import_malformed"
    assert client.get(f"/v1/banks/{bank_name}").json()["entry_count"] == 0


def test_partial_import_keeps_good_rows_and_reports_bad_ones(
    client: httpx.Client, bank_name: str
) -> None:
    create_bank(client, bank_name)
    csv_body = f"signal_type,value\nmd5,{MD5_A}\nmd5,zzz\nmd5,{MD5_B}\n"
    response = client.post(
        f"/v1/banks/{bank_name}/import",
        params={"partial": "true"},
        content=csv_body,
        headers={"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["added"] == 2
    assert [(e["line"], e["code"]) for e in body["errors"]] == [(3, "invalid_signal")]
