"""Load: a class at once. One GenLab server, N real-browser sessions (chromium via Playwright, one
browser context each, so one Streamlit session each) doing the same things at the same time:

  open GAN page      open /gan_sampler with a seed of its own, until the face is drawn
  New face           click "New face" --clicks times, each until the new face is drawn (timed in the page)
  PixelCNN           open /pixelcnn_completion with a seed of its own and n=8, until "completion 8" shows
  open VAE explorer  open /vae_explorer with a seed of its own, until the page has finished its run

Each action phase starts for all sessions together. Per action and N it prints the median and p95
latency, the N / 1-session ratio, and errors (exception boxes, timeouts, websocket disconnects); per N
the server's peak resident memory, its CPU seconds per New face click (/proc/<pid>/stat over the click
phase, all sessions' clicks), the same split by who used it (server, browsers, this benchmark), and the
server's time per click, twice: "New face (server)", from the browser sending the rerun request to the
browser receiving the new face's image delta, read from the websocket frames (Chrome DevTools Protocol
timestamps: no delay of this script counts, but chromium stamps a frame inside itself, after the frame has
waited for chromium's own work, such as drawing the deltas before it); and "New face (on the wire)", the same two messages timed
by the kernel as they cross the loopback interface (benchmarks/wire_tap.py; tcpdump, root): the server's
answer alone. Without tcpdump the second row says "no data".

The thread policy side by side: --policy both (default) runs everything twice, each on a fresh server:
"off" = torch's default threads (GENLAB_TORCH_THREADS=0, no OMP/MKL variables), "on" = app.py's
policy (one torch thread per session). Before both, one session opens each page once (models load,
caches fill), which is not counted.

With --baseline it then runs the click phase alone on the smallest Streamlit app with the same click
(BASELINE_APP: a "New face" button in a fragment that redraws one 320-px JPEG), N = 1 and N = 8: what
Streamlit and eight browsers on these cores cost before GenLab adds anything, as cold_start.py's
one-line app is for the cold start.

    python benchmarks/load.py [--sessions 1,8] [--clicks 10] [--policy both|on|off] [--baseline]
                              [--server-cpu 1] [--server-python PATH]
    python benchmarks/load.py --smoke          # 1 session, 1 click, policy on: does it work?

Run it on an otherwise idle machine: here the browsers share the cores with the server, unless --server-cpu
gives the server a core of its own (a student's browser runs on the student's machine).
"""
import argparse
import asyncio
import base64
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from _timing import (  # also puts the root on sys.path
    ROOT, cpu_by_role, memory_mb, percentile, pin_threads, scratch_app, server_on_its_own_core, summary)
from streamlit_client import FaceDeltas, is_rerun
from wire_tap import wire_tap_if_possible
from tests.appserver import APP_IDLE, launch_chromium, running_app  # noqa: E402

ACTIONS = ["open GAN page", "New face", "New face (server)", "New face (on the wire)", "PixelCNN (8 completions)",
           "open VAE explorer"]
FACES = '[data-testid="stMain"] [data-testid="stImage"] img'
ACTION_TIMEOUT_MS = 180_000
POLICIES = {"off": "torch's default threads (GENLAB_TORCH_THREADS=0)",
            "on": "one torch thread per session (app.py's policy)"}

# Click "New face" and wait until a different face image is decoded; milliseconds, measured in the page.
CLICK_NEW_FACE = """async ([selector, timeoutMs]) => {
  const face = () => document.querySelector(selector);
  const before = face() && face().src;
  const button = [...document.querySelectorAll('button')].find(b => b.innerText.includes('New face'));
  if (!button) throw new Error('no "New face" button');
  const t0 = performance.now();
  button.click();
  await new Promise((done, fail) => {
    const poll = () => {
      const img = face();
      if (img && img.src !== before && img.complete && img.naturalWidth > 0) return done();
      if (performance.now() - t0 > timeoutMs) return fail(new Error('timeout: no new face'));
      setTimeout(poll, 5);
    };
    poll();
  });
  return performance.now() - t0;
}"""
FACE_DRAWN = f"""() => {{ const img = document.querySelector('{FACES}');
                        return img && img.complete && img.naturalWidth >= 256; }}"""


def server_env(policy: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "GENLAB_TORCH_THREADS")}
    if policy == "off":
        env["GENLAB_TORCH_THREADS"] = "0"
    return env


