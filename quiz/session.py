"""The pure logic behind a quiz session (no streamlit): which questions, in which order, with which
option order; the state of a running quiz (answer, next, retry what you missed); and how results are
summarised (score, certainty-based marks, mastery per topic) and exported. Everything random takes the
seed, so the same link gives the same quiz.

A state is a plain dict (the page keeps it in st.session_state):
    {"config": {...}, "quiz": 1, "ids": [...], "round": 1, "pos": 0, "submitted": False, "results": []}
A log is the list of every result of this browser session, across quizzes and rounds.
"""
from __future__ import annotations

import csv
import io
import random
import re

from .grading import CBM_MARKS, CERTAINTIES, _indices, _number, cbm_mark, grade
from .model import Question

SCHEMES = ("exact", "partial", "cbm")  # what the page offers; grade() knows the first two
SCHEME_NAMES = {"exact": "All or nothing", "partial": "Partial credit", "cbm": "Certainty-based (CBM)"}
UNSTATED_CERTAINTY = 1  # an answer given without a certainty (another scheme was on) counts as "not sure"


def topic_slug(topic: str) -> str:
    """'PixelRNN / PixelCNN' -> 'pixelrnn-pixelcnn' (how topics appear in the URL)."""
    return re.sub(r"[^a-z0-9]+", "-", topic.lower()).strip("-")


def pick(questions: list[Question], topics, n: int, seed: int) -> list[Question]:
    """n questions from the given topics, shuffled by seed (all of them when n is larger)."""
    wanted = set(topics)
    pool = [q for q in questions if q.topic in wanted]
    random.Random(f"questions:{seed}").shuffle(pool)
    return pool[:max(0, n)]


def option_order(question: Question, seed: int) -> list[int]:
    """A seeded permutation of the question's option indices (same seed and id, same order)."""
    order = list(range(len(question.options)))
    random.Random(f"options:{seed}:{question.id}").shuffle(order)
    return order


# ---------------------------------------------------------------------------------------------- state

def start(config: dict, questions: list[Question], quiz: int = 1) -> dict:
    """A new quiz: the questions the config (topics, n, seed) picks, none answered yet."""
    picked = pick(questions, config["topics"], config["n"], config["seed"])
    return {"config": dict(config), "quiz": quiz, "ids": [q.id for q in picked], "round": 1, "pos": 0,
            "submitted": False, "results": []}


def record(state: dict, log: list, res: dict) -> bool:
    """Keep the answer to the question on screen, once (a double click must not count it twice)."""
    if state["submitted"]:
        return False
    state["results"].append(res)
    log.append(res)
    state["submitted"] = True
    return True


def advance(state: dict) -> None:
    if state["submitted"]:
        state["pos"] += 1
        state["submitted"] = False


def missed_ids(results: list[dict]) -> list[str]:
    """The questions not fully right, in the order they were asked."""
    return [r["id"] for r in results if not r["correct"]]


def retry(state: dict) -> dict:
    """The next round of the same quiz: exactly the questions of this round that were not fully right."""
    return {**state, "ids": missed_ids(state["results"]), "round": state["round"] + 1, "pos": 0,
            "submitted": False, "results": []}


# ---------------------------------------------------------------------------------------------- results

def answer_text(question: Question, selected) -> str:
    """A student's answer as plain text, for review and CSV."""
    if question.kind == "numeric":
        return "" if selected is None else f"{selected:g}" if isinstance(selected, (int, float)) else str(selected)
    return " | ".join(question.options[i] for i in sorted(selected or ()))


def key_text(question: Question) -> str:
    """The right answer as plain text."""
    if question.kind == "numeric":
        return f"{question.answer:g} (± {question.tolerance:g})" if question.tolerance else f"{question.answer:g}"
    return " | ".join(question.options[i] for i in sorted(question.correct))


def result(question: Question, selected, round_: int = 1, certainty: int | None = None, quiz: int = 1) -> dict:
    """One answered question: its scores under every scheme and the texts needed to review or export it."""
    exact = grade(question, selected, "exact")
    if certainty is not None:
        cbm_mark(True, certainty)  # validates it
    return {
        "quiz": quiz,
        "round": round_,
        "id": question.id,
        "topic": question.topic,
        "kind": question.kind,
        "prompt": question.prompt,
        "your_answer": answer_text(question, selected),
        # the answer itself (a number or None; sorted option indices), which quiz.progress puts in the URL
        "selected": _number(selected) if question.kind == "numeric" else tuple(sorted(_indices(question, selected))),
        "correct_answer": key_text(question),
        "correct": exact == 1.0,
        "certainty": certainty,
        "exact": exact,
        "partial": grade(question, selected, "partial"),
        "source": question.source,
    }


def marks(res: dict, scheme: str) -> float:
    """What one answer earns under a scheme: a score in [0, 1], or CBM marks in {-6, ..., 3}."""
    if scheme == "cbm":
        return cbm_mark(res["correct"], res["certainty"] or UNSTATED_CERTAINTY)
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r}; use one of {', '.join(SCHEMES)}")
    return res[scheme]


