"""Real browser: the "PixelRNN vs PixelCNN" page draws a receptive-field map per model, and a click on a
pixel of a map moves every map, the row and column inputs and the link to that pixel. Tiny random models of
all three families in a temporary weights folder (the receptive fields are architectural)."""
import os
import re

import pytest
from playwright.sync_api import expect

from tests.app.test_autoregressive import save_models
from tests.appserver import running_app, screenshot

FIRST_RUN_MS = 120_000  # a fresh server: imports, three models, painting, three gradient maps on 2 shared cores
# The page's point of the chosen plotly chart at data coordinates (col, row), in page pixels.
POINT = """([el, col, row]) => { const gd = el.querySelector('.js-plotly-plot'), box = gd.getBoundingClientRect();
    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    return {x: box.left + xa._offset + xa.d2p(col), y: box.top + ya._offset + ya.d2p(row)}; }"""


@pytest.fixture(scope="module")
def tiny_app_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("weights")
    save_models(folder)
    with running_app(env={**os.environ, "GENLAB_WEIGHTS": str(folder)}) as server:
        yield server.url


def earlier_than(row, col):
    """The field captions of pixel (row, col), one per model."""
    return re.compile(rf"of the {row * 28 + col} earlier pixels")


def test_clicking_a_pixel_shows_its_receptive_field_in_every_map(page, tiny_app_url):
    page.goto(f"{tiny_app_url}/autoregressive?model=row&row=16&col=4")
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts).to_have_count(3, timeout=FIRST_RUN_MS)
    expect(page.get_by_text(earlier_than(16, 4))).to_have_count(3)
    for i in range(3):  # drawn: the two heat maps (status and influence) and the clickable layer
        expect(charts.nth(i).locator(".heatmaplayer image")).to_have_count(2)
        expect(charts.nth(i).locator(".scatterlayer .point").first).to_be_attached()

    row_lstm = charts.nth(1)
    row_lstm.scroll_into_view_if_needed()
    point = page.evaluate(POINT, [row_lstm.element_handle(), 20, 8])
    page.mouse.move(point["x"], point["y"])
    page.mouse.click(point["x"], point["y"])

    expect(page).to_have_url(re.compile(r"row=8&col=20(&|$)"))
    expect(page.get_by_text(earlier_than(8, 20))).to_have_count(3)
    expect(page.get_by_role("spinbutton", name="Row", exact=True)).to_have_value("8")
    expect(page.get_by_role("spinbutton", name="Column", exact=True)).to_have_value("20")
    expect(charts).to_have_count(3)
    screenshot(page, "autoregressive_receptive_field")
