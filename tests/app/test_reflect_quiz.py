"""AppTest for pages/reflect_quiz.py: the three schemes (all or nothing, partial credit, certainty-based
marks), retry of exactly the missed questions, mastery per topic across the quizzes of a session, bad
files and Moodle exports shown while the quiz runs, and bad links giving literal notes, not tracebacks.
Every test builds its own AppTest."""
import json
import shutil
import textwrap
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import quiz
from tests.app.helpers import outside_code_spans, unescape

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "reflect_quiz.py")
MOODLE_FIXTURE = ROOT / "tests" / "fixtures" / "quiz" / "moodle-export-mixed.gift"


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


def widget_key(state, q) -> str:
    return f"rq-{state['quiz']}-{state['round']}-{q.id}"


def answer(at, q, state, right=True, certainty=None):
    """Set the widgets of the question on screen to the right (or a wrong) answer, then submit."""
    key = widget_key(state, q)
    if q.kind == "numeric":
        at.number_input(key=key).set_value(q.answer if right else q.answer + 10 * q.tolerance + 1)
    elif q.kind == "single":
        pick = next(iter(q.correct)) if right else min(set(range(len(q.options))) - q.correct)
        at.radio(key=key).set_value(pick)
    else:
        wrong = set(range(len(q.options))) - q.correct
        for i in range(len(q.options)):
            at.checkbox(key=f"{key}-{i}").set_value(i in q.correct if right else i in wrong)
    if certainty is not None:
        at.radio(key=f"{key}-certainty").set_value(certainty)
    at.run()
    assert not at.button(key="rq-submit").disabled
    at.button(key="rq-submit").click().run()
    assert not at.exception, [e.message for e in at.exception]


def take(at, bank, right=True, certainty=None):
    """Answer every question of the current round; return the ids asked."""
    asked = []
    while at.session_state["rq"]["pos"] < len(at.session_state["rq"]["ids"]):
        q, state = current(at, bank)
        ok = right(q) if callable(right) else right
        answer(at, q, state, ok, certainty(q) if callable(certainty) else certainty)
        explained = [i.value for i in at.info if "Why." in i.value or "gives no explanation" in i.value]
        assert explained, "no explanation after submitting"
        at.button(key="rq-next").click().run()
        asked.append(q.id)
    return asked


def metrics(at):
    return [m.value for m in at.metric]


def chart(at, key):
    """The plotly figure drawn with this key, as a dict."""
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if c.proto.id.endswith(key) or key in c.proto.id)


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
    assert len(at.session_state["rq"]["ids"]) == 8
    assert len(take(at, bank, right=True)) == 8
    assert metrics(at) == ["100 %"]
    assert any("8 of 8 questions fully right" in m.value for m in at.markdown)
    assert at.get("plotly_chart"), "no mastery chart"
    assert not any(b.key == "rq-retry" for b in at.button)  # nothing to retry


def test_retry_asks_exactly_the_missed_questions(bank):
    at = start(seed=5, n=6, scheme="exact")
    first = list(at.session_state["rq"]["ids"])
    missed = first[1::2]
    take(at, bank, right=lambda q: q.id not in missed)
    assert metrics(at) == ["50 %"]
    assert "Retry the 3 I missed" in at.button(key="rq-retry").label
    reviewed = [e.label for e in at.expander if e.label.startswith(("❌", "🟡"))]
    assert reviewed == [f"❌ {bank.by_id()[i].markdown(bank.by_id()[i].prompt)}" for i in missed]
    at.button(key="rq-retry").click().run()
    state = at.session_state["rq"]
    assert state["round"] == 2 and state["ids"] == missed and state["results"] == []
    assert take(at, bank, right=True) == missed
    assert metrics(at)[0] == "100 %" and "round 2" in at.metric[0].label
    assert len(at.session_state["rq_log"]) == 6 + 3  # both rounds kept for mastery and the CSV


def test_partial_credit_is_shown_and_counted(bank):
    q = bank.by_id()["gan-key-components"]  # key a, b, d
    seed = next(s for s in range(1000)  # a seed whose one-question quiz asks it
                if quiz.session.pick(bank.questions, [q.topic], 1, s)[0].id == q.id)
    at = start(seed=seed, n=1, topics="reflect-lecture", scheme="partial")
    q_, state = current(at, bank)
    assert q_.id == q.id
    for i in range(4):
        at.checkbox(key=f"{widget_key(state, q)}-{i}").set_value(i in {0, 1})  # a, b: 2/3 partial
    at.run()
    at.button(key="rq-submit").click().run()
    assert any("Partly right" in w.value and "0.67" in w.value for w in at.warning)
    at.button(key="rq-next").click().run()
    assert metrics(at) == ["67 %"]
    at.radio(key="rq-scheme").set_value("exact").run()  # same answers, other rule
    assert metrics(at) == ["0 %"]
    assert at.query_params["scheme"] == "exact"


