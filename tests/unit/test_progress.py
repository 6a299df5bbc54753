"""Progress in the URL: a quiz's answers with their certainty (quiz.progress) and the answers of
"Which one is real?" (genlib.real_or_fake) survive as one short value. At every point of a played quiz the
value restores exactly the same state; anything else (old format, changed questions, a value cut or typed
by hand) raises ProgressError with a sentence for the page, never another exception."""
import random
import re

import pytest

from genlib import real_or_fake as rf
from quiz import Question, progress
from quiz import session as qs
from tests.unit.test_quiz_session import choice, numeric  # the same small questions

QUESTIONS = [choice(f"g{i}", "GAN", {0}) for i in range(5)] + [choice(f"v{i}", "VAE", {0, 2}) for i in range(4)] \
    + [numeric("n0", "VAE", -1.5), numeric("n1", "GAN", 2e-5)]
BY_ID = {q.id: q for q in QUESTIONS}
CONFIG = {"topics": ["GAN", "VAE"], "n": 9, "seed": 7, "scheme": "cbm"}
URL_SAFE = re.compile(r"[0-9a-z._-]*")


def an_answer(q: Question, rng: random.Random):
    """A right or wrong answer of the question's kind, with a certainty or none."""
    certainty = rng.choice([None, 1, 2, 3])
    if q.kind == "numeric":
        return rng.choice([q.answer, -0.5, 1e-05, 123456.789, None]), certainty
    if q.kind == "single":
        return {rng.randrange(len(q.options))}, certainty
    return {i for i in range(len(q.options)) if rng.random() < 0.5}, certainty


def snapshots(seed: int):
    """Play a quiz with random answers, retrying what was missed; yield (state, log) after every step
    (an answer with its feedback on screen, then Next), deep-copied by encoding at once."""
    rng = random.Random(seed)
    state, log = qs.start({**CONFIG, "seed": seed}, QUESTIONS, quiz=1), []
    yield state, log
    for _ in range(3):  # rounds
        while state["pos"] < len(state["ids"]):
            q = BY_ID[state["ids"][state["pos"]]]
            selected, certainty = an_answer(q, rng)
            qs.record(state, log, qs.result(q, selected, state["round"], certainty, state["quiz"]))
            yield state, log
            qs.advance(state)
            yield state, log
        if not qs.missed_ids(state["results"]):
            return
        state = qs.retry(state)
        yield state, log


def comparable(state):
    return {k: state[k] for k in ("config", "ids", "round", "pos", "submitted", "results")}


@pytest.mark.parametrize("seed", range(12))
def test_every_point_of_a_quiz_comes_back_from_its_value(seed):
    config = {**CONFIG, "seed": seed}
    for state, log in snapshots(seed):
        value = progress.encode(state, log, QUESTIONS)
        assert URL_SAFE.fullmatch(value), value
        restored, results = progress.restore(value, config, QUESTIONS)
        assert comparable(restored) == comparable(state), value
        assert results == [r for r in log if r["quiz"] == state["quiz"]], value
        assert progress.encode(restored, results, QUESTIONS) == value


def test_the_format_reads_as_documented():
    config = {**CONFIG, "seed": 3}
    state = qs.start(config, QUESTIONS)
    first = [BY_ID[i] for i in state["ids"]]
    tokens = []
    for q in first[:3]:
        selected = -0.5 if q.kind == "numeric" else sorted(q.correct)
        tokens.append(progress.encode_answer(q, selected, 3))
    value = f"1.{progress.fingerprint(first)}.f." + "_".join(tokens)
    restored, log = progress.restore(value, config, QUESTIONS)
    assert (restored["pos"], restored["submitted"], len(log)) == (2, True, 3)
    assert [r["certainty"] for r in log] == [3, 3, 3]
    assert progress.encode_answer(BY_ID["v0"], {2, 0}, None) == "0ac"
    assert progress.encode_answer(BY_ID["n0"], -0.5, 1) == "1m0p5"
    assert progress.encode_answer(BY_ID["n0"], None, 2) == "2"


@pytest.mark.parametrize("x", [0.0, -0.0, -0.5, 1e-05, 2e20, -1.5e-300, 123456.789, 0.1 + 0.2])
def test_numbers_round_trip_exactly(x):
    code = progress.encode_number(x)
    assert URL_SAFE.fullmatch(code) and "." not in code and "-" not in code
    assert progress.decode_number(code) == x


