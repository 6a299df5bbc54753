"""Real browser: the PixelCNN page draws its completions and the probability heat map."""
from tests.browser.conftest import screenshot, wait_for_app

LOADED_IMAGES = """() => [...document.querySelectorAll('[data-testid="stImage"] img')]
                    .filter(i => i.complete && i.naturalWidth === 168).length"""


def test_completions_and_heat_map_appear(page, app_url):
    page.goto(f"{app_url}/pixelcnn_completion?digit=3&mask=bottom&n=3&seed=1")
    wait_for_app(page, timeout=120_000)
    assert page.get_by_text("completion 3", exact=True).first.is_visible()
    # original + what the model sees + 3 completions, each a decoded 168x168 picture
    page.wait_for_function(f"() => ({LOADED_IMAGES})() >= 5", timeout=30_000)
    page.wait_for_selector(".js-plotly-plot .heatmaplayer", timeout=30_000)
    assert "seed=1" in page.url and "n=3" in page.url
    screenshot(page, "pixelcnn_completion")


def test_watch_it_paint_then_completions_stay(page, app_url):
    page.goto(f"{app_url}/pixelcnn_completion?digit=10&mask=rows&start=10&end=16&n=2&seed=2&paint=1")
    wait_for_app(page, timeout=120_000)
    page.wait_for_function(f"() => ({LOADED_IMAGES})() >= 4", timeout=30_000)
    assert page.get_by_text("completion 2", exact=True).first.is_visible()
    screenshot(page, "pixelcnn_completion_paint")
