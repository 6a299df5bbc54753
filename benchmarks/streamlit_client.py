"""A Streamlit client that speaks the browser's own protocol, for load tests without browsers.

What Streamlit's browser client does, and what this client repeats (read from streamlit 1.67's frontend
bundle and its server, streamlit/web/server/starlette/starlette_websocket.py and runtime/app_session.py):

  1. GET the page (/gan_sampler?seed=3): the HTML, and behind HAProxy the replica's cookie;
     GET /_stcore/health and /_stcore/host-config, as the browser does before it connects.
  2. Open the websocket /_stcore/stream with the subprotocols ["streamlit", <XSRF token or
     "PLACEHOLDER_AUTH_TOKEN">, <the last session id, on a reconnect>] and the page's cookies.
  3. Send BackMsg.rerun_script = ClientState(query_string, page_name=<URL path, e.g. "gan_sampler">,
     page_script_hash="", widget_states, cached_message_hashes, context_info); later reruns send the page's
     hash (from NewSession) and no page_name.
  4. Read ForwardMsgs: new_session (session id, page hash), deltas (elements at a delta path; a `ref_hash`
     message stands for a cached one), page_info_changed (the query string the script wrote),
     script_finished.
  5. A click is one more rerun_script whose widget_states hold every widget state the tab keeps plus
     WidgetState(id=<the button's id>, trigger_value=True), with fragment_id=<the button's fragment> when
     the button is in an st.fragment. The new face arrives as a delta with new_element.imgs, whose url
     (/media/<hash>.jpg) the browser then fetches over HTTP.

Timed, per click: "server" = rerun sent -> the new image's delta received (what load.py's "New face
(server)" reads from chromium's websocket frames), and "total" = that plus fetching the image (load.py's
"New face" also waits for the browser to decode and draw it).

    python benchmarks/streamlit_client.py http://127.0.0.1:8501/gan_sampler?seed=7 --clicks 10
    python benchmarks/streamlit_client.py URL --label "New face" --clicks 20 --think 0

benchmarks/locustfile.py runs it as Locust users. The pure parts (messages built, messages read) are unit
tested in tests/unit/test_streamlit_client.py; nothing here imports locust.
"""
from __future__ import annotations

import argparse
import contextlib
import inspect
import statistics
import sys
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

STREAM_PATH = "_stcore/stream"
HEALTH_PATH = "_stcore/health"
HOST_CONFIG_PATH = "_stcore/host-config"
SUBPROTOCOL = "streamlit"
NO_XSRF_TOKEN = "PLACEHOLDER_AUTH_TOKEN"  # what the browser sends when it has no XSRF cookie
XSRF_COOKIE = "_streamlit_xsrf"
REPLICA_HEADER = "X-GenLab-Replica"  # set by deploy/haproxy.cfg on every response: which replica answered
CACHE_ITEMS = 500  # cached ForwardMsgs kept per tab (the browser's cache also forgets old ones)
MAX_FRAME = 64 * 2**20  # Streamlit's messages can be large (a plotly figure); the library default is 1 MiB
DEFAULT_TIMEOUT_S = 120.0

FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
FINISHED_FRAGMENT = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
FINISHED_EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN
FINISHED_COMPILE_ERROR = ForwardMsg.FINISHED_WITH_COMPILE_ERROR


class ProtocolError(RuntimeError):
    """The server sent something this client (and the browser) cannot use."""


# ------------------------------------------------------------------------------------------- URLs

@dataclass(frozen=True)
class Target:
    """A page address split as the browser splits it."""
    base: str   # scheme://host:port (plus a server.baseUrlPath, if the server has one: pass it as base_path)
    page: str   # the page's URL path name: "gan_sampler"; "" is the main page
    query: str  # without the "?"


def parse_url(url: str, base_path: str = "") -> Target:
    """http://host:8501/gan_sampler?seed=3 -> Target("http://host:8501", "gan_sampler", "seed=3")."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    path = parts.path.strip("/")
    prefix = base_path.strip("/")
    if prefix:
        if path != prefix and not path.startswith(prefix + "/"):
            raise ValueError(f"{url!r} is not under the base path /{prefix}")
        path = path[len(prefix):].strip("/")
    base = urlunsplit((parts.scheme, parts.netloc, f"/{prefix}" if prefix else "", "", "")).rstrip("/")
    return Target(base, path, parts.query)


def page_url(target: Target) -> str:
    return f"{target.base}/{target.page}" + (f"?{target.query}" if target.query else "")


def ws_url(target: Target) -> str:
    """The websocket's address: ws(s)://host:port[/base]/_stcore/stream."""
    scheme = "wss" if target.base.startswith("https:") else "ws"
    return f"{scheme}{target.base[target.base.index(':'):]}/{STREAM_PATH}"