def test_cbm_needs_a_certainty_and_marks_it(bank):
    at = start(seed=11, n=3, scheme="cbm")
    q, state = current(at, bank)
    key = widget_key(state, q)
    assert at.radio(key=f"{key}-certainty").options == ["not sure (+1 / +0)", "fairly sure (+2 / -2)",
                                                        "sure (+3 / -6)"]
    if q.kind == "single":
        at.radio(key=key).set_value(next(iter(q.correct))).run()
    elif q.kind == "numeric":
        at.number_input(key=key).set_value(q.answer).run()
    assert at.button(key="rq-submit").disabled  # an answer without a certainty cannot be submitted
    at.radio(key=f"{key}-certainty").set_value(3).run()
    at.button(key="rq-submit").click().run()
    right = at.session_state["rq"]["results"][-1]["correct"]
    assert any(c.value == f"You were sure: {'+3' if right else '-6'} marks." for c in at.caption)


def test_switching_to_cbm_after_answering_counts_the_answer_as_not_sure(bank):
    at = start(seed=11, n=2, scheme="exact")
    q, state = current(at, bank)
    answer(at, q, state, right=True)
    at.radio(key="rq-scheme").set_value("cbm").run()  # feedback on screen, no certainty was asked
    assert not at.exception
    assert any(c.value == "You were not sure (no certainty given): +1 marks." for c in at.caption)


def test_three_schemes_on_the_same_answers(bank):
    """Three answers: right and sure (+3), wrong and sure (-6), right and not sure (+1)."""
    at = start(seed=21, n=3, scheme="cbm")
    ids = at.session_state["rq"]["ids"]
    plan = {ids[0]: (True, 3), ids[1]: (False, 3), ids[2]: (True, 1)}
    take(at, bank, right=lambda q: plan[q.id][0], certainty=lambda q: plan[q.id][1])
    assert metrics(at) == ["-2", "-0.67"]  # total and average per question
    advice = [i.value for i in at.info if "sure and wrong" in i.value]
    assert advice == ["You were sure and wrong on 1 question (−6 each): look at that one first."]
    accuracy = chart(at, "rq-cbm-chart")["data"][0]
    assert accuracy["y"] == [100, 0, 50] and accuracy["text"] == ["1 of 1 right", "no answers", "1 of 2 right"]
    partial = bank.by_id()[ids[1]]
    at.radio(key="rq-scheme").set_value("exact").run()
    assert metrics(at) == ["67 %"] and at.query_params["scheme"] == "exact"
    at.radio(key="rq-scheme").set_value("partial").run()
    wrong_partial = at.session_state["rq"]["results"][1]["partial"]
    assert metrics(at) == [f"{100 * (2 + wrong_partial) / 3:.0f} %"], partial.kind


def test_mastery_adds_up_the_quizzes_of_the_session(bank):
    at = start(seed=31, n=4, topics="gan", scheme="exact")
    first = take(at, bank, right=True)
    at.button(key="rq-new").click().run()  # "New quiz (new seed)": quiz 2 in the same session
    state = at.session_state["rq"]
    assert state["quiz"] == 2 and state["results"] == []
    second = take(at, bank, right=False)
    log = at.session_state["rq_log"]
    assert [r["quiz"] for r in log] == [1] * 4 + [2] * 4
    mastery = chart(at, "rq-mastery-chart")["data"]
    gan = mastery[0]["y"].index("GAN")
    mastered, missed, unseen = (trace["x"][gan] for trace in mastery)
    latest = {r["id"]: r["correct"] for r in log}
    assert mastered == sum(latest[i] for i in set(first + second)) and missed == len(set(second))
    assert mastered + missed + unseen == sum(q.topic == "GAN" for q in bank.questions)
    assert any("2 quizzes of this browser session" in c.value for c in at.caption)


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
    assert state["config"]["scheme"] in quiz.session.SCHEMES


@pytest.mark.parametrize("key", ["topics", "scheme", "seed", "n"])
def test_link_values_are_shown_literally(key):
    raw = "**bold** [x](https://e.x) <b>`$\\frac{1}{2}$`"
    at = start(**{key: raw})
    notes = [i.value for i in at.info if f"{key}=" in unescape(i.value)]
    assert len(notes) == 1, [i.value for i in at.info]
    assert f"{key}={raw} in the link" in unescape(notes[0])  # the visitor sees exactly what the link said
    for forming in ("**bold**", "](", "<b>", "https://", "$\\frac"):
        assert forming not in unescape(outside_code_spans(notes[0])), (forming, notes[0])  # and nothing forms


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
    assert "02\\-bad\\.yaml" in warnings[0] and "broken" in warnings[0] and "out of range" in warnings[0]
    assert "03\\-bad\\.gift" in warnings[1] and "essay" in warnings[1]
    bank = quiz.load_bank()
    assert sorted(at.session_state["rq"]["ids"]) == ["good-1", "good-2"]
    take(at, bank, right=True)
    assert metrics(at) == ["100 %"]


