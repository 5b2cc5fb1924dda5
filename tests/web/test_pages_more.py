"""The bank, stream, incident, search and settings pages over real HTTP: roles, CSRF, secrets."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bastion.banks.records import NewEntry
from bastion.review.cases import NewCase
from bastion.settings import Settings
from bastion.storage.models import AlertRow, BankEntryRow, ContentRow, utcnow

from ..api.conftest import serving
from .conftest import WebSite, csrf_of

PAGES = ("/ui/banks", "/ui/streams", "/ui/incidents", "/ui/search?q=anything")


def _bank(site: WebSite, *, quarantine: bool = False) -> tuple[str, int, str]:
    """A new bank with one PDQ entry (quarantined by flood control if asked): name, id, hash."""
    name = f"bank-{uuid.uuid4().hex[:8]}"
    value = secrets.token_hex(32)
    with site.bastion.db.session() as session:
        site.bastion.banks.create(session, name=name, actor="test", labels=["tvec3"])
        report = site.bastion.banks.add_entries(
            session,
            name,
            [NewEntry("pdq", value, labels=["tvec3"], added_from="upload:evidence-77.jpg")],
            actor="user:curator",
        )
        entry_id = report.added[0].id
        if quarantine:
            row = session.get(BankEntryRow, entry_id)
            assert row is not None
            row.quarantined_at = utcnow()
            row.quarantine_reason = "flood control: matched 500 items within 60 s (limit 100)"
            session.add(
                AlertRow(
                    kind="flood_quarantine",
                    severity="high",
                    summary=f"bank entry {entry_id} quarantined",
                    bank_name=name,
                    entry_id=entry_id,
                    details={},
                )
            )
    return name, entry_id, value


def _quarantined(site: WebSite, entry_id: int) -> bool:
    with site.bastion.db.session() as session:
        row = session.get(BankEntryRow, entry_id)
        assert row is not None
        return row.quarantined_at is not None


@pytest.mark.parametrize("role", ["admin", "analyst", "moderator", "auditor"])
def test_every_reading_role_sees_the_bank_stream_incident_and_search_pages(
    site: WebSite, role: str
) -> None:
    name, _, _ = _bank(site)
    with closing(site.login(site.user(role))) as client:
        for path in (*PAGES, f"/ui/banks/{name}"):
            page = client.get(path)
            assert page.status_code == 200, (path, page.text)
            assert page.headers["cache-control"] == "no-store"
            assert "script-src 'self'" in page.headers["content-security-policy"]
            assert "<h1>" in page.text and "<caption>" in page.text
            assert 'href="/ui/banks"' in page.text and 'href="/ui/search"' in page.text
        settings_link = 'href="/ui/settings"' in client.get("/ui/banks").text
        assert settings_link == (role == "admin")


def test_the_pages_need_a_sign_in(site: WebSite) -> None:
    with site.client() as client:
        for path in (*PAGES, "/ui/settings", "/ui/banks/x"):
            response = client.get(path)
            assert response.status_code == 303 and response.headers["location"] == "/ui/login"


def test_the_bank_list_shows_each_bank_with_its_settings(site: WebSite) -> None:
    name, _, _ = _bank(site)
    with closing(site.login(site.user("moderator"))) as client:
        page = client.get("/ui/banks").text
    row = page.split(f'href="/ui/banks/{name}"')[1].split("</tr>")[0]
    for shown in ("positive", "tvec3", "high", "local", "AMBER", "<td>1</td>", "yes", "100%"):
        assert shown in row, shown


def test_a_bank_page_shows_provenance_and_a_short_hash(site: WebSite) -> None:
    name, entry_id, value = _bank(site)
    with closing(site.login(site.user("auditor"))) as client:
        page = client.get(f"/ui/banks/{name}")
    assert page.status_code == 200
    row = page.text.split(f'id="entry-{entry_id}"')[1].split("</tr>")[0]
    assert "user:curator" in row and "upload:evidence-77.jpg" in row and "pdq" in row
    assert f">{value[:16]}…</code>" in row and "active" in row
    assert "no open flood alerts" in page.text
    with closing(site.login(site.user("auditor"))) as client:
        missing = client.get("/ui/banks/no-such-bank")
    assert missing.status_code == 404 and "bank_not_found" in missing.text


def test_bank_entries_are_paginated(site: WebSite) -> None:
    name = f"bank-{uuid.uuid4().hex[:8]}"
    with site.bastion.db.session() as session:
        site.bastion.banks.create(session, name=name, actor="test")
        added = site.bastion.banks.add_entries(
            session, name, [NewEntry("pdq", secrets.token_hex(32)) for _ in range(55)], actor="t"
        ).added
    with closing(site.login(site.user("moderator"))) as client:
        first = client.get(f"/ui/banks/{name}").text
        assert f'id="entry-{added[49].id}"' in first and f'id="entry-{added[50].id}"' not in first
        assert f"?after={added[49].id}" in first
        second = client.get(f"/ui/banks/{name}?after={added[49].id}").text
        assert f'id="entry-{added[54].id}"' in second and f'id="entry-{added[0].id}"' not in second
        assert 'rel="next"' not in second and "First page" in second


def test_an_analyst_releases_a_quarantined_entry_with_csrf(site: WebSite) -> None:
    name, entry_id, _ = _bank(site, quarantine=True)
    with closing(site.login(site.user("analyst"))) as client:
        page = client.get(f"/ui/banks/{name}")
        row = page.text.split(f'id="entry-{entry_id}"')[1].split("</tr>")[0]
        assert "quarantined" in row and "flood control: matched 500" in row
        assert "open alert #" in row and ">Release</button>" in row
        assert "1 entry quarantined by open flood alerts" in page.text
        action = f"/ui/banks/{name}/entries/{entry_id}/release"
        for data in ({}, {"csrf": "0" * 64}):
            refused = client.post(action, data=data)
            assert refused.status_code == 403 and "csrf_failed" in refused.text
        assert _quarantined(site, entry_id)
        released = client.post(action, data={"csrf": csrf_of(page.text)})
        assert released.status_code == 303
        assert released.headers["location"] == f"/ui/banks/{name}?released={entry_id}"
        after = client.get(released.headers["location"]).text
        assert "released from quarantine" in after
        assert "active" in after.split(f'id="entry-{entry_id}"')[1].split("</tr>")[0]
    assert not _quarantined(site, entry_id)
    with site.bastion.db.session() as session:
        events = site.bastion.audit.list(session, limit=20)
    assert any(
        e.action == "bank.entry.release" and str(e.target_id) == str(entry_id) for e in events
    )


@pytest.mark.parametrize("role", ["moderator", "auditor"])
def test_a_role_without_banks_write_cannot_release(site: WebSite, role: str) -> None:
    name, entry_id, _ = _bank(site, quarantine=True)
    with closing(site.login(site.user(role))) as client:
        page = client.get(f"/ui/banks/{name}")
        assert "quarantined" in page.text and ">Release</button>" not in page.text
        refused = client.post(
            f"/ui/banks/{name}/entries/{entry_id}/release", data={"csrf": csrf_of(page.text)}
        )
        assert refused.status_code == 403 and "forbidden" in refused.text
    assert _quarantined(site, entry_id)


def test_search_finds_a_case_by_id_words_and_content_id_and_an_entry_by_hash(
    site: WebSite,
) -> None:
    word = uuid.uuid4().hex[:10]
    case_id = site.case(title=f"Rally footage {word} reposted")
    external = f"post-{uuid.uuid4().hex[:8]}"
    with site.bastion.db.session() as session:
        content = ContentRow(kind="image", source="upload", external_id=external)
        session.add(content)
        session.flush()
        about = site.bastion.cases.open(
            session,
            NewCase(
                kind="scan_match",
                priority=40,
                severity="high",
                title="x",
                labels=[],
                content_id=content.id,
            ),
            actor="test",
        ).id
    name, entry_id, value = _bank(site)
    with closing(site.login(site.user("moderator"))) as client:
        by_id = client.get("/ui/search", params={"q": f"#{case_id}"})
        assert by_id.status_code == 200 and by_id.headers["cache-control"] == "no-store"
        assert f'href="/ui/cases/{case_id}"' in by_id.text and "case id" in by_id.text
        by_words = client.get("/ui/search", params={"q": f"{word.upper()} rally"}).text
        assert f'href="/ui/cases/{case_id}"' in by_words and "words in the title" in by_words
        by_content = client.get("/ui/search", params={"q": external}).text
        assert f'href="/ui/cases/{about}"' in by_content and "content external id" in by_content
        by_hash = client.get("/ui/search", params={"q": value.upper()}).text
        assert f'href="/ui/banks/{name}"' in by_hash and f"#entry-{entry_id}" in by_hash
        nothing = client.get("/ui/search", params={"q": "100%_no_such_thing"}).text
        assert "0 cases and 0 bank entries" in nothing
        empty = client.get("/ui/search").text
        assert 'id="search-q"' in empty and "search-summary" not in empty
        too_long = client.get("/ui/search", params={"q": "x" * 600})
        assert too_long.status_code == 422 and "validation_error" in too_long.text


def test_the_incidents_page_links_each_incident_to_its_crisis_bank(site: WebSite) -> None:
    name = f"crisis-{uuid.uuid4().hex[:6]}"
    with site.bastion.db.session() as session:
        incident = site.bastion.incidents.declare(session, name=name, actor="test")
    with closing(site.login(site.user("moderator"))) as client:
        page = client.get("/ui/incidents")
    assert page.status_code == 200
    row = page.text.split(f'id="incident-{incident.id}"')[1].split("</tr>")[0]
    assert name in row and f'href="/ui/banks/{incident.bank}"' in row and "active" in row
    assert "Recent stream matches" in page.text


def test_the_streams_page_shows_a_label_never_the_stream_key(site: WebSite) -> None:
    key = f"SECRETKEY{uuid.uuid4().hex}"
    # Nothing listens on port 9 of loopback: the stream keeps failing to connect, which is
    # enough for the page (its state, reconnects and last error).
    started = site.bastion.streams.start(
        f"rtmp://127.0.0.1:9/live/{key}", actor="test", checked=False
    )
    try:
        with closing(site.login(site.user("moderator"))) as client:
            page = client.get("/ui/streams")
            assert page.status_code == 200 and key not in page.text
            row = page.text.split(f'id="stream-{started.id}"')[1].split("</tr>")[0]
            assert "rtmp://127.0.0.1:9/live/key-" in row
            assert "/stop" not in page.text  # moderators cannot stop streams
            refused = client.post(
                f"/ui/streams/{started.id}/stop", data={"csrf": csrf_of(page.text)}
            )
            assert refused.status_code == 403 and "forbidden" in refused.text
        with closing(site.login(site.user("analyst"))) as client:
            page = client.get("/ui/streams")
            assert key not in page.text and f"/ui/streams/{started.id}/stop" in page.text
            no_csrf = client.post(f"/ui/streams/{started.id}/stop", data={})
            assert no_csrf.status_code == 403 and "csrf_failed" in no_csrf.text
            stopped = client.post(
                f"/ui/streams/{started.id}/stop", data={"csrf": csrf_of(page.text)}
            )
            assert stopped.status_code == 303
            assert site.bastion.streams.status(started.id).desired_state == "stopped"
            listed = client.get("/ui/streams?all=true").text
            assert key not in listed
            assert "stopped" in listed.split(f'id="stream-{started.id}"')[1].split("</tr>")[0]
            assert f'id="stream-{started.id}"' not in client.get("/ui/streams").text
    finally:
        site.bastion.streams.stop(started.id, actor="test", wait_seconds=5)


STREAM_SECRET = "whsec-" + "q" * 30
ACTION_SECRET = "actsec-" + "z" * 30
HOOK_TOKEN = "PATHTOKEN" + "7" * 20


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    """A server with secrets set, to show that the settings page never shows them."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("web-settings"),
        stream_webhook_url=f"https://hooks.example.org/services/{HOOK_TOKEN}?sig=QUERYTOKEN",
        stream_webhook_secret=STREAM_SECRET,
        action_webhook_secret=ACTION_SECRET,
    )
    with serving(settings) as server:
        yield WebSite(server)


