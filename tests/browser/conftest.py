"""Real-browser tests: Debian's chromium driven by Playwright against `streamlit run app.py`.

Outside CI a missing chromium skips these tests; with GENLAB_REQUIRE_BROWSER=1 (set by .ci/run) it is
an error, so CI can never pass with the browser layer silently skipped. Starting the server and the
browser lives in tests/appserver.py, which the benchmarks share.
"""
import os

import pytest

from tests.appserver import (CHROMIUM, CHROMIUM_ARGS, browser_missing_reason, running_app,  # noqa: F401
                             screenshot, wait_for_app)

REQUIRED = os.environ.get("GENLAB_REQUIRE_BROWSER") == "1"
# expect(...) waits up to this long (Playwright's default is 5 s): the first run of a model page loads its
# model, and on the 2-core CI machine the cores are shared with the browser and sometimes a training.
EXPECT_TIMEOUT_MS = 30_000
try:
    from playwright.sync_api import expect
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
except ImportError:  # reported per test by pytest_collection_modifyitems
    pass


def pytest_collection_modifyitems(config, items):
    reason = browser_missing_reason()
    if reason is None:
        return
    for item in items:
        if "tests/browser" in str(item.fspath).replace(os.sep, "/"):
            if REQUIRED:
                item.fixturenames.insert(0, "_browser_required")  # fails the test, never skips it
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def _browser_required():
    reason = browser_missing_reason()
    if reason:
        pytest.fail(f"GENLAB_REQUIRE_BROWSER=1 but {reason}", pytrace=False)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000}}


@pytest.fixture(scope="session")
def app_url():
    """One app server for the whole browser session (each test gets its own page, so its own session)."""
    with running_app() as server:
        yield server.url
