"""benchmarks/streamlit_client.py without a server: the BackMsgs it builds are the browser's, and the page it
reads from ForwardMsgs (built here as Streamlit's server builds them) finds buttons, images, cached
messages and errors. A scripted fake websocket plays a click from the rerun to the new image's fetch."""
from __future__ import annotations

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.benchmark_modules import load_benchmark

sc = load_benchmark("streamlit_client")


# ------------------------------------------------------------------------------------------- messages, built

def new_session(session_id="s-1", page_hash="h-gan") -> ForwardMsg:
    msg = ForwardMsg()
    msg.new_session.initialize.session_id = session_id
    msg.new_session.page_script_hash = page_hash
    return msg


def element(path, fragment_id="", **fill) -> ForwardMsg:
    """A new_element delta at `path`; fill={"button": dict(id=..., label=...)} or imgs=[urls]."""
    msg = ForwardMsg()
    msg.metadata.delta_path[:] = list(path)
    msg.delta.fragment_id = fragment_id
    (kind, value), = fill.items()
    if kind == "imgs":
        for url in value:
            msg.delta.new_element.imgs.imgs.add(url=url)
    elif kind == "radio":
        msg.delta.new_element.radio.id = value["id"]
        msg.delta.new_element.radio.label = value["label"]
        msg.delta.new_element.radio.options[:] = value["options"]
    else:
        for name, v in value.items():
            setattr(getattr(msg.delta.new_element, kind), name, v)
    return msg


def finished(status=ForwardMsg.FINISHED_SUCCESSFULLY) -> ForwardMsg:
    msg = ForwardMsg()
    msg.script_finished = status
    return msg


def gan_page_run(face="/media/a.jpg", session_id="s-1"):
    """The face sampler's first run, reduced: the New face button and the face, in fragment f-face."""
    return [new_session(session_id), element((0, 0), button=dict(id="w-title", label="Other button")),
            element((0, 1, 0), "f-face", button=dict(id="w-new-face", label="🎲 New face")),
            element((0, 1, 1), "f-face", imgs=[face]), finished()]


# ------------------------------------------------------------------------------------------- URLs

def test_urls_split_as_the_browser_splits_them():
    t = sc.parse_url("http://127.0.0.1:8501/gan_sampler?seed=3&trunc=0.7")
    assert t == sc.Target("http://127.0.0.1:8501", "gan_sampler", "seed=3&trunc=0.7")
    assert sc.page_url(t) == "http://127.0.0.1:8501/gan_sampler?seed=3&trunc=0.7"
    assert sc.ws_url(t) == "ws://127.0.0.1:8501/_stcore/stream"
    assert sc.media_url(t, "/media/ab.jpg") == "http://127.0.0.1:8501/media/ab.jpg"
    assert sc.parse_url("http://h:1/").page == "" and sc.parse_url("http://h:1").query == ""
    under = sc.parse_url("https://lab.example.org/genlab/vae_explorer", base_path="genlab")
    assert under == sc.Target("https://lab.example.org/genlab", "vae_explorer", "")
    assert sc.ws_url(under) == "wss://lab.example.org/genlab/_stcore/stream"
    assert sc.media_url(under, "/media/x.png") == "https://lab.example.org/genlab/media/x.png"
    for bad in ("ftp://h/x", "127.0.0.1:8501/x"):
        with pytest.raises(ValueError):
            sc.parse_url(bad)
    with pytest.raises(ValueError):
        sc.parse_url("http://h/other/page", base_path="genlab")


def test_subprotocols_carry_the_token_and_the_session_by_position():
    assert sc.subprotocols() == ["streamlit", "PLACEHOLDER_AUTH_TOKEN"]
    assert sc.subprotocols("2|ab|cd|1", "s-9") == ["streamlit", "2|ab|cd|1", "s-9"]


# ------------------------------------------------------------------------------------------- BackMsgs

