"""Real browser: GenLab's own sidebar menu, also for the first visitor of a deep link to a fresh server."""
import re

from playwright.sync_api import expect

from pages._catalog import existing_demos
from tests.appserver import running_app, screenshot, wait_for_app


def slug(demo) -> str:
    return demo["path"].removeprefix("pages/").removesuffix(".py")


def test_deep_link_to_a_fresh_server_gets_the_app_shell(page):
    """The first visitor of a shared link (no one has opened / yet) still gets GenLab's sidebar and
    the page they were sent to, with its query parameters."""
    demo = existing_demos()[-1]
    with running_app() as server:  # its own server: the app-wide one has been visited already
        page.goto(f"{server.url}/{slug(demo)}?seed=7")
        sidebar = page.locator('[data-testid="stSidebar"]')
        # the first run switches Streamlit to st.navigation and reruns: the menu comes with that second run
        expect(sidebar.get_by_text("Home", exact=True)).to_be_visible()
        for d in existing_demos():
            expect(sidebar.get_by_text(d["title"], exact=True)).to_be_visible()
        expect(sidebar).not_to_contain_text("_shared")
        expect(sidebar).not_to_contain_text("_catalog")
        expect(page).to_have_url(re.compile(rf"/{slug(demo)}\?(.*&)?seed=7(&|$)"))
        wait_for_app(page)
        screenshot(page, "deep_link")


def test_sidebar_menu_navigates(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    demo = existing_demos()[0]
    page.locator('[data-testid="stSidebar"]').get_by_text(demo["title"], exact=True).click()
    expect(page).to_have_url(re.compile(rf"/{slug(demo)}(\?|$)"))
    # the demo replaced the home page (not just the address bar) and ran without an exception box
    expect(page.get_by_role("heading", name="GenLab: a hands-on lab for generative models")).to_have_count(0)
    wait_for_app(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
