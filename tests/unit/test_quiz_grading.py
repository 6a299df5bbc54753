"""Grading rules: exact (all or nothing), partial (Canvas: +1/k per right pick, -1/k per wrong pick,
floor 0), numeric (tolerance), including the issue's worked example, and certainty-based marking."""
import itertools
import math

import pytest

import quiz
from quiz import Question


def choice(correct, n_options=4, kind=None):
    correct = frozenset(correct)
    return Question(id="q", topic="T", prompt="?", options=[f"o{i}" for i in range(n_options)],
                    correct=correct, explanation="because",
                    kind=kind or ("single" if len(correct) == 1 else "multiple"))


def numeric(answer, tolerance):
    return Question(id="n", topic="T", prompt="?", options=[], correct=frozenset(), explanation="because",
                    kind="numeric", answer=answer, tolerance=tolerance)


KEY_ABD = choice({0, 1, 3})


@pytest.mark.parametrize("picked, exact, partial", [
    ({0, 1, 3}, 1.0, 1.0),        # {a,b,d}
    ({0, 1}, 0.0, 2 / 3),         # {a,b}
    ({0, 1, 2, 3}, 0.0, 2 / 3),   # {a,b,c,d}
    ({0, 1, 2}, 0.0, 1 / 3),      # {a,b,c}
    (set(), 0.0, 0.0),            # {}
])
def test_worked_example_from_the_issue(picked, exact, partial):
    assert quiz.grade(KEY_ABD, picked, "exact") == exact
    assert quiz.grade(KEY_ABD, picked) == exact  # exact is the default
    assert quiz.grade(KEY_ABD, picked, "partial") == pytest.approx(partial)
    assert round(quiz.grade(KEY_ABD, picked, "partial"), 3) == round(partial, 3)


def test_letters_work_like_indices():
    assert quiz.grade(KEY_ABD, "abd") == 1.0
    assert quiz.grade(KEY_ABD, ["a", "B"], "partial") == pytest.approx(2 / 3)


def test_partial_is_floored_at_zero():
    q = choice({0})
    assert quiz.grade(q, {1, 2, 3}, "partial") == 0.0
    assert quiz.grade(KEY_ABD, {0, 2}, "partial") == 0.0  # +1/3 - 1/3
    assert quiz.grade(choice({0, 1}), {0, 2, 3}, "partial") == 0.0  # 1/2 - 2/2 < 0


def test_single_answer_question():
    q = choice({1})
    assert quiz.grade(q, 1) == 1.0
    assert quiz.grade(q, {1}, "partial") == 1.0
    assert quiz.grade(q, 0) == 0.0
    assert quiz.grade(q, {0}, "partial") == 0.0
    assert quiz.grade(q, None) == 0.0


def test_every_subset_scores_in_range_and_partial_never_below_exact():
    for key in [{0}, {0, 1}, {0, 1, 3}, {0, 1, 2, 3}]:
        q = choice(key)
        for r in range(5):
            for picked in itertools.combinations(range(4), r):
                e, p = quiz.grade(q, picked, "exact"), quiz.grade(q, picked, "partial")
                assert 0.0 <= e <= 1.0 and 0.0 <= p <= 1.0
                assert p >= e
                assert (e == 1.0) == (set(picked) == key) == (p == 1.0)


def test_bad_selections_and_schemes_are_errors():
    with pytest.raises(ValueError, match="out of range"):
        quiz.grade(KEY_ABD, {4})
    with pytest.raises(ValueError, match="out of range"):
        quiz.grade(KEY_ABD, "e")
    with pytest.raises(ValueError, match="scheme"):
        quiz.grade(KEY_ABD, {0}, "lenient")
    with pytest.raises(TypeError):
        quiz.grade(KEY_ABD, True)


@pytest.mark.parametrize("value, expected", [
    (0.73, 1.0), (0.7311, 1.0), (0.725, 1.0), (0.735, 1.0),   # inside, and both edges (float noise)
    (0.736, 0.0), (0.72, 0.0), (-0.73, 0.0),
    ("0.73", 1.0), (" 0.731 ", 1.0), ("abc", 0.0), (None, 0.0), (math.nan, 0.0), (math.inf, 0.0),
    (True, 0.0),
])
def test_numeric_is_graded_by_tolerance(value, expected):
    q = numeric(0.73, 0.005)
    assert quiz.grade(q, value) == expected
    assert quiz.grade(q, value, "partial") == expected


def test_numeric_with_zero_tolerance_needs_the_exact_value():
    q = numeric(784, 0)
    assert quiz.grade(q, 784) == 1.0
    assert quiz.grade(q, 784.0) == 1.0
    assert quiz.grade(q, 783) == 0.0
    assert quiz.grade(q, 784.01) == 0.0


def test_rules_are_explained_for_the_page():
    assert set(quiz.RULES) >= {"exact", "partial", "numeric", "cbm"}
    assert quiz.SCHEMES == ("exact", "partial")  # what grade() takes; the page adds "cbm" (quiz.session)


# Gardner-Medwin's table (Moodle's CBM): certainty 1, 2, 3 -> marks when right, marks when wrong.
@pytest.mark.parametrize("certainty, right, wrong", [(1, 1, 0), (2, 2, -2), (3, 3, -6)])
def test_cbm_table(certainty, right, wrong):
    assert quiz.cbm_mark(True, certainty) == right
    assert quiz.cbm_mark(False, certainty) == wrong
    assert quiz.CERTAINTIES[certainty] == {1: "not sure", 2: "fairly sure", 3: "sure"}[certainty]


def test_cbm_rewards_honesty():
    """The expected mark at each certainty is best exactly in that certainty's band of accuracy:
    1 below 67 %, 2 between 67 % and 80 %, 3 above 80 % (so guessing honestly pays)."""
    def expected(p, c):
        return p * quiz.cbm_mark(True, c) + (1 - p) * quiz.cbm_mark(False, c)
    for p, best in [(0.0, 1), (0.5, 1), (0.6, 1), (0.7, 2), (0.75, 2), (0.85, 3), (1.0, 3)]:
        assert max((1, 2, 3), key=lambda c: expected(p, c)) == best, p


@pytest.mark.parametrize("args, error", [
    ((True, 0), ValueError), ((True, 4), ValueError), ((True, 2.0), ValueError), ((True, None), ValueError),
    ((True, True), ValueError), ((1, 2), TypeError), ((0.5, 2), TypeError),
])
def test_cbm_rejects_what_is_not_a_certainty_or_a_verdict(args, error):
    with pytest.raises(error):
        quiz.cbm_mark(*args)
