"""Real browser: the home page shows its title, the lecture's map (drawn as SVG) and one card per demo."""
from playwright.sync_api import expect

from pages._catalog import existing_demos
from tests.appserver import screenshot, wait_for_app


def test_home_shows_title_map_and_every_card(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="GenLab: a hands-on lab for generative models")).to_be_visible()
    # the taxonomy figure is drawn as SVG by the graphviz component, with each box once
    taxonomy = page.locator('[data-testid="stGraphVizChart"] svg')
    expect(taxonomy).to_be_visible()
    expect(taxonomy.locator("text", has_text="Explicit density")).to_have_count(1)
    demos = existing_demos()
    assert demos, "no demo pages exist"
    for demo in demos:
        expect(page.get_by_role("heading", name=f"{demo['icon']} {demo['title']}")).to_be_visible()
        expect(page.get_by_text(f"Open {demo['title']}").first).to_be_visible()
    screenshot(page, "home")
