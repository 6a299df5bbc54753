"""Tests that need a live GenLab server but no browser: the load client's protocol and the capacity benchmark.
Servers are started by tests/appserver.py (one per session here) and by benchmarks/capacity.py."""
import pytest

from tests.appserver import running_app


@pytest.fixture(scope="session")
def app_url():
    with running_app() as server:
        yield server.url
