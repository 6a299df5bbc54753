"""Cold start: from `streamlit run app.py` process start to the home page's title visible in a real
browser (Debian chromium via Playwright). Prints each run and the median over --runs (default 5).
Side by side, in alternation, it times a one-line Streamlit app that draws only the same title: the
floor that Streamlit itself sets on this machine, and GenLab's ratio to it.

    python benchmarks/cold_start.py [--runs 5]
"""
import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

TITLE = "GenLab: a hands-on lab for generative models"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_run(browser, app_dir: Path = ROOT) -> float:
    port = free_port()
    page = browser.new_page()
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.headless", "true"], cwd=app_dir,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Poll the health endpoint rather than retrying page.goto: chromium backs off after refused
        # connections, which would add seconds that no real user (who opens the link once) sees.
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                if time.perf_counter() - t0 > 60:
                    raise
                time.sleep(0.02)
        page.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
        page.get_by_role("heading", name=TITLE).wait_for(state="visible", timeout=60_000)
        return time.perf_counter() - t0
    finally:
        page.close()
        proc.terminate()
        proc.wait(timeout=10)


def minimal_app(folder: Path) -> Path:
    """A one-line Streamlit app with GenLab's config, drawing only the home title."""
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "config.toml").write_text((ROOT / ".streamlit" / "config.toml").read_text())
    (folder / "app.py").write_text(f"import streamlit as st\nst.title({TITLE!r})\n")
    return folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    times = {"GenLab": [], "one-line Streamlit app": []}
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        dirs = {"GenLab": ROOT, "one-line Streamlit app": minimal_app(Path(tmp))}
        one_run(browser)  # warm-up: fills the OS file cache the way a second start would find it
        for i in range(args.runs):
            for name, app_dir in dirs.items():
                times[name].append(one_run(browser, app_dir))
                print(f"run {i + 1} {name}: {times[name][-1]:.2f} s", flush=True)
        browser.close()
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, t in times.items():
        print(f"{name}: cold start to title visible, median {medians[name]:.2f} s over {args.runs} runs "
              f"(min {min(t):.2f}, max {max(t):.2f})")
    print(f"ratio GenLab / one-line app: {medians['GenLab'] / medians['one-line Streamlit app']:.2f}")


if __name__ == "__main__":
    main()
