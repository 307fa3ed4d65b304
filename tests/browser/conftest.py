"""
Real-browser tests: Playwright driving Debian's Chromium against pytest-django's
live server. Without /usr/bin/chromium they skip with a message, except under
CI=true, where they must run.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}. Under CI=true the browser tests must run: `make browser` installs Chromium as root.")
    pytest.skip(f"{reason}; browser tests skipped (run `make browser` as root to install Debian's chromium).")


@pytest.fixture(autouse=True)
def role_groups(transactional_db):
    """
    Give the role groups roles.py declares, as the migrations do. A live-server
    test runs outside a transaction, and the flush after each such test (any
    earlier one, in any file) empties the groups. Restoring them with
    serialized_rollback instead clashed with the content types that flush's
    post_migrate re-creates: whether it failed depended on which test ran before.
    """
    from tests.conftest import role_groups_restore

    role_groups_restore()


@pytest.fixture
def browser(transactional_db, live_server, monkeypatch):
    """
    Return a headless Chromium, started after the test database is set up.

    Playwright's sync API runs an event loop in this thread: started earlier, Django's
    per-context connection lookup would see a different connection object during the
    test's database setup.
    """
    if not CHROMIUM.exists():
        _unavailable(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("The playwright package is not installed")
    # The Django code a browser test itself calls (factories, lookups) is synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """Return a fresh English page; a screenshot is saved when the test ends."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Whatever the Content-Security-Policy refuses (an inline script, handler or style) fails the test.
    refused = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.csp_refused = refused
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-end.png"), full_page=True)
    context.close()
    assert refused == [], refused


def shot(page, name: str):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
