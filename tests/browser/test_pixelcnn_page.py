"""Real browser: the PixelCNN page draws its completions and the probability heat map, also after
watching it paint; the link keeps the setup."""
import re

from playwright.sync_api import expect

from tests.appserver import screenshot

# decoded 168x168 pictures (28 px upscaled 6x): the original, what the model sees, the completions
LOADED_IMAGES = """(n) => [...document.querySelectorAll('[data-testid="stImage"] img')]
                         .filter(i => i.complete && i.naturalWidth === 168).length >= n"""
FIRST_RUN_MS = 120_000  # the first visit loads the model and samples, on 2 shared cores


def test_completions_and_heat_map_appear(page, app_url):
    page.goto(f"{app_url}/pixelcnn_completion?digit=3&mask=bottom&n=3&seed=1")
    expect(page.get_by_text("completion 3", exact=True).first).to_be_visible(timeout=FIRST_RUN_MS)
    page.wait_for_function(LOADED_IMAGES, arg=2 + 3)
    expect(page.locator(".js-plotly-plot .heatmaplayer").first).to_be_attached()
    expect(page).to_have_url(re.compile(r"seed=1(&|$)"))
    expect(page).to_have_url(re.compile(r"n=3(&|$)"))
    screenshot(page, "pixelcnn_completion")


def test_watch_it_paint_then_completions_stay(page, app_url):
    page.goto(f"{app_url}/pixelcnn_completion?digit=10&mask=rows&start=10&end=16&n=2&seed=2&paint=1")
    expect(page.get_by_text("completion 2", exact=True).first).to_be_visible(timeout=FIRST_RUN_MS)
    page.wait_for_function(LOADED_IMAGES, arg=2 + 2)
    expect(page.get_by_text("completion 3", exact=True)).to_have_count(0)  # n=2 from the link
    screenshot(page, "pixelcnn_completion_paint")
