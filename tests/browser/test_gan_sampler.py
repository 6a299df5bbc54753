"""The GAN face sampler in a real browser (shipped weights/gan-faces): a face is drawn, "New face"
draws another one and updates the link, and a ?seed= link reproduces the same face."""
import re

from tests.browser.conftest import screenshot, wait_for_app

MAIN_FACE = '[data-testid="stMain"] [data-testid="stImage"] img'


def face_bytes(page) -> bytes:
    img = page.locator(MAIN_FACE).first
    img.wait_for(state="visible", timeout=30_000)
    assert page.evaluate("(el) => el.complete && el.naturalWidth", img.element_handle()) >= 256  # drawn, upscaled
    src = img.get_attribute("src")
    return page.request.get(src if src.startswith("http") else page.url.split("/gan_sampler")[0] + src).body()


def test_face_is_drawn_new_face_changes_it_and_the_seed_link_reproduces_it(page, app_url):
    page.goto(f"{app_url}/gan_sampler?seed=123&trunc=0.8")
    wait_for_app(page)
    page.get_by_role("heading", name=re.compile("This face does not exist")).wait_for(state="visible", timeout=30_000)
    first = face_bytes(page)
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    # the big face plus the 16-face grid (the grid draws after the face; wait_for_app can return between)
    page.wait_for_function(f"() => document.querySelectorAll('{MAIN_FACE}').length >= 17", timeout=30_000)
    screenshot(page, "gan_sampler")

    page.get_by_role("button", name=re.compile("New face")).click()
    page.wait_for_function("() => !window.location.search.includes('seed=123&')", timeout=30_000)
    wait_for_app(page)
    new_seed = re.search(r"seed=(\d+)", page.url).group(1)
    assert new_seed != "123"
    assert face_bytes(page) != first

    page.goto(f"{app_url}/gan_sampler?seed=123&trunc=0.8")  # the shared link, in a fresh session
    wait_for_app(page)
    assert face_bytes(page) == first


def test_bad_seed_in_the_link_gives_a_note_not_a_traceback(page, app_url):
    page.goto(f"{app_url}/gan_sampler?seed=abc")
    wait_for_app(page)
    assert page.get_by_text("is not a whole number").first.is_visible()
    assert page.locator('[data-testid="stException"]').count() == 0
    page.locator(MAIN_FACE).first.wait_for(state="visible", timeout=30_000)
