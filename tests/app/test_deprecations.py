"""Every page runs without a Streamlit deprecation warning (issue 17: the server log warned that
`use_container_width` in pages/home.py goes away). Streamlit logs these (and shows them in the browser only
with client.showErrorDetails = "full"), so the test listens to Streamlit's loggers and Python's warnings."""
from __future__ import annotations

import contextlib
import logging
import warnings
from pathlib import Path

import pytest
from streamlit import deprecation_util
from streamlit.testing.v1 import AppTest

from pages._catalog import existing_demos

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120
DEPRECATION_WORDS = ("deprecat", "will be removed", "please replace")


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def deprecations():
    """Yields a list that fills with every deprecation message Streamlit logs or Python warns about."""
    handler, found = _Collect(), []
    # Streamlit's loggers do not propagate to the root logger, so listen to each of them
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict) if name.startswith("streamlit")]
    deprecation_util._shown_warnings.clear()  # "show once" warnings would hide behind an earlier test
    for logger in loggers:
        logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield found
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    found += [m for m in handler.messages if any(w in m.lower() for w in DEPRECATION_WORDS)]
    found += [f"{w.filename}:{w.lineno}: {w.message}" for w in caught
              if issubclass(w.category, (DeprecationWarning, FutureWarning, PendingDeprecationWarning))
              and ("streamlit" in w.filename or "/pages/" in w.filename or w.filename.endswith("app.py"))]


def open_page(path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    if path != "pages/home.py":
        at.switch_page(path).run()
    return at


def test_the_detector_sees_a_deprecated_parameter(tmp_path):
    """The check can fail: a page that still passes use_container_width is caught."""
    script = tmp_path / "old.py"
    script.write_text("import streamlit as st\nst.graphviz_chart('digraph { a -> b }', use_container_width=True)\n")
    with deprecations() as found:
        AppTest.from_file(str(script), default_timeout=TIMEOUT).run()
    assert any("use_container_width" in m for m in found), found


@pytest.mark.parametrize("path", ["pages/home.py"] + [d["path"] for d in existing_demos()])
def test_page_uses_no_deprecated_streamlit_api(path):
    open_page(path)  # first run: imports every Streamlit module the page uses (and so creates its logger)
    with deprecations() as found:
        at = open_page(path)
    assert not at.exception, [e.message for e in at.exception]
    assert not found, f"{path}: {found}"
