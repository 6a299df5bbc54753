"""The GAN playground in a real browser: Play trains live and the curves, the tiles and the 2-D field
redraw; a shared link sets up the 2-D tab."""
import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import screenshot, wait_for_app

STEP = re.compile(r"step (\d+)")


def step_count(page) -> int:
    text = page.locator('[data-testid="stMarkdown"]').filter(has_text=STEP).first.inner_text()
    return int(STEP.search(text).group(1))


def plot_data(page, key: str, expression: str):
    """`expression` of the traces (`data`) of the plotly chart drawn with `key`, read from plotly itself.

    Waits for the chart: while a rerun redraws it, the element is briefly absent or has no data yet."""
    handle = page.wait_for_function(
        f"""(key) => {{ const gd = document.querySelector(`.st-key-${{key}} .js-plotly-plot`);
                       if (!gd || !gd.data) return null;
                       const data = gd.data;
                       return {{value: {expression}}}; }}""", arg=key)
    return handle.json_value()["value"]


def curve_lengths(page, key: str) -> list[int]:
    """Points in each trace of the plotly chart drawn with `key`."""
    return plot_data(page, key, "data.map(t => t.x.length)")


def curves_reach(page, key: str, n: int, timeout: float = 15_000) -> list[int]:
    """Points in each trace of chart `key` once every trace has at least n, or as they are at the timeout.

    The step counter can land before the chart's redraw does (seen in CI with Streamlit 1.67), so a
    single read may see the previous frame's chart."""
    try:
        page.wait_for_function(
            f"""(n) => {{ const gd = document.querySelector(`.st-key-{key} .js-plotly-plot`);
                         return gd && gd.data && gd.data.every(t => t.x.length >= n); }}""", arg=n, timeout=timeout)
    except PlaywrightTimeout:
        pass
    return curve_lengths(page, key)


def tile_sources(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('svg.tile2x2')].map(s => s.innerHTML)""")


def tiles_changed(page, before: list[str], timeout: float = 15_000) -> bool:
    """Whether some 2x2 tile that was not on the page before appears (waiting for the last redraw to land)."""
    try:
        page.wait_for_function(
            """(before) => [...document.querySelectorAll('svg.tile2x2')].some(s => !before.includes(s.innerHTML))""",
            arg=before, timeout=timeout)
        return True
    except PlaywrightTimeout:
        return False


def play_until(page, steps: int, timeout: float = 60_000) -> None:
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        """(n) => [...document.querySelectorAll('[data-testid="stMarkdown"]')]
                  .some(e => { const m = e.innerText.match(/step (\\d+)/); return m && +m[1] >= n; })""",
        arg=steps, timeout=timeout)
    page.get_by_role("button", name="Pause").click()
    wait_for_app(page)  # Pause reruns the page: let that run finish and its last frame land


def test_lecture_play_trains_and_redraws_curves_and_tiles(page, app_url):
    page.goto(f"{app_url}/gan_playground")
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot")
    assert page.get_by_text("g = +1 * 1 + 0 * (-1) + 0 * (-1) + 1 * 1 - 1 = 1").is_visible()
    assert page.get_by_text("f = σ(g) → output = 0.73").is_visible()
    assert step_count(page) == 0
    curves_before = curve_lengths(page, "l_curves")
    tiles_before = tile_sources(page)

    play_until(page, 20)

    assert step_count(page) >= 20
    curves_after = curves_reach(page, "l_curves", 20)
    # both error curves and both D-output curves grew by the steps played, and G's tiles were redrawn
    assert curves_before == [0, 0, 0, 0]
    assert min(curves_after) >= 20, curves_after
    assert tiles_changed(page, tiles_before), "G's tiles did not change while playing"
    screenshot(page, "gan_playground_2x2")


def test_2d_tab_from_a_shared_link_plays(page, app_url):
    page.goto(f"{app_url}/gan_playground?tab=2d&dist=moons&lr_g=0.003&seed=3")
    wait_for_app(page)
    page.wait_for_selector(".js-plotly-plot")
    assert step_count(page) == 0
    assert plot_data(page, "p_field", "data.map(t => t.type)") == \
        ["heatmap", "scatter", "scatter"]  # D's map under the real points and the fakes
    fakes_before = plot_data(page, "p_field", "data[2].x.slice(0, 5)")

    play_until(page, 30)

    assert step_count(page) >= 30
    assert min(curves_reach(page, "p_errors", 30)) >= 30
    fakes_after = plot_data(page, "p_field", "data[2].x.slice(0, 5)")
    assert fakes_after != fakes_before, "G's points did not move"
    assert "dist=moons" in page.url and "seed=3" in page.url  # the setup stays shareable
    screenshot(page, "gan_playground_2d")


def test_bad_link_values_give_a_note_not_a_traceback(page, app_url):
    page.goto(f"{app_url}/gan_playground?dist=spiral&d_steps=lots")
    wait_for_app(page)
    assert page.get_by_text("in the link is not one of ring, moons, line, circle").is_visible()
    assert page.get_by_text("in the link is not a whole number").is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