def test_the_settings_page_shows_settings_and_policy_but_never_secrets(
    configured: WebSite,
) -> None:
    with closing(configured.login(configured.user("admin"))) as client:
        page = client.get("/ui/settings")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    for secret in (STREAM_SECRET, ACTION_SECRET, HOOK_TOKEN, "QUERYTOKEN"):
        assert secret not in text
    row = text.split('<th scope="row">stream_webhook_secret</th>')[1].split("</tr>")[0]
    assert "<strong>set</strong>" in row and "BASTION_STREAM_WEBHOOK_SECRET" in row
    url_row = text.split('<th scope="row">stream_webhook_url</th>')[1].split("</tr>")[0]
    assert "https://hooks.example.org/… (rest hidden)" in url_row
    assert '<th scope="row">flood_max_matches</th>' in text
    assert "Active version</dt><dd>0 (the built-in default)" in text


@pytest.mark.parametrize("role", ["analyst", "moderator", "auditor"])
def test_the_settings_page_is_for_admins_only(site: WebSite, role: str) -> None:
    with closing(site.login(site.user(role))) as client:
        page = client.get("/ui/settings")
    assert page.status_code == 403 and "forbidden" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_the_settings_page_shows_an_unset_secret_as_unset(site: WebSite) -> None:
    with closing(site.login(site.user("admin"))) as client:
        text = client.get("/ui/settings").text
    row = text.split('<th scope="row">action_webhook_secret</th>')[1].split("</tr>")[0]
    assert "<strong>unset</strong>" in row
    assert str(Path(site.bastion.settings.data_dir)) in text