def test_bad_values_get_a_reason_not_a_crash():
    config = {**CONFIG, "seed": 3}
    state = qs.start(config, QUESTIONS)
    fp = progress.fingerprint([BY_ID[i] for i in state["ids"]])
    first = BY_ID[state["ids"][0]]
    good = progress.encode_answer(first, -0.5 if first.kind == "numeric" else sorted(first.correct), 2)
    bad = {
        "2.abcd.a.": "format",
        f"1.{fp}": "cut short",
        f"1.ffff.a.{good}": "changed",
        f"1.{fp}.x.{good}": "status",
        f"1.{fp}.f.": "feedback but no answer",
        f"1.{fp}.a.4{good[1:]}": "certainty",
        f"1.{fp}.a." + "_".join([good] * 10): "answers for",
        f"1.{fp}.a.{good}-{good}": "not finished",
        f"1.{fp}.a.{good}--": "not finished",
        "1." + "x" * 3000: "too long",
    }
    for value, reason in bad.items():
        with pytest.raises(progress.ProgressError, match=reason):
            progress.restore(value, config, QUESTIONS)
    with pytest.raises(progress.ProgressError):
        progress.restore(None, config, QUESTIONS)
    retry = next(progress.encode(st, log, QUESTIONS) for st, log in snapshots(3) if st["round"] == 2)
    assert retry.endswith("-"), "a retry round just started: an empty last round"
    progress.restore(retry, config, QUESTIONS)
    with pytest.raises(progress.ProgressError, match="round 2 is empty"):
        progress.restore(retry + "-0a", config, QUESTIONS)
    assert issubclass(progress.ProgressError, ValueError)


def test_answers_must_fit_their_question():
    single, multiple, number = BY_ID["g0"], BY_ID["v0"], BY_ID["n0"]
    assert progress.decode_answer(single, "3b") == ({1}, 3)
    assert progress.decode_answer(multiple, "0") == (set(), None)
    assert progress.decode_answer(number, "1m1p5") == (-1.5, 1)
    for q, token in [(single, "3"), (single, "3ab"), (single, "3e"), (multiple, "2ca"), (multiple, "2aa"),
                     (multiple, "2A"), (number, "1abc"), (number, "1p"), (number, "1e999"), (single, ""),
                     (single, "9a")]:
        with pytest.raises(progress.ProgressError):
            progress.decode_answer(q, token)


@pytest.mark.parametrize("seed", range(5))
def test_random_values_restore_or_explain(seed):
    """Values typed by hand or mangled by a chat program: each one restores or raises ProgressError."""
    rng = random.Random(seed)
    config = {**CONFIG, "seed": seed}
    values = [progress.encode(s, log, QUESTIONS) for s, log in snapshots(seed)]
    alphabet = "0123456789abcdefmp._-"
    restored = 0
    for _ in range(400):
        value = list(rng.choice(values))
        for _ in range(rng.randint(1, 3)):  # change, insert or drop a character
            i = rng.randrange(len(value) + 1)
            op = rng.choice("cid")
            if op == "c" and i < len(value):
                value[i] = rng.choice(alphabet)
            elif op == "i":
                value.insert(i, rng.choice(alphabet))
            elif i < len(value):
                del value[i]
        try:
            progress.restore("".join(value), config, QUESTIONS)
            restored += 1
        except progress.ProgressError:
            pass
    assert restored < 400  # most mangled values are caught


# ------------------------------------------------------------------------------------------- the game

ROUNDS = rf.plan_rounds(11, 8, ["vae-mnist-32", "pixelcnn-mnist"], {"digits": 200})


def test_game_answers_round_trip():
    rng = random.Random(0)
    for n in range(len(ROUNDS) + 1):
        answers = [(rng.random() < 0.5, rng.choice([1, 2, 3])) for _ in range(n)]
        value = rf.encode_answers(ROUNDS, answers)
        assert URL_SAFE.fullmatch(value) and len(value) == 7 + 2 * n
        assert rf.decode_answers(value, ROUNDS) == answers


def test_game_answers_are_checked_against_the_rounds():
    value = rf.encode_answers(ROUNDS, [(True, 3), (False, 1)])
    other = rf.plan_rounds(11, 8, ["vae-mnist-32"], {"digits": 200})  # a machine with fewer models
    with pytest.raises(rf.ProgressError, match="differ"):
        rf.decode_answers(value, other)
    fp = rf.rounds_fingerprint(ROUNDS)
    for bad in ["2." + value[2:], f"1.{fp}.l4", f"1.{fp}.x1", f"1.{fp}.l", f"1.{fp}." + "l1" * 9, "", "1"]:
        with pytest.raises(rf.ProgressError):
            rf.decode_answers(bad, ROUNDS)
    with pytest.raises(ValueError):
        rf.encode_answers(ROUNDS, [(True, 4)])


def test_round_trips_on_the_shipped_question_bank():
    """The real files' questions (every kind, GIFT and YAML) through random quizzes, as in the page."""
    import quiz

    bank = quiz.load_bank()
    assert max(len(q.options) for q in bank.questions) <= 26, "option letters a-z must cover every question"
    by_id = bank.by_id()
    for seed in range(3):
        rng = random.Random(seed)
        config = {"topics": bank.topics(), "n": 12, "seed": seed, "scheme": "cbm"}
        state, log = qs.start(config, bank.questions), []
        for _ in range(2):
            while state["pos"] < len(state["ids"]):
                q = by_id[state["ids"][state["pos"]]]
                selected, certainty = an_answer(q, rng)
                qs.record(state, log, qs.result(q, selected, state["round"], certainty, state["quiz"]))
                value = progress.encode(state, log, bank.questions)
                restored, _ = progress.restore(value, config, bank.questions)
                assert comparable(restored) == comparable(state), value
                qs.advance(state)
            if not qs.missed_ids(state["results"]):
                break
            state = qs.retry(state)
        assert len(value) < 200, value
