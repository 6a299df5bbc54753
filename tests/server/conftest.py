"""Tests that need a live GenLab server but no browser: the load client's protocol, replicas behind HAProxy.
Servers are started by tests/appserver.py (one per session here) and by deploy/replicas.sh."""
import importlib.util
import sys
from pathlib import Path

import pytest

from tests.appserver import running_app

ROOT = Path(__file__).resolve().parents[2]


def load_benchmark(name: str):
    """A module of benchmarks/ (not a package), importable by the name its neighbours use."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def app_url():
    with running_app() as server:
        yield server.url
