"""The VAE explorer in a real browser: the latent map and the manifold are drawn, and a click on an
empty spot of the map decodes that z (the slider, the decoded image and the URL follow)."""
import re

from playwright.sync_api import expect

from tests.appserver import screenshot, wait_for_app

CAPTION = re.compile(r"decode\(z\) at z = \((-?\d+\.\d+), (-?\d+\.\d+)\)")


def test_clicking_the_latent_map_decodes_that_point(page, app_url):
    page.goto(f"{app_url}/vae_explorer?ds=mnist&model=vae&z1=0&z2=0")
    plot = page.locator('[data-testid="stPlotlyChart"]').first
    expect(plot.locator(".scatterlayer .trace .point").first).to_be_attached()
    # ten class traces drawn with 100 visible points each, over the 41x41 invisible grid
    page.wait_for_function("(gd) => gd.querySelectorAll('.scatterlayer .trace').length >= 11",
                           arg=plot.element_handle())
    # decode, manifold, reconstruction, interpolation and prior rows: at least six pictures
    page.wait_for_function("() => document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 6")
    caption = page.get_by_text(CAPTION).first
    expect(caption).to_contain_text("(0.00, 0.00)")
    wait_for_app(page)
    src_before = page.locator('[data-testid="stImage"] img').first.get_attribute("src")

    # click an empty-ish spot in the upper right of the plotting area: the grid point there is selected
    area = plot.locator(".nsewdrag").first.bounding_box()
    page.mouse.click(area["x"] + 0.85 * area["width"], area["y"] + 0.15 * area["height"])
    expect(caption).not_to_contain_text("(0.00, 0.00)")
    z1, z2 = map(float, CAPTION.search(caption.text_content()).groups())
    assert z1 > 2 and z2 > 2, (z1, z2)  # upper right of [-4, 4]^2
    expect(page.locator('[data-testid="stImage"] img').first).not_to_have_attribute("src", src_before)
    # the link follows (it is written at the end of the run): the same point, however the page writes
    # the number (2.8 or 2.80)
    expect(page).not_to_have_url(re.compile(r"[?&]z1=0(\.0*)?(&|$)"))
    link = dict(re.findall(r"(z[12])=(-?[0-9.]+)", page.url))
    assert abs(float(link["z1"]) - z1) < 0.006 and abs(float(link["z2"]) - z2) < 0.006, (link, z1, z2)
    screenshot(page, "vae_explorer")