def media_url(target: Target, url: str) -> str:
    """An image's URL as the browser requests it: /media/... is relative to the server's base URL."""
    if url.startswith(("http://", "https://")):
        return url
    return f"{target.base}/{url.lstrip('/')}"


def subprotocols(xsrf_token: str | None = None, session_id: str | None = None) -> list[str]:
    """The Sec-WebSocket-Protocol entries the browser sends (the server reads them by position)."""
    return [SUBPROTOCOL, xsrf_token or NO_XSRF_TOKEN, *([session_id] if session_id else [])]


# ------------------------------------------------------------------------------------------- BackMsgs

def trigger(widget_id: str) -> WidgetState:
    """A button's click: the state the browser sends once, for one rerun."""
    return WidgetState(id=widget_id, trigger_value=True)


def rerun_msg(query_string: str = "", *, page_name: str = "", page_script_hash: str = "",
              widgets=(), fragment_id: str = "", cached_hashes=()) -> BackMsg:
    """BackMsg.rerun_script as the browser's sendRerunBackMsg builds it. The first run of a tab names the
    page by its URL path (page_name) with an empty hash; later runs give the hash and no name."""
    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = query_string
    state.page_name = page_name
    state.page_script_hash = page_script_hash
    state.widget_states.widgets.extend(widgets)
    state.fragment_id = fragment_id
    state.cached_message_hashes.extend(cached_hashes)
    state.context_info.timezone = "UTC"  # the browser sends its time zone, locale and URL; the app reads none
    state.context_info.locale = "en-US"
    return msg


# ------------------------------------------------------------------------------------------- the page

@dataclass
class Shown:
    """One element or block on the page, as the last run drew it."""
    kind: str          # the Element field ("button", "imgs", "radio", ...) or "block"
    proto: object      # that field's protobuf (Button, ImageList, ...)
    fragment_id: str   # "" outside fragments
    run: int           # the run (counted by new_session) that drew it last


class Page:
    """What the browser's element tree holds, kept flat by delta path, from the ForwardMsgs of one tab."""

    def __init__(self, cache_items: int = CACHE_ITEMS):
        self.elements: dict[tuple[int, ...], Shown] = {}
        self.session_id = ""
        self.page_script_hash = ""
        self.query_string: str | None = None  # None until the script writes it (page_info_changed)
        self.run = 0
        self.finished: int | None = None  # the last script_finished status of this tab
        self.exceptions: list[str] = []   # messages of exception elements drawn (an error box on the page)
        self._cache: OrderedDict[str, ForwardMsg] = OrderedDict()
        self._cache_items = cache_items

    def cached_hashes(self) -> list[str]:
        return list(self._cache)

    def apply(self, msg: ForwardMsg) -> ForwardMsg:
        """Take one ForwardMsg into the page; returns it (a ref_hash message resolved to the cached one)."""
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                raise ProtocolError(f"the server referred to message {msg.ref_hash}, which this tab never cached")
            self._cache.move_to_end(msg.ref_hash)
            resolved = ForwardMsg()
            resolved.CopyFrom(cached)
            resolved.metadata.CopyFrom(msg.metadata)  # its own place on the page
            msg, kind = resolved, resolved.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = msg
            while len(self._cache) > self._cache_items:
                self._cache.popitem(last=False)

        if kind == "new_session":
            self.run += 1
            self.finished = None
            if msg.new_session.initialize.session_id:
                self.session_id = msg.new_session.initialize.session_id
            if msg.new_session.page_script_hash:
                self.page_script_hash = msg.new_session.page_script_hash
        elif kind == "delta":
            self._delta(msg)
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "navigation" and msg.navigation.page_script_hash:
            self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "script_finished":
            self.finished = msg.script_finished
            if msg.script_finished == FINISHED:  # a full run redrew everything: what it did not draw is gone
                self.elements = {p: e for p, e in self.elements.items() if e.run == self.run}
        return msg

    def _delta(self, msg: ForwardMsg) -> None:
        delta, path = msg.delta, tuple(msg.metadata.delta_path)
        which = delta.WhichOneof("type")
        if which == "new_element":
            field = delta.new_element.WhichOneof("type")
            if field is None:
                return
            proto = getattr(delta.new_element, field)
            self.elements[path] = Shown(field, proto, delta.fragment_id, self.run)
            if field == "exception":
                self.exceptions.append(f"{proto.type}: {proto.message}")
        elif which == "add_block":
            self.elements[path] = Shown("block", delta.add_block, delta.fragment_id, self.run)

    # -- what is on the page

    def find(self, kind: str, label: str) -> Shown:
        """The element of this kind whose label contains `label` (the first in page order)."""
        for path in sorted(self.elements):
            shown = self.elements[path]
            if shown.kind == kind and label in getattr(shown.proto, "label", ""):
                return shown
        labels = [getattr(e.proto, "label", "") for e in self.elements.values() if e.kind == kind]
        raise LookupError(f"no {kind} labelled {label!r} on the page; {kind}s: {labels}")

    def image_urls(self) -> list[str]:
        return [img.url for path in sorted(self.elements) if self.elements[path].kind == "imgs"
                for img in self.elements[path].proto.imgs]


