"""The README cannot rot: its Python snippets run, and its two quick-start commands name real files."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_python_snippets_run():
    snippets = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert snippets
    for code in snippets:
        exec(compile(code, "README.md", "exec"), {})


def test_quick_start_commands_point_at_real_files():
    assert "pip install -r requirements.txt && streamlit run app.py" in README
    assert "pip install -r requirements-dev.txt && python -m pytest" in README
    for name in ("requirements.txt", "requirements-dev.txt", "app.py", ".ci/run"):
        assert (ROOT / name).exists(), name
    assert "pip install -r requirements-dev.txt && python -m pytest" in (ROOT / ".ci/run").read_text()


def test_every_retraining_command_is_a_known_family():
    from genlib.train.__main__ import FAMILIES

    for family in re.findall(r"python -m genlib\.train (\w+)", README):
        assert family in FAMILIES, family


def test_yaml_question_example_is_a_valid_quiz_file(tmp_path):
    import quiz

    blocks = re.findall(r"```yaml\n(topic:.*?)```", README, flags=re.S)
    assert blocks, "the README's quiz section lost its example"
    path = tmp_path / "example.yaml"
    path.write_text(blocks[0])
    questions = quiz.load_file(path)
    assert [q.id for q in questions] == ["gan-key-components", "sigmoid-of-one"]
    assert quiz.grade(questions[0], {0, 1, 3}) == 1.0
    assert quiz.grade(questions[1], 0.731) == 1.0