class Session:
    """One student: a browser context, its page, and what its websocket carried."""

    def __init__(self, index: int):
        self.index = index
        self.rerun_sent_at = None  # DevTools timestamp (s) of the last rerun request in the click phase
        self.server_ms = []
        self.listening = False
        self.closing = False
        self.errors = defaultdict(int)
        self.is_face = FaceDeltas()

    async def open(self, browser):
        self.context = await browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = await self.context.new_page()
        cdp = await self.context.new_cdp_session(self.page)
        cdp.on("Network.webSocketFrameSent", self._sent)
        cdp.on("Network.webSocketFrameReceived", self._received)
        cdp.on("Network.webSocketClosed", self._closed)
        await cdp.send("Network.enable")
        return self

    def _sent(self, event):
        if self.listening and event["response"]["opcode"] == 2:
            if is_rerun(base64.b64decode(event["response"]["payloadData"])):
                self.rerun_sent_at = event["timestamp"]

    def _received(self, event):
        if event["response"]["opcode"] != 2:
            return
        face = self.is_face(base64.b64decode(event["response"]["payloadData"]))  # every one: a later ref names it
        if face and self.listening and self.rerun_sent_at is not None:
            self.server_ms.append(1000 * (event["timestamp"] - self.rerun_sent_at))
            self.rerun_sent_at = None

    def _closed(self, event):
        if not self.closing:
            self.errors["disconnects"] += 1

    async def timed(self, action: str, results: dict, coro):
        """Await coro (which returns ms, or None to use the wall time); record it, or the error."""
        t0 = time.perf_counter()
        try:
            ms = await coro
            results[action].append(ms if ms is not None else 1000 * (time.perf_counter() - t0))
        except Exception as e:  # a timeout, or the page went away: counted, the run goes on
            kind = "timeouts" if "imeout" in str(e) else "other errors"
            self.errors[kind] += 1
            print(f"  session {self.index}, {action}: {kind}: {str(e).splitlines()[0][:160]}", flush=True)
        boxes = await self.page.locator('[data-testid="stException"]').count()
        if boxes:
            self.errors["exception boxes"] += boxes
            print(f"  session {self.index}, {action}: {boxes} exception box(es)", flush=True)

    async def goto_until(self, url: str, condition: str = None, text: str = None):
        """Open url; wait until the JS `condition` holds, or until `text` (exact) is visible."""
        await self.page.goto(url, wait_until="commit")
        if condition:
            await self.page.wait_for_function(condition, timeout=ACTION_TIMEOUT_MS)
        if text:
            await self.page.get_by_text(text, exact=True).first.wait_for(timeout=ACTION_TIMEOUT_MS)

    async def settle(self):
        """Wait until the page's script run has finished (a timeout is counted, not raised)."""
        try:
            await self.page.wait_for_function(APP_IDLE, timeout=ACTION_TIMEOUT_MS)
        except Exception:
            self.errors["timeouts"] += 1

    async def close(self):
        self.closing = True
        await self.context.close()


async def run_phase(sessions, work) -> None:
    """All sessions do `work(session)` at once."""
    await asyncio.gather(*(work(s) for s in sessions))


async def load_run(browser, server, n: int, clicks: int, tag: int) -> dict:
    """N sessions through the four actions; latencies per action, CPU, memory, errors."""
    results = defaultdict(list)
    seed = lambda s: 10_000 * tag + 100 * n + s.index  # noqa: E731  (fresh work: no cached result helps)
    url = server.url

    with wire_tap_if_possible(url) as tap:  # before the websockets open: the tap reads them from their start
        sessions = [await Session(i).open(browser) for i in range(n)]
        await run_phase(sessions, lambda s: s.timed(
            "open GAN page", results, s.goto_until(f"{url}/gan_sampler?seed={seed(s)}", FACE_DRAWN)))
        await asyncio.gather(*(s.settle() for s in sessions))
        clicks_from = time.time()
        roles = await new_face_phase(server, sessions, clicks, results)
    if tap is not None:
        results["New face (on the wire)"] = [
            ms for times in tap.rerun_to_image_ms(since=clicks_from).values() for ms in times]
        tap.close()

    await run_phase(sessions, lambda s: s.timed(
        "PixelCNN (8 completions)", results,
        s.goto_until(f"{url}/pixelcnn_completion?digit={seed(s) % 1000}&n=8&seed={seed(s)}", text="completion 8")))
    await run_phase(sessions, lambda s: s.timed(
        "open VAE explorer", results, s.goto_until(f"{url}/vae_explorer?seed={seed(s)}", APP_IDLE)))

    return await finish(server, sessions, results, roles)


