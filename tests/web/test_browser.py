"""The moderator's pages in a real browser (Debian's Chromium driven by Playwright): sign in,
open the top case, reveal its blurred media, decide it with a keyboard shortcut, sign out.

Skipped, saying why, when Chromium is missing; in CI (``CI=true``) a missing browser fails.
Screenshots of the main pages go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bastion.settings import Settings

from ..api.conftest import serving
from .conftest import PASSWORD, WebSite

CHROMIUM = os.environ.get("BASTION_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"

if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: run scripts/install.sh test", pytrace=False
        )
    pytest.skip(
        f"Chromium is missing at {CHROMIUM} (apt-get install chromium, or scripts/install.sh test)",
        allow_module_level=True,
    )

sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


@pytest.fixture(scope="module")
def browser_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    """A server of its own, so the queue holds only this module's cases."""
    with serving(Settings(data_dir=tmp_path_factory.mktemp("web-browser"))) as server:
        yield WebSite(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def _shot(page: sync_api.Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in(page: sync_api.Page, site: WebSite, username: str, *, shot: bool = False) -> None:
    page.goto(f"{site.base_url}/ui/login")
    if shot:
        _shot(page, "login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/queue")


def _filter_of(page: sync_api.Page) -> str:
    return str(page.locator(".evidence-image").first.evaluate("e => getComputedStyle(e).filter"))


def test_a_moderator_reviews_and_decides_the_top_case(
    browser_site: WebSite, page: sync_api.Page
) -> None:
    site = browser_site
    site.case(title="an older, calmer case", priority=40)
    top = site.case(title="banked footage on a live stream", priority=95)
    _sign_in(page, site, site.user("moderator", languages=["en"]), shot=True)

    sync_api.expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    first_link = page.locator("a.case-link").first
    sync_api.expect(first_link).to_contain_text("banked footage on a live stream")
    _shot(page, "queue")
    first_link.click()
    page.wait_for_url(f"**/ui/cases/{top}")

    # Media is blurred and greyscale until the reviewer asks to see it.
    image = page.locator(".evidence-image").first
    sync_api.expect(image).to_be_visible()
    assert "blur" in _filter_of(page) and "grayscale" in _filter_of(page)
    _shot(page, "case")
    reveal = page.locator("label.reveal-label").first
    sync_api.expect(reveal).to_contain_text("Reveal")
    reveal.click()
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.evidence-image')).filter === 'none'"
    )
    page.keyboard.press("r")  # the shortcut hides it again
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('.evidence-image')).filter.includes('blur')"
    )

    # Decide with the keyboard: c selects "confirm" and focuses Decide; Enter submits.
    page.get_by_label("Rationale").fill("Perpetrator footage, banked.")
    page.locator("main h1").click()  # leave the text area, so the shortcut is not typed
    page.keyboard.press("c")
    sync_api.expect(page.locator("#outcome-confirm")).to_be_checked()
    sync_api.expect(page.locator("#decide-button")).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/ui/cases/{top}?decided=true")
    sync_api.expect(page.get_by_text("Decision recorded")).to_be_visible()
    history = page.locator("ol.history li").first
    sync_api.expect(history).to_contain_text("confirm")
    sync_api.expect(history).to_contain_text("Perpetrator footage, banked.")
    sync_api.expect(page.locator("#case-status")).to_have_text("closed")

    page.goto(f"{site.base_url}/ui/")
    sync_api.expect(page.locator("svg.chart-svg")).to_have_count(2)
    _shot(page, "dashboard")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/ui/login")
    page.goto(f"{site.base_url}/ui/queue")
    assert page.url.endswith("/ui/login")


def test_an_auditor_sees_no_decision_form(browser_site: WebSite, page: sync_api.Page) -> None:
    site = browser_site
    case_id = site.case(title="a case an auditor reads")
    _sign_in(page, site, site.user("auditor"))
    sync_api.expect(page.get_by_role("button", name="Take next case")).to_have_count(0)
    page.goto(f"{site.base_url}/ui/cases/{case_id}")
    sync_api.expect(page.locator("#decision-form")).to_have_count(0)
    sync_api.expect(page.locator("#no-decision-form")).to_contain_text("does not decide")
    page.keyboard.press("c")  # the shortcut does nothing without a form
    sync_api.expect(page.locator("#case-status")).to_have_text("open")
    page.get_by_role("link", name="Audit log").click()
    sync_api.expect(page.locator("#chain-status")).to_contain_text("Hash chain intact")


def test_pages_run_no_inline_code_under_the_content_security_policy(
    browser_site: WebSite, page: sync_api.Page
) -> None:
    site = browser_site
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    _sign_in(page, site, site.user("analyst"))
    page.goto(f"{site.base_url}/ui/cases/{site.case()}")
    page.goto(f"{site.base_url}/ui/")
    assert not [v for v in violations if "Content Security Policy" in v], violations
