"""The protocol client against the real browser: one "New face" session each, on one server, clicks interleaved.

Three senders, one click each in turn (browser / client / replay), so a busy moment of the machine costs each
alike; each click follows the previous run's end after --think seconds (0: at once, as load.py clicks):
  - browser: chromium clicks the button;
  - client: benchmarks/streamlit_client.py builds its own rerun message;
  - client, browser's message: the client sends the very BackMsg chromium sent for its last click (its widget
    states and fragment id; the client's own cached-message hashes), so a difference in what the two ask for
    shows as a difference between this row and the one above.

"Rerun sent -> the new face's delta received", timed twice per click:
  - on the wire: benchmarks/wire_tap.py (tcpdump on lo; the kernel's timestamps as the packets pass), one
    clock for every sender and none of their own work in it: what the server took to answer each;
  - by each side's own clock: chromium's DevTools frame timestamps (load.py's "New face (server)"), and the
    client's perf_counter around its send and receive (what the Locust runs report).
DevTools stamps a frame inside chromium, after it has waited for chromium's own work (drawing the deltas
before it), so on a busy machine its figure holds chromium's work; the wire figure shows how much.
And the whole click -> face, as each side sees it: chromium's in-page figure (load.py's "New face": button
clicked -> the new image decoded) against the client's (rerun sent -> the image fetched from /media).

On this two-core machine chromium renders each delta on the cores the server runs on; a student's browser runs
on their own machine. --server-cpu 1 keeps the server on core 1 and chromium, the client and this script on the
others, so that the browser's work does not slow the server it measures.

    python benchmarks/client_vs_browser.py --clicks 20 [--think 0] [--server-cpu 1]

Needs tcpdump (`apt-get install -y tcpdump`) and root or CAP_NET_RAW, for the wire tap.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import time

from _timing import cpu_by_role, pin_threads, server_on_its_own_core  # also puts the root on sys.path
from load import CLICK_NEW_FACE, FACE_DRAWN, FACES, Session, server_env, warm_up
from streamlit_client import StreamlitClient
from wire_tap import WireTap
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
    return tab.until_new_image(lambda: tab.send(msg), fetch=False).server_ms


def fields(sent: bytes) -> str:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    state = BackMsg.FromString(sent).rerun_script
    return (f"{len(state.widget_states.widgets)} widget states, fragment id {state.fragment_id or 'none'}, "
            f"{len(state.cached_message_hashes)} cached hashes, {len(sent)} bytes")


async def run(clicks: int, think: float, server_cpu: int | None) -> dict[str, dict]:
    from playwright.async_api import async_playwright

    server_on_its_own_core(server_cpu)  # before chromium starts: its processes inherit this affinity

    own = {"browser (DevTools)": [], "client (its own clock)": [], "client, browser's message": []}
    whole = {"browser (in the page)": [], "client (image fetched)": []}
    async with async_playwright() as p:
        browser = await launch_chromium(p)
        with running_app(env=server_env("on")) as server:
            if server_cpu is not None:
                pin_threads(server.pid, {server_cpu})
            await warm_up(browser, server)
            with WireTap(server.url) as tap:  # before both connections open
                student = await RecordingSession(0).open(browser)
                await student.goto_until(server.url + PAGE, FACE_DRAWN)
                await student.settle()
                tab = StreamlitClient(server.url + PAGE)
                tab.open()
                tab_port = tab.ws.local_address[1]
                before, started = cpu_by_role(server.pid), time.time()
                for _ in range(clicks):
                    await asyncio.sleep(think)
                    student.listening = True
                    whole["browser (in the page)"].append(
                        await student.page.evaluate(CLICK_NEW_FACE, [FACES, 60_000]))
                    await student.settle()
                    student.listening = False
                    own["browser (DevTools)"] += student.server_ms
                    student.server_ms = []
                    time.sleep(think)
                    click = tab.click("New face")
                    own["client (its own clock)"].append(click.server_ms)
                    whole["client (image fetched)"].append(click.total_ms)
                    time.sleep(think)
                    own["client, browser's message"].append(replay(tab, student.last_rerun))
                spent = {role: s - before[role] for role, s in cpu_by_role(server.pid).items()}
                print(f"chromium's last rerun message: {fields(student.last_rerun)}")
                tab.close()
                await student.close()
            wire_by_port = tap.rerun_to_image_ms(since=started)
            tap.close()
        await browser.close()
    print("CPU seconds over the clicks, by role: " + ", ".join(f"{r} {s:.2f}" for r, s in spent.items()))
    print(f"wire tap: {tap.summary}")
    tab_wire = wire_by_port.pop(tab_port, [])
    browser_wire = [ms for times in wire_by_port.values() for ms in times]
    if len(browser_wire) != clicks or len(tab_wire) != 2 * clicks:
        raise RuntimeError(f"the wire tap saw {len(browser_wire)} of {clicks} browser clicks and "
                           f"{len(tab_wire)} of {2 * clicks} client reruns")
    wire = {"browser": browser_wire, "client": tab_wire[0::2], "client, browser's message": tab_wire[1::2]}
    return {"New face: rerun sent -> face delta, on the wire": wire,
            "New face: rerun sent -> face delta, each side's own clock": own,
            "New face: click -> face shown": whole}


def table(title: str, rows: dict) -> None:
    base = statistics.median(next(iter(rows.values())))
    print(f"\n{title}:\n{'':32} {'median':>8} {'min':>6} {'max':>6} {'vs browser':>11}")
    for name, values in rows.items():
        m = statistics.median(values)
        print(f"  {name:30} {m:6.1f}ms {min(values):6.1f} {max(values):6.1f} {m / base:10.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, default=20)
    parser.add_argument("--think", type=float, default=0.0, help="seconds from a run's end to the next click")
    parser.add_argument("--server-cpu", type=int, help="the one core of the server; everything else on the others")
    args = parser.parse_args()
    tables = asyncio.run(run(args.clicks, args.think, args.server_cpu))
    for title, rows in tables.items():
        table(title, rows)
    on_wire = statistics.median(tables["New face: rerun sent -> face delta, on the wire"]["browser"])
    client = statistics.median(tables["New face: rerun sent -> face delta, each side's own clock"]
                               ["client (its own clock)"])
    print(f"\nThe client's own median against the browser's on the wire: {client:.1f} / {on_wire:.1f} ms = "
          f"{client / on_wire:.2f}x ({100 * (client / on_wire - 1):+.0f}%)")


if __name__ == "__main__":
    main()