async def new_face_phase(server, sessions, clicks: int, results: dict) -> dict:
    """Every session clicks "New face" `clicks` times, all at once; CPU seconds per role over the phase."""
    async def click_new_faces(s):
        s.listening = True
        for _ in range(clicks):
            await s.timed("New face", results, s.page.evaluate(CLICK_NEW_FACE, [FACES, ACTION_TIMEOUT_MS]))
            await s.settle()  # the rest of the rerun lands before the next click
        s.listening = False

    before = cpu_by_role(server.pid)
    await asyncio.gather(*(click_new_faces(s) for s in sessions))
    for s in sessions:
        results["New face (server)"] += s.server_ms
    return {role: seconds - before[role] for role, seconds in cpu_by_role(server.pid).items()}


async def finish(server, sessions, results: dict, roles: dict) -> dict:
    """Close the sessions; one N's figures: latencies, CPU per click (server, and by role), errors, memory."""
    errors = defaultdict(int)
    for s in sessions:
        for kind, count in s.errors.items():
            errors[kind] += count
        await s.close()
    clicks_done = max(1, len(results["New face"]))
    return {"results": results, "cpu_per_click": roles["server"] / clicks_done,
            "cpu_per_click_by_role": {role: seconds / clicks_done for role, seconds in roles.items()},
            "errors": dict(errors), "memory": memory_mb(server.pid)}


# The floor, as cold_start.py has one: the smallest Streamlit app with the same click, a "New face" button
# in a fragment that redraws one 320-px JPEG. What it shows at N = 8 is Streamlit's and the browsers' share.
BASELINE_APP = """import io
import random

import numpy as np
import streamlit as st
from PIL import Image


def new_face():
    st.session_state.seed = random.randint(0, 99_999)


@st.fragment
def face():
    st.button("New face", on_click=new_face)
    rng = np.random.default_rng(st.session_state.setdefault("seed", 0))
    noise = Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).resize((320, 320), Image.LANCZOS)
    buf = io.BytesIO()
    noise.save(buf, format="JPEG", quality=95, subsampling=0)
    st.image(buf.getvalue(), width=320, output_format="JPEG")


face()
"""


async def baseline_run(browser, server, n: int, clicks: int) -> dict:
    """N sessions of the baseline app clicking "New face" together, as in load_run."""
    results = defaultdict(list)
    sessions = [await Session(i).open(browser) for i in range(n)]
    await asyncio.gather(*(s.goto_until(server.url + "/", FACE_DRAWN) for s in sessions))
    await asyncio.gather(*(s.settle() for s in sessions))
    roles = await new_face_phase(server, sessions, clicks, results)
    return await finish(server, sessions, results, roles)


async def warm_up(browser, server):
    """One visit per page: models load and caches fill before anything is timed."""
    s = await Session(-1).open(browser)
    for path, condition in (("/gan_sampler?seed=1", FACE_DRAWN), ("/pixelcnn_completion?n=8", APP_IDLE),
                            ("/vae_explorer", APP_IDLE)):
        await s.goto_until(server.url + path, condition)
        await s.settle()
    await s.close()


def report(title: str, runs: dict) -> None:
    print(f"\n== {title}")
    ns = sorted(runs)
    for n in ns:
        r = runs[n]
        errors = ", ".join(f"{v} {k}" for k, v in sorted(r["errors"].items())) or "0 errors"
        print(f"N={n}: {errors}; server peak RSS {r['memory']['hwm']:.0f} MB (now {r['memory']['rss']:.0f} MB, "
              f"{r['memory']['threads']} threads); server CPU per New face click {r['cpu_per_click']:.2f} s")
        print("  CPU per New face click, by who used it: " + ", ".join(
            f"{role} {1000 * seconds:.0f} ms" for role, seconds in r["cpu_per_click_by_role"].items()))
        for action in ACTIONS:
            if r["results"][action] or action in ("New face", "New face (server)", "New face (on the wire)"):
                print(f"  {action:26s} {summary(r['results'][action])}")
    if len(ns) > 1:
        lo, hi = runs[ns[0]]["results"], runs[ns[-1]]["results"]
        print(f"ratio N={ns[-1]} / N={ns[0]} (medians):")
        for action in ACTIONS:
            if lo[action] and hi[action]:
                print(f"  {action:26s} {statistics.median(hi[action]) / statistics.median(lo[action]):5.1f}x")
        if lo["New face"] and hi["New face"]:
            print(f"p95 New face at N={ns[-1]} / median at N={ns[0]}: "
                  f"{percentile(hi['New face'], 95) / statistics.median(lo['New face']):.1f}x (issue 15: at most 8x)")


