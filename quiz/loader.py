"""Reading question files: YAML (the house format, see quiz/README.md) and Moodle GIFT (.gift).

Only ``yaml.safe_load`` (and ``yaml.compose`` with the safe loader, for line numbers) ever reads a file:
question files are data, never code.
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

import yaml

from .model import KINDS, Bank, Question, QuestionList, QuizFormatError, letter

PACKAGE_QUESTIONS = Path(__file__).resolve().parent / "questions"
ENV_DIR = "GENLAB_QUIZ_DIR"  # a folder of question files to use instead of quiz/questions
SUFFIXES = (".yaml", ".yml", ".gift")

TOP_FIELDS = {"topic", "questions"}
QUESTION_FIELDS = {"id", "kind", "prompt", "options", "correct", "answer", "tolerance", "explanation",
                   "source"}
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def questions_dir() -> Path:
    """The folder load_bank() reads by default: $GENLAB_QUIZ_DIR when set, else quiz/questions."""
    env = os.environ.get(ENV_DIR, "").strip()
    return Path(env) if env else PACKAGE_QUESTIONS


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise QuizFormatError(path, f"not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8") from None
    except OSError as e:
        raise QuizFormatError(path, f"cannot read the file ({e.strerror or e})") from None


def load_file(path) -> QuestionList:
    """The questions of one file (.yaml/.yml or .gift), a list. Raises QuizFormatError naming the file and
    the question for anything wrong with it; in a GIFT file a question GenLab cannot use (matching, essay,
    a mistake in that question alone) is left out instead, with its error in the list's `.skipped`."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise QuizFormatError(path, f"unknown file type '{path.suffix}'; use .yaml or .gift")
    text = _read(path)
    if path.suffix.lower() == ".gift":
        from .gift import parse_gift

        questions = parse_gift(text, path)
    else:
        questions = QuestionList(_parse_yaml(text, path))
    seen: dict[str, Question] = {}
    for q in questions:
        if q.id in seen:
            raise QuizFormatError(path, f"duplicate id: '{q.id}' is used twice in this file "
                                        f"(also line {seen[q.id].line}); ids must be unique",
                                  question=q.id, line=q.line)
        seen[q.id] = q
    return questions


# ---------------------------------------------------------------------------------------------- YAML

def _yaml_positions(text: str):
    """(line of each question item, raw scalar text of each question's options) from the node tree, so
    errors can name a line and `options: [Yes, No]` stays 'Yes'/'No' rather than True/False."""
    lines, raw_options = [], []
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines, raw_options
    if not isinstance(root, yaml.MappingNode):
        return lines, raw_options
    for key, value in root.value:
        if getattr(key, "value", None) == "questions" and isinstance(value, yaml.SequenceNode):
            for item in value.value:
                lines.append(item.start_mark.line + 1)
                raw = None
                if isinstance(item, yaml.MappingNode):
                    for k, v in item.value:
                        if getattr(k, "value", None) == "options" and isinstance(v, yaml.SequenceNode):
                            raw = [n.value if isinstance(n, yaml.ScalarNode) else None for n in v.value]
                raw_options.append(raw)
    return lines, raw_options


