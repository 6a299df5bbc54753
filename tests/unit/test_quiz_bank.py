"""The shipped question bank: loads with no errors, is big enough, covers the lecture, holds the lecture's
eight Reflect questions verbatim with their keys, its numeric answers are arithmetically right, its
formulas are LaTeX, and it ships a feedback-less Moodle export that loads whole."""
import math
import re
from collections import Counter
from pathlib import Path

import pytest

import quiz
from quiz import session

ROOT = Path(__file__).resolve().parents[2]
LECTURE = ROOT.parent / "shared" / "seed" / "lecture-generative-models.md"

MOODLE_EXPORT = "09-moodle-export.gift"

# The lecture's Reflect questions (slides 64-65): id in the bank -> (slide, answer key).
REFLECT = {
    "gan-key-components": (64, "abd"),
    "gan-training-process": (64, "abd"),
    "gan-applications": (64, "abd"),
    "gan-generator-purpose": (64, "b"),
    "gan-mode-collapse": (65, "b"),
    "gan-regularization": (65, "abd"),
    "gan-training-challenges": (65, "ab"),
    "gan-discriminator-role": (65, "d"),
}


@pytest.fixture(scope="module")
def bank():
    return quiz.load_bank()


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_shipped_bank_loads_without_errors(bank):
    assert bank.errors == [], [str(e) for e in bank.errors]
    assert len(bank.questions) >= 48
    ids = [q.id for q in bank.questions]
    assert len(ids) == len(set(ids))


def test_every_question_teaches_and_cites_the_lecture(bank):
    """Every question GenLab wrote itself; the Moodle export (09) shows how a teacher's bank without
    feedback works, so it has none (and cites no slides)."""
    for q in bank.questions:
        if Path(q.file).name == MOODLE_EXPORT:
            continue
        assert q.has_feedback and len(q.explanation) >= 80, f"{q.id}: the explanation should teach, not just confirm"
        assert re.search(r"slides? \d+", q.source), f"{q.id}: source should point to a lecture slide"
        if q.kind != "numeric":
            assert len(q.options) >= 2 and q.correct and max(q.correct) < len(q.options)


def test_all_kinds_and_lecture_topics_are_covered(bank):
    kinds = Counter(q.kind for q in bank.questions)
    assert kinds["single"] >= 10 and kinds["multiple"] >= 10 and kinds["numeric"] >= 8, kinds
    own = [q for q in bank.questions if q.id not in REFLECT]
    assert len(own) >= 40
    topics = Counter(q.topic for q in own)
    for needed in ("Supervised", "taxonomy", "PixelCNN", "Autoencoders", "VAE", "GAN"):
        matching = [t for t in topics if needed.lower() in t.lower()]
        assert matching and sum(topics[t] for t in matching) >= 5, (needed, topics)


def _lecture_reflect():
    """Parse the Reflect slides of the lecture: [(prompt, [options], key)]."""
    text = LECTURE.read_text(encoding="utf-8")
    text = text[text.index("## Reflect"):]
    out = []
    for block in re.split(r"\n- ❑ (?=[A-Z])", text)[1:]:
        if block.startswith("Answer"):
            continue
        prompt = block.splitlines()[0].strip()
        options = re.findall(r"^\s+- [a-d]\. (.+)$", block, re.M)
        out.append([prompt, options, None])
    keys = re.findall(r"Answer ?: ?([a-d](?:, [a-d])*)", text)
    assert len(keys) == len(out) == 8
    for item, key in zip(out, keys):
        item[2] = key.replace(", ", "")
    return out


@pytest.mark.skipif(not LECTURE.exists(), reason="shared/seed lecture not beside the project")
def test_reflect_questions_are_verbatim_from_the_lecture(bank):
    by_id = bank.by_id()
    lecture = _lecture_reflect()
    for (qid, (slide, key)), (prompt, options, lecture_key) in zip(REFLECT.items(), lecture):
        q = by_id[qid]
        assert q.prompt == prompt
        assert q.options == options
        assert "".join(q.correct_letters) == key == lecture_key


def test_reflect_questions_have_the_lectures_keys(bank):
    by_id = bank.by_id()
    for qid, (slide, key) in REFLECT.items():
        q = by_id[qid]
        assert "".join(q.correct_letters) == key, qid
        assert q.source == f"Reflect, slide {slide}", qid
        assert quiz.grade(q, key) == 1.0
    assert by_id["gan-key-components"].options == ["Generator", "Discriminator", "Classifier", "Loss function"]


# Numeric answers recomputed from first principles: a typo in a question file fails here.
TRUTH = {
    "sigmoid-of-one": sigmoid(1),
    "disc-score-face": 1 * 1 + 0 * -1 + 0 * -1 + 1 * 1,
    "disc-score-noise": 0.75 * 1 + 1 * -1 + 1 * -1 + 0.25 * 1,
    "disc-score-with-bias": 0.25 * 1 + 1 * -1 + 0.5 * -1 + 0.75 * 1 - 1,
    "disc-prob-noise": sigmoid(-1.5),
    "neg-log-of-tenth": -math.log(0.1),
    "minimax-value": math.log(0.9) + math.log(1 - 0.1),
    "pixelcnn-sampling-steps": 28 * 28,
    "pixelcnn-context-size": 2 * 28 + 4,
    "pixel-chain-rule-arithmetic": 0.5 * 0.8 * 0.5 * 0.9,
    "ae-compression-factor": 784 / 32,
    "vae-encoder-outputs": 2 + 2,
    "vae-sample-z": 1.0 + 0.5 * -2,
    "disc-error-small": -math.log(1 - 0.1),
    "unsure-discriminator": -math.log(0.5),
    "m09-sampling-passes": 32 * 32,
    "m12-two-pixels": 0.6 * 0.5,
    "m15-compression-factor": 28 * 28 / 16,
    "m18-reparameterised-sample": 0.5 + 2 * 0.25,
    "m20-score-on-the-diagonal": 0.5 * 1 + 0 * -1 + 0 * -1 + 0.5 * 1 - 1,
    "m21-sigmoid-of-two": sigmoid(2),
    "m23-generator-error": -math.log(0.25),
    "flow-bits-per-dim": 600 / (784 * math.log(2)),
}


