"""Grading rules.

- ``exact``: all or nothing; the picked set must equal the key.
- ``partial`` (Canvas style): +1/|key| for each right pick, -1/|key| for each wrong pick, floored at 0.
  Key {a,b,d}: {a,b,d} -> 1, {a,b} -> 2/3, {a,b,c,d} -> 2/3, {a,b,c} -> 1/3, {} -> 0.
- numeric questions: 1 when |value - answer| <= tolerance, else 0 (both schemes).
- certainty-based marking (Gardner-Medwin; Moodle's CBM), ``cbm_mark``: with each answer the student says
  how sure they are (1, 2, 3); a right answer earns 1, 2 or 3 marks, a wrong one 0, -2 or -6. "Right" is
  the exact match (all the right options of a multi-answer question, no more). Honesty pays: at
  certainty 3 the expected mark beats certainty 2 only if you are right more than 80 % of the time, and
  certainty 2 beats 1 only above 67 %.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from string import ascii_lowercase

from .model import Question

SCHEMES = ("exact", "partial")

RULES = {
    "exact": "All or nothing: you score 1 only when you pick exactly the right options, no more, no less.",
    "partial": "Canvas-style partial credit: each right option you pick adds 1/k and each wrong option you "
               "pick takes away 1/k (k = number of right options); the score never goes below 0. "
               "So picking everything earns nothing for free.",
    "numeric": "Numeric answers count as right when they are within the stated tolerance of the answer.",
    "cbm": "Certainty-based marking: with each answer you say how sure you are. Right earns 1, 2 or 3 marks "
           "(not sure, fairly sure, sure); wrong costs 0, 2 or 6. A multi-answer question is right only when "
           "you pick exactly its right options. Be honest: \"sure\" pays only if you are right more than "
           "80 % of the time, \"fairly sure\" above 67 %.",
}

CERTAINTIES = {1: "not sure", 2: "fairly sure", 3: "sure"}
CBM_MARKS = {1: (1, 0), 2: (2, -2), 3: (3, -6)}  # certainty -> (marks if right, marks if wrong)


def cbm_mark(is_correct: bool, certainty: int) -> int:
    """Certainty-based mark: 1, 2, 3 when correct at certainty 1, 2, 3; 0, -2, -6 when wrong."""
    if not isinstance(is_correct, bool):
        raise TypeError(f"is_correct must be True or False, got {is_correct!r}")
    if isinstance(certainty, bool) or not isinstance(certainty, int) or certainty not in CBM_MARKS:
        raise ValueError(f"certainty must be 1, 2 or 3 ({', '.join(CERTAINTIES.values())}), got {certainty!r}")
    right, wrong = CBM_MARKS[certainty]
    return right if is_correct else wrong


def _indices(question: Question, selected) -> set[int]:
    if selected is None:
        return set()
    if isinstance(selected, bool):
        raise TypeError("selected must be option indices or letters, not a bool")
    if isinstance(selected, int):
        selected = [selected]
    if not isinstance(selected, Iterable):
        raise TypeError(f"selected must be option indices or letters, got {selected!r}")
    out = set()
    for s in selected:
        if isinstance(s, str) and len(s) == 1 and s.lower() in ascii_lowercase:
            i = ascii_lowercase.index(s.lower())
        elif isinstance(s, int) and not isinstance(s, bool):
            i = s
        else:
            raise TypeError(f"not an option index or letter: {s!r}")
        if not 0 <= i < len(question.options):
            raise ValueError(f"option {s!r} is out of range for question {question.id!r} "
                             f"({len(question.options)} options)")
        out.add(i)
    return out


def _number(value) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def grade(question: Question, selected, scheme: str = "exact") -> float:
    """Score in [0, 1]. `selected`: for choice questions an iterable of 0-based option indices (or
    letters, e.g. "abd"), or one index; for numeric questions a number (None or non-numbers score 0)."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown grading scheme {scheme!r}; use one of {', '.join(SCHEMES)}")
    if question.kind == "numeric":
        x = _number(selected)
        if x is None:
            return 0.0
        slack = 1e-9 * max(1.0, abs(question.answer))  # 0.735 vs 0.73 +- 0.005 must count
        return 1.0 if abs(x - question.answer) <= question.tolerance + slack else 0.0
    picked = _indices(question, selected)
    key = question.correct
    if scheme == "exact":
        return 1.0 if picked == key else 0.0
    right = len(picked & key)
    wrong = len(picked - key)
    return max(0.0, (right - wrong) / len(key))
