"""GAN playground timings on CPU: medians for a training step, and for a step plus redraw.

    python benchmarks/playground.py [--repeats 200] [--page-repeats 15] [--browser]

- "step": one training step of genlib.toy_gan / toy_gan2d (one CPU thread, as the page runs them).
- "Step + redraw (page)": the whole page script in AppTest after a click on Step, i.e. the step, every
  chart and tile rebuilt and serialised. An upper bound for a Play frame, which re-runs only the training
  board (a fragment), not the whole page.
- "Play frame (page)": one full run while playing: a chunk of steps plus the redraw.
- "--browser": the real thing in chromium: click Step, wait until the new step number is painted (server,
  websocket, the browser's redraw), timed inside the page; and the same for a one-button Streamlit app, as
  the baseline of what Streamlit costs on this machine. Needs chromium + playwright.
The budget is one second per step + redraw; ratios are printed against it.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from _timing import ROOT, median_ms  # also puts the project root on sys.path
BUDGET_MS = 1000.0


def page_timings(repeats: int) -> dict:
    from streamlit.testing.v1 import AppTest

    out = {}
    for tab, step_key, play_key in (("2x2", "l_step", "l_play_btn"), ("2d", "p_step", "p_play_btn")):
        at = AppTest.from_file(str(ROOT / "pages" / "gan_playground.py"), default_timeout=120)
        at.query_params["tab"] = tab
        at.run()
        assert not at.exception, at.exception
        out[f"{tab} step + redraw (page)"] = median_ms(lambda: at.button(key=step_key).click().run(), repeats)
        at.button(key=play_key).click().run()
        out[f"{tab} Play frame (page)"] = median_ms(lambda: at.run(), repeats)
        assert not at.exception, at.exception
    return out


BASELINE_APP = """import streamlit as st
st.session_state.setdefault("n", 0)
@st.fragment
def board():
    if st.button("Step"):
        st.session_state.n += 1
    st.markdown(f"step {st.session_state.n}")
board()
"""

# Click Step inside the page and wait until the new step number is on screen and one more frame is painted:
# what a student sees, without Playwright's own actionability waits.
CLICK_AND_WAIT = """async (n) => {
  const shown = () => [...document.querySelectorAll('[data-testid="stMarkdown"]')]
      .some(e => { const m = e.innerText.match(/^step (\\d+)/); return m && +m[1] >= n; });
  const button = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === 'Step');
  const t0 = performance.now();
  button.click();
  await new Promise(done => { const poll = () => shown() ? done() : requestAnimationFrame(poll); poll(); });
  await new Promise(done => requestAnimationFrame(() => done()));
  return performance.now() - t0;
}"""


def _serve(script: str):
    from tests.appserver import free_port as _free_port

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
                               "--server.headless", "true"], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                break
        except OSError:
            time.sleep(0.5)
    return server, url


def _click_median(page, url: str, repeats: int) -> float:
    from tests.appserver import wait_for_app

    page.goto(url)
    wait_for_app(page)
    step = page.get_by_role("button", name="Step", exact=True)
    step.wait_for()
    step.scroll_into_view_if_needed()  # the board on screen, as a student watches it (off-screen skips paint)
    page.wait_for_timeout(500)
    times = [page.evaluate(CLICK_AND_WAIT, i) for i in range(1, repeats + 4)]
    return statistics.median(times[3:])  # the first clicks warm up the server and plotly


def browser_timings(repeats: int, tmp: Path) -> dict:
    """Step in chromium, click to painted update, median per tab; and a one-button app as the baseline
    (what Streamlit itself costs on this machine)."""
    from playwright.sync_api import sync_playwright

    from tests.appserver import CHROMIUM, CHROMIUM_ARGS

    baseline = tmp / "baseline_app.py"
    baseline.write_text(BASELINE_APP)
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for script, runs in ((str(baseline), [("one-button app (baseline)", "")]),
                             ("app.py", [("2x2 step + redraw (browser)", "/gan_playground?tab=2x2"),
                                         ("2d step + redraw (browser)", "/gan_playground?tab=2d")])):
            server, url = _serve(script)
            try:
                for name, path in runs:
                    out[name] = _click_median(page, url + path, repeats)
            finally:
                server.terminate()
                server.wait(timeout=10)
        browser.close()
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=200)
    p.add_argument("--page-repeats", type=int, default=15)
    p.add_argument("--browser", action="store_true", help="also time Step end to end in chromium")
    args = p.parse_args()

    import torch

    from genlib import toy_gan, toy_gan2d

    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} "
          f"(the toy models train on one thread)")
    lecture = toy_gan.SlantedGAN(seed=0)
    toy = toy_gan2d.ToyGAN2D("ring", seed=0)
    steps = {"2x2 step (genlib)": median_ms(lambda: lecture.step(1), args.repeats),
             "2d step (genlib)": median_ms(lambda: toy.step(1), args.repeats)}
    for name, ms in steps.items():
        print(f"{name:32s} median {ms:8.2f} ms over {args.repeats}")

    results = page_timings(args.page_repeats)
    if args.browser:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            results |= browser_timings(args.page_repeats, Path(tmp))
    baseline = results.pop("one-button app (baseline)", None)
    if baseline is not None:
        print(f"{'one-button app (baseline)':32s} median {baseline:8.1f} ms over {args.page_repeats}: "
              f"Streamlit's own click-to-paint on this machine")
    for name, ms in results.items():
        tab = name.split()[0]
        step_ms = steps[f"{tab} step (genlib)"]
        line = (f"{name:32s} median {ms:8.1f} ms over {args.page_repeats}: {ms / BUDGET_MS:.2f}x the 1 s budget, "
                f"{ms / step_ms:.0f}x one training step")
        if baseline is not None and "browser" in name:
            line += f", {ms / baseline:.1f}x the one-button app"
        print(line)


if __name__ == "__main__":
    main()
