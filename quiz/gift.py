"""A reader for Moodle's GIFT format (https://docs.moodle.org/en/GIFT_format) as teachers write it and as
Moodle exports it (question/format/gift/format.php):

    // question: 12  name: Neg log                   comment lines (Moodle writes one per question)
    $CATEGORY: $course$/top/Default for C1/GAN       the last part of the path is the topic
    // topic: GAN                                    GenLab's override: the topic of the questions after it
    ::Title::[html]<p>Question text</p>{             [html]: tags removed, shown as plain text
    \t=right#feedback                                single answer ('=' marks the right one)
    \t~wrong
    \t####general feedback                           the explanation shown after answering
    }
    ::T2::Pick all that apply {~%50%a ~%50%b ~%-100%c}     multiple answers (positive weight = right)
    ::T3::What is -ln(0.1)? {#=%100%2.30:0.01#}            numeric (also {#2.30:0.01} and {#2.2..2.4})
    ::T4::GANs need labels. {FALSE}                        true/false: {T} {F} {TRUE} {FALSE}
    // source: Error Functions, slide 58                   GenLab's comment: where the question comes from

A question without feedback loads; its explanation states the right answer and `has_feedback` is False.
Types GenLab cannot ask (essay, short answer, matching, description, cloze) and questions with a mistake
are skipped one by one: each gives a QuizFormatError naming the file, line and question type in
`QuestionList.skipped`, and the rest of the file loads. Answer weights are read for their sign only:
GenLab grades every question with the same rules (quiz.grading).
"""
from __future__ import annotations

import html
import re
from pathlib import Path

from .model import Question, QuestionList, QuizFormatError

WEIGHT_RE = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
FORMAT_RE = re.compile(r"^\s*\[(\w+)\]")
CLOZE_RE = re.compile(r"\{\d*\\?:(MULTICHOICE|MULTIRESPONSE|SHORTANSWER|NUMERICAL|MC|MR|SA|MW|NM)\w*\\?:", re.I)
FORMATS = {"html": "text", "plain": "text", "markdown": "markdown", "moodle": "markdown"}


class _Skip(Exception):
    """One question cannot be used: its QuizFormatError is kept and the file goes on."""

    def __init__(self, error: QuizFormatError):
        super().__init__(str(error))
        self.error = error


# ---------------------------------------------------------------------------------------------- text

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


