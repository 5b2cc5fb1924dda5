"""Sharing over TAXII: export, import, a million entries synchronised, and add-to-match latency.

    OMP_NUM_THREADS=1 .venv/bin/python bench/sharing.py [--objects 100000] \
        [--sync-entries 1000000] [--trials 10] [--postgres URL]

Two Bastion instances on loopback, as in tests/share/test_two_instances.py: org A publishes banks
over TAXII (its API served by uvicorn in a child process, so server and client do not share a
GIL); org B registers A as a partner of kind "bastion" with the API key A created for it, trusts
A's public key and subscribes banks of its own to A's collections (signed pages required).

1. Export: objects/s that A's TAXII server serves (httpx, limit=1000, following ``next``), against
   medallion 3.0 (the OASIS reference TAXII 2.1 server, memory backend, in a child process)
   serving the same STIX objects, read by the same client.
2. Import: objects/s of B's ``Subscriptions.poll`` from empty (fetch, verify each page's
   signature, validate, apply into B's bank), against the reference client path on the same
   collection: ``taxii2client.v21.as_pages(collection.get_objects, per_request=1000)`` and
   ``stix2.parse(obj, allow_custom=True)`` for each object (fetch and parse, storing nothing).
3. Sync: A holds ``--sync-entries`` MD5 entries (inserted through ``Banks.add_entries`` in batches
   of 10,000, timed apart); time from B's first poll to B holding them all.
4. Add-to-match: B served with its background poller (poll pass every 1 s, subscription interval
   10 s, the minimum); A adds the PDQ of a new photo; B's ``POST /v1/scan`` is called every 100 ms
   with the photo until it matches.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import random
import shlex
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from machine import describe

TAXII = "application/taxii+json;version=2.1"
PAGE = 1000
BATCH = 10_000
MEDALLION_ROOT = "trustgroup1"
MEDALLION_COLLECTION = "365fed99-08fa-fdcd-a1b3-fb247eb41d01"
MEDALLION_USER = ("reader", "s3cret")


# --- servers in child processes ---------------------------------------------------------------


def _serve_bastion(settings: dict[str, Any], ready: Any, stop: Any) -> None:
    """A's API (uvicorn in a thread of this child process) until ``stop`` is set."""
    import uvicorn

    from bastion.api import create_app
    from bastion.runtime import Bastion
    from bastion.settings import Settings

    bastion = Bastion.from_settings(Settings(**settings), upgrade=False)
    server = ServerThread(create_app(bastion), uvicorn)
    ready.put(server.start())
    stop.wait()
    server.stop()
    bastion.close()