def test_the_first_rerun_names_the_page_and_later_ones_give_its_hash():
    first = BackMsg.FromString(sc.rerun_msg("seed=3", page_name="gan_sampler").SerializeToString())
    assert first.WhichOneof("type") == "rerun_script"
    state = first.rerun_script
    assert (state.query_string, state.page_name, state.page_script_hash) == ("seed=3", "gan_sampler", "")
    assert not state.widget_states.widgets and not state.fragment_id

    click = sc.rerun_msg("seed=3", page_script_hash="h-gan", widgets=[sc.trigger("w-new-face")],
                         fragment_id="f-face", cached_hashes=["c1", "c2"])
    state = BackMsg.FromString(click.SerializeToString()).rerun_script
    assert (state.page_name, state.page_script_hash, state.fragment_id) == ("", "h-gan", "f-face")
    (widget,) = state.widget_states.widgets
    assert widget.id == "w-new-face" and widget.WhichOneof("value") == "trigger_value" and widget.trigger_value
    assert list(state.cached_message_hashes) == ["c1", "c2"]


# ------------------------------------------------------------------------------------------- the page

def test_the_page_finds_buttons_images_and_the_session():
    page = sc.Page()
    for msg in gan_page_run():
        page.apply(msg)
    assert (page.session_id, page.page_script_hash, page.finished) == ("s-1", "h-gan", ForwardMsg.FINISHED_SUCCESSFULLY)
    button = page.find("button", "New face")
    assert (button.proto.id, button.fragment_id) == ("w-new-face", "f-face")
    assert page.image_urls() == ["/media/a.jpg"]
    with pytest.raises(LookupError, match="Other button"):
        page.find("button", "Submit")
    assert sc.new_image(element((0, 1, 1), "f-face", imgs=["/media/b.jpg"]), {"/media/a.jpg"}) == "/media/b.jpg"
    assert sc.new_image(element((0, 1, 1), "f-face", imgs=["/media/a.jpg"]), {"/media/a.jpg"}) is None
    assert sc.new_image(finished(), set()) is None


def test_a_full_run_forgets_what_it_did_not_draw_and_a_fragment_run_does_not():
    page = sc.Page()
    for msg in gan_page_run():
        page.apply(msg)
    # a fragment run redraws only the face
    for msg in (new_session(""), element((0, 1, 1), "f-face", imgs=["/media/b.jpg"]),
                finished(ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)):
        page.apply(msg)
    assert page.session_id == "s-1", "later new_session messages keep the tab's session"
    assert page.image_urls() == ["/media/b.jpg"] and page.find("button", "New face")
    # a full run that draws only the title: the rest is gone, as in the browser
    for msg in (new_session(""), element((0, 0), button=dict(id="w-title", label="Other button")), finished()):
        page.apply(msg)
    assert page.image_urls() == [] and [e.kind for e in page.elements.values()] == ["button"]


def test_cached_messages_stand_in_for_ref_hash_messages():
    page = sc.Page(cache_items=2)
    big = element((0, 1, 1), "f-face", imgs=["/media/a.jpg"])
    big.hash, big.metadata.cacheable = "hash-a", True
    page.apply(new_session())
    page.apply(big)
    assert page.cached_hashes() == ["hash-a"]
    ref = ForwardMsg()
    ref.ref_hash = "hash-a"
    ref.metadata.delta_path[:] = [0, 5]  # the same image drawn elsewhere
    resolved = page.apply(ref)
    assert resolved.delta.new_element.imgs.imgs[0].url == "/media/a.jpg"
    assert tuple(page.elements) == ((0, 1, 1), (0, 5))
    for i in range(3):  # the cache keeps its newest entries only
        m = element((1, i), imgs=[f"/media/{i}.jpg"])
        m.hash, m.metadata.cacheable = f"h{i}", True
        page.apply(m)
    assert page.cached_hashes() == ["h1", "h2"]
    ref.ref_hash = "hash-a"
    with pytest.raises(sc.ProtocolError):
        page.apply(ref)


