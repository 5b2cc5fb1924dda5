"""The moderator's pages in a real browser (Debian's Chromium driven by Playwright): sign in,
work the queue, reveal blurred media, decide with a keyboard shortcut and see the signed webhook
reach the platform; an appeal goes to a second moderator, who reverses it (a ``restore``
action); the audit chain stays intact.

Skipped, saying why, when Chromium is missing; in CI (``CI=true``) a missing browser fails.
Screenshots of the main pages go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from bastion.settings import Settings

from ..act.test_webhook import SECRET, Receiver, receiver
from ..api.conftest import serving
from .browser_support import launched_browser, new_page, shot, sync_api
from .conftest import PASSWORD, WebSite


@pytest.fixture(scope="module")
def platform() -> Iterator[Receiver]:
    """The platform's webhook endpoint on loopback, checking every signature."""
    with receiver() as hook:
        yield hook


@pytest.fixture(scope="module")
def browser_site(platform: Receiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    """A server of its own (the queue holds only this module's cases) delivering platform
    actions to :func:`platform` every 0.2 s."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("web-browser"),
        action_webhook_url=platform.url,
        action_webhook_secret=SECRET,
        action_webhook_allow_private=True,
        action_delivery_interval_seconds=0.2,
    )
    with serving(settings) as server:
        yield WebSite(server)


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    """Poll ``condition`` until it holds (a condition, not a fixed sleep)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _delivered(site: WebSite, case_id: int, action: str) -> bool:
    with site.bastion.db.session() as session:
        return any(
            a.status == "delivered" and a.payload.get("action") == action
            for a in site.bastion.actions.list(session, case_id=case_id)
        )


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    with launched_browser() as launched:
        yield launched


@pytest.fixture
def page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    with new_page(browser) as opened:
        yield opened


def _sign_in(
    page: sync_api.Page, site: WebSite, username: str, *, screenshot: bool = False
) -> None:
    page.goto(f"{site.base_url}/ui/login")
    if screenshot:
        shot(page, "login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/queue")


def _filter_of(page: sync_api.Page) -> str:
    return str(page.locator(".evidence-image").first.evaluate("e => getComputedStyle(e).filter"))


def test_a_moderator_decides_the_platform_is_told_and_an_appeal_is_reversed(
    browser_site: WebSite, platform: Receiver, page: sync_api.Page
) -> None:
    site = browser_site
    site.case(title="an older, calmer case", priority=40)
    top = site.case(title="banked footage on a live stream", priority=95)
    first = site.user("moderator", languages=["en"])
    _sign_in(page, site, first, screenshot=True)

    sync_api.expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    first_link = page.locator("a.case-link").first
    sync_api.expect(first_link).to_contain_text("banked footage on a live stream")
    shot(page, "queue")
    first_link.click()
    page.wait_for_url(f"**/ui/cases/{top}")

    # Media is blurred and greyscale until the reviewer asks to see it.
    image = page.locator(".evidence-image").first
    sync_api.expect(image).to_be_visible()
    assert "blur" in _filter_of(page) and "grayscale" in _filter_of(page)
    shot(page, "case")
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

    # The platform receives the signed case.decided webhook; the case page shows it delivered.
    _wait_for(lambda: _delivered(site, top, "remove"), "the removal to be delivered")
    [delivery] = [
        d
        for d in platform.deliveries
        if d.event == "case.decided" and d.json()["data"]["case_id"] == top  # type: ignore[index]
    ]
    assert delivery.verified
    assert delivery.json()["data"]["payload"]["action"] == "remove"  # type: ignore[index]
    page.reload()
    sync_api.expect(page.locator("#actions")).to_contain_text("case.decided")
    sync_api.expect(page.locator("#actions td.status-delivered")).to_have_text("delivered")

    page.goto(f"{site.base_url}/ui/")
    sync_api.expect(page.locator("svg.chart-svg")).to_have_count(7)
    sync_api.expect(page.get_by_role("figure", name="Queue: open cases by age")).to_be_visible()
    shot(page, "dashboard")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/ui/login")
    page.goto(f"{site.base_url}/ui/queue")
    assert page.url.endswith("/ui/login")

    # The poster appeals through the platform's API; the case reopens for another reviewer.
    platform_key = site.server.make_key("appeals:write")
    with site.server.client(platform_key) as api:
        appealed = api.post(
            f"/v1/cases/{top}/appeals",
            json={"complaint": "This is a news report, not propaganda.", "submitted_by": "u-77"},
        )
    assert appealed.status_code == 201, appealed.text
    _sign_in(page, site, site.user("moderator", languages=["en"]))
    page.get_by_role("link", name="banked footage on a live stream").click()
    page.wait_for_url(f"**/ui/cases/{top}")
    appeal = page.locator("#appeal")
    sync_api.expect(appeal).to_contain_text("This is a news report, not propaganda.")
    sync_api.expect(appeal).to_contain_text(f"user:{first}")
    sync_api.expect(page.locator("#case-status")).to_have_text("open")
    shot(page, "case-appeal")
    page.get_by_label("False positive (keep)").check()
    page.get_by_label("Rationale").fill("Reporting on the attack; the removal was wrong.")
    page.get_by_role("button", name="Decide").click()
    page.wait_for_url(f"**/ui/cases/{top}?decided=true")
    sync_api.expect(page.locator("#case-status")).to_have_text("closed")
    sync_api.expect(page.locator("ol.history li")).to_have_count(2)
    _wait_for(lambda: _delivered(site, top, "restore"), "the restore to be delivered")
    page.reload()
    sync_api.expect(page.locator("#actions")).to_contain_text("restore")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/ui/login")

    # An auditor checks the hash chain over everything that happened.
    _sign_in(page, site, site.user("auditor"))
    page.get_by_role("link", name="Audit log").click()
    sync_api.expect(page.locator("#chain-status")).to_contain_text("Hash chain intact")
    sync_api.expect(page.locator("main table")).to_contain_text("appeal.resolve")


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
