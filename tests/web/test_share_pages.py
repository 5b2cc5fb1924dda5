"""The sharing pages over real HTTP: partners, grants, trusted signers, feedback and what was
shared with whom; roles, CSRF, secrets never rendered, every change audited.

Subscription actions (create, poll, feedback sending) need the subscriptions service and are in
``test_share_pages_subscriptions.py``.
"""

from __future__ import annotations

import base64
import secrets
import uuid
from contextlib import closing

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bastion.banks.records import NewEntry
from bastion.share.signing import TrustStore
from bastion.storage.models import BankRow
from bastion.storage.share_models import (
    FeedbackRow,
    PartnerRow,
    ShareEventRow,
    SubscriptionRow,
)

from .conftest import WebSite, csrf_of

SHARING_PAGES = (
    "/ui/sharing",
    "/ui/sharing/subscriptions",
    "/ui/sharing/feedback",
    "/ui/sharing/events",
    "/ui/sharing/signers",
)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _bank(site: WebSite, *, tlp: str = "amber", source: str = "local") -> tuple[str, int]:
    """A new bank with one PDQ entry (from a partner's feed for a ``partner`` bank): its name
    and the entry's id."""
    name = _name("bank")
    external = f"indicator--{uuid.uuid4()}" if source == "partner" else None
    with site.bastion.db.session() as session:
        site.bastion.banks.create(session, name=name, actor="test", tlp=tlp, source=source)
        added = site.bastion.banks.add_entries(
            session,
            name,
            [NewEntry("pdq", secrets.token_hex(32), external_id=external)],
            actor="test",
        ).added
    return name, added[0].id


def _partner(site: WebSite, **extra: object) -> str:
    name = _name("partner")
    with site.bastion.db.session() as session:
        site.bastion.partners.create(session, name=name, kind="bastion", actor="test", **extra)  # type: ignore[arg-type]
    return name


def _public_key() -> str:
    raw = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _audited(site: WebSite, action: str, target: str) -> list[dict[str, object]]:
    with site.bastion.db.session() as session:
        events = site.bastion.audit.list(session, action=action, limit=200)
    return [e.details for e in events if str(e.target_id) == target]


def _post(client: httpx.Client, page: str, action: str, data: dict[str, object]) -> httpx.Response:
    """POST ``data`` to ``action`` with the CSRF token of ``page``."""
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf": token, **data})


@pytest.mark.parametrize("role", ["admin", "analyst", "auditor"])
def test_reading_roles_see_every_sharing_page(site: WebSite, role: str) -> None:
    partner = _partner(site)
    with closing(site.login(site.user(role))) as client:
        for path in (*SHARING_PAGES, f"/ui/sharing/partners/{partner}"):
            page = client.get(path)
            assert page.status_code == 200, (path, page.text)
            assert page.headers["cache-control"] == "no-store"
            assert "script-src 'self'" in page.headers["content-security-policy"]
            assert "<h1>" in page.text and "<caption>" in page.text
            assert "<script>" not in page.text and "style=" not in page.text
        assert 'href="/ui/sharing"' in client.get("/ui/banks").text
        new_partner = client.get("/ui/sharing/partners/new")
        assert new_partner.status_code == (200 if role == "admin" else 403)


def test_moderators_do_not_see_sharing(site: WebSite) -> None:
    with closing(site.login(site.user("moderator"))) as client:
        assert 'href="/ui/sharing"' not in client.get("/ui/banks").text
        for path in SHARING_PAGES:
            page = client.get(path)
            assert page.status_code == 403 and "forbidden" in page.text


def test_the_pages_need_a_sign_in(site: WebSite) -> None:
    with site.client() as client:
        for path in (*SHARING_PAGES, "/ui/sharing/partners/new"):
            response = client.get(path)
            assert response.status_code == 303 and response.headers["location"] == "/ui/login"


def test_the_overview_shows_the_identity_and_the_collections(site: WebSite) -> None:
    amber, _ = _bank(site)
    red, _ = _bank(site, tlp="red")
    partner = _partner(site)
    with site.bastion.db.session() as session:
        site.bastion.partners.grant(session, partner, amber, actor="test", can_write=True)
    from bastion.api.routers.taxii import collection_id, instance_of

    instance = instance_of(site.bastion).name
    with closing(site.login(site.user("auditor"))) as client:
        page = client.get("/ui/sharing").text
    assert f'<code id="fingerprint">{instance}</code>' in page
    assert f"{site.base_url}/taxii2/" in page
    row = page.split(f'id="collection-{amber}"')[1].split("</tr>")[0]
    assert collection_id(instance, amber) in row and "TLP:AMBER" in row
    assert row.count(partner) == 2  # reads and writes
    red_row = page.split(f'id="collection-{red}"')[1].split("</tr>")[0]
    assert "never shared" in red_row and collection_id(instance, red) not in red_row
    assert f'href="/ui/sharing/partners/{partner}"' in page


