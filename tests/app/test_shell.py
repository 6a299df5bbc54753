"""AppTest over the whole app: every registered page runs without an exception, and a corrupted
weights file gives a clear message on its page while the rest of the app keeps running."""
import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from genlib import zoo
from pages import _catalog
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


def test_the_menu_lists_home_and_every_existing_demo_but_never_a_missing_page(monkeypatch):
    """A catalogue entry whose page file is missing (a demo not written yet) is left out of the menu
    and the router, and the app still runs; every demo that exists gets a menu entry, in order."""
    missing = {"path": "pages/not_written_yet.py", "title": "Not written yet", "icon": "🚧",
               "density": "", "blurb": ""}
    monkeypatch.setattr(_catalog, "DEMOS", [*DEMOS, missing])
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    menu = [link.proto.label for link in at.sidebar.get("page_link")]
    assert "Not written yet" not in menu
    assert menu == ["Home"] + [d["title"] for d in DEMOS if (ROOT / d["path"]).is_file()], menu


def test_the_shell_sets_one_torch_thread_before_torch_is_imported():
    """Thread policy (issue 15): a fresh server process that runs the shell and then imports torch gets one
    torch thread; GENLAB_TORCH_THREADS picks another count. A subprocess, because torch (and OpenMP)
    may already be loaded in this one."""
    probe = ("from streamlit.testing.v1 import AppTest; import sys; "
             "at = AppTest.from_file('app.py', default_timeout=60); at.run(); "
             "assert 'torch' not in sys.modules, 'the shell imported torch'; "
             "import torch; print(torch.get_num_threads())")
    for setting, expected in ((None, 1), ("2", min(2, os.cpu_count()))):  # torch caps it at the cores
        env = {k: v for k, v in os.environ.items()
               if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "GENLAB_TORCH_THREADS")}
        if setting:
            env["GENLAB_TORCH_THREADS"] = setting
        out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=TIMEOUT)
        assert out.returncode == 0, out.stderr[-2000:]
        assert out.stdout.split()[-1] == str(expected), (setting, out.stdout)


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
