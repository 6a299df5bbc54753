"""The two GAN playground pages in a real browser: on the lecture's 2x2 page and in the 2-D GAN lab,
Play trains live and the curves, the tiles and the 2-D field redraw; a shared link sets up the 2-D lab;
bad link values give notes."""
import re

from playwright.sync_api import expect

from tests.appserver import screenshot, wait_for_app

STEP_0 = re.compile(r"step 0\b")


def status(page):
    """The "step N" line above the charts."""
    return page.locator('[data-testid="stMarkdown"]').filter(has_text=re.compile(r"step \d+")).first


def wait_for_plot(page, key: str, condition: str, arg=None):
    """Wait until `condition` (JS over `data`, the traces of the plotly chart drawn with `key`) holds, and
    return it. While a rerun redraws the chart the element is briefly absent or has no data yet; the step
    counter can also land before the chart's redraw does (seen in CI with Streamlit 1.67)."""
    handle = page.wait_for_function(
        f"""(arg) => {{ const gd = document.querySelector(`.st-key-{key} .js-plotly-plot`);
                       if (!gd || !gd.data) return null;
                       const data = gd.data;
                       const value = {condition};
                       return value ? {{value}} : null; }}""", arg=arg)
    return handle.json_value()["value"]


def every_curve_has(page, key: str, n: int) -> list[int]:
    """Points per trace of chart `key`, once every trace has at least n (fails after the timeout)."""
    return wait_for_plot(page, key, "data.every(t => t.x.length >= arg) && data.map(t => t.x.length)", n)


def play_until(page, steps: int) -> None:
    page.get_by_role("button", name="Play").click()
    page.wait_for_function(
        """(n) => [...document.querySelectorAll('[data-testid="stMarkdown"]')]
                  .some(e => { const m = e.innerText.match(/step (\\d+)/); return m && +m[1] >= n; })""",
        arg=steps, timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    wait_for_app(page)  # Pause reruns the page: let that run finish and its last frame land


def steps_shown(page) -> int:
    return int(re.search(r"step (\d+)", status(page).inner_text()).group(1))


def test_lecture_play_trains_and_redraws_curves_and_tiles(page, app_url):
    page.goto(f"{app_url}/gan_playground")
    expect(page.get_by_text("g = +1 * 1 + 0 * (-1) + 0 * (-1) + 1 * 1 - 1 = 1")).to_be_visible()
    expect(page.get_by_text("f = σ(g) → output = 0.73")).to_be_visible()
    expect(status(page)).to_contain_text(STEP_0)
    # both error curves and both D-output curves start empty
    assert wait_for_plot(page, "training_curves", "data.map(t => t.x.length).join() === '0,0,0,0'")
    tiles_before = page.evaluate("() => [...document.querySelectorAll('svg.tile2x2')].map(s => s.innerHTML)")

    play_until(page, 20)

    assert steps_shown(page) >= 20
    assert min(every_curve_has(page, "training_curves", 20)) >= 20
    # G's tiles were redrawn: some tile that was not on the page before appears
    page.wait_for_function(
        "(before) => [...document.querySelectorAll('svg.tile2x2')].some(s => !before.includes(s.innerHTML))",
        arg=tiles_before)
    screenshot(page, "gan_playground_2x2")


def test_2d_lab_from_a_shared_link_plays(page, app_url):
    page.goto(f"{app_url}/gan_lab_2d?dist=moons&lr_g=0.003&seed=3")
    expect(status(page)).to_contain_text(STEP_0)
    # D's map under the real points and the fakes
    assert wait_for_plot(page, "field", "data.map(t => t.type).join() === 'heatmap,scatter,scatter'")
    fakes_before = wait_for_plot(page, "field", "data[2].x.slice(0, 5)")

    play_until(page, 30)

    assert steps_shown(page) >= 30
    assert min(every_curve_has(page, "errors", 30)) >= 30
    # G's points moved
    wait_for_plot(page, "field", "JSON.stringify(data[2].x.slice(0, 5)) !== JSON.stringify(arg)", fakes_before)
    expect(page).to_have_url(re.compile(r"dist=moons"))  # the setup stays shareable
    expect(page).to_have_url(re.compile(r"seed=3(&|$)"))
    screenshot(page, "gan_playground_2d")


def test_bad_link_values_give_a_note_not_a_traceback(page, app_url):
    page.goto(f"{app_url}/gan_lab_2d?dist=spiral&d_steps=lots")
    expect(page.get_by_text("in the link is not one of ring, moons, line, circle")).to_be_visible()
    expect(page.get_by_text("in the link is not a whole number")).to_be_visible()
    wait_for_app(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
