"""Fixtures for the real-browser tests: one headless Chromium per package run, fresh
contexts (desktop or phone) per test, and a browser with a fake camera for scanner tests.

Chromium is the system one at /usr/bin/chromium; Playwright never downloads a browser here.
Without it every test in this package is skipped with the reason shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.helpers import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    HAS_CHROMIUM,
    NO_CHROMIUM,
    PHONE,
)

DEFAULT_TIMEOUT_MS = 10_000


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    # Keeps each phase's report on the test item, so fixtures can tell a failure at teardown.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"e2e_report_{report.when}", report)


@pytest.fixture(scope="package")
def _playwright() -> Iterator[Any]:
    if not HAS_CHROMIUM:
        pytest.skip(NO_CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an asyncio loop on this thread; Django's ORM then refuses
    # to run "in an async context" unless told it is safe (it is: we are not async code).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_api.sync_playwright().start()
    try:
        yield playwright
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(_playwright: Any) -> Iterator[Any]:
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def public_base_url(live_server, settings) -> str:  # type: ignore[no-untyped-def]
    """Absolute URLs the product prints (join QR, poster, card QR) point at the live server."""
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url


def _failure_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name) + "--failed"


def _save_failure_shots(
    request: pytest.FixtureRequest, pages: list[Any], server_errors: list[str]
) -> None:
    report = getattr(request.node, "e2e_report_call", None)
    if report is None or not report.failed:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = _failure_name(request)
    for n, page in enumerate(pages, start=1):
        print(f"page {n} at failure: {page.url} -> {ARTIFACTS / f'{name}-{n}.png'}")  # noqa: T201
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}-{n}.png"), full_page=True)
        except Exception:  # noqa: BLE001,S110 - best effort: the page may be gone
            pass
    for line in server_errors:
        print(f"server answered {line}")  # noqa: T201


@pytest.fixture
def new_context(
    browser: Any, live_server, public_base_url: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """Opens a fresh browser context (its own cookies: one person) on the live server.

    `new_context(phone=True)` is a phone: 390x844, touch, mobile. Closed after the test; on a
    failure each open page is saved as test-artifacts/e2e/<test>--failed-<n>.png and the
    server's 5xx answers are printed.
    """
    contexts: list[Any] = []
    server_errors: list[str] = []
    for stale in ARTIFACTS.glob(f"{_failure_name(request)}-*.png"):
        stale.unlink()

    def note_server_error(response: Any) -> None:
        if response.status >= 500:
            server_errors.append(f"{response.status} to {response.request.method} {response.url}")

    def open_context(*, phone: bool = False, in_browser: Any = None, **options: Any) -> Any:
        settings = {**(PHONE if phone else {"viewport": {"width": 1280, "height": 860}})}
        settings.update(options)
        context = (in_browser or browser).new_context(base_url=live_server.url, **settings)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.on("response", note_server_error)
        contexts.append(context)
        return context

    yield open_context
    _save_failure_shots(request, [page for c in contexts for page in c.pages], server_errors)
    for context in contexts:
        try:
            context.close()
        except Exception:  # noqa: BLE001,S110 - its browser may already be closed
            pass


@pytest.fixture
def camera_browser(_playwright: Any) -> Iterator[Callable[[str], Any]]:
    """Launches a Chromium whose camera shows the given Y4M video (see helpers'
    camera_file_showing). The fake camera is fixed at launch, hence a browser of its own."""
    launched: list[Any] = []

    def launch(video_path: str) -> Any:
        browser = _playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video_path}",
            ],
        )
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()
