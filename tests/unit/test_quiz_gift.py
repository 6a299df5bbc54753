"""Moodle GIFT files: the supported subset parses into the same questions as YAML; everything else is a
clear QuizFormatError naming the file and the question."""
from pathlib import Path

import pytest

import quiz
from quiz import QuizFormatError

SAMPLE = r"""// GenLab GIFT sample
// another comment line
$CATEGORY: $course$/top/GAN

// source: Error Functions, slide 58
::Neg log:: What is −ln(0.1), to two decimals? {#2.30:0.01 ####ln(10) ≈ 2.303}

::Components::Which are key components of a GAN? {
  ~%50%Generator #right
  ~%50%Discriminator
  ~%-100%Classifier #no\: D is the classifier
}

::Purpose::[markdown]What does the **generator** do? {=Generates synthetic data #yes ~Discriminates #no ~Evaluates\=judges ####G maps z to G(z).}

::Labels::GANs need labelled data. {F#They do not.#Right.}

::Range::Give a number between 1 and 5. {#1..5 ####Any.}

::Eq form::sigmoid(1)? {#=0.73:0.005 #sigmoid(1) ≈ 0.731}

Moodle costs {~lots of money =nothing ~a small amount #cheap} to download. {}
"""


def parse(text, name="sample.gift"):
    return quiz.parse_gift(text, Path(name))


def test_supported_constructs():
    text = SAMPLE.replace(" to download. {}", " to download.")
    qs = parse(text)
    assert [q.id for q in qs] == ["neg-log", "components", "purpose", "labels", "range", "eq-form", "sample-7"]
    assert {q.topic for q in qs} == {"GAN"}
    neg = qs[0]
    assert neg.kind == "numeric" and neg.answer == 2.30 and neg.tolerance == 0.01
    assert neg.explanation == "ln(10) ≈ 2.303" and neg.source == "Error Functions, slide 58"
    assert neg.prompt == "What is −ln(0.1), to two decimals?"
    assert quiz.grade(neg, 2.303) == 1.0 and quiz.grade(neg, 2.32) == 0.0
    comp = qs[1]
    assert comp.kind == "multiple" and comp.options == ["Generator", "Discriminator", "Classifier"]
    assert comp.correct == frozenset({0, 1})
    assert comp.feedback == ("right", "", "no: D is the classifier")
    assert "Classifier" in comp.explanation  # built from per-answer feedback when there is no ####
    assert quiz.grade(comp, {0}, "partial") == 0.5 and quiz.grade(comp, {0, 1, 2}, "partial") == 0.5
    purpose = qs[2]
    assert purpose.kind == "single" and purpose.correct == frozenset({0}) and purpose.prompt.startswith("What")
    assert purpose.options[2] == "Evaluates=judges" and purpose.explanation == "G maps z to G(z)."
    tf = qs[3]
    assert tf.options == ["True", "False"] and tf.correct == frozenset({1})
    assert tf.feedback == ("They do not.", "Right.")
    rng = qs[4]
    assert rng.answer == 3 and rng.tolerance == 2
    assert quiz.grade(rng, 1) == 1.0 and quiz.grade(rng, 5) == 1.0 and quiz.grade(rng, 5.1) == 0.0
    eq = qs[5]
    assert eq.answer == 0.73 and eq.tolerance == 0.005 and eq.explanation == "sigmoid(1) ≈ 0.731"
    missing = qs[6]
    assert missing.prompt == "Moodle costs _____ to download." and missing.correct == frozenset({1})


def test_topic_defaults_to_the_file_name():
    qs = parse("::A::Q? {=x ~y ####E}", "08-gan-errors.gift")
    assert qs[0].topic == "gan errors" and qs[0].id == "a"


