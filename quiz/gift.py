"""A small reader for Moodle's GIFT format (https://docs.moodle.org/en/GIFT_format), the subset a
self-check quiz needs:

    // comment lines (anywhere; '// source: ...' inside a question sets its source)
    $CATEGORY: GAN                                   -> topic of the questions that follow
    ::Title::Question text {=right ~wrong #feedback ~wrong}          single answer
    ::T2::Pick all that apply {~%50%a ~%50%b ~%-100%c}              multiple answers (positive = right)
    ::T3::What is -ln(0.1)? {#2.30:0.01}                            numeric with tolerance (or {#2.2..2.4})
    ::T4::GANs need labels. {F}                                     true/false
    ... {=a ~b ####general feedback}                                explanation shown after answering

Anything else (essay, short answer, matching, HTML questions, partial credit on a single-answer
question, several numeric answers) raises a QuizFormatError that says so. Answer weights are read for
their sign only: GenLab grades every question with the same rules (quiz.grading).
"""
from __future__ import annotations

import re
from pathlib import Path

from .model import Question, QuizFormatError

SPECIAL = "~=#{}:"
WEIGHT_RE = re.compile(r"^%(-?\d+(?:\.\d+)?)%")


def _unescape(s: str) -> str:
    """Resolve backslash escapes; raw line breaks are spaces (as in Moodle), an escaped \\n is a break."""
    s = " ".join(s.split("\n"))
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out).strip()


def _find(s: str, chars: str, start: int = 0) -> int:
    """Index of the first unescaped char of `chars` in s[start:], or -1."""
    i = start
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        if s[i] in chars:
            return i
        i += 1
    return -1


def _split(s: str, chars: str) -> list[str]:
    """Split at unescaped chars of `chars`, keeping each separator at the start of its piece."""
    pieces, start, i = [], 0, _find(s, chars)
    while i != -1:
        pieces.append(s[start:i])
        start = i
        i = _find(s, chars, i + 1)
    pieces.append(s[start:])
    return pieces


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def _blocks(text: str):
    """(first line number, lines) per question block: blocks are separated by blank lines; comment
    lines are dropped (a '// source: ...' comment is kept aside as the block's source)."""
    block, first, source = [], None, ""
    for n, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        line = raw.strip()
        if not line:
            if block:
                yield first, block, source
            block, first, source = [], None, ""
            continue
        if line.startswith("//"):
            m = re.match(r"//\s*source\s*:\s*(.+)", line, re.I)
            if m:
                source = m.group(1).strip()
            continue
        if first is None:
            first = n
        block.append(raw.rstrip())
    if block:
        yield first, block, source


def parse_gift(text: str, path) -> list[Question]:
    path = Path(path)
    topic = re.sub(r"^[\d_-]+", "", path.stem).replace("-", " ").replace("_", " ").strip() or path.stem
    questions: list[Question] = []
    for line, lines, source in _blocks(text):
        if lines[0].lstrip().startswith("$CATEGORY:"):
            category = lines[0].split(":", 1)[1].strip()
            topic = category.rstrip("/").split("/")[-1].strip() or topic
            lines = lines[1:]
            if not lines:
                continue
            line += 1
        questions.append(_question("\n".join(lines), topic, source, path, line, len(questions) + 1))
    if not questions:
        raise QuizFormatError(path, "no questions found (GIFT questions are separated by blank lines)")
    return questions


