"""'Improving PixelCNN' in a real browser: the page opens without drawing; on request the baseline's and the best
model's samples are drawn and "New samples" replaces them (the link follows), a half-hidden digit is completed,
the slide's items get verdicts beside a chart, and the lecture box typesets its formula."""
import re

from playwright.sync_api import expect

from tests.appserver import screenshot, wait_for_app


def test_samples_completion_slide_and_formula(page, app_url):
    page.goto(f"{app_url}/pixelcnn_improvements?seed=2&digit=7", timeout=120_000)
    wait_for_app(page)  # nothing is drawn on arrival: the page is ready at once
    expect(page.get_by_text(re.compile(r"4 digits \(seed 2\) not drawn yet"))).to_have_count(2)
    page.get_by_role("button", name="Draw 4 digits from each model").click()
    best = page.locator('[data-testid="stImageContainer"]').filter(
        has=page.get_by_text(re.compile(r"^Best: multi-scale PixelCNN\+\+"))).locator("img").first
    expect(best).to_be_visible(timeout=120_000)
    expect(page.get_by_text(re.compile(r"^Baseline: ReLU blocks, 256-way softmax \(pixelcnnpp-ablation-0"))).to_be_visible()
    page.get_by_role("button", name="Complete the bottom half 3 times").click()
    expect(page.get_by_text(re.compile(r"^3 completions by pixelcnnpp-mnist8 \(seed 2\)"))).to_be_visible(timeout=120_000)
    before = best.get_attribute("src")
    page.get_by_role("button", name="New samples").click()
    expect(page).to_have_url(re.compile(r"[?&]seed=3(&|$)"))
    expect(best).not_to_have_attribute("src", before, timeout=120_000)

    chart = page.locator('[data-testid="stPlotlyChart"]').first
    expect(chart.locator(".barlayer .point").first).to_be_attached()
    assert chart.locator(".barlayer .point").count() >= 5  # one bar per ablation row
    expect(page.get_by_text(re.compile(r"Multi-scale \(the slide\) — "))).to_be_visible()

    page.get_by_text("The lecture box").click()
    expect(page.locator('[data-testid="stExpanderDetails"] .katex').first).to_be_visible()
    screenshot(page, "pixelcnn_improvements")