def test_the_page_keeps_errors_query_strings_and_radio_choices():
    page = sc.Page()
    boom = ForwardMsg()
    boom.metadata.delta_path[:] = [0, 3]
    boom.delta.new_element.exception.type = "ValueError"
    boom.delta.new_element.exception.message = "bad seed"
    info = ForwardMsg()
    info.page_info_changed.query_string = "seed=4&n=10"
    radio = element((0, 4), radio=dict(id="w-answer", label="Pick one answer", options=["**A.** one", "**B.** two"]))
    for msg in (new_session(), boom, info, radio):
        page.apply(msg)
    assert page.exceptions == ["ValueError: bad seed"]
    assert page.query_string == "seed=4&n=10"
    state = sc.radio_choice(page.find("radio", "Pick one"), 1)
    assert (state.id, state.WhichOneof("value"), state.string_value) == ("w-answer", "string_value", "**B.** two")
    with pytest.raises(TypeError):
        sc.radio_choice(sc.Shown("button", None, "", 0), 0)


# ------------------------------------------------------------------------------------------- a click, scripted

class FakeSocket:
    """Plays the server's frames, in order, for each BackMsg the client sends."""

    def __init__(self, answers):
        self.answers, self.sent, self.queue = list(answers), [], []

    def send(self, data: bytes):
        self.sent.append(BackMsg.FromString(data))
        self.queue += [m.SerializeToString() for m in self.answers.pop(0)]

    def recv(self, timeout=None):
        if not self.queue:
            raise TimeoutError("the fake server has nothing more to say")
        return self.queue.pop(0)

    def close(self):
        pass


class FakeResponse:
    def __init__(self, content=b"", headers=None):
        self.content, self.headers = content, headers or {}

    def raise_for_status(self):
        pass


class FakeHttp:
    def __init__(self):
        self.urls, self.cookies = [], {}

    def get(self, url, timeout=None):
        self.urls.append(url)
        return FakeResponse(b"\xff\xd8jpeg", {"X-GenLab-Replica": "r2"})


def test_a_click_sends_the_browsers_rerun_and_waits_for_the_new_image():
    http = FakeHttp()
    tab = sc.StreamlitClient("http://127.0.0.1:8501/gan_sampler?seed=3", http=http, timeout_s=5)
    tab.ws = FakeSocket([gan_page_run(), [new_session(""), element((0, 1, 0), "f-face", button=dict(
        id="w-new-face", label="🎲 New face")), element((0, 1, 1), "f-face", imgs=["/media/b.jpg"]),
        finished(ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)]])
    tab.send(sc.rerun_msg(tab.target.query, page_name=tab.target.page))
    tab.wait_finished()
    click = tab.click("New face")
    assert click.url == "/media/b.jpg" and click.image_bytes == 6
    assert 0 <= click.server_ms <= click.total_ms
    assert http.urls == ["http://127.0.0.1:8501/media/b.jpg"]
    assert tab.replicas == ["r2"]
    first, rerun = (m.rerun_script for m in tab.ws.sent)
    assert first.page_name == "gan_sampler" and rerun.page_name == ""
    assert (rerun.page_script_hash, rerun.fragment_id, rerun.query_string) == ("h-gan", "f-face", "seed=3")
    assert [w.id for w in rerun.widget_states.widgets] == ["w-new-face"]
    with pytest.raises(TimeoutError):  # nothing more comes: a click with no answer times out
        tab.ws.answers.append([])
        tab.click("New face")


