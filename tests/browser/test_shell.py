from pages._catalog import existing_demos
from tests.browser.conftest import running_app, screenshot, wait_for_app


def test_deep_link_to_a_fresh_server_gets_the_app_shell(page):
    """The first visitor of a shared link (no one has opened / yet) still gets GenLab's sidebar and
    the page they were sent to, with its query parameters."""
    demo = existing_demos()[-1]
    slug = demo["path"].removeprefix("pages/").removesuffix(".py")
    with running_app() as url:
        page.goto(f"{url}/{slug}?seed=7")
        wait_for_app(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        # the first run switches Streamlit to st.navigation and reruns: wait for that second run's menu
        sidebar.get_by_text("Home").wait_for(state="visible", timeout=30_000)
        wait_for_app(page)
        for d in existing_demos():
            assert sidebar.get_by_text(d["title"]).is_visible()
        assert "_shared" not in sidebar.inner_text() and "_catalog" not in sidebar.inner_text()
        assert f"/{slug}" in page.url and "seed=7" in page.url
        screenshot(page, "deep_link")


def test_sidebar_menu_navigates(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    demo = existing_demos()[0]
    page.locator('[data-testid="stSidebar"]').get_by_text(demo["title"]).click()
    wait_for_app(page)
    slug = demo["path"].removeprefix("pages/").removesuffix(".py")
    page.wait_for_url(f"**/{slug}**", timeout=20_000)