def test_an_admin_creates_a_partner_whose_credentials_are_never_shown(site: WebSite) -> None:
    secret = f"s3cr3t-{secrets.token_hex(12)}"
    other = f"other-{secrets.token_hex(12)}"
    name = _name("gifct")
    with site.bastion.db.session() as session:
        key = site.bastion.keys.create(
            session, name="partner key", scopes=["taxii:read"], actor="test"
        )
    admin = site.user("admin")
    with closing(site.login(admin)) as client:
        created = _post(
            client,
            "/ui/sharing/partners/new",
            "/ui/sharing/partners",
            {
                "name": name,
                "kind": "taxii",
                "url": "https://taxii.example.org/taxii2/",
                "api_key": key.info.prefix,
                "amber": "yes",
                "cred_field": ["token", "client_secret", "", ""],
                "cred_value": [secret, other, "", ""],
            },
        )
        assert created.status_code == 303, created.text
        assert created.headers["location"] == f"/ui/sharing/partners/{name}?done=created"
        shown = [
            client.get(created.headers["location"]).text,
            client.get("/ui/sharing").text,
            client.get("/ui/audit").text,
        ]
    for page in shown:
        assert secret not in page and other not in page and key.secret not in page
    partner_page = shown[0]
    assert '<dd id="credential-fields">client_secret, token</dd>' in partner_page
    assert key.info.prefix in partner_page and "Created." in partner_page
    assert site.bastion.partners.credentials is not None
    with site.bastion.db.session() as session:
        assert site.bastion.partners.credentials(session, name) == {
            "token": secret,
            "client_secret": other,
        }
        info = site.bastion.partners.get(session, name)
    assert info.amber and info.api_key_id == key.info.id and info.kind == "taxii"
    [details] = _audited(site, "partner.create", name)
    assert details["credentials"] == ["client_secret", "token"]
    assert secret not in str(details)


def test_bad_partner_input_is_explained_and_values_never_echoed(site: WebSite) -> None:
    secret = f"typed-{secrets.token_hex(12)}"
    taken = _partner(site)
    with closing(site.login(site.user("admin"))) as client:
        for data, code in (
            ({"name": "Bad Name!", "kind": "taxii"}, "invalid_input"),
            ({"name": _name("p"), "kind": "carrier-pigeon"}, "invalid_input"),
            ({"name": taken, "kind": "taxii"}, "partner_exists"),
            ({"name": _name("p"), "kind": "taxii", "api_key": "nope"}, "invalid_input"),
            ({"name": _name("p"), "kind": "taxii", "url": "ftp://x"}, "invalid_input"),
            ({"name": _name("p"), "kind": "taxii", "signer": "nobody"}, "signer_not_found"),
            (
                {"name": _name("p"), "kind": "taxii", "cred_field": [""], "cred_value": [secret]},
                "invalid_input",
            ),
        ):
            data = {"cred_field": ["token"], "cred_value": [secret], **data}
            page = _post(client, "/ui/sharing/partners/new", "/ui/sharing/partners", data)
            assert 400 <= page.status_code < 500, (data, page.text)
            assert f'<code class="error-code">{code}</code>' in page.text, (data, page.text)
            assert 'id="new-partner"' in page.text  # the form again, to correct
            assert secret not in page.text


