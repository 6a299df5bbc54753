"""Real browser: take a 3-question Reflect quiz (one single-answer, one multiple-answer, one numeric
question), answering by clicking and typing like a student, and see the score and the per-topic chart."""
import re

from playwright.sync_api import expect

import quiz
from quiz import session
from tests.browser.conftest import screenshot, wait_for_app


def three_kinds_seed(bank):
    """The first seed whose 3-question quiz has one question of each kind (deterministic)."""
    for seed in range(1, 1000):
        picked = session.pick(bank.questions, bank.topics(), 3, seed)
        if {q.kind for q in picked} == {"single", "multiple", "numeric"}:
            return seed, picked
    raise AssertionError("no such seed")


T = 30_000  # ms: generous, the CI machine's 2 cores are shared with model training


def click(page, locator):
    """Click, then wait until Streamlit has rerun the script."""
    locator.click()
    page.wait_for_timeout(200)
    wait_for_app(page)


def option(page, role: str, q, order, i):
    text = f"{quiz.letter(order.index(i))}. {q.options[i]}"
    return page.locator(f'[data-testid="{role}"] label').filter(has_text=re.compile("^" + re.escape(text) + "$"))


def test_take_a_three_question_quiz_and_see_the_score(page, app_url):
    bank = quiz.load_bank()
    seed, picked = three_kinds_seed(bank)
    page.goto(f"{app_url}/reflect_quiz?seed={seed}&n=3&scheme=exact")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Reflect quiz")).to_be_visible(timeout=T)
    expect(page.get_by_text(f"Seed {seed}")).to_be_visible(timeout=T)
    for number, q in enumerate(picked, start=1):
        expect(page.get_by_text(f"{number - 1} of 3 answered")).to_be_visible(timeout=T)
        expect(page.get_by_role("heading", name=q.prompt)).to_be_visible(timeout=T)
        order = session.option_order(q, seed)
        if q.kind == "numeric":
            box = page.get_by_label("Your answer (a number)")
            box.fill(f"{q.answer:g}")
            box.press("Enter")
            page.wait_for_timeout(200)
            wait_for_app(page)
        elif q.kind == "single":
            click(page, option(page, "stRadio", q, order, next(iter(q.correct))))
        else:
            for i in sorted(q.correct):
                click(page, option(page, "stCheckbox", q, order, i))
        submit = page.get_by_role("button", name="Submit")
        expect(submit).to_be_enabled(timeout=T)
        click(page, submit)
        expect(page.get_by_text("Right!")).to_be_visible(timeout=T)
        expect(page.get_by_text("Why.")).to_be_visible(timeout=T)
        if number == 1:
            screenshot(page, "reflect_quiz_feedback")
        click(page, page.get_by_role("button", name="See my score" if number == 3 else "Next question →"))
    expect(page.get_by_text("3 of 3 answered")).to_be_visible(timeout=T)
    expect(page.locator('[data-testid="stMetricValue"]')).to_have_text("100 %", timeout=T)
    expect(page.get_by_text("3 of 3 questions fully right")).to_be_visible(timeout=T)
    chart = page.locator('[data-testid="stPlotlyChart"] .main-svg').first
    expect(chart).to_be_visible(timeout=T)
    bar_labels = page.locator('[data-testid="stPlotlyChart"] text.bartext')  # one bar per topic asked
    expect(bar_labels.first).to_have_text(re.compile(r"^100 % of [123]$"), timeout=T)
    expect(page.get_by_role("button", name="Download results (CSV)")).to_be_visible(timeout=T)
    assert "seed=" + str(seed) in page.url
    screenshot(page, "reflect_quiz_score")