def new_image(msg: ForwardMsg, before: set[str]) -> str | None:
    """The URL of an image this message draws that was not on the page before, if any."""
    if msg.WhichOneof("type") == "delta" and msg.delta.new_element.WhichOneof("type") == "imgs":
        for img in msg.delta.new_element.imgs.imgs:
            if img.url and img.url not in before:
                return img.url
    return None


def is_rerun(sent: bytes) -> bool:
    """Whether a serialized BackMsg asks for a rerun (a click, a widget change, a page opened)."""
    return BackMsg.FromString(sent).HasField("rerun_script")


class FaceDeltas:
    """Spots, in one connection's serialized ForwardMsgs, those that draw images (after a "New face" rerun, the
    new face), a ref_hash message standing for a cached one included: a face the tab has had before comes so."""

    def __init__(self):
        self.cached: dict[str, bool] = {}  # message hash -> whether it draws images

    def __call__(self, received: bytes) -> bool:
        msg = ForwardMsg.FromString(received)
        if msg.WhichOneof("type") == "ref_hash":
            return self.cached.get(msg.ref_hash, False)
        face = msg.HasField("delta") and msg.delta.new_element.HasField("imgs")
        if msg.hash:
            self.cached[msg.hash] = face
        return face


def radio_choice(shown: Shown, option: int) -> WidgetState:
    """Picking option `option` of an st.radio: Streamlit 1.67 sends the option's text as string_value."""
    if shown.kind != "radio":
        raise TypeError(f"not a radio but a {shown.kind}")
    return WidgetState(id=shown.proto.id, string_value=shown.proto.options[option])


# ------------------------------------------------------------------------------------------- one tab

@dataclass
class Click:
    server_ms: float   # rerun sent -> the new image's delta received
    total_ms: float    # ... + the image fetched over HTTP
    url: str
    image_bytes: int


