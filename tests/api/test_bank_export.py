"""``GET /v1/banks/{name}/export``: a streamed download that ``POST .../import`` reads back."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import httpx
import pytest

from bastion.demo.media import make_photo

from .conftest import ApiServer
from .helpers import create_bank, error_code, upload

FORMATS = {
    "jsonl": "application/x-ndjson",
    "json": "application/json",
    "csv": "text/csv",
}


def _fill(client: httpx.Client, bank: str) -> None:
    create_bank(client, bank)
    for seed in (31, 32):
        banked = upload(
            client,
            f"/v1/banks/{bank}/entries/media",
            make_photo(seed, size=(640, 480)),
            fields={"labels": "tvec1,tvec7", "note": f"poster {seed}"},
        )
        assert banked.status_code == 201, banked.text
    added = client.post(
        f"/v1/banks/{bank}/entries",
        json=[
            {
                "signal_type": "md5",
                "value": hashlib.md5(b"x").hexdigest(),
                "labels": ["tvec6"],
                "note": 'quote " comma , newline\nend',
            },
            {"signal_type": "sha256", "value": hashlib.sha256(b"x").hexdigest()},
        ],
    )
    assert added.status_code == 201, added.text


def _state(api: ApiServer, bank: str) -> list[tuple[Any, ...]]:
    # Read through the domain: the API's entry records do not show variants.
    with api.bastion.db.session() as session:
        entries = api.bastion.banks.list_entries(session, bank, limit=10_000)
    return [(e.signal_type, e.value, e.labels, e.note, e.variants) for e in entries]


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_export_imports_into_an_identical_bank(
    api: ApiServer, client: httpx.Client, bank_name: str, fmt: str
) -> None:
    _fill(client, bank_name)
    original = _state(api, bank_name)
    assert len(original) == 8 and sum(1 for row in original if row[4]) == 2

    exported = client.get(f"/v1/banks/{bank_name}/export", params={"format": fmt})

    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].split(";")[0] == FORMATS[fmt]
    assert exported.headers["content-disposition"] == f'attachment; filename="{bank_name}.{fmt}"'
    copy = f"{bank_name}-copy"
    create_bank(client, copy)
    imported = client.post(
        f"/v1/banks/{copy}/import",
        content=exported.content,
        headers={"Content-Type": FORMATS[fmt]},
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["added"] == 8
    assert _state(api, copy) == original


def test_options_leave_out_variants_and_disabled_entries(
    client: httpx.Client, bank_name: str
) -> None:
    _fill(client, bank_name)
    first = client.get(f"/v1/banks/{bank_name}/entries", params={"limit": 1}).json()["entries"][0]
    disabled = client.patch(
        f"/v1/banks/{bank_name}/entries/{first['id']}",
        json={"disabled_until": "2099-01-01T00:00:00Z"},
    )
    assert disabled.status_code == 200, disabled.text

    everything = client.get(f"/v1/banks/{bank_name}/export").text.splitlines()
    lean = client.get(
        f"/v1/banks/{bank_name}/export",
        params={"format": "csv", "variants": "false", "skip_disabled": "true"},
    ).text

    assert len(everything) == 8 and any('"variants"' in line for line in everything)
    rows = list(csv.reader(io.StringIO(lean, newline="")))
    assert rows[0] == ["signal_type", "value", "labels", "note"]
    assert len(rows) == 1 + 7
    assert first["value"] not in lean


def test_export_is_audited(api: ApiServer, client: httpx.Client, bank_name: str) -> None:
    _fill(client, bank_name)
    reader = api.make_key("banks:read")
    with api.client(reader) as http:
        assert http.get(f"/v1/banks/{bank_name}/export", params={"format": "json"}).is_success

    events = client.get("/v1/audit", params={"action": "bank.export", "limit": 500}).json()
    mine = [e for e in events["events"] if e["target_id"] == bank_name]
    assert len(mine) == 1
    assert mine[0]["actor"] == f"key:{reader.split('_')[1]}"
    assert mine[0]["details"] == {
        "format": "json",
        "entry_count": 8,
        "variants": True,
        "skip_disabled": False,
    }
    assert reader not in json.dumps(events)  # the key itself is never recorded


def test_export_needs_a_key_with_the_read_scope(api: ApiServer, bank_name: str) -> None:
    path = f"/v1/banks/{bank_name}/export"
    with api.client() as admin:
        create_bank(admin, bank_name)
    with api.client("") as anonymous:
        missing = anonymous.get(path)
    with api.client(api.make_key("scan", "banks:write")) as writer:
        wrong_scope = writer.get(path)
    with api.client(api.make_key("banks:read")) as reader:
        allowed = reader.get(path)

    assert missing.status_code == 401 and error_code(missing) == "unauthorized"
    assert wrong_scope.status_code == 403 and error_code(wrong_scope) == "forbidden"
    assert allowed.status_code == 200 and allowed.text == ""


def test_unknown_bank_and_bad_format(client: httpx.Client, bank_name: str) -> None:
    missing = client.get(f"/v1/banks/{bank_name}/export")
    create_bank(client, bank_name)
    bad_format = client.get(f"/v1/banks/{bank_name}/export", params={"format": "xml"})
    bad_flag = client.get(f"/v1/banks/{bank_name}/export", params={"variants": "maybe"})

    assert missing.status_code == 404 and error_code(missing) == "bank_not_found"
    assert bad_format.status_code == 422 and error_code(bad_format) == "validation_error"
    assert bad_format.json()["error"]["errors"][0]["loc"] == ["query", "format"]
    assert bad_flag.status_code == 422 and error_code(bad_flag) == "validation_error"