def test_an_admin_edits_disables_replaces_credentials_and_deletes(site: WebSite) -> None:
    name = _partner(site, credentials={"token": "old-token-value"})
    page = f"/ui/sharing/partners/{name}"
    new_secret = f"new-{secrets.token_hex(12)}"
    with closing(site.login(site.user("admin"))) as client:
        edited = _post(
            client, page, f"{page}/edit", {"url": "https://peer.example/", "amber": "yes"}
        )
        assert edited.status_code == 303 and edited.headers["location"] == f"{page}?done=edit"
        disabled = _post(client, page, f"{page}/disable", {})
        assert disabled.status_code == 303
        shown = client.get(page).text
        assert '<dd id="partner-state">disabled</dd>' in shown and "Enable " in shown
        refused = _post(client, page, f"{page}/credentials", {"cred_field": [""]})
        assert refused.status_code == 400 and "tick the box" in refused.text
        replaced = _post(
            client,
            page,
            f"{page}/credentials",
            {"cred_field": ["api_key", ""], "cred_value": [new_secret, ""]},
        )
        assert replaced.status_code == 303
        shown = client.get(page).text
        assert '<dd id="credential-fields">api_key</dd>' in shown
        assert new_secret not in shown and "old-token-value" not in shown
        kept = _post(client, page, f"{page}/delete", {})
        assert kept.status_code == 400 and "tick the box" in kept.text
        deleted = _post(client, page, f"{page}/delete", {"confirm": "yes"})
        assert deleted.status_code == 303 and deleted.headers["location"].startswith("/ui/sharing")
        assert client.get(page).status_code == 404
    with site.bastion.db.session() as session:
        assert session.query(PartnerRow).filter_by(name=name).count() == 0
    updates = _audited(site, "partner.update", name)
    assert {"url": "https://peer.example/", "amber": True} in updates
    assert {"enabled": False} in updates and {"credentials": ["api_key"]} in updates
    assert _audited(site, "partner.delete", name)


def test_grants_are_saved_and_a_red_bank_cannot_be_granted(site: WebSite) -> None:
    green, _ = _bank(site, tlp="green")
    red, _ = _bank(site, tlp="red")
    name = _partner(site)
    page = f"/ui/sharing/partners/{name}"
    with closing(site.login(site.user("admin"))) as client:
        shown = client.get(page).text
        red_row = shown.split(f'id="grant-{red}"')[1].split("</tr>")[0]
        assert "TLP:RED never leaves this instance" in red_row and "checkbox" not in red_row
        saved = _post(client, page, f"{page}/grants", {"read": [green], "write": [green]})
        assert saved.status_code == 303
        row = client.get(page).text.split(f'id="grant-{green}"')[1].split("</tr>")[0]
        assert row.count("checked") == 2
        forged = _post(client, page, f"{page}/grants", {"read": [green, red]})
        assert forged.status_code == 400 and "TLP:RED" in forged.text
        unknown = _post(client, page, f"{page}/grants", {"read": ["no-such-bank"]})
        assert unknown.status_code == 400 and "no bank" in unknown.text
        withdrawn = _post(client, page, f"{page}/grants", {})
        assert withdrawn.status_code == 303
    with site.bastion.db.session() as session:
        assert site.bastion.partners.get(session, name).grants == []
    grants = _audited(site, "partner.grant", name)
    assert {"bank": green, "can_read": True, "can_write": True} in grants
    assert {"bank": green, "can_read": False, "can_write": False} in grants
    assert not any(g["bank"] == red for g in grants)


@pytest.mark.parametrize("role", ["analyst", "auditor", "moderator"])
def test_only_admins_manage_partners_and_signers(site: WebSite, role: str) -> None:
    name = _partner(site)
    bank, _ = _bank(site)
    with closing(site.login(site.user("admin"))) as admin:
        token_page = admin.get("/ui/sharing").text
    assert csrf_of(token_page)
    with closing(site.login(site.user(role))) as client:
        # The CSRF token of this user's own session, from a page every signed-in user sees.
        token = csrf_of(client.get("/ui/queue").text)
        page = client.get(f"/ui/sharing/partners/{name}")
        if role != "moderator":
            assert page.status_code == 200
            assert 'id="edit-partner"' not in page.text and "Delete partner" not in page.text
            assert "Save grants" not in page.text
        attempts = [
            ("/ui/sharing/partners", {"name": _name("p"), "kind": "taxii"}),
            (f"/ui/sharing/partners/{name}/edit", {"url": "https://evil.example/"}),
            (f"/ui/sharing/partners/{name}/disable", {}),
            (f"/ui/sharing/partners/{name}/grants", {"read": [bank]}),
            (f"/ui/sharing/partners/{name}/credentials", {"clear": "yes"}),
            (f"/ui/sharing/partners/{name}/delete", {"confirm": "yes"}),
            ("/ui/sharing/signers", {"name": _name("s"), "public_key": _public_key()}),
        ]
        for action, data in attempts:
            refused = client.post(action, data={"csrf": token, **data})
            assert refused.status_code == 403 and "forbidden" in refused.text, action
    with site.bastion.db.session() as session:
        info = site.bastion.partners.get(session, name)
    assert info.enabled and info.grants == [] and info.url == ""


