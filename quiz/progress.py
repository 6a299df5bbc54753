"""A quiz's progress as one short, versioned URL value, so that a student's answers (with their certainty)
survive a server restart or a move to another replica: nothing is stored on the server.

The link already holds the quiz (topics, n, seed, scheme); `progress` adds what the student did:

    progress=1.3f9a.f.2b_3ac_1m0p5-3c

    1        the format's version (a later format gets 2; an old link's 1 stays readable or gets a note)
    3f9a     4 hex digits of the quiz's first-round questions (ids, kinds, option counts): a link whose
             question files changed since is detected instead of mapping answers to other questions
    f        "f": the last answer's feedback is on screen (Next not pressed yet); "a": asking the next one
    2b_3ac_1m0p5-3c
             rounds, separated by "-" (round 2 asks again exactly what round 1 missed), each the answers in
             the order asked, separated by "_". An answer is its certainty (0 = none given, 1-3) and then
             - for a choice question the letters of the picked options in the file's order (a = the first
               option, whatever order the page showed them in), none for an empty pick: "3ac";
             - for a number, the number with "m" for a minus and "p" for the point: -0.5 -> "1m0p5",
               1e-05 -> "2" + "1em05".

Only the characters [0-9a-z.-_] appear, none of which a URL has to escape. `restore` rebuilds the page's
state by replaying the answers through quiz.session (so marks and retries are computed exactly as they
were), and raises ProgressError, with a sentence for the page's note, for any value it cannot take.
"""
from __future__ import annotations

import hashlib
import math
import re
from string import ascii_lowercase

from . import session as qs
from .grading import CERTAINTIES
from .model import Question

VERSION = "1"
MAX_LENGTH = 2000  # characters; a 50-question quiz answered twice is ~600
ASKING, FEEDBACK = "a", "f"


class ProgressError(ValueError):
    """A progress value that cannot be restored; the message says why, for the student."""


# ------------------------------------------------------------------------------------------- pieces

def fingerprint(questions: list[Question]) -> str:
    """4 hex digits that change when the questions (ids, kinds, number of options) change."""
    text = "|".join(f"{q.id}:{q.kind}:{len(q.options)}" for q in questions)
    return hashlib.sha256(text.encode()).hexdigest()[:4]


def encode_number(x: float) -> str:
    """-0.5 -> 'm0p5'; 1e-05 -> '1em05'; 2e+20 -> '2e20'. Finite numbers only."""
    if not math.isfinite(x):
        raise ValueError(f"not a finite number: {x!r}")
    return repr(float(x)).replace("e+", "e").replace("-", "m").replace(".", "p")


def decode_number(text: str) -> float:
    if not re.fullmatch(r"m?\d+(p\d+)?(em?\d+)?", text):
        raise ProgressError("a number is not written in this format")
    x = float(text.replace("m", "-").replace("p", "."))
    if not math.isfinite(x):
        raise ProgressError("a number is too large")
    return x


def encode_answer(question: Question, selected, certainty: int | None) -> str:
    """One answer: its certainty digit, then the picked options' letters or the number."""
    head = str(certainty or 0)
    if question.kind == "numeric":
        return head + ("" if selected is None else encode_number(float(selected)))
    return head + "".join(ascii_lowercase[i] for i in sorted(set(selected or ())))


def decode_answer(question: Question, token: str):
    """(selected, certainty) of one token for this question; ProgressError if it does not fit it."""
    if not token or token[0] not in "0123":
        raise ProgressError("an answer does not start with a certainty 0-3")
    certainty = int(token[0]) or None
    if certainty is not None and certainty not in CERTAINTIES:  # pragma: no cover - "0123" above
        raise ProgressError(f"unknown certainty {certainty}")
    body = token[1:]
    if question.kind == "numeric":
        return (decode_number(body) if body else None), certainty
    if not re.fullmatch(r"[a-z]*", body) or list(body) != sorted(set(body)):
        raise ProgressError(f"the answer to {question.id!r} is not a list of option letters")
    picked = {ascii_lowercase.index(c) for c in body}
    if any(i >= len(question.options) for i in picked):
        raise ProgressError(f"the answer to {question.id!r} picks an option that question does not have")
    if question.kind == "single" and len(picked) != 1:
        raise ProgressError(f"the answer to the one-answer question {question.id!r} picks {len(picked)}")
    return picked, certainty


# ------------------------------------------------------------------------------------------- the value

def encode(state: dict, log: list[dict], questions: list[Question]) -> str:
    """The progress value of the page's quiz `state`, from the answers of this quiz in `log` (every
    result of the browser session; a result must carry its raw `selected`)."""
    cfg = state["config"]
    by_id = {q.id: q for q in questions}
    first = qs.pick(questions, cfg["topics"], cfg["n"], cfg["seed"])
    mine = [r for r in log if r["quiz"] == state["quiz"]]
    rounds = [[r for r in mine if r["round"] == k] for k in range(1, state["round"] + 1)]
    body = "-".join("_".join(encode_answer(by_id[r["id"]], r["selected"], r["certainty"]) for r in answers)
                    for answers in rounds)
    return ".".join([VERSION, fingerprint(first), FEEDBACK if state["submitted"] else ASKING, body])


def restore(text: str, config: dict, questions: list[Question], quiz: int = 1) -> tuple[dict, list[dict]]:
    """(state, results) of the quiz `config` after the answers in `text`, replayed through quiz.session as
    the page plays them. ProgressError (with a sentence for the student) for anything that does not fit."""
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        raise ProgressError("the progress value is missing or too long")
    version, _, rest = text.partition(".")
    if version != VERSION:
        raise ProgressError("the progress is in a format this version of GenLab cannot read")
    parts = rest.split(".", 2)
    if len(parts) != 3:
        raise ProgressError("the progress value is cut short")
    check, status, body = parts
    first = qs.pick(questions, config["topics"], config["n"], config["seed"])
    if check != fingerprint(first):
        raise ProgressError("the quiz's questions have changed since this link was made")
    if status not in (ASKING, FEEDBACK):
        raise ProgressError("the progress has an unknown status")
    by_id = {q.id: q for q in questions}
    state, log = qs.start(config, questions, quiz=quiz), []
    rounds = body.split("-") if body else []
    for k, tokens in enumerate(rounds):
        if k:  # another round: exactly what the last one missed, as the page's Retry button
            qs.advance(state)  # (past the last answer's feedback; nothing when it was not shown)
            if state["pos"] < len(state["ids"]) or not qs.missed_ids(state["results"]):
                raise ProgressError(f"round {k + 1} follows a round that was not finished or missed nothing")
            state = qs.retry(state)
        answers = tokens.split("_") if tokens else []
        if len(answers) > len(state["ids"]):
            raise ProgressError(f"round {k + 1} has {len(answers)} answers for {len(state['ids'])} questions")
        if not answers and k < len(rounds) - 1:
            raise ProgressError(f"round {k + 1} is empty")
        for token in answers:
            if state["submitted"]:
                qs.advance(state)
            q = by_id[state["ids"][state["pos"]]]
            selected, certainty = decode_answer(q, token)
            qs.record(state, log, qs.result(q, selected, state["round"], certainty, quiz))
    if status == FEEDBACK and not state["submitted"]:
        raise ProgressError("the progress shows feedback but no answer")
    if status == ASKING and state["submitted"]:
        qs.advance(state)
    return state, log


__all__ = ["ProgressError", "VERSION", "decode_answer", "decode_number", "encode", "encode_answer",
           "encode_number", "fingerprint", "restore"]
