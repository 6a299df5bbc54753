"""The quiz's data types: a question, a bank of questions, and the error a bad question file raises."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from string import ascii_lowercase

KINDS = ("single", "multiple", "numeric")


def letter(index: int) -> str:
    """0 -> 'a', 1 -> 'b', ... (the slides' option letters)."""
    return ascii_lowercase[index]


class QuizFormatError(ValueError):
    """A question file that cannot be used. The message names the file, and the question (by id, or by
    line when it has no id) where that is known, plus what is wrong and, where possible, how to fix it."""

    def __init__(self, path, message: str, question: str | None = None, line: int | None = None,
                 qtype: str | None = None):
        self.path = str(path)
        self.message = message
        self.question = question
        self.line = line
        self.qtype = qtype  # a question type GenLab does not support ("matching", "essay", ...), if that is why
        where = self.path
        if question is not None:
            where += f": question '{question}'"
            if line is not None:
                where += f" (line {line})"
        elif line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # picklable despite the custom __init__
        return (type(self), (self.path, self.message, self.question, self.line, self.qtype))


class QuestionList(list):
    """The questions of one file, plus `skipped`: one QuizFormatError for each question of the file that
    was left out (an unsupported type such as matching, or a mistake in that question alone)."""

    def __init__(self, questions=(), skipped=()):
        super().__init__(questions)
        self.skipped: list[QuizFormatError] = list(skipped)


_MATH = re.compile(r"(\$\$.+?\$\$|\$[^$\n]+?\$)", re.S)  # $$display$$ or $inline$ LaTeX
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def literal_markdown(text: str, maths: bool = True) -> str:
    """Markdown that shows `text` exactly as written: every ASCII punctuation character is backslash-
    escaped (CommonMark then shows it as itself, so no emphasis, link, HTML or heading can form). With
    `maths`, `$...$` spans are kept as they are, so Streamlit typesets them as LaTeX."""
    pieces = _MATH.split(text) if maths else [text]
    return "".join(p if i % 2 else _PUNCTUATION.sub(r"\\\1", p) for i, p in enumerate(pieces))


@dataclass(frozen=True)
class Question:
    """One question. `correct` holds 0-based indices into `options` (empty for numeric questions, which
    are graded against `answer` +- `tolerance`)."""

    id: str
    topic: str
    prompt: str
    options: list[str]
    correct: frozenset[int]
    explanation: str
    source: str = ""
    kind: str = "single"
    answer: float | None = None
    tolerance: float = 0.0
    feedback: tuple[str, ...] = ()  # per-option feedback (GIFT '#...'), "" where none
    has_feedback: bool = True  # False: the file explains nothing, `explanation` only states the answer
    text_format: str = "markdown"  # or "text": shown literally except $...$ maths (GIFT [html], [plain])
    file: str = field(default="", compare=False)
    line: int | None = field(default=None, compare=False)

    @property
    def correct_letters(self) -> list[str]:
        return [letter(i) for i in sorted(self.correct)]

    @property
    def is_numeric(self) -> bool:
        return self.kind == "numeric"

    def markdown(self, text: str) -> str:
        """One of this question's texts (prompt, option, explanation) as Markdown to render: as written
        for Markdown questions; escaped, except for $...$ maths, for text taken from [html] or [plain]."""
        return text if self.text_format == "markdown" else literal_markdown(text)


@dataclass
class Bank:
    """Every question that loaded, in file order, and one QuizFormatError per file that did not."""

    questions: list[Question] = field(default_factory=list)
    errors: list[QuizFormatError] = field(default_factory=list)  # files left out, one error each
    files: list[str] = field(default_factory=list)  # the files whose questions are in the bank
    skipped: list[QuizFormatError] = field(default_factory=list)  # single questions left out of good files

    def without_feedback(self) -> list[Question]:
        """Questions whose file explains nothing (a note for the teacher, not an error)."""
        return [q for q in self.questions if not q.has_feedback]

    def topics(self) -> list[str]:
        """Topics in the order they first appear (files are read in name order: 01-..., 02-...)."""
        return list(dict.fromkeys(q.topic for q in self.questions))

    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def __len__(self) -> int:
        return len(self.questions)