def _parse_yaml(text: str, path: Path) -> list[Question]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e)
        hint = " (text containing ': ' or starting with a special character needs quotes or a '>' block)"
        raise QuizFormatError(path, f"YAML syntax error: {problem}{hint}",
                              line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise QuizFormatError(path, "the file must be a mapping with 'topic:' and 'questions:' "
                                    "(copy an existing file to start)")
    unknown = set(map(str, data)) - TOP_FIELDS
    if unknown:
        raise QuizFormatError(path, f"unknown top-level field(s) {', '.join(sorted(unknown))}; "
                                    f"a file has only 'topic:' and 'questions:'")
    topic = data.get("topic")
    if not isinstance(topic, str) or not topic.strip():
        raise QuizFormatError(path, "missing 'topic:' (one topic per file, e.g. 'topic: GAN')")
    items = data.get("questions")
    if not isinstance(items, list) or not items:
        raise QuizFormatError(path, "missing or empty 'questions:' list")
    lines, raw_options = _yaml_positions(text)
    out = []
    for n, item in enumerate(items):
        line = lines[n] if n < len(lines) else None
        raw = raw_options[n] if n < len(raw_options) else None
        out.append(_yaml_question(item, topic.strip(), path, n, line, raw))
    return out


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _yaml_question(item, topic: str, path: Path, n: int, line: int | None, raw_options) -> Question:
    qid = item.get("id") if isinstance(item, dict) else None
    name = str(qid) if qid not in (None, "") else f"#{n + 1} (no id)"

    def fail(message: str):
        raise QuizFormatError(path, message, question=name, line=line)

    if not isinstance(item, dict):
        fail("each question must be a mapping of fields (id:, prompt:, ...) starting with '- '")
    unknown = set(map(str, item)) - QUESTION_FIELDS
    if unknown:
        fail(f"unknown field(s) {', '.join(sorted(unknown))}; known fields: {', '.join(sorted(QUESTION_FIELDS))}")
    if not isinstance(qid, str) or not ID_RE.match(qid):
        fail("needs an 'id:' made of letters, digits, '-', '_' or '.' (e.g. gan-mode-collapse)")
    prompt, explanation = _text(item.get("prompt")), _text(item.get("explanation"))
    if not prompt:
        fail("empty or missing 'prompt:'")
    if not explanation:
        fail("empty or missing 'explanation:' (say why the right options are right and the wrong ones wrong)")
    source = item.get("source", "")
    if source is None or isinstance(source, (dict, list)):
        fail("'source:' must be text, e.g. 'Error Functions, slide 58'")
    source = str(source).strip()
    kind = item.get("kind")
    if kind is not None and kind not in KINDS:
        fail(f"unknown kind '{kind}'; use one of {', '.join(KINDS)}")
    common = dict(id=qid, topic=topic, prompt=prompt, explanation=explanation, source=source,
                  file=str(path), line=line)

    if kind == "numeric" or (kind is None and "answer" in item and "options" not in item):
        for bad in ("options", "correct"):
            if bad in item:
                fail(f"a numeric question has 'answer:' and 'tolerance:', not '{bad}:'")
        answer, tolerance = item.get("answer"), item.get("tolerance", 0)
        if isinstance(answer, bool) or not isinstance(answer, (int, float)) or not math.isfinite(answer):
            fail("a numeric question needs 'answer:' with a number, e.g. 'answer: 0.73'")
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) \
                or not math.isfinite(tolerance) or tolerance < 0:
            fail("'tolerance:' must be a number >= 0, e.g. 'tolerance: 0.005'")
        return Question(options=[], correct=frozenset(), kind="numeric", answer=float(answer),
                        tolerance=float(tolerance), **common)

    for bad in ("answer", "tolerance"):
        if bad in item:
            fail(f"'{bad}:' is for numeric questions; add 'kind: numeric' or use 'options:' and 'correct:'")
    options = item.get("options")
    if not isinstance(options, list):
        fail("needs 'options:' as a list, e.g. 'options: [Generator, Discriminator]'")
    if len(options) < 2:
        fail(f"needs at least two options, has {len(options)}")
    texts = []
    for i, opt in enumerate(options):
        if isinstance(opt, (dict, list)) or opt is None:
            fail(f"option {letter(i)} is not plain text (quote it if it contains ': ' or starts with '[')")
        if isinstance(opt, str):
            t = opt.strip()
        else:  # a YAML number or yes/no: keep what the teacher typed
            t = (raw_options[i] if raw_options and i < len(raw_options) and raw_options[i] else str(opt)).strip()
        if not t:
            fail(f"option {letter(i)} is empty")
        texts.append(t)
    if len(set(texts)) != len(texts):
        fail("two options have the same text")
    correct = item.get("correct")
    letters = [correct] if isinstance(correct, str) else correct
    if not isinstance(letters, list) or not letters:
        fail("needs 'correct:' with the right option letter(s), e.g. 'correct: [a, b, d]' or 'correct: b'")
    indices = []
    for c in letters:
        if not isinstance(c, str) or len(c.strip()) != 1 or not c.strip().isalpha():
            fail(f"'correct:' must list option letters (a, b, c, ...), got {c!r}")
        i = ord(c.strip().lower()) - ord("a")
        if not 0 <= i < len(texts):
            fail(f"answer letter '{c}' is out of range: there are only {len(texts)} options "
                 f"(a-{letter(len(texts) - 1)})")
        indices.append(i)
    if len(set(indices)) != len(indices):
        fail("'correct:' lists the same letter twice")
    if kind is None:
        kind = "single" if len(indices) == 1 else "multiple"
    if kind == "single" and len(indices) != 1:
        fail(f"kind 'single' needs exactly one correct letter, has {len(indices)}")
    return Question(options=texts, correct=frozenset(indices), kind=kind, **common)


# ---------------------------------------------------------------------------------------------- bank

def _expand(paths) -> list[Path]:
    files = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(f for f in p.iterdir()
                            if f.is_file() and f.suffix.lower() in SUFFIXES and not f.name.startswith("."))
        else:
            files.append(p)
    return files


def load_bank(paths=None) -> Bank:
    """Every question from `paths` (files or folders; default: questions_dir()). A bad file does not stop
    the others: it is left out and its QuizFormatError is in `bank.errors`; a single question left out
    of a good GIFT file is in `bank.skipped`. Ids are unique across the bank: a file reusing an id from
    an earlier file (name order) is a bad file."""
    if paths is None:
        paths = [questions_dir()]
    elif isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    bank = Bank()
    owner: dict[str, str] = {}
    for p in paths:
        if not Path(p).exists():
            bank.errors.append(QuizFormatError(p, "no such file or folder"))
    for path in _expand([p for p in paths if Path(p).exists()]):
        try:
            questions = load_file(path)
            for q in questions:
                if q.id in owner:
                    raise QuizFormatError(path, f"duplicate id: '{q.id}' is already used in "
                                                f"{Path(owner[q.id]).name}; ids must be unique across "
                                                f"the bank", question=q.id, line=q.line)
        except QuizFormatError as e:
            bank.errors.append(e)
            continue
        for q in questions:
            owner[q.id] = str(path)
        bank.questions += questions
        bank.skipped += questions.skipped
        bank.files.append(str(path))
    return bank
