"""The GAN face sampler in a real browser (shipped weights/gan-faces): a face is drawn, "New face"
draws another one and updates the link, and a ?seed= link reproduces the same face; the download is a
lossless PNG of that face; a section below the face arrives when it is picked."""
import io
import re
from urllib.parse import urljoin

from playwright.sync_api import expect

from tests.appserver import screenshot, wait_for_app

FACES = '[data-testid="stMain"] [data-testid="stImage"] img'
# The first image of the page, decoded, and upscaled from 64 px. Looked up on every poll: a rerun may
# replace the <img> element, and a handle to the old one would never finish loading.
DRAWN_BIG = f"""() => {{ const img = document.querySelector('{FACES}');
                        return img && img.complete && img.naturalWidth >= 256; }}"""


def main_face(page):
    """The big face (the first image of the page), once it is decoded in the browser."""
    page.wait_for_function(DRAWN_BIG)
    return page.locator(FACES).first


def served(page, img) -> bytes:
    """The image file the browser shows, fetched again from the server."""
    return page.request.get(urljoin(page.url, img.get_attribute("src"))).body()


def test_face_is_drawn_new_face_changes_it_and_the_seed_link_reproduces_it(page, app_url):
    page.goto(f"{app_url}/gan_sampler?seed=123&trunc=0.8")
    expect(page.get_by_role("heading", name=re.compile("This face does not exist"))).to_be_visible()
    face = main_face(page)
    first_src = face.get_attribute("src")
    first = served(page, face)
    assert first[:3] == b"\xff\xd8\xff"  # the page's own JPEG (quality 95, 4:4:4; see the AppTest)
    page.get_by_role("radio", name="16 more faces").click()  # sections below the face open on demand
    page.wait_for_function(f"() => document.querySelectorAll('{FACES}').length >= 17")  # face + 16
    screenshot(page, "gan_sampler")

    page.get_by_role("button", name=re.compile("New face")).click()
    expect(page).not_to_have_url(re.compile(r"seed=123(&|$)"))
    expect(page).to_have_url(re.compile(r"seed=\d+"))
    expect(page.locator(FACES).first).not_to_have_attribute("src", first_src)
    assert served(page, main_face(page)) != first

    page.goto(f"{app_url}/gan_sampler?seed=123&trunc=0.8")  # the shared link, in a fresh session
    assert served(page, main_face(page)) == first


def test_bad_seed_in_the_link_gives_a_note_not_a_traceback(page, app_url):
    page.goto(f"{app_url}/gan_sampler?seed=abc")
    expect(page.get_by_text("is not a whole number").first).to_be_visible()
    main_face(page)  # the page still draws a face, from a default seed
    wait_for_app(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_download_is_a_png_of_the_face_and_sections_fill_when_picked(page, app_url):
    from PIL import Image

    page.goto(f"{app_url}/gan_sampler?seed=77&trunc=0.8")
    face = main_face(page)
    wait_for_app(page)
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("Download PNG")).click()
    assert download.value.suggested_filename == "genlab-face-seed77-psi0.8.png"
    png = Image.open(io.BytesIO(open(download.value.path(), "rb").read()))
    shown = Image.open(io.BytesIO(served(page, face)))
    assert png.format == "PNG" and png.size == shown.size == (320, 320)
    # the same face: the lossless PNG and the shown JPEG differ by a few levels at most
    diff = [abs(a - b) for a, b in zip(png.convert("RGB").tobytes(), shown.convert("RGB").tobytes())]
    assert sum(diff) / len(diff) < 2 and max(diff) < 40

    expect(page.get_by_text("From seed A (0) to seed B (1)")).to_have_count(0)  # not picked: not sent
    page.get_by_role("radio", name="Morph between two seeds").click()
    expect(page.get_by_text("From seed A (0) to seed B (1)")).to_be_visible()
    expect(page.get_by_text("77 → 78 at t = 0.5")).to_be_visible()
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def test_how_real_leads_with_the_face_model_trained_elsewhere(page, app_url):
    """The shipped card's quality figures, strictest first: FD-dlib's verdict and chart above the texture ladder."""
    page.goto(f"{app_url}/gan_sampler?seed=123")
    main_face(page)
    page.get_by_role("radio", name="How real do they look?").click()
    verdict = page.get_by_text("A face model trained elsewhere")
    expect(verdict).to_be_visible(timeout=30_000)
    charts = page.locator('[data-testid="stPlotlyChart"]')
    expect(charts).to_have_count(2)
    texture = page.get_by_text("Sharpness and texture", exact=True)
    assert verdict.bounding_box()["y"] < charts.first.bounding_box()["y"] < texture.bounding_box()["y"]
    wait_for_app(page)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    screenshot(page, "gan_sampler_quality")