class StreamlitClient:
    """One browser tab on one page: open it, click buttons, pick radio options, time the answers.

    `http` is a requests-like session (requests.Session, or Locust's HttpSession so that page and media
    requests show in Locust's statistics); its cookies go with the websocket handshake, so HAProxy's
    stickiness cookie keeps the tab on one replica."""

    def __init__(self, url: str, http=None, timeout_s: float = DEFAULT_TIMEOUT_S, base_path: str = ""):
        if http is None:
            import requests

            http = requests.Session()
            http.trust_env = False  # no proxy from the environment (see connect)
        self.target = parse_url(url, base_path)
        self.http = http
        self.timeout_s = timeout_s
        self.page = Page()
        self.widgets: dict[str, WidgetState] = {}  # non-trigger states this tab has set (the browser keeps all)
        self.replicas: list[str] = []  # REPLICA_HEADER of every HTTP response and handshake, in order
        self.ws = None
        self._socket = None

    # -- HTTP, as the browser
    def get(self, url: str, name: str | None = None):
        kwargs = {"name": name} if name and _is_locust_session(self.http) else {}
        response = self.http.get(url, timeout=self.timeout_s, **kwargs)
        response.raise_for_status()
        if REPLICA_HEADER in response.headers:
            self.replicas.append(response.headers[REPLICA_HEADER])
        return response

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)

    # -- the websocket
    def connect(self) -> None:
        from websockets.sync.client import connect

        xsrf = self.http.cookies.get(XSRF_COOKIE)
        headers = {"Cookie": self.cookie_header()} if self.http.cookies else None
        # As a browser: no pings of its own (the server pings), permessage-deflate offered; no HTTP proxy
        # from the environment between a load test and its server.
        # (ping_interval and proxy are newer than Streamlit's oldest websockets, 12: passed where known;
        # entered as a context manager, which websockets 17 asks for and older versions accept)
        known = inspect.signature(connect).parameters
        extra = {k: None for k in ("ping_interval", "proxy") if k in known}
        self._socket = contextlib.ExitStack()
        self.ws = self._socket.enter_context(connect(
            ws_url(self.target), subprotocols=subprotocols(xsrf, self.page.session_id or None),
            additional_headers=headers, origin=self.target.base, max_size=MAX_FRAME,
            open_timeout=self.timeout_s, **extra))
        response = getattr(self.ws, "response", None)  # the handshake's answer: HAProxy names the replica
        if response is not None and REPLICA_HEADER in response.headers:
            self.replicas.append(response.headers[REPLICA_HEADER])

    def send(self, msg: BackMsg) -> None:
        self.ws.send(msg.SerializeToString())

    def receive(self, timeout_s: float) -> ForwardMsg:
        frame = self.ws.recv(timeout=timeout_s)
        if isinstance(frame, str):
            raise ProtocolError("a text frame: Streamlit sends binary protobufs only")
        return self.page.apply(ForwardMsg.FromString(frame))

    def wait(self, done, timeout_s: float | None = None):
        """Read messages until done(msg) is truthy; returns that value. TimeoutError after timeout_s."""
        deadline = time.perf_counter() + (timeout_s or self.timeout_s)
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("no answer in time")
            value = done(self.receive(left))
            if value:
                return value

    def wait_finished(self, timeout_s: float | None = None) -> None:
        """Until the current run (full or fragment) has finished; a compile error is raised."""
        def finished(msg):
            if msg.WhichOneof("type") != "script_finished":
                return False
            if msg.script_finished == FINISHED_COMPILE_ERROR:
                raise ProtocolError("the page's script did not compile")
            return msg.script_finished in (FINISHED, FINISHED_FRAGMENT)
        self.wait(finished, timeout_s)

    def rerun(self, widgets=(), fragment_id: str = "") -> None:
        """A rerun as the browser sends it after the first: the page's hash, every kept widget state (of
        widgets still on the page: the browser drops the others)."""
        query = self.page.query_string if self.page.query_string is not None else self.target.query
        shown = {getattr(e.proto, "id", None) for e in self.page.elements.values()}
        self.widgets = {i: w for i, w in self.widgets.items() if i in shown}
        self.send(rerun_msg(query, page_script_hash=self.page.page_script_hash,
                            widgets=[*self.widgets.values(), *widgets], fragment_id=fragment_id,
                            cached_hashes=self.page.cached_hashes()))

    # -- what a student does
    def open(self) -> float:
        """Load the page as a new tab does, until its first full run has finished; milliseconds."""
        t0 = time.perf_counter()
        self.get(page_url(self.target), name=f"/{self.target.page}")
        self.get(f"{self.target.base}/{HEALTH_PATH}", name=f"/{HEALTH_PATH}")
        self.get(f"{self.target.base}/{HOST_CONFIG_PATH}", name=f"/{HOST_CONFIG_PATH}")
        self.connect()
        self.send(rerun_msg(self.target.query, page_name=self.target.page))
        # A fresh server's first run may st.rerun() (pages/_shared.py routes through app.py): the run that
        # counts is the one that finishes successfully.
        self.wait(lambda m: m.WhichOneof("type") == "script_finished" and m.script_finished == FINISHED)
        return 1000 * (time.perf_counter() - t0)

    def click(self, label: str, fetch: bool = True) -> Click:
        """Click the button whose label contains `label` and wait for a new image; then let the run finish."""
        button = self.page.find("button", label)
        return self.until_new_image(lambda: self.rerun([trigger(button.proto.id)], button.fragment_id), fetch)

    def until_new_image(self, send_rerun, fetch: bool = True) -> Click:
        """Time send_rerun() -> a new image's delta (and the image fetched); then let the run finish."""
        before = set(self.page.image_urls())
        t0 = time.perf_counter()
        send_rerun()
        url = self.wait(lambda m: new_image(m, before))
        t1 = time.perf_counter()
        size = len(self.get(media_url(self.target, url), name="/media/[image]").content) if fetch else 0
        t2 = time.perf_counter()
        self.wait_finished()  # the rest of the rerun lands before the next click, as load.py's settle
        return Click(1000 * (t1 - t0), 1000 * (t2 - t0), url, size)

    def press(self, label: str) -> float:
        """Click a button that draws no new image (Submit, Next); until the run has finished; milliseconds."""
        button = self.page.find("button", label)
        t0 = time.perf_counter()
        self.rerun([trigger(button.proto.id)], button.fragment_id)
        self.wait_finished()
        return 1000 * (time.perf_counter() - t0)

    def choose(self, label: str, option: int) -> float:
        """Pick option `option` of the radio whose label contains `label`; until the run has finished."""
        radio = self.page.find("radio", label)
        return self._change(radio, radio_choice(radio, option))

    def set_value(self, kind: str, label: str, **value) -> float:
        """Set a widget's value as its WidgetState field, e.g. set_value("number_input", "Your answer",
        double_value=0.5) or set_value("checkbox", "B.", bool_value=True); until the run has finished."""
        shown = self.page.find(kind, label)
        return self._change(shown, WidgetState(id=shown.proto.id, **value))

    def _change(self, shown: Shown, state: WidgetState) -> float:
        self.widgets[state.id] = state
        t0 = time.perf_counter()
        self.rerun(fragment_id=shown.fragment_id)
        self.wait_finished()
        return 1000 * (time.perf_counter() - t0)

    def close(self) -> None:
        if self.ws is not None:
            self.ws = None
            if self._socket is not None:
                self._socket.close()
            self._socket = None


