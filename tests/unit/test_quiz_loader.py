"""Loading question files: the YAML format, its validation (errors name the file and the question),
and a bank that keeps the good files when others are bad."""
import ast
import pickle
import textwrap
from pathlib import Path

import pytest

import quiz
from quiz import QuizFormatError

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
topic: GAN
questions:
  - id: gan-key-components
    prompt: Which of the following are key components of a GAN?
    options: [Generator, Discriminator, Classifier, Loss function]
    correct: [a, b, d]
    explanation: Two networks and the objective between them.
    source: Reflect, slide 64
  - id: sigmoid-of-one
    kind: numeric
    prompt: What is sigmoid(1), to two decimals?
    answer: 0.73
    tolerance: 0.005
    explanation: 1 / (1 + e^-1) = 0.731.
    source: Discriminator, slide 51
  - id: generator-purpose
    prompt: What is the purpose of the generator?
    options: [Discriminate, Generate synthetic data]
    correct: b
    explanation: It generates.
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def bad(tmp_path, text: str, name: str = "bad.yaml") -> QuizFormatError:
    path = write(tmp_path, name, text)
    with pytest.raises(QuizFormatError) as info:
        quiz.load_file(path)
    assert name in str(info.value), "the error must name the file"
    return info.value


def one(extra: str = "", **fields) -> str:
    """A file with one question; fields override the defaults (None drops a field)."""
    q = {"id": "q1", "prompt": "Pick one", "options": "[x, y, z]", "correct": "a", "explanation": "Because."}
    q.update(fields)
    lines = [f"    {k}: {v}" for k, v in q.items() if v is not None]
    lines[0] = "  - " + lines[0].lstrip()
    return "topic: T\nquestions:\n" + "\n".join(lines) + "\n" + extra


def test_good_file_gives_the_documented_fields(tmp_path):
    qs = quiz.load_file(write(tmp_path, "gan.yaml", GOOD))
    assert [q.id for q in qs] == ["gan-key-components", "sigmoid-of-one", "generator-purpose"]
    key = qs[0]
    assert key.topic == "GAN" and key.options == ["Generator", "Discriminator", "Classifier", "Loss function"]
    assert key.correct == frozenset({0, 1, 3}) and isinstance(key.correct, frozenset)
    assert key.kind == "multiple" and key.source == "Reflect, slide 64" and key.explanation
    assert key.correct_letters == ["a", "b", "d"]
    num = qs[1]
    assert num.kind == "numeric" and num.answer == 0.73 and num.tolerance == 0.005 and num.options == []
    assert quiz.grade(num, 0.73) == 1.0 and quiz.grade(num, 0.75) == 0.0
    single = qs[2]
    assert single.kind == "single" and single.correct == frozenset({1}) and single.source == ""


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    err = bad(tmp_path, "topic: T\nquestions:\n  - id: q1\n    prompt: [unclosed\n    correct: a\n")
    assert "YAML syntax error" in str(err) and err.line is not None and "line" in str(err)


def test_answer_letter_out_of_range_names_the_question(tmp_path):
    err = bad(tmp_path, one(correct="[a, e]"))
    assert "q1" in str(err) and "out of range" in str(err) and err.question == "q1"
    assert err.line == 3  # the question's first line in the file


def test_duplicate_id_within_a_file(tmp_path):
    text = one() + "  - id: q1\n    prompt: Again\n    options: [x, y]\n    correct: b\n    explanation: E.\n"
    err = bad(tmp_path, text)
    assert "duplicate id" in str(err) and "'q1'" in str(err)


def test_one_option_is_not_enough(tmp_path):
    err = bad(tmp_path, one(options="[only]"))
    assert "at least two options" in str(err) and "q1" in str(err)


@pytest.mark.parametrize("value", ['""', "'   '", None])
def test_empty_prompt(tmp_path, value):
    err = bad(tmp_path, one(prompt=value))
    assert "prompt" in str(err) and "q1" in str(err)


@pytest.mark.parametrize("value", ['""', None])
def test_empty_explanation(tmp_path, value):
    assert "explanation" in str(bad(tmp_path, one(explanation=value)))


