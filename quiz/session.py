"""The pure logic behind a quiz session (no streamlit): which questions, in which order, with which
option order, and how results are summarised and exported. Everything random takes the seed, so the
same link gives the same quiz."""
from __future__ import annotations

import csv
import io
import random
import re

from .grading import grade
from .model import Question


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


def result(question: Question, selected, round_: int = 1) -> dict:
    """One answered question: both scores and the texts needed to review or export it."""
    return {
        "round": round_,
        "id": question.id,
        "topic": question.topic,
        "kind": question.kind,
        "prompt": question.prompt,
        "your_answer": answer_text(question, selected),
        "correct_answer": key_text(question),
        "exact": grade(question, selected, "exact"),
        "partial": grade(question, selected, "partial"),
        "source": question.source,
    }


def summary(results: list[dict], scheme: str) -> tuple[float, dict[str, tuple[float, int]]]:
    """(mean score in [0, 1], {topic: (mean score, count)}) under a scheme."""
    if not results:
        return 0.0, {}
    per: dict[str, list[float]] = {}
    for r in results:
        per.setdefault(r["topic"], []).append(r[scheme])
    total = sum(r[scheme] for r in results) / len(results)
    return total, {t: (sum(v) / len(v), len(v)) for t, v in per.items()}


CSV_FIELDS = ["round", "id", "topic", "kind", "prompt", "your_answer", "correct_answer", "exact", "partial",
              "source"]


def _cell(value):
    """Text that a spreadsheet would run as a formula (=, +, @) is prefixed with an apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(results: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in results:
        row = {k: _cell(v) for k, v in r.items()}
        writer.writerow({**row, "exact": f"{r['exact']:.3f}", "partial": f"{r['partial']:.3f}"})
    return out.getvalue()


__all__ = ["CSV_FIELDS", "answer_text", "key_text", "option_order", "pick", "result", "summary",
           "to_csv", "topic_slug"]