def _serve_medallion(folder: str, ready: Any, stop: Any) -> None:
    """medallion with its memory backend loaded from ``folder/data.json``."""
    import medallion
    from werkzeug.serving import make_server

    app = medallion.load_app(str(Path(folder) / "config.json"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    ready.put(f"http://127.0.0.1:{server.server_port}")
    stop.wait()
    server.shutdown()
    thread.join(timeout=10)


class ServerThread:
    """uvicorn serving ``app`` on a free loopback port, in a daemon thread."""

    def __init__(self, app: Any, uvicorn: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="bench-api", daemon=True)

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class Child:
    """A server in a spawned child process; ``url`` once it listens."""

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        context = mp.get_context("spawn")
        ready, self.stop_event = context.Queue(), context.Event()
        self.process = context.Process(target=target, args=(*args, ready, self.stop_event))
        self.process.start()
        self.url: str = ready.get(timeout=300)

    def close(self) -> None:
        self.stop_event.set()
        self.process.join(timeout=20)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(timeout=10)


# --- helpers ----------------------------------------------------------------------------------


def _fill(bastion: Any, bank: str, entries: list[Any]) -> list[float]:
    """Add ``entries`` in batches of 10,000, one transaction each; the seconds of each batch."""
    took = []
    for start in range(0, len(entries), BATCH):
        began = time.perf_counter()
        with bastion.db.session() as s:
            bastion.banks.add_entries(s, bank, entries[start : start + BATCH], actor="bench")
        took.append(time.perf_counter() - began)
    return took


def _held(bastion: Any, bank: str) -> int:
    from sqlalchemy import func, select

    from bastion.storage.models import BankEntryRow, BankRow

    with bastion.db.session() as s:
        bank_id = s.scalar(select(BankRow.id).where(BankRow.name == bank))
        count = s.scalar(
            select(func.count()).select_from(BankEntryRow).where(BankEntryRow.bank_id == bank_id)
        )
    return int(count or 0)


def _fetch_all(http: httpx.Client, url: str) -> tuple[list[tuple[float, int]], list[Any]]:
    """Every object of a TAXII collection, pages of 1000 following ``next``: (seconds, objects)
    of each page, and the objects."""
    objects: list[dict[str, Any]] = []
    pages: list[tuple[float, int]] = []
    params: dict[str, str] = {"limit": str(PAGE)}
    while True:
        began = time.perf_counter()
        response = http.get(url, params=params)
        response.raise_for_status()
        body = response.json()
        found = body.get("objects", [])
        pages.append((time.perf_counter() - began, len(found)))
        objects.extend(found)
        if not body.get("more"):
            break
        params = {"limit": str(PAGE), "next": body["next"]}
    return pages, objects


def _rate(pages: list[tuple[float, int]]) -> float:
    return sum(n for _, n in pages) / sum(t for t, _ in pages)


def _medallion_folder(folder: Path, objects: list[dict[str, Any]]) -> None:
    """medallion's config and data file holding ``objects`` in one collection."""
    stored, manifest = [], []
    base = 1_780_000_000.0
    for number, obj in enumerate(objects):
        moment = time.gmtime(base + number // 1_000_000)
        added = time.strftime("%Y-%m-%dT%H:%M:%S", moment) + f".{number % 1_000_000:06d}Z"
        stored.append({**obj, "_date_added": added})
        manifest.append(
            {
                "id": obj["id"],
                "date_added": added,
                "version": obj.get("modified") or obj.get("created"),
                "media_type": "application/stix+json;version=2.1",
            }
        )
    data = {
        "/discovery": {
            "title": "medallion",
            "default": f"/{MEDALLION_ROOT}/",
            "api_roots": [f"/{MEDALLION_ROOT}/"],
        },
        MEDALLION_ROOT: {
            "information": {
                "title": "bench",
                "versions": [TAXII],
                "max_content_length": 104_857_600,
            },
            "status": [],
            "collections": [
                {
                    "id": MEDALLION_COLLECTION,
                    "title": "bench",
                    "can_read": True,
                    "can_write": False,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": stored,
                    "manifest": manifest,
                }
            ],
        },
    }
    (folder / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(folder / "data.json"),
            "session_timeout": 3600,  # a paging session lives 30 s by default
        },
        "users": {MEDALLION_USER[0]: MEDALLION_USER[1]},
        "taxii": {"max_page_size": PAGE},
    }
    (folder / "config.json").write_text(json.dumps(config))


class _Shown(list[Any]):
    """A list of results that prints each one as it is measured (a long run shows progress)."""

    def append(self, item: Any) -> None:
        shown = item if isinstance(item, str) else " | ".join(str(part) for part in item)
        print(f"[{time.strftime('%H:%M:%S')}] {shown}", file=sys.stderr, flush=True)
        super().append(item)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[round(fraction * (len(ordered) - 1))]


def _rate_trend(stamps: list[tuple[float, int]]) -> str:
    """Objects/s over the first and the last tenth of a list of (seconds, objects) per step."""
    if len(stamps) < 20:
        return ""
    tenth = len(stamps) // 10
    first, last = stamps[:tenth], stamps[-tenth:]
    rate = [sum(n for _, n in part) / sum(t for t, _ in part) for part in (first, last)]
    return f"first tenth {rate[0]:,.0f}/s, last tenth {rate[1]:,.0f}/s"


# --- the benchmark ----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000, help="indicators for 1 and 2")
    parser.add_argument(
        "--medallion-objects", type=int, default=3000, help="objects medallion serves (1b, 1c)"
    )
    parser.add_argument("--sync-entries", type=int, default=1_000_000)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--postgres", default="", help="run B on this PostgreSQL URL")
    args = parser.parse_args()
    command = (
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} .venv/bin/python "
        + shlex.join(sys.argv)
    )

    import medallion
    import stix2
    import taxii2client
    import uvicorn
    from taxii2client.v21 import Collection, as_pages

    from bastion.api import create_app
    from bastion.api.routers.taxii import collection_id
    from bastion.banks.records import NewEntry
    from bastion.demo.media import make_photo
    from bastion.runtime import Bastion
    from bastion.settings import Settings
    from bastion.share import subscriptions as subscriptions_module
    from bastion.share.instance import this_instance
    from bastion.share.signing import InstanceIdentity, TrustStore
    from bastion.signals.base import HashLimits
    from bastion.signals.pdq import hash_photo

    folder = Path(tempfile.mkdtemp(prefix="bastion-bench-sharing-"))
    rng = random.Random(8)
    suffix = uuid.uuid4().hex[:6]
    rows = _Shown()
    notes = _Shown()
    children: list[Child] = []
    try:
        # --- org A: banks, the partner record and key for B; its server in a child process ----
        a_settings = {"data_dir": str(folder / "a"), "share_poll_enabled": False}
        a = Bastion.from_settings(Settings(**a_settings))
        export_bank, sync_bank, live_bank = "bench-export", "bench-sync", "bench-live"
        with a.db.session() as s:
            for bank in (export_bank, sync_bank, live_bank):
                a.banks.create(s, name=bank, actor="bench", tlp="green", labels=["tvec2"])
            key_for_b = a.keys.create(s, name="org-b", scopes=["taxii:read"], actor="bench")
            a.partners.create(
                s, name="org-b", kind="bastion", actor="bench", api_key=key_for_b.info.prefix
            )
            for bank in (export_bank, sync_bank, live_bank):
                a.partners.grant(s, "org-b", bank, actor="bench")
        a_instance = this_instance(a.settings.data_dir).name
        a_public = InstanceIdentity.load_or_create(a.settings.data_dir).public_key
        a_server = Child(_serve_bastion, a_settings)  # empty indexes: no warm-up cost later
        children.append(a_server)
        a_root = f"{a_server.url}/taxii2/api/"

        def a_objects_url(bank: str) -> str:
            return f"{a_root}collections/{collection_id(a_instance, bank)}/objects/"

        # --- org B, created now: its schema from the migrations as they are at the start ------
        b_dir = folder / "b"
        b_settings: dict[str, Any] = {
            "data_dir": str(b_dir),
            "database_url": args.postgres,
            "share_allow_private": True,  # A is on loopback
            "share_poll_enabled": False,
        }
        b = Bastion.from_settings(Settings(**b_settings))
        partner = f"org-a-{suffix}"
        TrustStore.open(b.settings.data_dir).add(partner, a_public)
        with b.db.session() as s:
            b.partners.create(
                s,
                name=partner,
                kind="bastion",
                url=a_root,
                actor="bench",
                signer=partner,
                credentials={"api_key": key_for_b.secret},
            )

        pdq = [NewEntry("pdq", f"{rng.getrandbits(256):064x}") for _ in range(args.objects)]
        _fill(a, export_bank, pdq)
        del pdq

        # --- 1. export ------------------------------------------------------------------------
        headers = {"Accept": TAXII, "Authorization": f"Bearer {key_for_b.secret}"}
        with httpx.Client(headers=headers, timeout=600) as http:
            a_pages, exported = _fetch_all(http, a_objects_url(export_bank))
        a_seconds = sum(t for t, _ in a_pages)
        rows.append(
            (
                f"1a. export over TAXII, {len(exported):,} objects (objects/s)",
                f"{_rate(a_pages):,.0f} ({a_seconds:.1f} s, {len(a_pages)} pages)",
                "medallion: not run at this size (below)",
                "",
            )
        )
        medallion_dir = folder / "medallion"
        medallion_dir.mkdir()
        # medallion takes an object's own "version" property for its manifest version (common.py
        # find_att), which the extension definition has ("1.0"): it answers 500. Left out there.
        exported = [o for o in exported if o["type"] != "extension-definition"]
        served = exported[: args.medallion_objects]
        _medallion_folder(medallion_dir, served)
        del exported
        medallion_server = Child(_serve_medallion, str(medallion_dir))
        children.append(medallion_server)
        medallion_url = (
            f"{medallion_server.url}/{MEDALLION_ROOT}/collections/{MEDALLION_COLLECTION}/objects/"
        )
        with httpx.Client(headers={"Accept": TAXII}, auth=MEDALLION_USER, timeout=3600) as http:
            m_pages, m_objects = _fetch_all(http, medallion_url)
        medallion_server.close()
        children.remove(medallion_server)
        if len(m_objects) != len(served):
            raise SystemExit(f"medallion served {len(m_objects)} of {len(served)} objects")
        same = a_pages[: len(m_pages)]  # Bastion's pages holding the same objects
        m_seconds = sum(t for t, _ in m_pages)
        rows.append(
            (
                f"1b. export, the first {len(served):,} of those objects (objects/s)",
                f"{_rate(same):,.0f} ({len(same)} pages)",
                f"medallion {_rate(m_pages):,.0f} ({m_seconds:.1f} s, {len(m_pages)} pages)",
                f"{_rate(same) / _rate(m_pages):.1f}x",
            )
        )
        if len(m_pages) > 1:
            rows.append(
                (
                    "1c. export, pages after the first only (objects/s)",
                    f"{_rate(same[1:]):,.0f}",
                    f"medallion {_rate(m_pages[1:]):,.0f}",
                    f"{_rate(same[1:]) / _rate(m_pages[1:]):.2f}x",
                )
            )
        estimate = m_pages[0][0] * (args.objects / len(served)) ** 2
        notes.append(
            f"medallion's first page took {m_pages[0][0]:.1f} s for {len(served):,} objects: its "
            "memory backend sorts a collection by scanning all objects for each manifest record "
            "(filters/basic_filter.py sort_and_paginate, a strptime per comparison), so the "
            f"first page of {args.objects:,} objects would take ~{estimate / 3600:,.1f} h"
        )
        del m_objects, served

        def subscribe(bank: str, remote: str) -> int:
            with b.db.session() as s:
                b.banks.create(s, name=bank, actor="bench", tlp="green", source="partner")
                info = b.subscriptions.create(
                    s,
                    partner=partner,
                    bank=bank,
                    remote_collection=collection_id(a_instance, remote),
                    actor="bench",
                    interval_seconds=10,
                )
            assert info.require_signature
            return int(info.id)

        # Per-page timing of B's polls (pages applied, seconds each).
        applied: list[tuple[float, int]] = []
        original_apply = subscriptions_module.apply_page

        def timed_apply(
            session: Any, banks: Any, sid: int, page: Any, *rest: Any, **kw: Any
        ) -> Any:
            began = time.perf_counter()
            result = original_apply(session, banks, sid, page, *rest, **kw)
            applied.append((time.perf_counter() - began, len(page.items)))
            return result

        subscriptions_module.apply_page = timed_apply  # type: ignore[assignment]

        # --- 2. import ------------------------------------------------------------------------
        import_bank = f"from-a-export-{suffix}"
        import_sub = subscribe(import_bank, export_bank)
        began = time.perf_counter()
        report = b.subscriptions.poll(import_sub, actor="bench")
        b_seconds = time.perf_counter() - began
        if report.error_code or report.added != args.objects:
            raise SystemExit(f"B's poll: {report.to_dict()}")
        apply_seconds = sum(t for t, _ in applied)
        collection = Collection(
            a_objects_url(export_bank).removesuffix("objects/"),
            user="org-b",
            password=key_for_b.secret,
        )
        parsed = 0
        began = time.perf_counter()
        for envelope in as_pages(collection.get_objects, per_request=PAGE):
            for obj in envelope.get("objects", []):
                stix2.parse(obj, allow_custom=True)
                parsed += 1
        r_seconds = time.perf_counter() - began
        b_rate, r_rate = report.objects / b_seconds, parsed / r_seconds
        rows.append(
            (
                f"2. import over TAXII, {report.objects:,} objects (objects/s)",
                f"{b_rate:,.0f} ({b_seconds:.1f} s, {report.pages} pages)",
                f"taxii2client + stix2.parse {r_rate:,.0f} ({r_seconds:.1f} s)",
                f"{b_rate / r_rate:.2f}x",
            )
        )
        notes.append(
            f"import: of B's {b_seconds:.1f} s, applying pages into the bank took "
            f"{apply_seconds:.1f} s (fetch + signature check + validation: the rest)"
        )
        with b.db.session() as s:
            b.subscriptions.update(s, import_sub, actor="bench", enabled=False)

        # --- 3. a million entries synchronised --------------------------------------------------
        md5 = [
            NewEntry("md5", hashlib.md5(f"bench-sync-{n}".encode()).hexdigest())
            for n in range(args.sync_entries)
        ]
        batches = _fill(a, sync_bank, md5)
        del md5
        insert_seconds = sum(batches)
        rows.append(
            (
                f"3a. insert {args.sync_entries:,} MD5 entries into A (add_entries, 10,000/tx)",
                f"{insert_seconds:.1f} s ({args.sync_entries / insert_seconds:,.0f}/s)",
                "",
                "",
            )
        )
        trend = _rate_trend([(t, BATCH) for t in batches])
        if trend:
            notes.append(f"insert into A: {trend}")
        sync_bank_b = f"from-a-sync-{suffix}"
        sync_sub = subscribe(sync_bank_b, sync_bank)
        applied.clear()
        polls = 0
        began = time.perf_counter()
        while True:
            report = b.subscriptions.poll(sync_sub, actor="bench")
            polls += 1
            if report.error_code:
                raise SystemExit(f"B's poll: {report.to_dict()}")
            if _held(b, sync_bank_b) >= args.sync_entries or report.objects == 0:
                break
        sync_seconds = time.perf_counter() - began
        held = _held(b, sync_bank_b)
        if held != args.sync_entries:
            raise SystemExit(f"B holds {held} of {args.sync_entries}")
        rows.append(
            (
                f"3b. B's first poll to B holding all {held:,} "
                f"(page {b.settings.share_page_objects})",
                f"{sync_seconds:.1f} s ({held / sync_seconds:,.0f} entries/s, {polls} polls)",
                "",
                "",
            )
        )
        trend = _rate_trend(applied)
        notes.append(
            f"sync: applying pages took {sum(t for t, _ in applied):.1f} s of "
            f"{sync_seconds:.1f} s" + (f"; apply rate {trend}" if trend else "")
        )
        with b.db.session() as s:
            b.subscriptions.update(s, sync_sub, actor="bench", enabled=False)
        subscriptions_module.apply_page = original_apply  # type: ignore[assignment]
        b.close()

        # --- 4. add to match, B polling in the background ---------------------------------------
        live_settings = Settings(
            **{**b_settings, "share_poll_enabled": True}, share_poll_interval_seconds=1
        )
        b = Bastion.from_settings(live_settings, upgrade=False)
        subscribe(f"from-a-live-{suffix}", live_bank)
        polled: list[tuple[float, float, int]] = []  # start, end (committed), added
        original_poll = b.subscriptions.poll

        def timed_poll(subscription_id: int, *, actor: str) -> Any:
            began = time.time()
            result = original_poll(subscription_id, actor=actor)
            polled.append((began, time.time(), result.added))
            return result

        b.subscriptions.poll = timed_poll  # type: ignore[method-assign]
        b_server = ServerThread(create_app(b), uvicorn)
        b_url = b_server.start()
        with b.db.session() as s:
            admin = b.keys.create(s, name="bench-admin", scopes=["admin"], actor="bench").secret
        scan_client = httpx.Client(
            base_url=b_url, headers={"Authorization": f"Bearer {admin}"}, timeout=120
        )

        def matched(photo: bytes) -> bool:
            answer = scan_client.post(
                "/v1/scan", files={"file": ("upload.jpg", photo, "image/jpeg")}
            )
            answer.raise_for_status()
            return bool(answer.json()["matched"])

        try:
            if matched(make_photo(90_000)):  # waits for the warm-up's indexes
                raise SystemExit("an unbanked photo matched")
            add_to_match, poll_to_match, commit_to_match = [], [], []
            for trial in range(args.trials):
                photo = make_photo(91_000 + trial)
                value = hash_photo(photo, HashLimits())[0].value
                time.sleep(rng.uniform(0, 10))  # a random moment in B's 10 s poll cycle
                with a.db.session() as s:
                    a.banks.add_entries(s, live_bank, [NewEntry("pdq", value)], actor="bench")
                added_at = time.time()
                deadline = time.monotonic() + 120
                while not matched(photo):
                    if time.monotonic() > deadline:
                        raise SystemExit(f"trial {trial}: no match after 120 s")
                    time.sleep(0.1)
                seen = time.time()
                fetched = [p for p in polled if p[2] > 0 and p[1] >= added_at]
                start, end, _ = fetched[0]
                add_to_match.append(seen - added_at)
                poll_to_match.append(seen - start)
                commit_to_match.append(seen - end)
        finally:
            scan_client.close()
            b_server.stop()
            b.close()
        ms = 1000.0
        for label, values in (
            ("4a. A's add to B's first match (ms)", add_to_match),
            ("4b. start of B's poll that fetched it to the match (ms)", poll_to_match),
            ("4c. end of that poll (committed) to the match (ms)", commit_to_match),
        ):
            rows.append(
                (
                    f"{label}, {len(values)} trials",
                    f"median {statistics.median(values) * ms:,.0f}, "
                    f"p95 {_percentile(values, 0.95) * ms:,.0f}, max {max(values) * ms:,.0f}",
                    "",
                    "",
                )
            )
        a.close()
    finally:
        for child in children:
            child.close()
        shutil.rmtree(folder, ignore_errors=True)

    libraries = (
        f"httpx {httpx.__version__}, uvicorn {uvicorn.__version__}, "
        f"medallion {getattr(medallion, '__version__', '3.0')}, "
        f"taxii2-client {taxii2client.__version__}, stix2 {stix2.__version__}"
    )
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"Command: {command}")
    print(f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"Machine: {describe(libraries)}")
    print(f"A on SQLite; B on {backend}.")
    print()
    print("| measure | Bastion | reference | Bastion / reference |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    for note in notes:
        print(f"* {note}")


if __name__ == "__main__":
    sys.exit(main())
