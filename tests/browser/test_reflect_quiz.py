"""Real browser: take Reflect quizzes by clicking and typing like a student. A three-question quiz (one
question of each kind); a certainty-based quiz whose summary, retry of the missed questions, mastery chart
and CSV download are checked and photographed; and every question of the shipped bank rendered in the
teachers' preview without a KaTeX error (with a broken formula as the control that the check can fail)."""
import csv
import io
import os
import re

import pytest
from playwright.sync_api import expect

import quiz
from quiz import session
from tests.appserver import running_app, screenshot, wait_for_app

T = 30_000  # ms: generous, the CI machine's 2 cores are shared with model training
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$", re.S)  # as quiz.model renders it


def seed_where(bank, n, wanted, scheme_topics=None):
    """The first seed whose n-question quiz passes `wanted(picked)` (deterministic)."""
    for seed in range(1, 2000):
        picked = session.pick(bank.questions, scheme_topics or bank.topics(), n, seed)
        if wanted(picked):
            return seed, picked
    raise AssertionError("no such seed")


def progress(page, text):
    expect(page.locator('[data-testid="stProgress"]')).to_contain_text(text, timeout=T)


def answer(page, q, state_key, seed, right=True, certainty=None):
    """Answer the question on screen through its widgets (found by their keys), then submit."""
    order = session.option_order(q, seed)
    if q.kind == "numeric":
        box = page.locator(f".st-key-{state_key} input")
        box.fill(f"{q.answer if right else q.answer + 10 * q.tolerance + 1:g}")
        box.press("Enter")
    elif q.kind == "single":
        pick = next(iter(q.correct)) if right else min(set(range(len(q.options))) - q.correct)
        page.locator(f".st-key-{state_key} [role=radiogroup] label").nth(order.index(pick)).click()
    else:
        for i in (sorted(q.correct) if right else [min(set(range(len(q.options))) - q.correct)]):
            box = page.locator(f".st-key-{state_key}-{i} label")
            box.click()
            expect(box.locator("input")).to_be_checked(timeout=T)
    if certainty:
        page.locator(f".st-key-{state_key}-certainty [role=radiogroup] label").nth(certainty - 1).click()
    submit = page.get_by_role("button", name="Submit", exact=True)
    expect(submit).to_be_enabled(timeout=T)
    submit.click()
    expect(page.get_by_text("Right!" if right else "Not right.").or_(page.get_by_text("Partly right."))
           ).to_be_visible(timeout=T)


def hide_balloons(page):
    """Everything right sends balloons up over the results: keep them out of the screenshots."""
    page.add_style_tag(content='[data-testid="stBalloons"] { display: none; }')


def next_question(page, last):
    page.get_by_role("button", name="See my score" if last else "Next question →").click()


def test_take_a_three_question_quiz_and_see_the_score(page, app_url):
    bank = quiz.load_bank()
    seed, picked = seed_where(bank, 3, lambda qs: [q.kind for q in qs] == ["single", "multiple", "numeric"]
                              and all(q.has_feedback for q in qs))  # each answer shows its "Why."
    page.goto(f"{app_url}/reflect_quiz?seed={seed}&n=3&scheme=exact")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Reflect quiz")).to_be_visible(timeout=T)
    expect(page.get_by_text(f"Seed {seed}")).to_be_visible(timeout=T)
    for number, q in enumerate(picked, start=1):
        progress(page, f"{number - 1} of 3 answered")
        answer(page, q, f"rq-1-1-{q.id}", seed)
        expect(page.get_by_text("Why.")).to_be_visible(timeout=T)
        if number == 1:
            screenshot(page, "reflect_quiz_feedback")
        next_question(page, number == 3)
    progress(page, "3 of 3 answered")
    expect(page.locator('[data-testid="stMetricValue"]')).to_have_text("100 %", timeout=T)
    expect(page.get_by_text("3 of 3 questions fully right")).to_be_visible(timeout=T)
    expect(page.locator(".st-key-rq-mastery-chart .main-svg").first).to_be_visible(timeout=T)
    expect(page.get_by_role("button", name="Download results (CSV)")).to_be_visible(timeout=T)
    assert "seed=" + str(seed) in page.url
    hide_balloons(page)
    screenshot(page, "reflect_quiz_score")


