"""Moodle GIFT files: the supported subset parses into the same questions as YAML; a Moodle export (no
feedback, $CATEGORY paths, [html], TRUE/FALSE, weights, numeric {#=%100%...#}) loads; a question GenLab
cannot ask (matching, essay, short answer, description, cloze) or one with a mistake is left out with a
QuizFormatError naming the file, line and question type, while the rest of the file loads."""
from pathlib import Path

import pytest

import quiz
from quiz import QuizFormatError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "quiz"

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
    assert {q.topic for q in qs} == {"GAN"} and qs.skipped == []
    neg = qs[0]
    assert neg.kind == "numeric" and neg.answer == 2.30 and neg.tolerance == 0.01
    assert neg.explanation == "ln(10) ≈ 2.303" and neg.source == "Error Functions, slide 58"
    assert neg.prompt == "What is −ln(0.1), to two decimals?" and neg.has_feedback
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
    assert purpose.text_format == "markdown" and purpose.markdown(purpose.prompt) == purpose.prompt
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


# ---------------------------------------------------------------------------------------------- Moodle

def test_a_moodle_export_loads_and_leaves_out_only_what_genlab_cannot_ask():
    """tests/fixtures/quiz/moodle-export-mixed.gift is written the way Moodle's exporter writes
    (question/format/gift/format.php): '// question: N  name: X' comments, $CATEGORY paths, [html]
    text with escaped '=' and ':', answers on tab-indented lines, TRUE/FALSE, numeric {#\\n=%100%784:0#},
    no feedback anywhere; plus the types GenLab does not ask."""
    path = FIXTURES / "moodle-export-mixed.gift"
    qs = quiz.load_file(path)
    assert [q.id for q in qs] == ["chain-rule", "sampling-passes", "needs-labels", "generator-sees-data",
                                  "discriminator-parts", "same-name", "same-name-2"]
    # Each left-out question names the file, its line and its type; the rest of the file loaded.
    skipped = {e.qtype: e for e in qs.skipped}
    assert list(skipped) == ["matching", "essay", "short answer", "description", "cloze"]
    lines = {"matching": 25, "essay": 36, "short answer": 45, "description": 51, "cloze": 61}
    for qtype, err in skipped.items():
        assert err.line == lines[qtype] and err.path == str(path)
        assert f"(line {lines[qtype]})" in str(err) and "moodle-export-mixed.gift" in str(err)
        assert f"{qtype} question" in str(err) and "other questions load" in str(err)
    assert skipped["matching"].question == "Match the models"


def test_moodle_categories_become_topics():
    qs = quiz.load_file(FIXTURES / "moodle-export-mixed.gift")
    topics = {q.id: q.topic for q in qs}
    assert topics["chain-rule"] == "PixelRNN / PixelCNN"  # Moodle writes '/' in a name as '//'
    assert topics["needs-labels"] == "GAN"
    assert quiz.gift.category_topic("$CATEGORY: $course$/top") is None
    assert quiz.gift.category_topic("$CATEGORY: $module$/top/Default for Quiz 1") == "Default for Quiz 1"


def test_topic_comment_overrides_the_category():
    text = ("$CATEGORY: $course$/top/Default for C1\n// topic: GAN\n\n::A::Q? {=x ~y}\n\n"
            "$CATEGORY: $course$/top/Default for C1/VAE\n\n::B::Q? {=x ~y}\n")
    assert [q.topic for q in parse(text)] == ["GAN", "VAE"]


def test_html_is_shown_as_text_never_as_html():
    qs = quiz.load_file(FIXTURES / "moodle-export-mixed.gift")
    by_id = {q.id: q for q in qs}
    chain = by_id["chain-rule"]
    assert chain.prompt == r"Which rule gives $p(x) = \prod_{i=1}^{n} p(x_i \mid x_{<i})$?"
    assert chain.options == ["The chain rule", "Bayes' rule", "Independence & luck"]
    parts = by_id["discriminator-parts"]
    assert parts.prompt == "Which are parts of the lecture's 2×2 discriminator?"  # tags and <script> gone
    assert parts.options[2] == "A <b>convolution</b>"  # an entity decodes to text ...
    shown = parts.markdown(parts.options[2])
    assert "<b>" not in shown and shown == r"A \<b\>convolution\<\/b\>"  # ... which is never markup
    assert parts.markdown("$-1$ *not* [link](x)") == r"$-1$ \*not\* \[link\]\(x\)"  # maths stays maths
    assert all(q.text_format == "text" for q in qs)
    q = parse("::P::[plain]Keep *stars* and <b>tags</b> as typed {=a ~b}")[0]
    assert q.prompt == "Keep *stars* and <b>tags</b> as typed" and q.markdown(q.prompt).startswith(r"Keep \*stars\*")


def test_html_paragraphs_breaks_and_mathjax_delimiters():
    q = parse(r"::H::[html]<p>One&nbsp;line<br>two</p><p>Para \\(x^2\\) and \\[y\\]</p><ul><li>a</li></ul> {=a ~b}")[0]
    assert q.prompt == "One line\ntwo\n\nPara $x^2$ and $$y$$\n\n• a"