def html_to_text(s: str) -> str:
    """Text of an HTML fragment as a reader sees it: tags dropped, entities decoded, paragraphs and <br>
    kept as line breaks, list items as bullets. Nothing of it is ever rendered as HTML."""
    s = re.sub(r"\s+", " ", s)  # in HTML, line breaks in the source are spaces
    s = re.sub(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>", "", s, flags=re.I | re.S)
    s = re.sub(r"<br\s*/?>", "\n", s, flags=re.I)
    s = re.sub(r"<li\b[^>]*>", "\n• ", s, flags=re.I)
    s = re.sub(r"</(p|div|h[1-6]|ul|ol|table|tr|blockquote|pre)\s*>", "\n\n", s, flags=re.I)
    s = re.sub(r"</?[a-zA-Z][^<>]*>", "", s)
    s = html.unescape(s).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in s.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _mathjax_to_dollars(s: str) -> str:
    r"""Moodle's MathJax delimiters \( \) and \[ \] as the $ $ and $$ $$ that Streamlit typesets."""
    s = re.sub(r"\\\((.+?)\\\)", lambda m: f"${m.group(1).strip()}$", s, flags=re.S)
    return re.sub(r"\\\[(.+?)\\\]", lambda m: f"$${m.group(1).strip()}$$", s, flags=re.S)


def _text(raw: str, fmt: str, fail) -> str:
    """One piece of text (prompt, answer, feedback) in the question's format, or its own [format] tag."""
    m = FORMAT_RE.match(raw)
    if m and m.group(1).lower() in FORMATS:
        fmt, raw = m.group(1).lower(), raw[m.end():]
    if fmt == "html":
        text = html_to_text(_unescape(raw))  # an escaped \n is just whitespace in HTML
    else:
        text = _unescape(raw)
        if fmt != "plain" and re.search(r"</?[a-zA-Z][^<>]*>", text):
            fail("HTML tags outside an [html] question are not supported (GenLab never renders HTML); "
                 "start the question with [html] to show its text without tags")
    return _mathjax_to_dollars(text)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


# ---------------------------------------------------------------------------------------------- file

def _blocks(text: str):
    """(first line number, lines, source, topic) per question block: blocks are separated by blank lines;
    comment lines are dropped ('// source: ...' and '// topic: ...' are kept aside)."""
    block, first, source, topic = [], None, "", None
    for n, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        line = raw.strip()
        if not line:
            if block or topic:
                yield first, block, source, topic
            block, first, source, topic = [], None, "", None
            continue
        if line.startswith("//"):
            m = re.match(r"//\s*(source|topic)\s*:\s*(.+)", line, re.I)
            if m and m.group(1).lower() == "source":
                source = m.group(2).strip()
            elif m:
                topic = m.group(2).strip()
            continue
        if first is None:
            first = n
        block.append(raw.rstrip())
    if block or topic:
        yield first, block, source, topic


def category_topic(line: str) -> str | None:
    """'$CATEGORY: $course$/top/Default for C1/PixelRNN // PixelCNN' -> 'PixelRNN / PixelCNN' (Moodle
    writes a '/' inside a category name as '//'); None for a bare '$course$/top'."""
    path = line.split(":", 1)[1].strip().replace("//", "\0")
    parts = [p.replace("\0", "/").strip() for p in path.split("/")]
    parts = [p for p in parts if p and p != "top" and not re.fullmatch(r"\$\w+\$", p)]
    return parts[-1] if parts else None


def parse_gift(text: str, path) -> QuestionList:
    """The questions of a GIFT file; `.skipped` lists the ones left out. Raises QuizFormatError when no
    question at all can be used."""
    path = Path(path)
    topic = re.sub(r"^[\d_-]+", "", path.stem).replace("-", " ").replace("_", " ").strip() or path.stem
    out = QuestionList()
    used: dict[str, int] = {}
    n = 0
    for line, lines, source, topic_comment in _blocks(text):
        if lines and lines[0].lstrip().startswith("$CATEGORY:"):
            topic = category_topic(lines[0]) or topic
            lines, line = lines[1:], line + 1
        topic = topic_comment or topic
        if not lines:
            continue
        n += 1
        try:
            q = _question("\n".join(lines), topic, source, path, line, n)
        except _Skip as skip:
            out.skipped.append(skip.error)
            continue
        if q.id in used:  # Moodle does not need unique names; GenLab's ids must be unique
            used[q.id] += 1
            q = Question(**{**q.__dict__, "id": f"{q.id}-{used[q.id]}"})
        used.setdefault(q.id, 1)
        out.append(q)
    if not out:
        if len(out.skipped) == 1:
            raise out.skipped[0]
        if out.skipped:
            reasons = "; ".join(f"line {e.line}: {e.message}" for e in out.skipped[:3])
            raise QuizFormatError(path, f"none of its {len(out.skipped)} questions can be used ({reasons}"
                                        f"{'; …' if len(out.skipped) > 3 else ''})")
        raise QuizFormatError(path, "no questions found (GIFT questions are separated by blank lines)")
    return out


# ---------------------------------------------------------------------------------------------- question

def _question(block: str, topic: str, source: str, path: Path, line: int, n: int) -> Question:
    name = f"#{n}"

    def fail(message: str, qtype: str | None = None):
        raise _Skip(QuizFormatError(path, message, question=name, line=line, qtype=qtype))

    def unsupported(qtype: str, how: str):
        fail(f"{qtype} question ({how}): GenLab does not ask this type; the file's other questions load",
             qtype)

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

    if CLOZE_RE.search(body):
        unsupported("cloze", "embedded answers such as {1:MULTICHOICE:...}")
    open_ = _find(body, "{")
    if open_ == -1:
        if _find(body, "}") != -1:
            fail("'}' without '{'")
        unsupported("description", "text without an answer block {...}")
    close = _find(body, "}", open_ + 1)
    if close == -1:
        fail("'{' is not closed with '}' (a blank line inside a question ends it)")
    if _find(body, "{", close + 1) != -1:
        unsupported("cloze", "several answer blocks {...} in one question")
    before, answers, after = body[:open_], body[open_ + 1:close], body[close + 1:]
    if _find(after, "}") != -1:
        fail("'}' without '{'")

    fmt = "moodle"
    m = FORMAT_RE.match(before)
    if m:
        fmt = m.group(1).lower()
        if fmt not in FORMATS:
            fail(f"unknown text format [{m.group(1)}]; use [html], [markdown], [plain] or [moodle]")
        before = before[m.end():]

    def text(raw: str) -> str:
        return _text(raw, fmt, fail)

    before, after = text(before), text(after)
    prompt = f"{before} _____ {after}" if after else before  # missing-word questions
    if not prompt:
        fail("empty question text")

    answers, _, general = answers.partition("####")
    general = text(general)
    core = answers.strip()
    common = dict(id=qid, topic=topic, prompt=prompt, source=source, file=str(path), line=line,
                  text_format=FORMATS[fmt])
    if not core:
        unsupported("essay", "an empty answer block {}")
    if core.startswith("#"):
        return _numeric(core[1:], general, common, text, fail, unsupported)
    tf = _split(core, "#")
    if tf[0].strip().upper() in ("T", "F", "TRUE", "FALSE"):
        return _true_false(tf, general, common, text, fail)
    if "->" in core and _find(core, "~") == -1:  # Moodle's own test: '=' and '->' but no '~'
        unsupported("matching", "pairs written 'a -> b'")
    pieces = _split(core, "=~")
    if pieces[0].strip():
        fail(f"text before the first answer: '{pieces[0].strip()}' (answers start with '=' or '~')")
    pieces = pieces[1:]
    if not any(p[0] == "~" for p in pieces):
        unsupported("short answer", "only '=' answers, to be typed in")
    options, weights, marks, feedback = [], [], [], []
    for p in pieces:
        mark, rest = p[0], p[1:].strip()
        weight = None
        m = WEIGHT_RE.match(rest)
        if m:
            weight = float(m.group(1))
            rest = rest[m.end():]
        hash_at = _find(rest, "#")
        option, fb = (rest[:hash_at], rest[hash_at + 1:]) if hash_at != -1 else (rest, "")
        option = text(option)
        if not option:
            fail(f"an empty answer after '{mark}'")
        options.append(option)
        marks.append(mark)
        weights.append(weight)
        feedback.append(text(fb))
    if len(set(options)) != len(options):
        fail("two answers have the same text")
    n_right = marks.count("=")
    if n_right > 1:
        fail("several '=' answers: for a question with several right answers use weights, "
             "e.g. {~%50%right ~%50%right ~%-100%wrong}")
    if n_right == 1:
        for mk, w in zip(marks, weights):
            if mk == "=" and w is not None and w != 100:
                fail("a weight on the '=' answer is not supported; the '=' answer is worth 100%")
            if mk == "~" and w is not None and w > 0:
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
    explanation = general or _from_answer_feedback(options, feedback)
    fallback = "Right answer" + ("s: " if len(correct) > 1 else ": ") + "; ".join(options[i] for i in sorted(correct))
    return Question(options=options, correct=correct, kind=kind, explanation=explanation or fallback,
                    has_feedback=bool(explanation), feedback=tuple(feedback), **common)


def _from_answer_feedback(options, feedback) -> str:
    return "\n".join(f"- {o}: {f}" for o, f in zip(options, feedback) if f)


def _number(s: str, fail) -> float:
    try:
        x = float(s.strip())
    except ValueError:
        fail(f"'{s.strip()}' is not a number")
    if x != x or x in (float("inf"), float("-inf")):
        fail(f"'{s.strip()}' is not a finite number")
    return x


def _numeric(core: str, general: str, common: dict, text, fail, unsupported) -> Question:
    core = core.strip()
    feedback = ""
    if core.startswith("="):
        # Moodle writes {#\n\t=%100%2.3:0.01#feedback\n\t~#feedback for any other answer\n}
        entries = [e for e in _split(core, "=~") if e.strip()]
        catch_all = [e for e in entries if e.startswith("~") and e[1:].strip()[:1] in ("#", "")]
        entries = [e for e in entries if e not in catch_all]
        if len(entries) > 1:
            unsupported("numerical with several answers", "partial credit for nearby values; give one answer "
                        "with a tolerance, e.g. {#2.30:0.01}")
        core = entries[0][1:].strip() if entries else ""
        m = WEIGHT_RE.match(core)
        if m:
            if float(m.group(1)) != 100:
                fail("a weight below 100% on the only numeric answer is not supported")
            core = core[m.end():]
        hash_at = _find(core, "#")
        if hash_at != -1:
            core, feedback = core[:hash_at], text(core[hash_at + 1:])
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
    fallback = f"Right answer: {answer:g}" + (f" (± {tolerance:g})" if tolerance else "")
    return Question(options=[], correct=frozenset(), kind="numeric", answer=answer, tolerance=tolerance,
                    explanation=explanation or fallback, has_feedback=bool(explanation), **common)


def _true_false(parts, general: str, common: dict, text, fail) -> Question:
    if len(parts) > 3:
        fail("a true/false answer takes at most two feedbacks: {T#if wrong#if right}")
    truth = parts[0].strip().upper() in ("T", "TRUE")
    if_wrong = text(parts[1][1:]) if len(parts) > 1 else ""
    if_right = text(parts[2][1:]) if len(parts) > 2 else ""
    right = 0 if truth else 1
    feedback = ["", ""]
    feedback[right], feedback[1 - right] = if_right, if_wrong
    options = ["True", "False"]
    explanation = general or _from_answer_feedback(options, feedback)
    return Question(options=options, correct=frozenset([right]), kind="single",
                    explanation=explanation or f"Right answer: {options[right]}", has_feedback=bool(explanation),
                    feedback=tuple(feedback), **common)