def summary(results: list[dict], scheme: str) -> tuple[float, dict[str, tuple[float, int]]]:
    """(mean marks per question, {topic: (mean marks, count)}) under a scheme (for exact and partial the
    mean is a score in [0, 1])."""
    if not results:
        return 0.0, {}
    per: dict[str, list[float]] = {}
    for r in results:
        per.setdefault(r["topic"], []).append(marks(r, scheme))
    total = sum(marks(r, scheme) for r in results) / len(results)
    return total, {t: (sum(v) / len(v), len(v)) for t, v in per.items()}


def cbm_summary(results: list[dict]) -> dict:
    """Certainty-based marks: total, average per question, and per certainty level how many answers were
    given at it and how many of them were right; `unstated` counts answers given without a certainty."""
    levels = {c: {"answers": 0, "right": 0} for c in CERTAINTIES}
    for r in results:
        level = levels[r["certainty"] or UNSTATED_CERTAINTY]
        level["answers"] += 1
        level["right"] += r["correct"]
    total = sum(marks(r, "cbm") for r in results)
    return {"total": total, "average": total / len(results) if results else 0.0, "questions": len(results),
            "levels": levels, "unstated": sum(r["certainty"] is None for r in results),
            "sure_and_wrong": [r["id"] for r in results if r["certainty"] == 3 and not r["correct"]]}


# Gardner-Medwin's break-even points: certainty 2 beats 1 when p > 2/3 (4p - 2 > p), and 3 beats 2 when
# p > 0.8 (9p - 6 > 4p - 2). Accuracy outside a level's band means another level would have paid more.
BEST_RANGE = {1: (0.0, 2 / 3), 2: (2 / 3, 0.8), 3: (0.8, 1.0)}


def cbm_advice(cbm: dict) -> str:
    """One sentence on how well the student's certainty matched their knowledge."""
    levels = cbm["levels"]
    sure_wrong = len(cbm["sure_and_wrong"])
    if sure_wrong:
        return (f"You were sure and wrong on {sure_wrong} question{'s' if sure_wrong > 1 else ''} "
                f"(−6 each): look at {'those' if sure_wrong > 1 else 'that one'} first.")
    n, right = levels[2]["answers"], levels[2]["right"]  # (a wrong "sure" answer was caught above)
    if n and right / n < BEST_RANGE[2][0]:
        return (f"When fairly sure you were right on only {right} of {n}: below 67 %, \"not sure\" "
                f"pays more, so hold back until you know.")
    n, right = levels[1]["answers"], levels[1]["right"]
    if n >= 2 and right / n > 0.8:
        return (f"When not sure you were right on {right} of {n}: trust yourself more, \"fairly sure\" or "
                f"\"sure\" would have earned more.")
    if not cbm["questions"]:
        return "Answer some questions to see how well your certainty matches what you know."
    return "Your certainty matched what you knew: keep marking it honestly."


def mastery(log: list[dict], topic_sizes: dict[str, int]) -> list[dict]:
    """Per topic, across every quiz of this session: questions whose latest answer was fully right
    (mastered), those whose latest answer was not (missed), and those not asked yet. A topic appears
    when it holds questions in the bank or has been asked."""
    latest: dict[str, dict] = {}
    for r in log:
        latest[r["id"]] = r
    rows = []
    for topic in dict.fromkeys([*topic_sizes, *(r["topic"] for r in log)]):
        answers = [r for r in latest.values() if r["topic"] == topic]
        mastered = sum(r["correct"] for r in answers)
        size = max(topic_sizes.get(topic, 0), len(answers))
        rows.append({"topic": topic, "mastered": mastered, "missed": len(answers) - mastered,
                     "unseen": size - len(answers), "questions": size})
    return rows


# ---------------------------------------------------------------------------------------------- CSV

CSV_FIELDS = ["quiz", "round", "id", "topic", "answer", "correct", "certainty", "marks", "scheme",
              "right_answer", "prompt"]


def _cell(value):
    """Text that a spreadsheet would run as a formula (=, +, -, @) is prefixed with an apostrophe; a plain
    negative number stays a number."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") \
            and not re.fullmatch(r"-\d+(\.\d*)?(e[+-]?\d+)?", value):
        return "'" + value
    return value


def to_csv(log: list[dict], scheme: str) -> str:
    """The results (question id, topic, answer, correct, certainty, marks under `scheme`, ...) as CSV."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in log:
        m = marks(r, scheme)
        row = {"quiz": r["quiz"], "round": r["round"], "id": r["id"], "topic": r["topic"],
               "answer": r["your_answer"], "correct": "yes" if r["correct"] else "no",
               "certainty": r["certainty"] or "", "marks": f"{m:d}" if scheme == "cbm" else f"{m:.3f}",
               "scheme": scheme, "right_answer": r["correct_answer"], "prompt": r["prompt"]}
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


__all__ = ["BEST_RANGE", "CBM_MARKS", "CSV_FIELDS", "SCHEMES", "SCHEME_NAMES", "UNSTATED_CERTAINTY", "advance",
           "answer_text", "cbm_advice", "cbm_summary", "key_text", "marks", "mastery", "missed_ids",
           "option_order", "pick", "record", "result", "retry", "start", "summary", "to_csv", "topic_slug"]
