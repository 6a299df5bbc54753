"""Cold start: from `streamlit run app.py` process start to the home page's title visible in a real
browser (Debian chromium via Playwright). Prints each run and the median over --runs (default 5).
Side by side, in alternation, it times a one-line Streamlit app that draws only the same title: the
floor that Streamlit itself sets on this machine, and GenLab's ratio to it.

    python benchmarks/cold_start.py [--runs 5]
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from _timing import ROOT  # also puts the project root on sys.path
from tests.appserver import launch_chromium, start_server, stop_server, wait_healthy  # noqa: E402

TITLE = "GenLab: a hands-on lab for generative models"


def one_run(browser, app_dir: Path = ROOT) -> float:
    page = browser.new_page()
    t0 = time.perf_counter()
    server = start_server(app_dir)
    try:
        wait_healthy(server, poll_s=0.02)
        page.goto(server.url + "/", wait_until="commit")
        page.get_by_role("heading", name=TITLE).wait_for(state="visible", timeout=60_000)
        return time.perf_counter() - t0
    finally:
        page.close()
        stop_server(server)


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
        browser = launch_chromium(p)
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
