"""The load test's client (benchmarks/streamlit_client.py) against a real GenLab server: it opens a page over
Streamlit's own protocol, clicks "New face" and gets a new image, as a browser tab does; and it plays a quiz
question. If Streamlit changes its protocol, this fails before a load test reports nonsense."""
import os
import shutil
import time

import pytest

import quiz
from quiz import session
from tests.benchmark_modules import load_benchmark

sc = load_benchmark("streamlit_client")


def test_a_click_gets_a_new_face(app_url):
    tab = sc.StreamlitClient(f"{app_url}/gan_sampler?seed=7")
    try:
        assert tab.open() > 0
        first = set(tab.page.image_urls())
        assert first, "the sampler drew no face on opening"
        clicks = [tab.click("New face") for _ in range(2)]
        assert all(c.image_bytes > 1000 and 0 < c.server_ms <= c.total_ms for c in clicks)
        assert len({c.url for c in clicks} | first) == 3  # a new face each time
        assert not tab.page.exceptions
    finally:
        tab.close()


@pytest.mark.skipif(shutil.which("tcpdump") is None and os.environ.get("GENLAB_REQUIRE_BROWSER") != "1",
                    reason="tcpdump is not installed (apt-get install -y tcpdump); .ci/run installs it")
def test_the_wire_tap_sees_each_click_inside_the_clients_own_time(app_url):
    """The kernel's timing of a click on lo falls inside the client's own send -> receive: the tap reads the
    right connection and messages, and the client's figure is the server's answer plus its own small delays."""
    wt = load_benchmark("wire_tap")
    with wt.WireTap(app_url) as tap:
        tab = sc.StreamlitClient(f"{app_url}/gan_sampler?seed=11")
        try:
            tab.open()
            port, since = tab.ws.local_address[1], time.time()
            clicks = [tab.click("New face") for _ in range(3)]
        finally:
            tab.close()
    try:
        wire = tap.rerun_to_image_ms(since=since)[port]
    finally:
        tap.close()
    assert len(wire) == 3
    for on_wire, click in zip(wire, clicks):
        assert 0 < on_wire <= click.server_ms + 0.5  # 0.5 ms: the two clocks' reading granularity


def first_question_seed(kind: str) -> int:
    """A seed whose quiz (all topics) starts with a question of this kind."""
    bank = quiz.load_bank()
    return next(seed for seed in range(2000) if session.pick(bank.questions, bank.topics(), 3, seed)[0].kind == kind)


@pytest.mark.parametrize("kind", ["single", "multiple", "numeric"])
def test_a_quiz_answer_with_certainty(app_url, kind):
    tab = sc.StreamlitClient(f"{app_url}/reflect_quiz?seed={first_question_seed(kind)}&n=3&scheme=cbm")
    try:
        tab.open()
        sc.answer_question(tab, next_question=False)
        texts = " ".join(str(e.proto) for e in tab.page.elements.values())
        assert "1 of 3 answered" in texts and "fairly sure" in texts
        assert not tab.page.exceptions
    finally:
        tab.close()