def test_forms_without_the_csrf_token_are_refused(site: WebSite) -> None:
    name = _partner(site)
    with closing(site.login(site.user("admin"))) as client:
        for action, data in (
            ("/ui/sharing/partners", {"name": _name("p"), "kind": "taxii"}),
            (f"/ui/sharing/partners/{name}/disable", {}),
            (f"/ui/sharing/partners/{name}/delete", {"confirm": "yes"}),
            ("/ui/sharing/signers", {"name": _name("s"), "public_key": _public_key()}),
            ("/ui/sharing/subscriptions", {"partner": name}),
            ("/ui/sharing/feedback", {"entry_id": "1", "kind": "sighting"}),
        ):
            for token in ({}, {"csrf": "0" * 64}):
                refused = client.post(action, data={**token, **data})
                assert refused.status_code == 403 and "csrf_failed" in refused.text, action
    with site.bastion.db.session() as session:
        assert site.bastion.partners.get(session, name).enabled


def test_an_admin_trusts_and_revokes_a_signer_audited(site: WebSite) -> None:
    signer, key = _name("peer"), _public_key()
    with closing(site.login(site.user("admin"))) as client:
        added = _post(
            client,
            "/ui/sharing/signers",
            "/ui/sharing/signers",
            {"name": signer, "public_key": key},
        )
        assert added.status_code == 303
        page = client.get("/ui/sharing/signers").text
        row = page.split(f'id="signer-{signer}"')[1].split("</tr>")[0]
        assert "trusted" in row and "Revoke" in row
        again = _post(
            client,
            "/ui/sharing/signers",
            "/ui/sharing/signers",
            {"name": signer, "public_key": key},
        )
        assert again.status_code == 409 and "already trusted" in again.text
        bad = _post(
            client,
            "/ui/sharing/signers",
            "/ui/sharing/signers",
            {"name": _name("x"), "public_key": "not a key"},
        )
        assert bad.status_code == 422 and "public_key_malformed" in bad.text
        # The new signer is offered on the partner form.
        assert f'<option value="{signer}"' in client.get("/ui/sharing/partners/new").text
        revoked = _post(client, "/ui/sharing/signers", f"/ui/sharing/signers/{signer}/revoke", {})
        assert revoked.status_code == 303
        page = client.get("/ui/sharing/signers").text
        assert "revoked" in page.split(f'id="signer-{signer}"')[1].split("</tr>")[0]
        assert f'<option value="{signer}"' not in client.get("/ui/sharing/partners/new").text
    assert TrustStore.open(site.bastion.settings.data_dir).get(signer).revoked
    [add] = _audited(site, "trust.add", signer)
    [revoke] = _audited(site, "trust.revoke", signer)
    assert add["fingerprint"] == revoke["fingerprint"]
    # A refused addition left no event behind.
    assert len(_audited(site, "trust.add", signer)) == 1