@pytest.mark.parametrize("text, message", [
    ("::Essay::Write about GANs. {}", "essay"),
    ("::Short::Who invented GANs? {=Goodfellow =Ian Goodfellow}", "short-answer"),
    ("::Match::Match them. {=G -> generates ~D -> judges}", "matching"),
    ("::Desc::Just some text without answers.", "descriptions"),
    ("::Html::[html]<p>What?</p> {=a ~b ####E}", "[html]"),
    ("::Tags::<b>What</b>? {=a ~b ####E}", "HTML tags"),
    ("::Two right::Pick. {=a =b ~c ####E}", "several '='"),
    ("::Partial single::Pick. {=a ~%50%b ~c ####E}", "partial credit"),
    ("::Sum::Pick. {~%50%a ~%30%b ~%-100%c ####E}", "add up to 80%"),
    ("::None right::Pick. {~%-50%a ~%-50%b ####E}", "no right answer"),
    ("::Multi numeric::Value? {#=2.3:0.1 =%50%2.3:0.5 ####E}", "several answers"),
    ("::Open::Pick. {=a ~b", "not closed"),
    ("::Closing::Pick. =a ~b}", "'}' without '{'"),
    ("::Two blocks::Pick {=a ~b} and {=c ~d} ####E", "only one answer block"),
    ("::No feedback::Pick. {=a ~b}", "no feedback"),
    ("::NaN::Value? {#abc ####E}", "not a number"),
    ("::Bad range::Value? {#5..1 ####E}", "is empty"),
    ("::One::Pick. {=a ~a ####E}", "same text"),
    ("::Unclosed title Pick. {=a ~b ####E}", "not closed with '::'"),
    ("// only comments\n// here", "no questions found"),
])
def test_unsupported_or_broken_gift_is_a_clear_error(text, message):
    with pytest.raises(QuizFormatError) as info:
        parse(text, "teacher.gift")
    assert message in str(info.value)
    assert "teacher.gift" in str(info.value)


def test_error_names_the_question_title_and_line():
    text = "::Fine::Q? {=a ~b ####E}\n\n// comment\n::Broken one::Who? {=x =y}\n"
    with pytest.raises(QuizFormatError) as info:
        parse(text, "t.gift")
    assert info.value.question == "Broken one" and info.value.line == 4
    assert "question 'Broken one' (line 4)" in str(info.value)


def test_duplicate_titles_are_duplicate_ids(tmp_path):
    (tmp_path / "d.gift").write_text("::Same::Q? {=a ~b ####E}\n\n::Same::Q2? {=a ~b ####E}\n")
    with pytest.raises(QuizFormatError, match="duplicate id"):
        quiz.load_file(tmp_path / "d.gift")


def test_gift_files_join_the_bank_and_bad_ones_are_listed(tmp_path):
    (tmp_path / "a.yaml").write_text("topic: T\nquestions:\n  - id: y1\n    prompt: P\n    options: [x, y]\n"
                                     "    correct: a\n    explanation: E\n")
    (tmp_path / "b.gift").write_text("$CATEGORY: T\n\n::g1::Q? {=a ~b ####E}\n")
    (tmp_path / "c.gift").write_text("::Essay::Write. {}\n")
    bank = quiz.load_bank([tmp_path])
    assert [q.id for q in bank.questions] == ["y1", "g1"] and bank.topics() == ["T"]
    assert len(bank.errors) == 1 and "c.gift" in str(bank.errors[0]) and "essay" in str(bank.errors[0])


def test_the_shipped_example_gift_file_parses():
    files = sorted(quiz.PACKAGE_QUESTIONS.glob("*.gift"))
    assert files, "quiz/questions should ship an example .gift file"
    for f in files:
        qs = quiz.load_file(f)
        assert qs and all(q.explanation and q.source for q in qs)
        assert {q.kind for q in qs} >= {"single", "multiple", "numeric"}


def test_line_breaks_are_spaces_unless_escaped():
    q = parse("::a::Line one\nline two\\nthree {=x ~y ####E\nmore}")[0]
    assert q.prompt == "Line one line two\nthree" and q.explanation == "E more"
