"""Cold start: from `streamlit run app.py` process start to the home page's title visible in a real
browser (Debian chromium via Playwright). Prints each run and the median over --runs (default 5).
Side by side, in alternation, it times a one-line Streamlit app that draws only the same title: the
floor that Streamlit itself sets on this machine, and GenLab's ratio to it.

"Visible" is read in the page: the first animation frame in which the title is in the document with a
non-empty box, not hidden and not transparent (checkVisibility), i.e. the frame that paints it
(performance.timeOrigin + performance.now(), the same wall clock as this script). Playwright's own wait
polls at 0, 20, 50, 100, 100 ms and then every 500 ms, so "when wait_for returned" lands on a 500-ms grid
and can differ by up to half a second between two apps that paint at the same moment; it is printed too,
as "Playwright's poll", for comparison.

    python benchmarks/cold_start.py [--runs 5]
"""
import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from _timing import ROOT, scratch_app  # also puts the project root on sys.path
from tests.appserver import launch_chromium, start_server, stop_server, wait_healthy  # noqa: E402

TITLE = "GenLab: a hands-on lab for generative models"


# Runs in the page before its own scripts: stamps the first frame that lays out the title, shown.
STAMP_TITLE_FRAME = """(() => {
  const title = %s;
  const check = () => {
    const h = [...document.querySelectorAll('h1')].find(h => h.textContent.includes(title));
    if (h && h.getBoundingClientRect().height > 0
        && h.checkVisibility({opacityProperty: true, visibilityProperty: true})) {
      window.__titleFrameAt = performance.timeOrigin + performance.now();
      return;
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();""" % json.dumps(TITLE)


def one_run(browser, app_dir: Path = ROOT) -> tuple[float, float]:
    """(seconds to the frame that paints the title, seconds until Playwright's poll saw it)."""
    page = browser.new_page()
    page.add_init_script(STAMP_TITLE_FRAME)
    t0 = time.time()
    server = start_server(app_dir)
    try:
        wait_healthy(server, poll_s=0.02)
        page.goto(server.url + "/", wait_until="commit")
        page.get_by_role("heading", name=TITLE).wait_for(state="visible", timeout=60_000)
        polled = time.time() - t0
        # the stamping frame may come just after the poll
        painted = page.wait_for_function("() => window.__titleFrameAt").json_value() / 1000 - t0
        return painted, polled
    finally:
        page.close()
        stop_server(server)


def minimal_app(folder: Path) -> Path:
    """A one-line Streamlit app with GenLab's config, drawing only the home title."""
    return scratch_app(folder, f"import streamlit as st\nst.title({TITLE!r})\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    apps = ["GenLab", "one-line Streamlit app"]
    painted, polled = {name: [] for name in apps}, {name: [] for name in apps}
    with sync_playwright() as p, tempfile.TemporaryDirectory() as tmp:
        browser = launch_chromium(p)
        dirs = {"GenLab": ROOT, "one-line Streamlit app": minimal_app(Path(tmp))}
        one_run(browser)  # warm-up: fills the OS file cache the way a second start would find it
        for i in range(args.runs):
            for name, app_dir in dirs.items():
                frame_s, poll_s = one_run(browser, app_dir)
                painted[name].append(frame_s)
                polled[name].append(poll_s)
                print(f"run {i + 1} {name}: title painted at {frame_s:.2f} s (Playwright's poll: {poll_s:.2f} s)",
                      flush=True)
        browser.close()
    for label, times in (("title painted (in-page frame stamp)", painted), ("Playwright's poll", polled)):
        medians = {name: statistics.median(t) for name, t in times.items()}
        print(f"\n{label}, median over {args.runs} runs:")
        for name, t in times.items():
            print(f"  {name:24s} {medians[name]:.2f} s (min {min(t):.2f}, max {max(t):.2f})")
        print(f"  ratio GenLab / one-line app: {medians['GenLab'] / medians['one-line Streamlit app']:.2f}")


if __name__ == "__main__":
    main()