def test_feedback_and_share_events_are_shown(site: WebSite) -> None:
    bank, entry_id = _bank(site, source="partner")
    name = _partner(site)
    with site.bastion.db.session() as session:
        bank_id = session.query(BankRow).filter_by(name=bank).one().id
        partner_id = session.query(PartnerRow).filter_by(name=name).one().id
        indicator = f"indicator--{uuid.uuid4()}"
        session.add_all(
            [
                FeedbackRow(
                    direction="in",
                    kind="sighting",
                    stix_id=f"sighting--{uuid.uuid4()}",
                    indicator_id=indicator,
                    entry_id=entry_id,
                    bank_id=bank_id,
                    partner_id=partner_id,
                    partner_name=name,
                    count=3,
                ),
                FeedbackRow(
                    direction="in",
                    kind="opinion",
                    stix_id=f"opinion--{uuid.uuid4()}",
                    indicator_id=indicator,
                    entry_id=entry_id,
                    bank_id=bank_id,
                    partner_id=partner_id,
                    partner_name=name,
                    opinion="strongly-disagree",
                ),
                FeedbackRow(
                    direction="out",
                    kind="sighting",
                    stix_id=f"sighting--{uuid.uuid4()}",
                    indicator_id=indicator,
                    entry_id=entry_id,
                    bank_id=bank_id,
                    partner_id=partner_id,
                    partner_name=name,
                    status="failed",
                    error="remote_unavailable: connection refused",
                ),
                ShareEventRow(
                    direction="out",
                    channel="taxii",
                    partner_id=partner_id,
                    who=name,
                    bank_id=bank_id,
                    objects=40,
                ),
                ShareEventRow(
                    direction="out",
                    channel="taxii",
                    partner_id=partner_id,
                    who=name,
                    bank_id=bank_id,
                    objects=2,
                ),
                ShareEventRow(
                    direction="in",
                    channel="taxii",
                    partner_id=partner_id,
                    who=name,
                    bank_id=bank_id,
                    objects=7,
                    detail="page 1",
                ),
            ]
        )
    with closing(site.login(site.user("analyst"))) as client:
        overview = client.get("/ui/sharing").text
        received = overview.split('id="feedback-in"')[1].split("</table>")[0]
        assert "3 sightings" in received and "dispute (strongly-disagree)" in received
        assert f"/ui/banks/{bank}?after={entry_id - 1}#entry-{entry_id}" in received
        sent = overview.split('id="feedback-out"')[1].split("</table>")[0]
        assert "failed" in sent and "connection refused" in sent
        summary = overview.split('id="share-summary"')[1].split("</table>")[0]
        row = summary.split(f"?who={name}")[1].split("</tr>")[0]
        assert "2 / 42" in row and "1 / 7" in row
        events = client.get("/ui/sharing/events", params={"who": name}).text
        assert events.count('id="event-') == 3 and "page 1" in events
        served = client.get("/ui/sharing/events", params={"who": name, "direction": "out"})
        assert served.text.count('id="event-') == 2
        bad = client.get("/ui/sharing/events", params={"direction": "sideways"})
        assert bad.status_code == 400 and "invalid_input" in bad.text
        # The bank page counts partner feedback per entry and offers to answer it.
        bank_page = client.get(f"/ui/banks/{bank}").text
        entry_row = bank_page.split(f'id="entry-{entry_id}"')[1].split("</tr>")[0]
        assert "1 dispute, 1 sighting" in entry_row and "Send feedback" in entry_row
        per_entry = client.get("/ui/sharing/feedback", params={"entry": entry_id}).text
        assert per_entry.count('id="feedback-in-') == 2 and 'id="send-feedback"' in per_entry
        partner_page = client.get(f"/ui/sharing/partners/{name}").text
        assert partner_page.count('id="feedback-') >= 3
    with closing(site.login(site.user("moderator"))) as client:
        # Moderators see banks but not who we exchange with.
        bank_page = client.get(f"/ui/banks/{bank}").text
        assert "Partner feedback" not in bank_page and name not in bank_page


def test_subscriptions_are_listed_with_their_state(site: WebSite) -> None:
    bank, _ = _bank(site, source="partner")
    name = _partner(site)
    with site.bastion.db.session() as session:
        session.add(
            SubscriptionRow(
                partner_id=session.query(PartnerRow).filter_by(name=name).one().id,
                bank_id=session.query(BankRow).filter_by(name=bank).one().id,
                remote_collection="91a7b528-80eb-42ed-a74d-c6fbd5a26116",
                last_error_code="remote_unavailable",
                objects_received=12,
                entries_added=10,
                entries_revoked=1,
                created_by="test",
            )
        )
    with closing(site.login(site.user("auditor"))) as client:
        page = client.get("/ui/sharing/subscriptions").text
        assert "91a7b528-80eb-42ed-a74d-c6fbd5a26116" in page and "remote_unavailable" in page
        assert "12 / 10 / 1" in page and "never" in page
        # An auditor sees no action and no form.
        assert "Poll now" not in page and 'id="new-subscription"' not in page
        assert "Send feedback" not in client.get(f"/ui/banks/{bank}").text
    with closing(site.login(site.user("analyst"))) as client:
        page = client.get("/ui/sharing/subscriptions").text
        assert "Poll now" in page and 'id="new-subscription"' in page


def test_auditors_cannot_change_subscriptions_or_send_feedback(site: WebSite) -> None:
    _, entry_id = _bank(site, source="partner")
    with closing(site.login(site.user("auditor"))) as client:
        token = csrf_of(client.get("/ui/sharing").text)
        for action, data in (
            ("/ui/sharing/subscriptions", {"partner": "x", "bank": "y"}),
            ("/ui/sharing/subscriptions/1/poll", {}),
            ("/ui/sharing/subscriptions/1/disable", {}),
            ("/ui/sharing/subscriptions/1/delete", {"confirm": "yes"}),
            ("/ui/sharing/feedback", {"entry_id": str(entry_id), "kind": "sighting"}),
        ):
            refused = client.post(action, data={"csrf": token, **data})
            assert refused.status_code == 403 and "forbidden" in refused.text, action
