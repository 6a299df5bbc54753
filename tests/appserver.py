"""Start GenLab (or any Streamlit app) on a free port and drive it with Debian's chromium.

Shared by the browser tests and the benchmarks, so both start the server and the browser the same way.
Imports only the standard library at module level: Playwright is imported when a browser is launched.

    with running_app() as app:                 # `streamlit run app.py`, healthy, stopped on exit
        with sync_playwright() as p:
            browser = launch_chromium(p)
            page = browser.new_page()
            page.goto(app.url)
            wait_for_app(page)
"""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("GENLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# --no-sandbox: chromium's sandbox needs user namespaces, which containers and CI runners often lack.
CHROMIUM_ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HEALTH_TIMEOUT_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class AppServer:
    url: str
    process: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.process.pid


def start_server(app_dir: Path = ROOT, port: int | None = None, env: dict | None = None,
                 script: str = "app.py", python: str = sys.executable) -> AppServer:
    """`python -m streamlit run <script>` in `app_dir` on `port` (a free one by default); returns at once.

    `env` replaces the environment (None: inherit ours); `python` may be another environment's
    interpreter (e.g. one with the hosting requirements). The server's output is discarded, so a
    chatty server can never block on a full pipe."""
    port = port or free_port()
    process = subprocess.Popen(
        [python, "-m", "streamlit", "run", script, "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=app_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return AppServer(f"http://127.0.0.1:{port}", process)


def wait_healthy(server: AppServer, timeout_s: float = HEALTH_TIMEOUT_S, poll_s: float = 0.02) -> None:
    """Poll /_stcore/health until it answers "ok". Polling (rather than retrying a page load) matters for
    timings: chromium backs off after refused connections, adding seconds no real visitor sees."""
    deadline = time.perf_counter() + timeout_s
    while True:
        try:
            if urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            pass
        if server.process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {server.process.returncode} before it was healthy")
        if time.perf_counter() > deadline:
            raise TimeoutError(f"streamlit was not healthy within {timeout_s:.0f} s at {server.url}")
        time.sleep(poll_s)


def stop_server(server: AppServer, timeout_s: float = 10) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:  # torch-heavy pages can take >10 s to shut down on a busy CPU
        server.process.kill()
        server.process.wait()


@contextlib.contextmanager
def running_app(app_dir: Path = ROOT, env: dict | None = None, python: str = sys.executable):
    """A healthy `streamlit run app.py` on a free port for the `with` block; yields an AppServer."""
    server = start_server(app_dir, env=env, python=python)
    try:
        wait_healthy(server)
        yield server
    finally:
        stop_server(server)


def launch_chromium(playwright, **kwargs):
    """Debian's chromium through Playwright's own browser type (sync or async API alike)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, **kwargs)


def browser_missing_reason() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements-dev.txt)"
    return None


# The app has connected and its script run has finished with something drawn. "notRunning" is also the
# state before the first run starts, so drawn content is required too.
APP_IDLE = """() => { const app = document.querySelector('[data-testid="stApp"]');
                      return app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
                             && app.getAttribute('data-test-script-state') === 'notRunning'
                             && document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]'); }"""


def wait_for_app(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has connected and finished running the script (it renders over a websocket
    after the page load, so asserting earlier races the app). Assertions after it should still be
    Playwright's waiting `expect(...)`: images and charts can land a moment after the run ends."""
    page.wait_for_function(APP_IDLE, timeout=timeout)


def screenshot(page, name: str) -> Path:
    folder = ROOT / "screenshots"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