def test_cbm_summary_retry_of_the_missed_and_mastery(page, app_url):
    """Four answers under certainty-based marking: right+sure (+3), wrong+sure (-6), right+not sure (+1),
    wrong+fairly sure (-2). Then retry exactly the two missed and see mastery grow."""
    bank = quiz.load_bank()
    seed, picked = seed_where(bank, 4, lambda qs: len({q.topic for q in qs}) >= 3
                              and all(q.kind == "single" for q in qs[1::2]))  # wrong answers stay wrong
    plan = [(True, 3), (False, 3), (True, 1), (False, 2)]
    page.goto(f"{app_url}/reflect_quiz?seed={seed}&n=4&scheme=cbm")
    wait_for_app(page)
    for number, (q, (right, certainty)) in enumerate(zip(picked, plan), start=1):
        progress(page, f"{number - 1} of 4 answered")
        answer(page, q, f"rq-1-1-{q.id}", seed, right, certainty)
        marks = quiz.cbm_mark(right, certainty)
        expect(page.get_by_text(f"You were {quiz.CERTAINTIES[certainty]}: {marks:+d} marks.")).to_be_visible(timeout=T)
        next_question(page, number == 4)

    # The CBM summary: total, average per question, accuracy per certainty (drawn) and one piece of advice.
    values = page.locator('[data-testid="stMetricValue"]')
    expect(values).to_have_text(["-4", "-1.00"], timeout=T)
    bars = page.locator(".st-key-rq-cbm-chart text.bartext")
    expect(bars).to_have_text(["1 of 1 right", "0 of 1 right", "1 of 2 right"], timeout=T)
    expect(page.get_by_text("You were sure and wrong on 1 question (−6 each): look at that one first.")
           ).to_be_visible(timeout=T)
    screenshot(page, "reflect_quiz_cbm_summary")

    # The CSV of the session's answers.
    with page.expect_download(timeout=T) as download:
        page.get_by_role("button", name="Download results (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert [(r["id"], r["correct"], r["certainty"], r["marks"]) for r in rows] == [
        (q.id, "yes" if right else "no", str(c), str(quiz.cbm_mark(right, c))) for q, (right, c) in zip(picked, plan)]

    # One click retries exactly the two missed questions.
    retry = page.get_by_role("button", name="Retry the 2 I missed")
    expect(retry).to_be_visible(timeout=T)
    retry.click()
    progress(page, "0 of 2 answered")
    missed = [picked[1], picked[3]]
    expect(page.locator(f".st-key-rq-1-2-{missed[0].id}")).to_be_visible(timeout=T)
    screenshot(page, "reflect_quiz_retry")
    for number, q in enumerate(missed, start=1):
        expect(page.locator(f".st-key-rq-1-2-{q.id}")).to_be_visible(timeout=T)
        answer(page, q, f"rq-1-2-{q.id}", seed, True, 3)
        next_question(page, number == 2)
    expect(values).to_have_text(["+6", "+3.00"], timeout=T)

    # Mastery per topic across the session: all four questions now mastered.
    mastery = page.locator(".st-key-rq-mastery-chart")
    expect(mastery.locator(".main-svg").first).to_be_visible(timeout=T)
    mastered = mastery.locator("g.trace.bars").first.locator("text.bartext")
    per_topic = {}
    for q in picked:
        per_topic[q.topic] = per_topic.get(q.topic, 0) + 1
    expect(mastered).to_have_count(len(per_topic), timeout=T)
    assert sorted(int(t) for t in mastered.all_text_contents()) == sorted(per_topic.values())
    hide_balloons(page)
    mastery.scroll_into_view_if_needed()
    screenshot(page, "reflect_quiz_mastery")


def expected_maths(q) -> int:
    texts = [q.prompt, *q.options, q.explanation]
    return sum(len(MATH.findall(t)) for t in texts)


def open_preview(page, url):
    page.goto(f"{url}/reflect_quiz")
    wait_for_app(page)
    page.locator('[data-testid="stExpander"] summary').filter(has_text="For teachers").click()
    page.locator(".st-key-rq-preview label").click()


def test_every_question_renders_its_latex_without_a_katex_error(page, app_url):
    bank = quiz.load_bank()
    open_preview(page, app_url)
    preview = page.locator(".st-key-rq-preview-all")
    expect(preview.locator('[class*="st-key-rq-preview-"]')).to_have_count(len(bank.questions), timeout=T)
    expect(preview.locator(".katex")).to_have_count(sum(expected_maths(q) for q in bank.questions), timeout=T)
    for q in bank.questions:
        box = page.locator(f".st-key-rq-preview-{q.id}")
        expect(box.locator(".katex")).to_have_count(expected_maths(q))
        errors = box.locator(".katex-error")
        assert errors.count() == 0, (q.id, [e.get_attribute("title") for e in errors.all()])
    page.locator(".st-key-rq-preview-m24-minimax-roles").scroll_into_view_if_needed()
    screenshot(page, "reflect_quiz_preview_latex")


@pytest.fixture
def broken_latex_app(tmp_path):
    (tmp_path / "t.gift").write_text("::Good::Is $x^2 \\= x \\\\cdot x$? {T}\n\n"
                                     "::Broken::Is $\\\\frac\\{1\\}\\{$ a fraction? {F}\n", encoding="utf-8")
    with running_app(env={**os.environ, "GENLAB_QUIZ_DIR": str(tmp_path)}) as server:
        yield server.url


def test_a_broken_formula_is_caught(page, broken_latex_app):
    """The control for the test above: the same check finds the one bad formula."""
    open_preview(page, broken_latex_app)
    expect(page.locator(".st-key-rq-preview-good .katex")).to_have_count(1, timeout=T)
    expect(page.locator(".st-key-rq-preview-broken .katex-error")).to_have_count(1, timeout=T)
    expect(page.locator(".st-key-rq-preview-good .katex-error")).to_have_count(0)
