"""GenLab's question bank and grading. Pure Python: never imports streamlit.

    bank = quiz.load_bank()            # every file in quiz/questions (or $GENLAB_QUIZ_DIR)
    bank.questions, bank.errors        # good questions; one QuizFormatError per bad file
    bank.skipped                       # single GIFT questions left out (matching, essay, ...)
    quiz.grade(q, {0, 1}, "partial")   # choice: 0-based indices (or letters "ab"); numeric: a number
    quiz.cbm_mark(True, 3)             # certainty-based marks: 1, 2, 3 if right; 0, -2, -6 if wrong

File formats (YAML and Moodle GIFT): see quiz/README.md.
"""
from . import session  # pure helpers for a quiz session: pick, start, retry, cbm_summary, mastery, to_csv
from .gift import parse_gift
from .grading import CERTAINTIES, RULES, SCHEMES, cbm_mark, grade
from .loader import ENV_DIR, PACKAGE_QUESTIONS, load_bank, load_file, questions_dir
from .model import KINDS, Bank, Question, QuestionList, QuizFormatError, letter, literal_markdown

__all__ = ["Bank", "CERTAINTIES", "ENV_DIR", "KINDS", "PACKAGE_QUESTIONS", "Question", "QuestionList",
           "QuizFormatError", "RULES", "SCHEMES", "cbm_mark", "grade", "letter", "literal_markdown",
           "load_bank", "load_file", "parse_gift", "questions_dir", "session"]