def answer_question(tab: StreamlitClient, next_question: bool = True) -> None:
    """One question of the Reflect quiz with certainty-based marking: an answer (the first option, 0.5 for a
    number), "fairly sure", Submit, then (next_question) Next. A question with several right answers is
    submitted with the first box ticked."""
    page = tab.page

    def shown(kind: str, label: str) -> bool:  # the quiz's settings form has number inputs of its own
        return any(e.kind == kind and label in e.proto.label for e in page.elements.values())

    if shown("radio", "Pick one answer"):
        tab.choose("Pick one answer", 0)
    elif shown("number_input", "Your answer"):
        tab.set_value("number_input", "Your answer", double_value=0.5)
    else:  # several answers: the first box ticked
        tab.set_value("checkbox", "", bool_value=True)
    tab.choose("How sure are you?", 1)
    tab.press("Submit")
    if next_question:
        tab.press("Next question" if any("Next question" in getattr(e.proto, "label", "")
                                         for e in page.elements.values()) else "See my score")


def _is_locust_session(http) -> bool:
    return type(http).__module__.startswith("locust.")


# ------------------------------------------------------------------------------------------- one session, timed

def main() -> None:
    parser = argparse.ArgumentParser(description="One Streamlit session over the protocol: open a page, "
                                                 "click a button N times, print click-to-image medians.")
    parser.add_argument("url", help="e.g. http://127.0.0.1:8501/gan_sampler?seed=7")
    parser.add_argument("--label", default="New face", help="the button to click (part of its label)")
    parser.add_argument("--clicks", type=int, default=10)
    parser.add_argument("--think", type=float, default=0.0, help="seconds between clicks")
    args = parser.parse_args()

    tab = StreamlitClient(args.url)
    cpu0 = time.process_time()
    print(f"open {args.url}: {tab.open():.0f} ms; session {tab.page.session_id}; "
          f"images {len(tab.page.image_urls())}", flush=True)
    clicks = []
    for _ in range(args.clicks):
        time.sleep(args.think)
        clicks.append(tab.click(args.label))
    tab.close()
    cpu = time.process_time() - cpu0
    for name in ("server_ms", "total_ms") if clicks else ():
        values = [getattr(c, name) for c in clicks]
        print(f"{args.label} {name}: median {statistics.median(values):.0f} ms, "
              f"min {min(values):.0f}, max {max(values):.0f} over {len(values)} clicks")
    print(f"this client's CPU: {1000 * cpu / max(1, len(clicks)):.1f} ms per click; exceptions on the page: "
          f"{len(tab.page.exceptions)}; replicas seen: {sorted(set(tab.replicas)) or 'no HAProxy header'}")


if __name__ == "__main__":
    sys.exit(main())
