"""What only a real browser shows about links and reruns: a hostile link's Markdown stays text (no link,
no image fetched), "New face" reruns only the face's fragment, and the menu moves between the two GAN
playground pages without an old link's forwarding getting in the way."""
import re
from urllib.parse import quote

from playwright.sync_api import expect

from tests.appserver import screenshot, wait_for_app

MARKDOWN = "`x` [click](https://evil.example/) ![px](https://evil.example/p.png) www.evil.example"


def test_markdown_in_a_link_is_shown_as_text(page, app_url):
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if "evil.example" in r.url.split("?")[0] else None)
    page.goto(f"{app_url}/gan_sampler?seed={quote(MARKDOWN)}")
    wait_for_app(page)
    note = page.locator('[data-testid="stAlert"]').filter(has_text="in the link is not a whole number")
    expect(note).to_contain_text(f"seed={MARKDOWN}")
    assert note.locator("a, img").count() == 0, note.inner_html()
    assert page.locator('a[href*="evil"], img[src*="evil"]').count() == 0
    assert fetched == []
    screenshot(page, "hostile_link")


def test_new_face_reruns_only_the_face(page, app_url):
    """The server sends the deltas of what a run draws. After "New face" none of them is the grid's (picked
    and shown) or the morph's (not picked, never sent); after a truncation change (which reruns the page on purpose) they are: the check can fail."""
    frames = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, bytes) else payload.encode())))
    page.goto(f"{app_url}/gan_sampler?seed=100&trunc=0.8")
    wait_for_app(page)
    grid, morph = page.get_by_text("seed 116", exact=True), page.get_by_text("100 → 101 at t = 0.5")
    page.get_by_role("radio", name="16 more faces").click()
    expect(grid).to_be_visible()
    wait_for_app(page)
    face_caption = page.get_by_text(re.compile(r"this face does not exist$"))
    expect(face_caption).to_contain_text("seed 100,")

    frames.clear()
    page.get_by_role("button", name="New face").click()
    expect(face_caption).not_to_contain_text("seed 100,")
    wait_for_app(page)
    sent = b"".join(frames)
    assert b"this face does not exist" in sent  # the face was redrawn ...
    assert b"seed 116" not in sent and "100 → 101".encode() not in sent  # ... the grid and morph were not
    expect(grid).to_be_visible()  # still there
    expect(morph).to_have_count(0)  # a section nobody picked is never sent

    frames.clear()
    page.get_by_label("Seed (share it, or type one to get its face back)").fill("100")
    page.keyboard.press("Enter")
    expect(face_caption).to_contain_text("seed 100,")
    page.get_by_role("slider").first.focus()
    page.keyboard.press("ArrowLeft")  # ψ 0.8 -> 0.75 changes every face: the whole page reruns
    expect(face_caption).to_contain_text("ψ = 0.75")
    wait_for_app(page)
    assert b"seed 116" in b"".join(frames)
    screenshot(page, "gan_sampler_after_new_face")


def test_menu_moves_between_the_two_playground_pages(page, app_url):
    page.goto(f"{app_url}/gan_playground?tab=2d&dist=moons")  # a link from before the split
    wait_for_app(page)
    expect(page.get_by_role("heading", name=re.compile("2-D GAN lab"))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/gan_lab_2d\?.*dist=moons"))
    page.locator('[data-testid="stSidebar"]').get_by_text("GAN playground").click()
    expect(page.get_by_role("heading", name=re.compile("the lecture's 2x2 GAN"))).to_be_visible()
    wait_for_app(page)
    expect(page.get_by_text("f = σ(g) → output = 0.73")).to_be_visible()
    page.locator('[data-testid="stSidebar"]').get_by_text("2-D GAN lab").click()
    expect(page).to_have_url(re.compile(r"/gan_lab_2d\?.*dist=moons"))  # the setup kept in the session
    screenshot(page, "gan_lab_2d_from_menu")
