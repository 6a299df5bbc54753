"""The load test's client (benchmarks/streamlit_client.py) against a real GenLab server: it opens a page over
Streamlit's own protocol, clicks "New face" and gets a new image, as a browser tab does; and it plays a quiz
question. If Streamlit changes its protocol, this fails before a load test reports nonsense."""
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
