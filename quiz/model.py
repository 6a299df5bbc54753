"""The quiz's data types: a question, a bank of questions, and the error a bad question file raises."""
from __future__ import annotations

from dataclasses import dataclass, field
from string import ascii_lowercase

KINDS = ("single", "multiple", "numeric")


def letter(index: int) -> str:
    """0 -> 'a', 1 -> 'b', ... (the slides' option letters)."""
    return ascii_lowercase[index]


class QuizFormatError(ValueError):
    """A question file that cannot be used. The message names the file, and the question (by id, or by
    line when it has no id) where that is known, plus what is wrong and, where possible, how to fix it."""

    def __init__(self, path, message: str, question: str | None = None, line: int | None = None):
        self.path = str(path)
        self.message = message
        self.question = question
        self.line = line
        where = self.path
        if question is not None:
            where += f": question '{question}'"
            if line is not None:
                where += f" (line {line})"
        elif line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")

    def __reduce__(self):  # picklable despite the custom __init__
        return (type(self), (self.path, self.message, self.question, self.line))


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
    file: str = field(default="", compare=False)
    line: int | None = field(default=None, compare=False)

    @property
    def correct_letters(self) -> list[str]:
        return [letter(i) for i in sorted(self.correct)]

    @property
    def is_numeric(self) -> bool:
        return self.kind == "numeric"


@dataclass
class Bank:
    """Every question that loaded, in file order, and one QuizFormatError per file that did not."""

    questions: list[Question] = field(default_factory=list)
    errors: list[QuizFormatError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # the files whose questions are in the bank

    def topics(self) -> list[str]:
        """Topics in the order they first appear (files are read in name order: 01-..., 02-...)."""
        return list(dict.fromkeys(q.topic for q in self.questions))

    def by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    def __len__(self) -> int:
        return len(self.questions)
