"""AppTest over the whole app: every registered page runs without an exception, and a corrupted
weights file gives a clear message on its page while the rest of the app keeps running."""
import ast
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from genlib import zoo
from pages._catalog import DEMOS, existing_demos

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120  # seconds: the first run of a page loads its model on 2 CPU cores
MODEL_PAGES = {"pages/gan_sampler.py", "pages/vae_explorer.py", "pages/pixelcnn_completion.py"}


def run_page(path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    if path != "pages/home.py":
        at.switch_page(path).run()
    return at


def test_app_shell_imports_no_torch():
    """The shell and the home page import neither torch nor genlib, so the home page appears fast."""
    for path in ("app.py", "pages/home.py", "pages/_catalog.py"):
        tree = ast.parse((ROOT / path).read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"torch", "torchvision", "genlib"}, (path, imported)


def test_only_existing_pages_are_registered():
    assert {d["path"] for d in existing_demos()} <= {d["path"] for d in DEMOS}
    for demo in existing_demos():
        assert (ROOT / demo["path"]).exists()


@pytest.mark.parametrize("path", ["pages/home.py"] + [d["path"] for d in existing_demos()])
def test_every_registered_page_runs_without_exception(path):
    at = run_page(path)
    assert not at.exception, [e.message for e in at.exception]


def test_home_has_a_card_per_existing_demo():
    at = run_page("pages/home.py")
    headings = [m.value for m in at.markdown]
    for demo in existing_demos():
        assert f"#### {demo['icon']} {demo['title']}" in headings


@pytest.fixture
def corrupted_weights(tmp_path, monkeypatch):
    """A copy of weights/ with every safetensors file damaged (one flipped byte)."""
    for f in zoo.WEIGHTS_DIR.glob("*"):
        shutil.copy(f, tmp_path / f.name)
    for f in tmp_path.glob("*.safetensors"):
        blob = bytearray(f.read_bytes())
        blob[len(blob) // 2] ^= 0xFF
        f.write_bytes(bytes(blob))
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    st.cache_resource.clear()
    yield tmp_path
    st.cache_resource.clear()


@pytest.mark.parametrize("path", sorted(MODEL_PAGES & {d["path"] for d in existing_demos()}) or
                         [pytest.param(None, marks=pytest.mark.skip(reason="no model page exists yet"))])
def test_corrupted_weights_give_a_clear_message_and_the_app_keeps_running(path, corrupted_weights):
    at = run_page(path)
    assert not at.exception, [e.message for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "corrupt" in errors, f"no clear message on {path}: {errors!r}"
    at.switch_page("pages/home.py").run()  # the rest of the app still works
    assert not at.exception
    assert any("GenLab" in t.value for t in at.title)