def test_numeric_answers_are_right(bank):
    by_id = bank.by_id()
    numeric = {q.id for q in bank.questions if q.kind == "numeric"}
    assert numeric == set(TRUTH), "add the true value of every new numeric question to TRUTH"
    for qid, value in TRUTH.items():
        assert quiz.grade(by_id[qid], value) == 1.0, (qid, value, by_id[qid].answer)
        assert quiz.grade(by_id[qid], round(value, 2)) == 1.0, qid  # "to two decimals" answers count


def test_session_helpers_are_seeded(bank):
    a = session.pick(bank.questions, bank.topics(), 10, seed=42)
    assert [q.id for q in a] == [q.id for q in session.pick(bank.questions, bank.topics(), 10, seed=42)]
    assert [q.id for q in a] != [q.id for q in session.pick(bank.questions, bank.topics(), 10, seed=43)]
    assert len(session.pick(bank.questions, ["GAN"], 999, seed=1)) == sum(q.topic == "GAN" for q in bank.questions)
    q = bank.by_id()["gan-key-components"]
    order = session.option_order(q, 5)
    assert sorted(order) == [0, 1, 2, 3] and order == session.option_order(q, 5)
    assert len({tuple(session.option_order(q, s)) for s in range(30)}) > 1
    assert session.topic_slug("PixelRNN / PixelCNN") == "pixelrnn-pixelcnn"


def test_the_moodle_export_is_written_as_moodle_writes_and_loads_whole():
    path = quiz.PACKAGE_QUESTIONS / MOODLE_EXPORT
    text = path.read_text(encoding="utf-8")
    for mark in ("// question: ", "$CATEGORY: $course$/top/", "::[html]<p", "{TRUE}", "{FALSE}", "{T}", "{F}",
                 "\t~%50%", "\t~%33.33333%", "\t~%-100%", "{#\n\t=%100%", "\\=", "\\:", "\\{", "&amp;"):
        assert mark in text, f"{MOODLE_EXPORT} should show Moodle's {mark!r}"
    assert "####" not in text  # no general feedback (and, below, no per-answer feedback either)
    qs = quiz.load_file(path)
    assert len(qs) >= 20 and qs.skipped == [], [str(e) for e in qs.skipped]
    assert text.count("\n::") == len(qs)  # every question in the file loaded
    assert not any(q.has_feedback for q in qs)
    assert {q.kind for q in qs} == {"single", "multiple", "numeric"}
    bank_topics = set(quiz.load_bank().topics())
    assert {q.topic for q in qs} <= bank_topics and len({q.topic for q in qs}) >= 5  # joins the lecture's topics


MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.S)
# What a formula from the lecture looks like when it is typed as plain text instead of LaTeX.
PLAIN_FORMULA = re.compile(r"\bp\(|\bp_\w|[pq]_?θ|\bln\s*\(|[−-]ln\b|∫|∏|θ|σ|μ|ε|\bD\(G|\bG\(z\)|\bq\(z|x̂|"
                           r"[xz]ᵢ|\bsigmoid\(|\bE\[|\bmin over")


def test_formulas_are_latex(bank):
    """Wherever a question shows one of the lecture's formulas, it is $...$ LaTeX (typeset on the page)."""
    plain = []
    for q in bank.questions:
        for text in (q.prompt, *q.options, q.explanation):
            rest = MATH.sub("", text)
            plain += [f"{q.id}: ...{rest[max(0, m.start() - 30):m.end() + 20]}..." for m in PLAIN_FORMULA.finditer(rest)]
    assert not plain, "\n".join(plain)
    with_latex = [q for q in bank.questions if "$" in q.prompt + "".join(q.options) + q.explanation]
    assert len(with_latex) >= 45, len(with_latex)


def test_readme_examples_work(tmp_path):
    """quiz/README.md's YAML example loads as documented and its Python snippet runs (docs cannot rot)."""
    readme = (ROOT / "quiz" / "README.md").read_text(encoding="utf-8")
    yaml_block = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    (tmp_path / "example.yaml").write_text(yaml_block, encoding="utf-8")
    qs = quiz.load_file(tmp_path / "example.yaml")
    assert [q.id for q in qs] == ["gan-key-components", "sigmoid-of-one", "vae-posterior-maths"]
    assert qs[2].prompt.startswith(r"Why is the posterior $p_\theta(z|x) = ") and qs[2].options[0].startswith("Its")
    assert qs[0].correct == frozenset({0, 1, 3}) and qs[1].tolerance == 0.005
    assert quiz.grade(qs[1], 0.725) == 1.0 and quiz.grade(qs[1], 0.7351) == 0.0
    python_block = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    exec(compile(python_block, "quiz/README.md", "exec"), {})
