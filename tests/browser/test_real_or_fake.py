"""Real browser: play three rounds of "Which one is real?" by clicking, see feedback after each, then the
results with their charts; the link keeps the game."""
import re

from playwright.sync_api import expect

from tests.appserver import screenshot

FIRST_RUN_MS = 120_000  # the first visit loads the models and samples the PixelCNN's digits, on 2 shared cores
# the two digits of a round, decoded: 28 px shown 7x as 196 px
ROUND_IMAGES = """() => [...document.querySelectorAll('[data-testid="stImage"] img')]
                        .filter(i => i.complete && i.naturalWidth === 196).length >= 2"""


def test_three_rounds_by_clicking_then_results(page, app_url):
    page.goto(f"{app_url}/real_or_fake?seed=11&n=3&images=digits")
    expect(page.get_by_text("Round 1 of 3: which one is real?")).to_be_visible(timeout=FIRST_RUN_MS)
    page.wait_for_function(ROUND_IMAGES)
    expect(page).to_have_url(re.compile(r"seed=11(&|$)"))
    for number, (side, certainty) in enumerate([("left", 3), ("right", 1), ("left", 2)], start=1):
        page.locator(f'[class*="st-key-rf_{side}_{certainty}_"] button').click()
        verdict = page.get_by_text(re.compile(rf"^Round {number}: (right|wrong)"))
        expect(verdict).to_be_visible()
        expect(page.get_by_text("was made by the")).to_be_visible()  # which model made the other one
        if number < 3:
            expect(page.get_by_text(f"Round {number + 1} of 3: which one is real?")).to_be_visible()
            page.wait_for_function(ROUND_IMAGES)
        if number == 1:
            screenshot(page, "real_or_fake_browser_round2")
    expect(page.get_by_text("Your results after 3 rounds")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(2)
    expect(page.get_by_role("button", name=re.compile("Download your results"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Round \d of 3: which one is real"))).to_have_count(0)  # no fourth round
    screenshot(page, "real_or_fake_browser_results")
