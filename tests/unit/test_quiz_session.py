"""quiz.session, the logic behind the quiz page: a quiz's state (answer once, next, retry exactly what
was missed), certainty-based summaries and their advice, mastery per topic across quizzes, and the CSV."""
import csv
import io
import random

import pytest

import quiz
from quiz import Question, session


def choice(qid, topic, correct, n=4):
    return Question(id=qid, topic=topic, prompt=f"{qid}?", options=[f"{qid}-o{i}" for i in range(n)],
                    correct=frozenset(correct), explanation="E",
                    kind="single" if len(correct) == 1 else "multiple")


def numeric(qid, topic, answer):
    return Question(id=qid, topic=topic, prompt=f"{qid}?", options=[], correct=frozenset(), explanation="E",
                    kind="numeric", answer=answer, tolerance=0.01)


QUESTIONS = [choice(f"g{i}", "GAN", {0}) for i in range(5)] + [choice(f"v{i}", "VAE", {0, 2}) for i in range(4)] \
    + [numeric("n0", "VAE", -1.5)]
BY_ID = {q.id: q for q in QUESTIONS}
CONFIG = {"topics": ["GAN", "VAE"], "n": 8, "seed": 7, "scheme": "cbm"}


def take(state, log, right, certainty=2):
    """Answer every question of the round; right(q) says whether to answer it right."""
    while state["pos"] < len(state["ids"]):
        q = BY_ID[state["ids"][state["pos"]]]
        ok = right(q)
        selected = (q.answer if ok else 0.0) if q.kind == "numeric" else (set(q.correct) if ok else {1})
        assert session.record(state, log, session.result(q, selected, state["round"], certainty, state["quiz"]))
        session.advance(state)


def test_start_is_seeded_and_answers_count_once():
    a, b = session.start(CONFIG, QUESTIONS), session.start(CONFIG, QUESTIONS)
    assert a["ids"] == b["ids"] and len(a["ids"]) == 8 and a["round"] == 1 and a["results"] == []
    assert session.start({**CONFIG, "seed": 8}, QUESTIONS)["ids"] != a["ids"]
    log = []
    q = BY_ID[a["ids"][0]]
    res = session.result(q, set(q.correct), 1, 3)
    assert session.record(a, log, res) and not session.record(a, log, res)  # a double click
    assert a["results"] == [res] and log == [res]
    session.advance(a)
    session.advance(a)  # a second "next" before answering does nothing
    assert a["pos"] == 1 and not a["submitted"]


@pytest.mark.parametrize("seed", range(20))
def test_retry_asks_exactly_the_questions_not_fully_right(seed):
    rng = random.Random(seed)
    wrong = {q.id for q in QUESTIONS if rng.random() < 0.5}
    state, log = session.start({**CONFIG, "seed": seed}, QUESTIONS), []
    take(state, log, right=lambda q: q.id not in wrong)
    missed = [i for i in state["ids"] if i in wrong]
    assert session.missed_ids(state["results"]) == missed
    again = session.retry(state)
    assert again["ids"] == missed and again["round"] == 2 and again["pos"] == 0 and again["results"] == []
    assert again["quiz"] == state["quiz"] and again["config"] == state["config"]
    take(again, log, right=lambda q: True)
    assert session.retry(again)["ids"] == [] and len(log) == len(state["ids"]) + len(missed)


def test_a_multi_answer_question_is_right_only_when_exact():
    q = BY_ID["v0"]  # key {0, 2}
    half = session.result(q, {0}, certainty=3)
    assert half["partial"] == 0.5 and not half["correct"]
    assert session.marks(half, "cbm") == -6 and session.marks(half, "partial") == 0.5
    assert session.missed_ids([half]) == ["v0"]
    whole = session.result(q, {0, 2}, certainty=3)
    assert whole["correct"] and session.marks(whole, "cbm") == 3 and session.marks(whole, "exact") == 1.0
    with pytest.raises(ValueError):
        session.result(q, {0}, certainty=5)


def test_cbm_summary_counts_accuracy_per_certainty():
    rows = [session.result(BY_ID["g0"], {0}, certainty=3), session.result(BY_ID["g1"], {1}, certainty=3),
            session.result(BY_ID["g2"], {0}, certainty=2), session.result(BY_ID["g3"], {1}, certainty=1),
            session.result(BY_ID["g4"], {0}, certainty=None), session.result(BY_ID["n0"], -1.5, certainty=1)]
    cbm = session.cbm_summary(rows)
    assert cbm["total"] == 3 - 6 + 2 + 0 + 1 + 1 and cbm["average"] == pytest.approx(1 / 6)
    assert cbm["levels"] == {1: {"answers": 3, "right": 2}, 2: {"answers": 1, "right": 1},
                             3: {"answers": 2, "right": 1}}
    assert cbm["unstated"] == 1 and cbm["sure_and_wrong"] == ["g1"]
    assert session.summary(rows, "cbm")[0] == pytest.approx(1 / 6)


