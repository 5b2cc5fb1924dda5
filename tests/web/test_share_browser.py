"""The sharing pages in a real browser (Debian's Chromium driven by Playwright): an admin creates
a partner with a credential, grants it a bank, sees a TLP:RED bank refused, and finds the
changes in the audit log; the credential never appears on a page.

Skipped, saying why, when Chromium is missing; in CI (``CI=true``) a missing browser fails.
Screenshots go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from bastion.settings import Settings

from ..api.conftest import serving
from .browser_support import launched_browser, new_page, shot, sync_api
from .conftest import PASSWORD, WebSite


@pytest.fixture(scope="module")
def share_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    with serving(Settings(data_dir=tmp_path_factory.mktemp("web-share-browser"))) as server:
        yield WebSite(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with launched_browser() as launched:
        yield launched


@pytest.fixture
def page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    with new_page(browser) as opened:
        yield opened


def test_an_admin_creates_a_partner_and_grants_it_a_bank(
    share_site: WebSite, page: sync_api.Page
) -> None:
    site = share_site
    token = f"tok-{secrets.token_hex(16)}"
    with site.bastion.db.session() as session:
        site.bastion.banks.create(session, name="gifct-shared", actor="test", tlp="green")
        site.bastion.banks.create(session, name="internal-only", actor="test", tlp="red")
    admin = site.user("admin")

    page.goto(f"{site.base_url}/ui/login")
    page.get_by_label("Username").fill(admin)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/queue")

    page.get_by_role("link", name="Sharing").first.click()
    page.wait_for_url("**/ui/sharing")
    sync_api.expect(page.get_by_role("heading", name="Sharing", exact=True)).to_be_visible()
    sync_api.expect(page.locator("#collection-internal-only")).to_contain_text("never shared")
    page.get_by_role("link", name="New partner").first.click()
    page.wait_for_url("**/ui/sharing/partners/new")

    page.get_by_label("Name", exact=True).fill("peer-ngo")
    page.get_by_label("Kind", exact=True).select_option("bastion")
    page.get_by_label("URL (its TAXII discovery or API)").fill("https://peer.example/taxii2/")
    page.get_by_label("Named partner: may read TLP:AMBER collections it is granted").check()
    page.get_by_label("Field 1").fill("token")
    page.get_by_label("Value 1").fill(token)
    shot(page, "sharing-new-partner")
    page.get_by_role("button", name="Create partner").click()
    page.wait_for_url("**/ui/sharing/partners/peer-ngo?done=created")
    sync_api.expect(page.locator("#credential-fields")).to_have_text("token")

    # The red bank offers no checkbox and says why; the green one is granted.
    sync_api.expect(page.locator("#grant-internal-only")).to_contain_text(
        "TLP:RED never leaves this instance"
    )
    page.get_by_label("peer-ngo may read gifct-shared").check()
    page.get_by_role("button", name="Save grants").click()
    page.wait_for_url("**/ui/sharing/partners/peer-ngo?done=grants")
    sync_api.expect(page.get_by_label("peer-ngo may read gifct-shared")).to_be_checked()
    shot(page, "sharing-partner")
    assert token not in page.content()

    page.get_by_role("link", name="Overview").click()
    page.wait_for_url("**/ui/sharing")
    sync_api.expect(page.locator("#collection-gifct-shared")).to_contain_text("peer-ngo")
    shot(page, "sharing-overview")
    assert token not in page.content()

    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/ui/audit")
    sync_api.expect(page.get_by_text("partner.grant")).to_be_visible()
    sync_api.expect(page.get_by_text("partner.create")).to_be_visible()
    assert token not in page.content()
