from pages._catalog import existing_demos
from tests.browser.conftest import screenshot, wait_for_app


def test_home_shows_title_map_and_every_card(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    assert page.get_by_role("heading", name="GenLab: a hands-on lab for generative models").is_visible()
    # the taxonomy figure is drawn as SVG by the graphviz component
    page.wait_for_selector('[data-testid="stGraphVizChart"] svg', timeout=20_000)
    assert page.locator('[data-testid="stGraphVizChart"] svg').text_content().count("Explicit density") == 1
    demos = existing_demos()
    assert demos, "no demo pages exist"
    for demo in demos:
        assert page.get_by_role("heading", name=f"{demo['icon']} {demo['title']}").is_visible()
        assert page.get_by_text(f"Open {demo['title']}").first.is_visible()
    screenshot(page, "home")
