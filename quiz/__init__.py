"""GenLab's question bank and grading. Pure Python: never imports streamlit.

    bank = quiz.load_bank()            # every file in quiz/questions (or $GENLAB_QUIZ_DIR)
    bank.questions, bank.errors        # good questions; one QuizFormatError per bad file
    quiz.grade(q, {0, 1}, "partial")   # choice: 0-based indices (or letters "ab"); numeric: a number

File formats (YAML and Moodle GIFT): see quiz/README.md.
"""
from . import session  # pure helpers for a quiz session: pick, option_order, summary, to_csv
from .gift import parse_gift
from .grading import RULES, SCHEMES, grade
from .loader import ENV_DIR, PACKAGE_QUESTIONS, load_bank, load_file, questions_dir
from .model import KINDS, Bank, Question, QuizFormatError, letter

__all__ = ["Bank", "ENV_DIR", "KINDS", "PACKAGE_QUESTIONS", "Question", "QuizFormatError", "RULES",
           "SCHEMES", "grade", "letter", "load_bank", "load_file", "parse_gift", "questions_dir", "session"]