@pytest.mark.parametrize("fields, message", [
    ({"id": None}, "needs an 'id:'"),
    ({"id": "'has space'"}, "needs an 'id:'"),
    ({"correct": None}, "correct:"),
    ({"correct": "[a, a]"}, "same letter twice"),
    ({"correct": "[1]"}, "option letters"),
    ({"options": "[x, x]"}, "same text"),
    ({"options": "[x, '']"}, "option b is empty"),
    ({"kind": "essay"}, "unknown kind"),
    ({"kind": "single", "correct": "[a, b]"}, "exactly one correct letter"),
    ({"corect": "a"}, "unknown field(s) corect"),
    ({"answer": "3"}, "for numeric questions"),
    ({"kind": "numeric", "options": None, "correct": None}, "needs 'answer:'"),
    ({"kind": "numeric", "options": None, "correct": None, "answer": "'x'"}, "needs 'answer:'"),
    ({"kind": "numeric", "options": None, "correct": None, "answer": 1, "tolerance": -0.1}, "tolerance"),
    ({"kind": "numeric", "correct": None, "answer": 1}, "not 'options:'"),
])
def test_other_validation_errors(tmp_path, fields, message):
    err = bad(tmp_path, one(**fields))
    assert message in str(err)


@pytest.mark.parametrize("text, message", [
    ("- just a list\n", "must be a mapping"),
    ("topic: T\n", "questions"),
    ("questions: []\n", "topic"),
    ("topic: T\nquestions: []\n", "empty 'questions:'"),
    ("topic: T\nquestion:\n  - id: a\n", "unknown top-level"),
    ("", "must be a mapping"),
])
def test_file_level_errors(tmp_path, text, message):
    assert message in str(bad(tmp_path, text))


def test_yes_no_and_numbers_in_options_stay_as_typed(tmp_path):
    qs = quiz.load_file(write(tmp_path, "t.yaml", one(options="[Yes, No, 0.50, 2]")))
    assert qs[0].options == ["Yes", "No", "0.50", "2"]


def test_only_safe_yaml_is_read(tmp_path):
    marker = tmp_path / "pwned"
    text = f'topic: !!python/object/apply:os.system ["touch {marker}"]\nquestions: []\n'
    bad(tmp_path, text)
    assert not marker.exists()


def test_error_is_a_value_error_and_pickles(tmp_path):
    err = bad(tmp_path, one(correct="z"))
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.question == "q1"


def test_missing_or_foreign_files(tmp_path):
    with pytest.raises(QuizFormatError, match="cannot read"):
        quiz.load_file(tmp_path / "nope.yaml")
    with pytest.raises(QuizFormatError, match="unknown file type"):
        quiz.load_file(write(tmp_path, "notes.txt", "hello"))
    (tmp_path / "latin1.yaml").write_bytes("topic: caf\xe9\n".encode("latin-1"))
    with pytest.raises(QuizFormatError, match="UTF-8"):
        quiz.load_file(tmp_path / "latin1.yaml")


def test_bank_keeps_good_files_and_lists_bad_ones(tmp_path):
    write(tmp_path, "01-good.yaml", GOOD)
    write(tmp_path, "02-syntax.yaml", "topic: T\nquestions:\n  - id: [\n")
    write(tmp_path, "03-range.yaml", one(id="range", correct="[d]"))
    write(tmp_path, "04-dup.yaml", one(id="sigmoid-of-one"))  # id already used by 01-good.yaml
    write(tmp_path, "05-good.yaml", one(id="fine"))
    write(tmp_path, "README.md", "not a question file")
    bank = quiz.load_bank([tmp_path])
    assert [q.id for q in bank.questions] == ["gan-key-components", "sigmoid-of-one", "generator-purpose", "fine"]
    assert [Path(e.path).name for e in bank.errors] == ["02-syntax.yaml", "03-range.yaml", "04-dup.yaml"]
    assert all(isinstance(e, QuizFormatError) for e in bank.errors)
    assert "01-good.yaml" in str(bank.errors[2]) and "sigmoid-of-one" in str(bank.errors[2])
    assert bank.topics() == ["GAN", "T"] and len(bank) == 4
    assert [Path(f).name for f in bank.files] == ["01-good.yaml", "05-good.yaml"]


def test_bank_reads_the_env_folder_and_reports_a_missing_one(tmp_path, monkeypatch):
    write(tmp_path, "a.yaml", one(id="from-env"))
    monkeypatch.setenv(quiz.ENV_DIR, str(tmp_path))
    assert quiz.questions_dir() == tmp_path
    assert [q.id for q in quiz.load_bank().questions] == ["from-env"]
    bank = quiz.load_bank([tmp_path / "missing"])
    assert bank.questions == [] and "no such file or folder" in str(bank.errors[0])
    monkeypatch.delenv(quiz.ENV_DIR)
    assert quiz.questions_dir() == quiz.PACKAGE_QUESTIONS


def test_quiz_package_never_imports_streamlit_nor_loads_yaml_unsafely():
    for path in (ROOT / "quiz").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert not any(a.name.split(".")[0] == "streamlit" for a in node.names), path
            if isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "streamlit", path
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "yaml":
                assert node.attr not in {"load", "load_all", "unsafe_load", "full_load", "Loader",
                                         "UnsafeLoader", "FullLoader"}, (path, node.attr)