def test_questions_without_feedback_state_the_right_answer():
    qs = {q.id: q for q in quiz.load_file(FIXTURES / "moodle-export-mixed.gift")}
    assert not any(q.has_feedback for q in qs.values())
    assert qs["chain-rule"].explanation == "Right answer: The chain rule"
    assert qs["discriminator-parts"].explanation == "Right answers: Weights $(+1, -1, -1, +1)$; A bias of $-1$"
    assert qs["sampling-passes"].explanation == "Right answer: 784" and qs["sampling-passes"].answer == 784
    assert qs["needs-labels"].explanation == "Right answer: False" and qs["needs-labels"].correct == {1}
    assert quiz.grade(qs["sampling-passes"], 784) == 1.0 and quiz.grade(qs["sampling-passes"], 785) == 0.0
    bank = quiz.load_bank([FIXTURES])
    assert [q.id for q in bank.without_feedback()] == list(qs) and len(bank.skipped) == 5 and not bank.errors


def test_numeric_as_moodle_writes_it():
    q = parse("::N::[html]<p>Value?</p>{#\n\t=%100%-0.21:0.005#\n\t~#Try again\n}")[0]
    assert q.answer == -0.21 and q.tolerance == 0.005 and not q.has_feedback
    with pytest.raises(QuizFormatError, match="numerical with several answers question"):
        parse("::N::Value?{#\n\t=%100%2.3:0.01#\n\t=%50%2.3:0.5#\n}")


def test_duplicate_titles_get_a_suffix():
    qs = parse("::Same::Q? {=a ~b ####E}\n\n::Same::Q2? {=a ~b ####E}\n\n::Same::Q3? {T}\n")
    assert [q.id for q in qs] == ["same", "same-2", "same-3"]


# ---------------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("text, message", [
    ("::Essay::Write about GANs. {}", "essay question"),
    ("::Short::Who invented GANs? {=Goodfellow =Ian Goodfellow}", "short answer question"),
    ("::Match::Match them. {=G -> generates =D -> judges}", "matching question"),
    ("::Desc::Just some text without answers.", "description question"),
    ("::Cloze::A {1:MULTICHOICE:=G~D} net.", "cloze question"),
    ("::Two blocks::Pick {=a ~b} and {=c ~d} ####E", "cloze question"),
    ("::Tags::<b>What</b>? {=a ~b ####E}", "HTML tags"),
    ("::Format::[latex]What? {=a ~b}", "unknown text format"),
    ("::Two right::Pick. {=a =b ~c ####E}", "several '='"),
    ("::Partial single::Pick. {=a ~%50%b ~c ####E}", "partial credit"),
    ("::Sum::Pick. {~%50%a ~%30%b ~%-100%c ####E}", "add up to 80%"),
    ("::None right::Pick. {~%-50%a ~%-50%b ####E}", "no right answer"),
    ("::Multi numeric::Value? {#=2.3:0.1 =%50%2.3:0.5 ####E}", "several answers"),
    ("::Open::Pick. {=a ~b", "not closed"),
    ("::Closing::Pick. =a ~b}", "'}' without '{'"),
    ("::NaN::Value? {#abc ####E}", "not a number"),
    ("::Bad range::Value? {#5..1 ####E}", "is empty"),
    ("::One::Pick. {=a ~a ####E}", "same text"),
    ("::Unclosed title Pick. {=a ~b ####E}", "not closed with '::'"),
    ("// only comments\n// here", "no questions found"),
])
def test_a_file_with_no_usable_question_is_a_clear_error(text, message):
    with pytest.raises(QuizFormatError) as info:
        parse(text, "teacher.gift")
    assert message in str(info.value)
    assert "teacher.gift" in str(info.value)


def test_a_bad_question_is_left_out_and_named_with_its_line():
    text = "::Fine::Q? {=a ~b ####E}\n\n// comment\n::Broken one::Who? {=x =y ~z}\n\n::Also fine::Q? {T}\n"
    qs = parse(text, "t.gift")
    assert [q.id for q in qs] == ["fine", "also-fine"]
    (err,) = qs.skipped
    assert err.question == "Broken one" and err.line == 4 and err.qtype is None
    assert "question 'Broken one' (line 4)" in str(err)


def test_no_usable_question_among_several_lists_them():
    with pytest.raises(QuizFormatError, match=r"none of its 2 questions can be used \(line 1: essay.*line 3: "):
        parse("::E::Essay {}\n\n::M::Match {=a -> b =c -> d}\n", "t.gift")


def test_gift_files_join_the_bank_and_bad_ones_are_listed(tmp_path):
    (tmp_path / "a.yaml").write_text("topic: T\nquestions:\n  - id: y1\n    prompt: P\n    options: [x, y]\n"
                                     "    correct: a\n    explanation: E\n")
    (tmp_path / "b.gift").write_text("$CATEGORY: T\n\n::g1::Q? {=a ~b ####E}\n\n::g2::Match {=a -> b =c -> d}\n")
    (tmp_path / "c.gift").write_text("::Essay::Write. {}\n")
    bank = quiz.load_bank([tmp_path])
    assert [q.id for q in bank.questions] == ["y1", "g1"] and bank.topics() == ["T"]
    assert len(bank.errors) == 1 and "c.gift" in str(bank.errors[0]) and "essay" in str(bank.errors[0])
    assert len(bank.skipped) == 1 and bank.skipped[0].qtype == "matching" and "b.gift" in str(bank.skipped[0])


def test_line_breaks_are_spaces_unless_escaped():
    q = parse("::a::Line one\nline two\\nthree {=x ~y ####E\nmore}")[0]
    assert q.prompt == "Line one line two\nthree" and q.explanation == "E more"


def test_latex_backslashes_survive_gift_escaping():
    q = parse(r"::L::What is $\\frac\{1\}\{2\} \= \\nabla$? {=$\\sigma(0)$ ~$\\ln 2$}")[0]
    assert q.prompt == r"What is $\frac{1}{2} = \nabla$?" and q.options == [r"$\sigma(0)$", r"$\ln 2$"]