def test_a_moodle_export_runs_and_the_teacher_sees_what_was_left_out(tmp_path, monkeypatch):
    shutil.copy(MOODLE_FIXTURE, tmp_path / MOODLE_FIXTURE.name)
    monkeypatch.setenv("GENLAB_QUIZ_DIR", str(tmp_path))
    at = start(seed=2, n=20, scheme="cbm")
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 5 and all("Skipped one question of moodle\\-export\\-mixed\\.gift" in w for w in warnings)
    for qtype, line in [("matching", 25), ("essay", 36), ("short answer", 45), ("description", 51), ("cloze", 61)]:
        assert any(f"{qtype} question" in w and f"line {line}" in w for w in warnings), qtype
    teacher = next(e for e in at.expander if e.label.startswith("For teachers"))
    assert "7 without feedback" in teacher.label
    note = next(m.value for m in at.markdown if m.value.startswith("**Note:** 7 questions have no feedback"))
    assert "chain\\-rule (line 12)" in note
    bank = quiz.load_bank()
    assert len(at.session_state["rq"]["ids"]) == 7
    take(at, bank, right=True, certainty=2)
    assert metrics(at) == ["+14", "+2.00"]
    assert not any("Why." in i.value for i in at.info)  # no feedback: the answer is stated, not explained


def test_no_good_file_at_all_is_an_error_not_a_crash(tmp_path, monkeypatch):
    (tmp_path / "bad.yaml").write_text("topic: [\n")
    monkeypatch.setenv("GENLAB_QUIZ_DIR", str(tmp_path))
    at = start()
    assert at.warning and at.error and "No questions" in at.error[0].value


def test_no_html_from_data_files():
    for page in (PAGE, str(ROOT / "pages" / "_quiz_ui.py")):
        source = Path(page).read_text()
        assert "unsafe_allow_html" not in source and "st.html" not in source, page


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


def restarted(at) -> AppTest:
    """A new session (a restarted server, another replica) opened on the address bar of `at`."""
    return start(**{k: at.query_params[k] for k in at.query_params})


def graded(state) -> list[tuple]:
    return [(r["id"], r["round"], r["correct"], r["partial"], r["certainty"], r["selected"]) for r in state["results"]]


def test_answers_survive_a_restart_through_the_link(bank):
    at = start(seed=21, n=8, scheme="cbm")
    for k in range(5):  # right, wrong, right, ... with certainties 1, 2, 3, 1, 2
        q, state = current(at, bank)
        answer(at, q, state, right=k % 2 == 0, certainty=k % 3 + 1)
        if k < 4:
            at.button(key="rq-next").click().run()
    assert "progress" in at.query_params  # the 5th answer's feedback is on screen
    again = restarted(at)
    assert graded(again.session_state["rq"]) == graded(at.session_state["rq"])
    assert again.session_state["rq"]["submitted"] and again.query_params["progress"] == at.query_params["progress"]
    assert "5 of 8 answered" in again.get("progress")[0].proto.text
    q, state = current(again, bank)
    key = widget_key(state, q)
    assert again.radio(key=f"{key}-certainty").value == state["results"][-1]["certainty"]  # shown as answered
    assert [c.value for c in again.caption if c.value.startswith("You were")] == \
        [c.value for c in at.caption if c.value.startswith("You were")]
    again.button(key="rq-next").click().run()
    assert current(again, bank)[1]["pos"] == 5 and not again.exception


def test_a_retry_round_survives_a_restart(bank):
    at = start(seed=5, n=4, scheme="exact")
    missed = at.session_state["rq"]["ids"][::2]
    take(at, bank, right=lambda q: q.id not in missed)
    at.button(key="rq-retry").click().run()
    q, state = current(at, bank)
    answer(at, q, state, right=True)
    again = restarted(at)
    assert again.session_state["rq"]["round"] == 2 and again.session_state["rq"]["ids"] == missed
    assert graded(again.session_state["rq"]) == graded(at.session_state["rq"])
    assert len(again.session_state["rq_log"]) == 4 + 1  # both rounds, for mastery and the CSV


@pytest.mark.parametrize("value", ["9.abcd.a.1a", "1.0000.a.1a", "1.{f}.a.1zz", "1.{f}.q.1a", "1.{f}", "🎲" * 3000])
def test_a_progress_that_does_not_fit_gives_a_note_and_a_fresh_quiz(bank, value):
    first = start(seed=21, n=3, scheme="exact")
    q, state = current(first, bank)
    answer(first, q, state)
    fingerprint = first.query_params["progress"].split(".")[1]
    at = start(seed=21, n=3, scheme="exact", progress=value.format(f=fingerprint))
    notes = " ".join(i.value for i in at.info)
    assert "could not be restored" in notes and at.session_state["rq"]["results"] == []
    assert "progress" not in at.query_params  # the fresh quiz's link drops the value
