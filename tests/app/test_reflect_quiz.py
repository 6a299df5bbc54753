"""AppTest for pages/reflect_quiz.py: a perfect run scores 100 %, misses can be retried, bad files are
shown while the quiz runs from the good ones, and bad links give notes instead of tracebacks."""
import textwrap
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import quiz

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "reflect_quiz.py")


def start(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = str(v)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def current(at, bank):
    state = at.session_state["rq"]
    return bank.by_id()[state["ids"][state["pos"]]], state


def answer(at, q, state, right=True):
    """Set the widgets of the question on screen to the right (or a wrong) answer."""
    key = f"rq-{state['round']}-{q.id}"
    if q.kind == "numeric":
        at.number_input(key=key).set_value(q.answer if right else q.answer + 10 * q.tolerance + 1)
    elif q.kind == "single":
        pick = next(iter(q.correct)) if right else min(set(range(len(q.options))) - q.correct)
        at.radio(key=key).set_value(pick)
    else:
        wrong = set(range(len(q.options))) - q.correct
        for i in range(len(q.options)):
            at.checkbox(key=f"{key}-{i}").set_value(i in q.correct if right else i in wrong)
    at.run()
    at.button(key="rq-submit").click().run()
    assert not at.exception, [e.message for e in at.exception]


def take(at, bank, right=True):
    """Answer every question of the current round; return how many were asked."""
    asked = 0
    while at.session_state["rq"]["pos"] < len(at.session_state["rq"]["ids"]):
        q, state = current(at, bank)
        answer(at, q, state, right(q) if callable(right) else right)
        # feedback with the explanation appears right after submitting
        assert any("Why." in i.value for i in at.info), "no explanation after submitting"
        at.button(key="rq-next").click().run()
        asked += 1
    return asked


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def bank():
    return quiz.load_bank()


def test_answering_everything_right_gives_100_percent(bank):
    at = start(seed=3, n=8, scheme="exact")
    ids = at.session_state["rq"]["ids"]
    assert len(ids) == 8
    assert take(at, bank, right=True) == 8
    assert [m.value for m in at.metric] == ["100 %"]
    assert any("8 of 8 questions fully right" in m.value for m in at.markdown)
    assert at.get("plotly_chart"), "no per-topic chart"
    assert not any(b.key == "rq-retry" for b in at.button)  # nothing to retry


def test_wrong_answers_are_reviewed_and_can_be_retried(bank):
    at = start(seed=5, n=4, scheme="exact")
    first = list(at.session_state["rq"]["ids"])
    take(at, bank, right=False)
    assert [m.value for m in at.metric] == ["0 %"]
    assert len(at.expander) >= 4 + 1  # one review per miss (+ the page's help/settings expanders)
    assert "Retry the 4 I missed" in at.button(key="rq-retry").label
    at.button(key="rq-retry").click().run()
    state = at.session_state["rq"]
    assert state["round"] == 2 and state["ids"] == first and state["results"] == []
    take(at, bank, right=True)
    assert [m.value for m in at.metric] == ["100 %"]
    assert len(at.session_state["rq"]["history"]) == 4  # round 1 kept for the CSV


def test_partial_credit_is_shown_and_counted(bank):
    q = bank.by_id()["gan-key-components"]  # key a, b, d
    seed = next(s for s in range(1000)  # a seed whose one-question quiz asks it
                if quiz.session.pick(bank.questions, [q.topic], 1, s)[0].id == q.id)
    at = start(seed=seed, n=1, topics="reflect-lecture", scheme="partial")
    assert current(at, bank)[0].id == q.id
    state = at.session_state["rq"]
    for i in range(4):
        at.checkbox(key=f"rq-1-{q.id}-{i}").set_value(i in {0, 1})  # a, b: 2/3 partial
    at.run()
    at.button(key="rq-submit").click().run()
    assert any("Partly right" in w.value and "0.67" in w.value for w in at.warning)
    at.button(key="rq-next").click().run()
    assert [m.value for m in at.metric] == ["67 %"]
    at.radio(key="rq-scheme").set_value("exact").run()  # same answers, other rule
    assert [m.value for m in at.metric] == ["0 %"]
    assert at.query_params["scheme"] == "exact"


def test_same_seed_same_quiz_and_the_url_holds_it(bank):
    a, b = start(seed=77, n=5), start(seed=77, n=5)
    assert a.session_state["rq"]["ids"] == b.session_state["rq"]["ids"]
    assert a.session_state["rq"]["ids"] != start(seed=78, n=5).session_state["rq"]["ids"]
    assert a.query_params["seed"] == "77" and a.query_params["n"] == "5"
    assert any("Seed **77**" in c.value for c in a.caption)
    no_seed = start()  # a seed is chosen, shown and put in the URL
    seed = no_seed.query_params["seed"]
    assert seed.isdigit() and any(f"Seed **{seed}**" in c.value for c in no_seed.caption)
    gan = start(seed=1, n=50, topics="gan")
    assert {bank.by_id()[i].topic for i in gan.session_state["rq"]["ids"]} == {"GAN"}


@pytest.mark.parametrize("params", [
    {"n": "abc"}, {"n": "-3"}, {"n": "100000"}, {"seed": "x1"}, {"seed": "-1"}, {"scheme": "lenient"},
    {"topics": "nonsense"}, {"topics": "gan,nonsense"}, {"n": "", "seed": "", "topics": ",,"},
])
def test_bad_url_parameters_give_a_note_and_a_default(params):
    at = start(**params)
    assert not at.exception
    if any(params.values()) and params.get("topics") != ",,":
        assert at.info, "a bad parameter should be explained"
    state = at.session_state["rq"]
    assert 1 <= len(state["ids"]) and 0 <= state["config"]["seed"] <= 999_999
    assert state["config"]["scheme"] in quiz.SCHEMES


GOOD = """\
topic: Good topic
questions:
  - id: good-1
    prompt: Which is right?
    options: [right, wrong]
    correct: a
    explanation: Because it is.
  - id: good-2
    kind: numeric
    prompt: Two plus two?
    answer: 4
    tolerance: 0
    explanation: Counting.
"""


def test_a_bad_file_is_shown_and_the_quiz_runs_from_the_good_ones(tmp_path, monkeypatch):
    (tmp_path / "01-good.yaml").write_text(GOOD)
    (tmp_path / "02-bad.yaml").write_text(textwrap.dedent("""\
        topic: Bad
        questions:
          - id: broken
            prompt: Out of range
            options: [x, y]
            correct: [c]
            explanation: E.
        """))
    (tmp_path / "03-bad.gift").write_text("::Essay::Write. {}\n")
    monkeypatch.setenv("GENLAB_QUIZ_DIR", str(tmp_path))
    at = start(seed=1, n=5)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 2
    assert "02-bad.yaml" in warnings[0] and "broken" in warnings[0] and "out of range" in warnings[0]
    assert "03-bad.gift" in warnings[1] and "essay" in warnings[1]
    bank = quiz.load_bank()
    assert sorted(at.session_state["rq"]["ids"]) == ["good-1", "good-2"]
    take(at, bank, right=True)
    assert [m.value for m in at.metric] == ["100 %"]


def test_no_good_file_at_all_is_an_error_not_a_crash(tmp_path, monkeypatch):
    (tmp_path / "bad.yaml").write_text("topic: [\n")
    monkeypatch.setenv("GENLAB_QUIZ_DIR", str(tmp_path))
    at = start()
    assert at.warning and at.error and "No questions" in at.error[0].value


def test_no_html_from_data_files():
    source = Path(PAGE).read_text()
    assert "unsafe_allow_html" not in source and "st.html" not in source


def test_settings_form_starts_a_new_quiz_and_updates_the_link(bank):
    at = start(seed=10, n=5)
    at.multiselect(key="rq-topics").set_value(["GAN"])
    at.number_input(key="rq-n").set_value(3)
    at.number_input(key="rq-seed").set_value(4321)
    next(b for b in at.button if b.label == "Start quiz").click().run()
    assert not at.exception
    state = at.session_state["rq"]
    assert state["config"]["seed"] == 4321 and len(state["ids"]) == 3
    assert {bank.by_id()[i].topic for i in state["ids"]} == {"GAN"}
    assert at.query_params["seed"] == "4321" and at.query_params["topics"] == "gan" and at.query_params["n"] == "3"
    take(at, bank, right=True)
    at.button(key="rq-new").click().run()  # "New quiz (new seed)"
    state = at.session_state["rq"]
    assert state["pos"] == 0 and state["results"] == [] and state["config"]["seed"] != 4321
    assert at.query_params["seed"] == str(state["config"]["seed"])
