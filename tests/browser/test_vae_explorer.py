"""The VAE explorer in a real browser: the latent map and the manifold are drawn, and a click on an
empty spot of the map decodes that z (the slider, the decoded image and the URL follow)."""
import re

from tests.browser.conftest import screenshot, wait_for_app

CAPTION = re.compile(r"decode\(z\) at z = \((-?\d+\.\d+), (-?\d+\.\d+)\)")


def decoded_caption(page) -> str:
    return page.get_by_text(CAPTION).first.text_content()


def test_clicking_the_latent_map_decodes_that_point(page, app_url):
    page.goto(f"{app_url}/vae_explorer?ds=mnist&model=vae&z1=0&z2=0")
    wait_for_app(page)
    plot = page.locator('[data-testid="stPlotlyChart"]').first
    plot.locator(".scatterlayer .trace .point").first.wait_for(timeout=30_000)
    # ten class traces drawn with 100 visible points each, over the 41x41 invisible grid
    assert plot.locator(".scatterlayer .trace").count() >= 11
    assert page.locator('[data-testid="stImage"] img').count() >= 6  # decode, manifold, rows of images
    before = decoded_caption(page)
    assert "(0.00, 0.00)" in before
    src_before = page.locator('[data-testid="stImage"] img').first.get_attribute("src")

    # click an empty-ish spot in the upper right of the plotting area: the grid point there is selected
    area = plot.locator(".nsewdrag").first.bounding_box()
    page.mouse.click(area["x"] + 0.85 * area["width"], area["y"] + 0.15 * area["height"])
    page.wait_for_function(
        "() => ![...document.querySelectorAll('p, div')].some(e => e.textContent.includes('decode(z) at z = (0.00, 0.00)'))",
        timeout=30_000)
    wait_for_app(page)
    z1, z2 = map(float, CAPTION.search(decoded_caption(page)).groups())
    assert z1 > 2 and z2 > 2, (z1, z2)  # upper right of [-4, 4]^2
    assert page.locator('[data-testid="stImage"] img').first.get_attribute("src") != src_before
    assert f"z1={z1:.2f}" in page.url and f"z2={z2:.2f}" in page.url
    screenshot(page, "vae_explorer")
