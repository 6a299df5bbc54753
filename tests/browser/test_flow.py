"""'Flows: exact and fast' in a real browser: samples are drawn and "New samples" replaces them (the link
follows), the round trip says it is exact, the likelihood chart and the four-family table are drawn, and the
lecture box typesets its formulas."""
import re

from playwright.sync_api import expect

from tests.appserver import screenshot, wait_for_app


def test_samples_round_trip_chart_table_and_formulas(page, app_url):
    page.goto(f"{app_url}/flow?seed=5&t=0.7")
    wait_for_app(page)
    samples = page.locator('[data-testid="stImage"] img').first
    expect(samples).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 400", arg=samples.element_handle())
    expect(page.get_by_text("largest pixel error 0 grey levels")).to_be_visible()
    before = samples.get_attribute("src")
    page.get_by_role("button", name="New samples").click()
    expect(samples).not_to_have_attribute("src", before)
    expect(page).to_have_url(re.compile(r"[?&]seed=6(&|$)"))
    expect(page.get_by_text("32 samples, seed 6, T = 0.70")).to_be_visible()

    chart = page.locator('[data-testid="stPlotlyChart"]').first
    expect(chart.locator(".barlayer .point").first).to_be_attached()
    assert chart.locator(".barlayer .point").count() == 5  # the digit and four probes
    expect(page.locator('[data-testid="stDataFrame"]').first).to_be_visible()

    page.get_by_text("The lecture box").click()
    expect(page.locator('[data-testid="stExpanderDetails"] .katex').first).to_be_visible()
    screenshot(page, "flow")