def test_kept_widget_states_go_with_later_reruns_until_their_widget_is_gone():
    radio = dict(id="w-answer", label="Pick one answer", options=["**A.** one", "**B.** two"])
    submit = dict(id="w-submit", label="Submit")
    tab = sc.StreamlitClient("http://127.0.0.1:8501/reflect_quiz?seed=5&scheme=cbm", http=FakeHttp(), timeout_s=5)
    tab.ws = FakeSocket([
        [new_session(), element((0, 0), radio=radio), element((0, 1), button=submit), finished()],
        [new_session(""), element((0, 0), radio=radio), element((0, 1), button=submit), finished()],
        [new_session(""), element((0, 0), button=dict(id="w-next", label="Next question →")), finished()],
        [new_session(""), element((0, 0), button=dict(id="w-next", label="Next question →")), finished()],
    ])
    tab.send(sc.rerun_msg(tab.target.query, page_name=tab.target.page))
    tab.wait_finished()
    tab.choose("Pick one", 1)
    tab.press("Submit")
    tab.press("Next question")
    _, chose, submitted, nexted = (m.rerun_script for m in tab.ws.sent)
    assert [(w.id, w.string_value) for w in chose.widget_states.widgets] == [("w-answer", "**B.** two")]
    assert [(w.id, w.WhichOneof("value")) for w in submitted.widget_states.widgets] == \
        [("w-answer", "string_value"), ("w-submit", "trigger_value")]
    assert [w.id for w in nexted.widget_states.widgets] == ["w-next"], "the answered radio is gone from the page"


# ------------------------------------------------------------------------------------------- over a real socket

def test_a_tab_over_real_http_and_a_real_websocket():
    """The client's I/O path (requests for the page, /_stcore/*, /media; websockets for the stream) against
    a scripted stand-in server on loopback: subprotocols, the cookie on the handshake, binary frames."""
    import threading
    from http import HTTPStatus

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.server import serve

    seen = {}

    def http_part(connection, request):
        if request.path == "/_stcore/stream":
            seen["cookie"] = request.headers.get("Cookie")
            seen["protocols"] = request.headers.get("Sec-WebSocket-Protocol")
            return None  # the websocket handshake goes on
        seen.setdefault("http", []).append(request.path)
        response = connection.respond(HTTPStatus.OK, "ok" if request.path == "/_stcore/health" else "page")
        if request.path.startswith("/gan_sampler"):
            response.headers["Set-Cookie"] = "GENLAB_REPLICA=r1; path=/"
        return response

    def name_the_replica(connection, request, response):
        if "X-GenLab-Replica" not in response.headers:  # as HAProxy does, on every response
            response.headers["X-GenLab-Replica"] = "r1"
        return response

    def stream(ws):
        for answers in ([*gan_page_run()], [element((0, 1, 1), "f-face", imgs=["/media/b.jpg"]),
                                            finished(ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)]):
            seen.setdefault("back", []).append(BackMsg.FromString(ws.recv()))
            for msg in answers:
                ws.send(msg.SerializeToString())
        try:
            ws.recv()  # until the client closes
        except ConnectionClosed:
            pass

    with serve(stream, "127.0.0.1", 0, subprotocols=["streamlit"], process_request=http_part,
               process_response=name_the_replica) as server:
        port = server.socket.getsockname()[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        tab = sc.StreamlitClient(f"http://127.0.0.1:{port}/gan_sampler?seed=3", timeout_s=10)
        assert tab.open() > 0
        click = tab.click("New face")
        tab.close()
        server.shutdown()
    assert click.url == "/media/b.jpg" and click.image_bytes == len("page")
    assert seen["http"] == ["/gan_sampler?seed=3", "/_stcore/health", "/_stcore/host-config", "/media/b.jpg"]
    assert seen["cookie"] == "GENLAB_REPLICA=r1", "the replica's cookie goes with the websocket"
    assert seen["protocols"] == "streamlit, PLACEHOLDER_AUTH_TOKEN"
    first, rerun = (m.rerun_script for m in seen["back"])
    assert first.page_name == "gan_sampler" and rerun.fragment_id == "f-face"
    assert tab.replicas == ["r1", "r1", "r1", "r1", "r1"]  # page, health, host-config, handshake, image