def side_by_side(all_runs: dict) -> None:
    if len(all_runs) < 2:
        return
    print("\n== side by side: medians (p95) in ms, policy off -> on")
    for n in sorted(all_runs["on"]):
        for action in ACTIONS:
            cells = []
            for policy in ("off", "on"):
                values = all_runs[policy].get(n, {}).get("results", {}).get(action, [])
                cells.append(f"{statistics.median(values):7.0f} ({percentile(values, 95):6.0f})" if values
                             else "no data")
            print(f"  N={n} {action:26s} {cells[0]} -> {cells[1]}")
        cpu = [all_runs[p][n]["cpu_per_click"] for p in ("off", "on")]
        peak = [all_runs[p][n]["memory"]["hwm"] for p in ("off", "on")]
        print(f"  N={n} server CPU s per click       {cpu[0]:.2f} -> {cpu[1]:.2f}; "
              f"peak RSS {peak[0]:.0f} -> {peak[1]:.0f} MB")


async def main_async(args) -> None:
    from playwright.async_api import async_playwright

    all_runs = {}
    server_on_its_own_core(args.server_cpu)  # before chromium starts: its processes inherit this affinity
    async with async_playwright() as p:
        browser = await launch_chromium(p)
        for tag, policy in enumerate(args.policies):
            with running_app(env=server_env(policy), python=args.server_python) as server:
                if args.server_cpu is not None:
                    pin_threads(server.pid, {args.server_cpu})
                print(f"policy {policy}: server pid {server.pid} at {server.url}; warming up…", flush=True)
                await warm_up(browser, server)
                runs = {}
                for n in args.sessions:
                    print(f"policy {policy}: {n} session(s) at once…", flush=True)
                    runs[n] = await load_run(browser, server, n, args.clicks, tag + 1)
                report(f"thread policy {policy}: {POLICIES[policy]}", runs)
                all_runs[policy] = runs
        if args.baseline:
            with tempfile.TemporaryDirectory() as folder:
                app = scratch_app(Path(folder), BASELINE_APP)
                with running_app(app, env=server_env("on"), python=args.server_python) as server:
                    runs = {n: await baseline_run(browser, server, n, args.clicks) for n in args.sessions}
                report("baseline: the smallest Streamlit app with the same click (BASELINE_APP)", runs)
        await browser.close()
    side_by_side(all_runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,8", help="comma-separated session counts (default 1,8)")
    parser.add_argument("--clicks", type=int, default=10, help="New face clicks per session")
    parser.add_argument("--policy", choices=["both", "on", "off"], default="both")
    parser.add_argument("--smoke", action="store_true", help="1 session, 1 click, policy on")
    parser.add_argument("--baseline", action="store_true",
                        help="also run the click phase on the smallest Streamlit app with the same click")
    parser.add_argument("--server-cpu", type=int,
                        help="the one core of the GenLab server; the browsers and this script on the others")
    parser.add_argument("--server-python", default=sys.executable,
                        help="the server's interpreter, e.g. a venv with requirements-cpu.txt (default: this one)")
    args = parser.parse_args()
    args.sessions = [1] if args.smoke else [int(n) for n in args.sessions.split(",")]
    args.clicks = 1 if args.smoke else args.clicks
    args.policies = ["on"] if args.smoke or args.policy == "on" else ["off"] if args.policy == "off" else ["off", "on"]
    t0 = time.perf_counter()
    asyncio.run(main_async(args))
    print(f"\n(total {time.perf_counter() - t0:.0f} s; cwd {ROOT})")


if __name__ == "__main__":
    main()