@pytest.mark.parametrize("answers, advice", [
    ([(True, 3), (False, 3), (False, 3), (False, 3)], "You were sure and wrong on 3 questions (−6 each): look at those first."),
    ([(True, 3), (False, 3)], "You were sure and wrong on 1 question (−6 each): look at that one first."),
    ([(True, 2), (False, 2), (False, 2)], "When fairly sure you were right on only 1 of 3"),
    ([(True, 1), (True, 1), (True, 1)], "When not sure you were right on 3 of 3: trust yourself more"),
    ([(True, 3), (True, 2), (False, 1), (True, 1)], "Your certainty matched what you knew"),
    ([], "Answer some questions"),
])
def test_one_sentence_of_advice(answers, advice):
    rows = [{"id": f"q{i}", "correct": ok, "certainty": c} for i, (ok, c) in enumerate(answers)]
    assert session.cbm_advice(session.cbm_summary(rows)).startswith(advice)


def test_mastery_follows_the_latest_answer_across_quizzes():
    log = []
    first = session.start({**CONFIG, "topics": ["GAN"], "n": 3}, QUESTIONS, quiz=1)
    take(first, log, right=lambda q: q.id == first["ids"][0])
    rows = {r["topic"]: r for r in session.mastery(log, {"GAN": 5, "VAE": 5})}
    assert rows["GAN"] == {"topic": "GAN", "mastered": 1, "missed": 2, "unseen": 2, "questions": 5}
    assert rows["VAE"]["unseen"] == 5 and rows["VAE"]["mastered"] == rows["VAE"]["missed"] == 0
    take(session.retry(first), log, right=lambda q: True)  # the missed two, now right
    second = session.start({**CONFIG, "topics": ["VAE"], "n": 2, "seed": 1}, QUESTIONS, quiz=2)
    take(second, log, right=lambda q: False)
    rows = {r["topic"]: r for r in session.mastery(log, {"GAN": 5, "VAE": 5})}
    assert rows["GAN"]["mastered"] == 3 and rows["GAN"]["missed"] == 0
    assert rows["VAE"]["missed"] == 2 and rows["VAE"]["unseen"] == 3
    wrong_again = session.result(BY_ID[first["ids"][0]], {3}, 1, 1, quiz=3)  # the latest answer counts
    rows = {r["topic"]: r for r in session.mastery(log + [wrong_again], {"GAN": 5, "VAE": 5})}
    assert rows["GAN"]["mastered"] == 2 and rows["GAN"]["missed"] == 1


def test_csv_has_the_results_and_cannot_run_formulas():
    rows = [session.result(BY_ID["v0"], {0, 2}, 1, 3, quiz=1), session.result(BY_ID["n0"], -1.5, 1, 2, quiz=1),
            session.result(BY_ID["g0"], {1}, 2, None, quiz=2)]
    rows.append({**rows[2], "your_answer": "=HYPERLINK(1)", "id": "g9"})
    table = list(csv.DictReader(io.StringIO(session.to_csv(rows, "cbm"))))
    assert list(table[0])[:8] == ["quiz", "round", "id", "topic", "answer", "correct", "certainty", "marks"]
    assert [(r["id"], r["topic"], r["correct"], r["certainty"], r["marks"]) for r in table[:3]] == [
        ("v0", "VAE", "yes", "3", "3"), ("n0", "VAE", "yes", "2", "2"), ("g0", "GAN", "no", "", "0")]
    assert table[0]["answer"] == "v0-o0 | v0-o2" and table[1]["answer"] == "-1.5"  # a negative number stays one
    assert table[3]["answer"] == "'=HYPERLINK(1)"
    partial = list(csv.DictReader(io.StringIO(session.to_csv(rows, "partial"))))
    assert [r["marks"] for r in partial] == ["1.000", "1.000", "0.000", "0.000"] and partial[0]["scheme"] == "partial"


def test_session_schemes_extend_the_grading_schemes():
    assert session.SCHEMES == quiz.SCHEMES + ("cbm",) and set(session.SCHEME_NAMES) == set(session.SCHEMES)
    with pytest.raises(ValueError):
        session.marks(session.result(BY_ID["g0"], {0}), "lenient")
