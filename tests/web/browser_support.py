"""Debian's Chromium driven by Playwright, for the browser tests of the pages.

Importing this module skips the importing test module, saying why, when Chromium is missing; in
CI (``CI=true``) a missing browser fails instead. Screenshots go to
``test-artifacts/screenshots/``. The ``browser`` and ``page`` fixtures live in ``conftest.py``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

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


@contextmanager
def launched_browser() -> Iterator[sync_api.Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def new_page(browser: sync_api.Browser) -> Iterator[sync_api.Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page: sync_api.Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