def _question(block: str, topic: str, source: str, path: Path, line: int, n: int) -> Question:
    name = f"#{n}"

    def fail(message: str):
        raise QuizFormatError(path, message, question=name, line=line)

    body = block.strip()
    title = ""
    if body.startswith("::"):
        end = body.find("::", 2)
        if end == -1:
            fail("'::title' is not closed with '::'")
        title = _unescape(body[2:end])
        body = body[end + 2:]
        name = title or name
    qid = _slug(title) if title else f"{_slug(path.stem) or 'gift'}-{n}"
    if not qid:
        fail("the title gives no usable id; use letters or digits in '::title::'")

    open_ = _find(body, "{")
    if open_ == -1:
        if _find(body, "}") != -1:
            fail("'}' without '{'")
        fail("no answer block {...}: descriptions (text-only items) are not supported")
    close = _find(body, "}", open_ + 1)
    if close == -1:
        fail("'{' is not closed with '}' (a blank line inside a question ends it)")
    if _find(body, "{", open_ + 1) != -1:
        fail("only one answer block {...} per question is supported")
    before, answers, after = body[:open_], body[open_ + 1:close], body[close + 1:]
    if _find(after, "}") != -1:
        fail("'}' without '{'")

    fmt = re.match(r"^\s*\[(\w+)\]", before)
    if fmt:
        if fmt.group(1).lower() == "html":
            fail("[html] questions are not supported (GenLab never renders HTML); use [markdown]")
        if fmt.group(1).lower() not in ("markdown", "plain", "moodle"):
            fail(f"unknown text format [{fmt.group(1)}]; use [markdown] or leave it out")
        before = before[fmt.end():]
    before, after = _unescape(before), _unescape(after)
    prompt = f"{before} _____ {after}" if after else before  # missing-word questions
    if not prompt:
        fail("empty question text")
    if re.search(r"</?[a-zA-Z][^<>]*>", prompt):
        fail("HTML tags are not supported in question text (GenLab never renders HTML)")

    answers, _, general = answers.partition("####")
    general = _unescape(general)
    core = answers.strip()
    common = dict(id=qid, topic=topic, prompt=prompt, source=source, file=str(path), line=line)
    if not core:
        fail("an empty answer block {} is an essay question, which is not supported")
    if core.startswith("#"):
        return _numeric(core[1:], general, common, fail)
    tf = _split(core, "#")
    if tf[0].strip().upper() in ("T", "F", "TRUE", "FALSE"):
        return _true_false(tf, general, common, fail)
    if "->" in core:
        fail("matching questions (a -> b) are not supported")
    pieces = _split(core, "=~")
    if pieces[0].strip():
        fail(f"text before the first answer: '{pieces[0].strip()}' (answers start with '=' or '~')")
    pieces = pieces[1:]
    if not any(p[0] == "~" for p in pieces):
        fail("answers that are all '=...' make a short-answer question, which is not supported; "
             "mark wrong options with '~'")
    options, weights, marks, feedback = [], [], [], []
    for p in pieces:
        mark, rest = p[0], p[1:].strip()
        weight = None
        m = WEIGHT_RE.match(rest)
        if m:
            weight = float(m.group(1))
            rest = rest[m.end():]
        hash_at = _find(rest, "#")
        text, fb = (rest[:hash_at], rest[hash_at + 1:]) if hash_at != -1 else (rest, "")
        text = _unescape(text)
        if not text:
            fail(f"an empty answer after '{mark}'")
        options.append(text)
        marks.append(mark)
        weights.append(weight)
        feedback.append(_unescape(fb))
    if len(set(options)) != len(options):
        fail("two answers have the same text")
    n_right = marks.count("=")
    if n_right > 1:
        fail("several '=' answers: for a question with several right answers use weights, "
             "e.g. {~%50%right ~%50%right ~%-100%wrong}")
    if n_right == 1:
        for m, w in zip(marks, weights):
            if m == "=" and w is not None and w != 100:
                fail("a weight on the '=' answer is not supported; the '=' answer is worth 100%")
            if m == "~" and w is not None and w > 0:
                fail("partial credit on a wrong answer of a single-answer question is not supported")
        correct = frozenset([marks.index("=")])
        kind = "single"
    else:
        correct = frozenset(i for i, w in enumerate(weights) if w is not None and w > 0)
        if not correct:
            fail("no right answer: mark it with '=' or give right answers a positive weight ~%50%")
        if any(w is not None and not -100 <= w <= 100 for w in weights):
            fail("weights must be between -100% and 100%")
        total = sum(weights[i] for i in correct)
        if abs(total - 100) > 1:
            fail(f"the positive weights add up to {total:g}%, not 100% (Moodle rejects that too)")
        kind = "multiple"
    explanation = _explanation(general, options, feedback)
    if not explanation:
        fail("no feedback: add '####general feedback' (or '#feedback' after answers) so the quiz can "
             "explain the answer")
    return Question(options=options, correct=correct, kind=kind, explanation=explanation,
                    feedback=tuple(feedback), **common)


def _explanation(general: str, options, feedback) -> str:
    if general:
        return general
    return "\n".join(f"- *{o}*: {f}" for o, f in zip(options, feedback) if f)


def _number(s: str, fail) -> float:
    try:
        x = float(s.strip())
    except ValueError:
        fail(f"'{s.strip()}' is not a number")
    if x != x or x in (float("inf"), float("-inf")):
        fail(f"'{s.strip()}' is not a finite number")
    return x


def _numeric(core: str, general: str, common: dict, fail) -> Question:
    core = core.strip()
    feedback = ""
    if core.startswith("="):
        entries = _split(core, "=~")
        entries = [e for e in entries if e.strip()]
        if len(entries) > 1:
            fail("numeric questions with several answers (partial credit) are not supported; "
                 "give one answer with a tolerance, e.g. {#2.30:0.01}")
        core = entries[0][1:].strip()
        m = WEIGHT_RE.match(core)
        if m:
            if float(m.group(1)) != 100:
                fail("a weight below 100% on the only numeric answer is not supported")
            core = core[m.end():]
        hash_at = _find(core, "#")
        if hash_at != -1:
            core, feedback = core[:hash_at], _unescape(core[hash_at + 1:])
    elif _find(core, "#=~") != -1:
        fail("a numeric answer is written {#2.30:0.01}, {#2.2..2.4} or {#=2.30:0.01 #feedback}")
    core = core.replace("\\:", ":")
    if ".." in core:
        lo, hi = (_number(x, fail) for x in core.split("..", 1))
        if lo > hi:
            fail(f"range {lo:g}..{hi:g} is empty")
        answer, tolerance = (lo + hi) / 2, (hi - lo) / 2
    elif ":" in core:
        a, t = core.split(":", 1)
        answer, tolerance = _number(a, fail), _number(t, fail)
        if tolerance < 0:
            fail("the tolerance after ':' must be >= 0")
    else:
        answer, tolerance = _number(core, fail), 0.0
    explanation = general or feedback
    if not explanation:
        fail("no feedback: add '####general feedback' so the quiz can explain the answer")
    return Question(options=[], correct=frozenset(), kind="numeric", answer=answer, tolerance=tolerance,
                    explanation=explanation, **common)


def _true_false(parts, general: str, common: dict, fail) -> Question:
    if len(parts) > 3:
        fail("a true/false answer takes at most two feedbacks: {T#if wrong#if right}")
    truth = parts[0].strip().upper() in ("T", "TRUE")
    if_wrong = _unescape(parts[1][1:]) if len(parts) > 1 else ""
    if_right = _unescape(parts[2][1:]) if len(parts) > 2 else ""
    right = 0 if truth else 1
    feedback = ["", ""]
    feedback[right], feedback[1 - right] = if_right, if_wrong
    options = ["True", "False"]
    explanation = general or _explanation("", options, feedback)
    if not explanation:
        fail("no feedback: add '####general feedback' so the quiz can explain the answer")
    return Question(options=options, correct=frozenset([right]), kind="single", explanation=explanation,
                    feedback=tuple(feedback), **common)
