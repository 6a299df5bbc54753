"""The protocol client against the real browser: one "New face" session each, on one server, clicks interleaved.

Per click, three timings of "rerun sent -> the new face's delta received", each as load.py reads it:
  - browser: chromium clicks the button; DevTools' websocket frame timestamps (load.py's "New face (server)");
  - client: benchmarks/streamlit_client.py builds its own rerun message;
  - client, browser's message: the client sends the very BackMsg chromium sent for its last click (its widget
    states and fragment id; the client's own cached-message hashes), so a difference in what the two ask for
    shows as a difference between this row and the one above.
The clicks alternate browser / client / replay, so a busy moment of the machine costs each row alike; each
click follows the previous run's end after --think seconds (0: at once, as load.py clicks).

    python benchmarks/client_vs_browser.py --clicks 20 [--think 0]
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import time

from _timing import cpu_by_role  # also puts the root on sys.path
from load import CLICK_NEW_FACE, FACE_DRAWN, FACES, Session, server_env, warm_up
from streamlit_client import StreamlitClient, new_image
from tests.appserver import launch_chromium, running_app  # noqa: E402

PAGE = "/gan_sampler?seed=7"


class RecordingSession(Session):
    """load.py's browser session, keeping the bytes of the last rerun message it sent."""
    last_rerun = None

    def _sent(self, event):
        super()._sent(event)
        if self.listening and event["response"]["opcode"] == 2 and self.rerun_sent_at is not None:
            self.last_rerun = base64.b64decode(event["response"]["payloadData"])


def replay(tab: StreamlitClient, sent: bytes) -> float:
    """Send chromium's rerun message from the client's tab; ms until the new face's delta arrives."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg.FromString(sent)
    del msg.rerun_script.cached_message_hashes[:]  # the server answers each tab by the hashes it has
    msg.rerun_script.cached_message_hashes.extend(tab.page.cached_hashes())
    before = set(tab.page.image_urls())
    t0 = time.perf_counter()
    tab.send(msg)
    tab.wait(lambda m: new_image(m, before))
    ms = 1000 * (time.perf_counter() - t0)
    tab.wait_finished()
    return ms


def fields(sent: bytes) -> str:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    state = BackMsg.FromString(sent).rerun_script
    return (f"{len(state.widget_states.widgets)} widget states, fragment id {state.fragment_id or 'none'}, "
            f"{len(state.cached_message_hashes)} cached hashes, {len(sent)} bytes")


async def run(clicks: int, think: float) -> dict:
    from playwright.async_api import async_playwright

    rows = {"browser": [], "client": [], "client, browser's message": []}
    async with async_playwright() as p:
        browser = await launch_chromium(p)
        with running_app(env=server_env("on")) as server:
            await warm_up(browser, server)
            student = await RecordingSession(0).open(browser)
            await student.goto_until(server.url + PAGE, FACE_DRAWN)
            await student.settle()
            tab = StreamlitClient(server.url + PAGE)
            tab.open()
            before = cpu_by_role(server.pid)
            for _ in range(clicks):
                await asyncio.sleep(think)
                student.listening = True
                await student.page.evaluate(CLICK_NEW_FACE, [FACES, 60_000])
                await student.settle()
                student.listening = False
                rows["browser"] += student.server_ms
                student.server_ms = []
                time.sleep(think)
                rows["client"].append(tab.click("New face").server_ms)
                time.sleep(think)
                rows["client, browser's message"].append(replay(tab, student.last_rerun))
            spent = {role: s - before[role] for role, s in cpu_by_role(server.pid).items()}
            print(f"chromium's last rerun message: {fields(student.last_rerun)}")
            tab.close()
            await student.close()
        await browser.close()
    print("CPU seconds over the clicks, by role: " + ", ".join(f"{r} {s:.2f}" for r, s in spent.items()))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--think", type=float, default=0.0, help="seconds from a run's end to the next click")
    args = parser.parse_args()
    rows = asyncio.run(run(args.clicks, args.think))
    base = statistics.median(rows["browser"])
    print(f"\n{'New face: rerun sent -> face delta':36} {'median':>8} {'min':>6} {'max':>6} {'vs browser':>11}")
    for name, values in rows.items():
        m = statistics.median(values)
        print(f"{name:36} {m:6.1f}ms {min(values):6.1f} {max(values):6.1f} {m / base:10.2f}x")


if __name__ == "__main__":
    main()
