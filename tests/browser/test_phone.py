"""Every page on a phone (issue 26): Home and each page of pages/catalog.json in chromium at 390 x 844 (touch,
device scale 2). Per page: nothing scrolls sideways, the page's primary element lies inside the first screen
(and still does after its primary action), its tap targets are at least 40 px high, and one tap of the primary
action works. A first-screen screenshot of each page lands in screenshots/phone/.

The pages come from pages/catalog.json, so a new page is covered the day it is listed; a listed page without a
row in PAGES below fails with a message saying what to add. AppTest cannot see any of this: only a browser
lays the page out."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

import quiz
from quiz import session
from tests.appserver import ROOT, screenshot, wait_for_app

WIDTH, HEIGHT = 390, 844  # CSS pixels: a current phone, portrait
PHONE = {"viewport": {"width": WIDTH, "height": HEIGHT}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}
TAP_MIN_PX = 40
FIRST_RUN_MS = 120_000  # a page's first visit loads its models (and paints digits) on 2 shared cores
CATALOG = [d["path"] for d in json.loads((ROOT / "pages" / "catalog.json").read_text(encoding="utf-8"))]
SCREENSHOTS = ROOT / "screenshots" / "phone"
# Streamlit's own buttons (st.button, st.download_button, form buttons): every one on a page is checked.
BUTTONS = ('[data-testid="stMain"] button[data-testid^="stBaseButton-primary"], '
           '[data-testid="stMain"] button[data-testid^="stBaseButton-secondary"], '
           '[data-testid="stMain"] button[data-testid^="stBaseButton-tertiary"]')
# Streamlit's own small controls, which app.py's touch style sheet makes finger-sized
SMALL_CONTROLS = ('[data-testid="stMain"] [data-testid="stRadio"] label[data-baseweb="radio"], '
                  '[data-testid="stMain"] [data-testid="stCheckbox"] label, '
                  '[data-testid="stMain"] [data-testid="stButtonGroup"] button, '
                  '[data-testid="stMain"] [data-testid="stPageLink-NavLink"], '
                  '[data-testid="stMain"] [data-testid="stNumberInputStepUp"]')


@pytest.fixture
def browser_context_args(browser_context_args):
    """This module's `page` is a phone (the conftest's is a 1400 x 1000 desktop)."""
    return {**browser_context_args, **PHONE}


# ---- what is primary on each page, and what its tap does ---------------------------------------------------

def images(page: Page) -> Locator:
    return page.locator('[data-testid="stMain"] [data-testid="stImage"] img')


def captioned(page: Page, caption) -> Locator:
    """The image of an st.image (list) whose caption is `caption` (a string matched exactly, or a regex)."""
    text = page.get_by_text(caption, exact=True) if isinstance(caption, str) else page.get_by_text(caption)
    return page.locator('[data-testid="stImageContainer"]').filter(has=text).locator("img").first


def src_changes(page: Page, image: Callable[[Page], Locator], tap: Callable[[Page], None]) -> None:
    """Tap, then wait until the image shows another file (and has loaded it)."""
    before = image(page).get_attribute("src")
    tap(page)
    expect(image(page)).not_to_have_attribute("src", before, timeout=FIRST_RUN_MS)
    expect(image(page)).to_have_js_property("complete", True)


def home_menu(page: Page) -> None:
    """On a phone the sidebar is folded away: open the menu, tap the first demo, and it opens."""
    page.locator('[data-testid="stExpandSidebarButton"]').tap()
    first = json.loads((ROOT / "pages" / "catalog.json").read_text(encoding="utf-8"))[0]
    page.locator('[data-testid="stSidebar"]').get_by_text(first["title"], exact=True).tap()
    expect(page).to_have_url(re.compile(rf"/{Path(first['path']).stem}(\?|$)"))
    expect(page.get_by_role("heading", name=re.compile(re.escape(first["title"])))).to_be_visible()


def face(page: Page) -> Locator:
    return images(page).first


def new_face(page: Page) -> None:
    src_changes(page, face, lambda p: p.get_by_role("button", name="New face").tap())
    expect(page).not_to_have_url(re.compile(r"seed=123(&|$)"))


def completion(page: Page) -> Locator:
    return captioned(page, "completion 1")


def new_completions(page: Page) -> None:
    src_changes(page, completion, lambda p: p.get_by_role("button", name="New completions").tap())
    expect(page).to_have_url(re.compile(r"seed=2(&|$)"))


def sample(page: Page) -> Locator:
    return captioned(page, re.compile(r"sample 1$"))


def decoded(page: Page) -> Locator:
    return captioned(page, re.compile(r"^decode\(z\) at z = "))


def z1_slider(page: Page) -> Locator:
    """The z1 slider's track: the 40 px high strip that takes the tap."""
    return page.locator('[data-testid="stSlider"]').filter(has_text="z1").first.get_by_role("group")


def slide_z1(page: Page) -> None:
    """A tap near the right end of the z1 track moves z1 there: the decoded image follows."""
    def tap(p):
        track = z1_slider(p).bounding_box()
        p.touchscreen.tap(track["x"] + 0.85 * track["width"], track["y"] + track["height"] / 2)
    src_changes(page, decoded, tap)
    expect(page.get_by_text(re.compile(r"^decode\(z\) at z = \((2|3)\.\d\d, 0\.00\)"))).to_be_visible()


def d_output(page: Page) -> Locator:
    return page.get_by_text(re.compile(r"^D's output f = σ\(g\)"))


def image_select(page: Page) -> Locator:
    """The "Image" selectbox: its 40 px high box."""
    return page.locator(".st-key-lecture_image").get_by_role("group")


def pick_non_face(page: Page) -> None:
    image_select(page).tap()
    page.get_by_role("option", name="slide 52's non-face [0.25, 1, 0.5, 0.75]").tap()
    expect(d_output(page)).to_contain_text("0.18")
    expect(d_output(page)).to_contain_text("not a face")


def step_once(page: Page) -> None:
    status = page.locator('[data-testid="stMarkdown"]').filter(has_text=re.compile(r"step \d+")).first
    expect(status).to_contain_text(re.compile(r"step 0\b"))
    page.get_by_role("button", name="Step", exact=True).tap()
    expect(status).to_contain_text(re.compile(r"step 1\b"))


def answer_buttons(page: Page) -> list[Locator]:
    """The six answers of the round: left or right is real, and how sure."""
    return [page.locator(f'[class*="st-key-rf_{side}_{level}_"] button')
            for side in ("left", "right") for level in (1, 2, 3)]


def answer_round(page: Page) -> None:
    expect(page.get_by_text("Round 1 of 3: which one is real?")).to_be_visible()
    page.locator('[class*="st-key-rf_left_3_"] button').tap()
    expect(page.get_by_text(re.compile(r"^Round 1: (right|wrong)"))).to_be_visible()
    expect(page.get_by_text("Round 2 of 3: which one is real?")).to_be_visible()
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img')]
                              .filter(i => i.complete && i.naturalWidth === 196).length >= 2""")


def quiz_seed() -> tuple[int, quiz.Question]:
    """The first seed whose 3-question quiz starts with a one-answer question (deterministic)."""
    bank = quiz.load_bank()
    for seed in range(1, 1000):
        first = session.pick(bank.questions, bank.topics(), 3, seed)[0]
        if first.kind == "single":
            return seed, first
    raise AssertionError("no quiz starts with a one-answer question")


QUIZ_SEED, QUIZ_FIRST = quiz_seed()


def answer_question(page: Page) -> None:
    """Tap an answer, then Submit: the answer is graded and counted."""
    option = page.locator(f".st-key-rq-1-1-{QUIZ_FIRST.id} [role=radiogroup] label").first
    option.tap()
    expect(option.locator("input")).to_be_checked()
    submit = page.get_by_role("button", name="Submit", exact=True)
    expect(submit).to_be_enabled()
    submit.tap()
    expect(page.get_by_text("Right!").or_(page.get_by_text("Not right.")).or_(page.get_by_text("Partly right."))
           ).to_be_visible()
    expect(page.locator('[data-testid="stProgress"]')).to_contain_text("1 of 3 answered")


def flow_samples(page: Page) -> Locator:
    return captioned(page, re.compile(r"^32 samples, seed "))


def best_pixelcnn_samples(page: Page) -> Locator:
    return captioned(page, re.compile(r"^Best: multi-scale PixelCNN\+\+"))


def draw_samples(page: Page) -> Locator:
    return page.get_by_role("button", name="Draw 4 digits from each model")


def draw_pixelcnn_samples(page: Page) -> None:
    """Sampling runs only when asked: tap, then wait for the best model's digits (784 passes each)."""
    draw_samples(page).tap()
    expect(best_pixelcnn_samples(page)).to_be_visible(timeout=2 * FIRST_RUN_MS)
    expect(best_pixelcnn_samples(page)).to_have_js_property("complete", True)


@dataclass(frozen=True)
class Phone:
    link: str                                     # the page's address, with a fixed setup
    primary: Callable[[Page], list[Locator]]      # what must lie inside the first screen
    tap: Callable[[Page], None]                   # one tap of the primary action; waits until it worked
    targets: Callable[[Page], list[Locator]]      # the primary tap targets (>= 40 px high)
    after: Callable[[Page], list[Locator]] | None = None  # on the first screen after the tap (None: `primary`)


def button_redraws_image(link: str, button: str, image: Callable[[Page], Locator],
                         also: Callable[[Page], list[Locator]] = lambda p: []) -> Phone:
    """A page whose primary action is one button that redraws one image (`also`: more primary elements)."""
    def press(p: Page) -> Locator:
        return p.get_by_role("button", name=button)
    return Phone(link, lambda p: [*also(p), press(p), image(p)],
                 lambda p: src_changes(p, image, lambda q: press(q).tap()), lambda p: [press(p)])


PAGES = {
    "home": Phone(
        "", lambda p: [p.get_by_role("heading", name="GenLab: a hands-on lab for generative models"),
                       p.locator('[data-testid="stGraphVizChart"]')],
        home_menu, lambda p: [], after=lambda p: []),  # the menu and its links are Streamlit's own
    "pages/pixelcnn_completion.py": Phone(
        "pixelcnn_completion?digit=3&mask=bottom&n=3&seed=1",
        lambda p: [p.get_by_role("button", name="New completions"), completion(p)], new_completions,
        lambda p: [p.get_by_role("button", name="New completions")]),
    "pages/autoregressive.py": button_redraws_image(
        "autoregressive?model=cnn&task=whole&seed=0", "New seed", sample,
        also=lambda p: [p.locator(".st-key-ar_model")]),
    "pages/vae_explorer.py": Phone(
        "vae_explorer?ds=mnist&model=vae&z1=0&z2=0",
        lambda p: [z1_slider(p), decoded(p)], slide_z1, lambda p: [z1_slider(p)]),
    "pages/flow.py": button_redraws_image("flow?t=0.7&seed=0", "New samples", flow_samples),
    "pages/pixelcnn_improvements.py": Phone(
        "pixelcnn_improvements?seed=0&digit=0", lambda p: [draw_samples(p)], draw_pixelcnn_samples,
        lambda p: [draw_samples(p)], after=lambda p: [p.get_by_role("button", name="New samples"),
                                                      best_pixelcnn_samples(p)]),
    "pages/gan_sampler.py": Phone(
        "gan_sampler?seed=123&trunc=0.8",
        lambda p: [p.get_by_role("button", name="New face"), face(p)], new_face,
        lambda p: [p.get_by_role("button", name="New face")]),
    "pages/gan_playground.py": Phone(
        "gan_playground",
        lambda p: [p.locator(".st-key-lecture_image"), p.locator("svg.tile2x2").first, d_output(p)],
        pick_non_face, lambda p: [image_select(p)]),
    "pages/gan_lab_2d.py": Phone(
        "gan_lab_2d?dist=ring&seed=0",
        lambda p: [p.get_by_role("button", name="Step", exact=True), p.locator(".st-key-field .main-svg").first],
        step_once,
        lambda p: [p.get_by_role("button", name=name, exact=True) for name in ("Step", "Play", "Reset")]),
    "pages/real_or_fake.py": Phone(
        "real_or_fake?seed=11&n=3&images=digits",
        # the round's two images come first (the last round's thumbnails follow the round)
        lambda p: [images(p).nth(0), images(p).nth(1), *answer_buttons(p)], answer_round, answer_buttons),
    "pages/reflect_quiz.py": Phone(
        f"reflect_quiz?seed={QUIZ_SEED}&n=3&scheme=exact",
        lambda p: [p.locator(f".st-key-rq-1-1-{QUIZ_FIRST.id}"), p.get_by_role("button", name="Submit", exact=True)],
        answer_question, lambda p: [p.get_by_role("button", name="Submit", exact=True)],
        after=lambda p: [p.locator(f".st-key-rq-1-1-{QUIZ_FIRST.id}")]),
}


# ---- the checks -----------------------------------------------------------------------------------------------

# How wide the page is, wherever it scrolls: Streamlit scrolls stMain, not the document, so the document's own
# scrollWidth alone would never see a page that scrolls sideways.
SCROLL_WIDTHS = """() => Object.fromEntries(
    [['document', document.documentElement], ['body', document.body],
     ...['stApp', 'stAppViewContainer', 'stMain', 'stMainBlockContainer'].map(
         id => [id, document.querySelector(`[data-testid="${id}"]`)])]
    .filter(([, e]) => e).map(([id, e]) => [id, e.scrollWidth]))"""
# Images and charts that stick out of the screen (an element inside a box that scrolls sideways on its own,
# such as a wide formula or a table, is judged by that box).
STICKING_OUT = """(width) => [...document.querySelectorAll(['img', '.js-plotly-plot', '[data-testid="stDataFrame"]',
                                                    'table'].map(s => '[data-testid="stMain"] ' + s).join())]
    .map(e => { let box = e;
                for (let a = e.parentElement; a && a.getAttribute('data-testid') !== 'stMain'; a = a.parentElement)
                    if (/(auto|scroll)/.test(getComputedStyle(a).overflowX)) { box = a; break; }
                const r = box.getBoundingClientRect();
                return r.width && (r.left < -1 || r.right > width + 1)
                       ? `${e.tagName} ${e.getAttribute('alt') || e.className || ''}: `
                         + `${Math.round(r.left)}..${Math.round(r.right)} px` : null; })
    .filter(Boolean)"""
# Everything drawn: images decoded and every plotly chart drawn (its element is there before the chart is).
ALL_DRAWN = """() => [...document.querySelectorAll('[data-testid="stMain"] img')].every(i => i.complete)
                  && [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stPlotlyChart"]')]
                     .every(c => c.querySelector('.main-svg'))"""


def slug(path: str) -> str:
    return "home" if path == "home" else Path(path).stem


def on_first_screen(page: Page, locators: list[Locator], when: str) -> None:
    for locator in locators:
        expect(locator).to_be_visible()
        box = locator.bounding_box()
        assert box is not None, f"{when}: {locator} has no box"
        inside = box["x"] >= -1 and box["x"] + box["width"] <= WIDTH + 1 and box["y"] >= 0 \
            and box["y"] + box["height"] <= HEIGHT + 1
        assert inside, f"{when}: {locator} is at x {box['x']:.0f}..{box['x'] + box['width']:.0f}, " \
                       f"y {box['y']:.0f}..{box['y'] + box['height']:.0f}: not inside the first {WIDTH} x {HEIGHT} px"


def check_tap_targets(page: Page, row: Phone) -> None:
    small = [f"{b.inner_text()!r}: {b.bounding_box()['height']:.0f} px"
             for b in page.locator(f"{BUTTONS}, {SMALL_CONTROLS}").all()
             if b.is_visible() and b.bounding_box()["height"] < TAP_MIN_PX]
    for target in row.targets(page):
        box = target.bounding_box()
        if box["height"] < TAP_MIN_PX:
            small.append(f"{target}: {box['height']:.0f} px")
    assert not small, f"tap targets under {TAP_MIN_PX} px high: {small}"


def drawn(page: Page) -> None:
    wait_for_app(page, timeout=FIRST_RUN_MS)
    page.wait_for_function(ALL_DRAWN, timeout=FIRST_RUN_MS)


def check_width(page: Page) -> None:
    widths = page.evaluate(SCROLL_WIDTHS)
    assert widths and all(w <= WIDTH for w in widths.values()), f"the page scrolls sideways: {widths}"
    out = page.evaluate(STICKING_OUT, WIDTH)
    assert not out, f"wider than the {WIDTH} px screen: {out}"


@pytest.mark.parametrize("path", ["home", *CATALOG], ids=slug)
def test_page_works_on_a_phone(page, app_url, path):
    row = PAGES.get(path)
    if row is None:
        pytest.fail(f"{path} is in pages/catalog.json but has no row in PAGES of tests/browser/test_phone.py: "
                    "add its link, its primary elements (on the first screen), its tap action and its tap targets",
                    pytrace=False)
    page.goto(f"{app_url}/{row.link}")
    wait_for_app(page, timeout=FIRST_RUN_MS)
    for locator in row.primary(page):
        expect(locator).to_be_visible(timeout=FIRST_RUN_MS)
    drawn(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screenshot(page, f"phone/{slug(path)}")  # the first screen: the document itself never scrolls
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    check_width(page)
    on_first_screen(page, row.primary(page), "on arrival")
    check_tap_targets(page, row)

    row.tap(page)
    drawn(page)
    screenshot(page, f"phone/{slug(path)}_after_tap")
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)
    check_width(page)
    on_first_screen(page, (row.after or row.primary)(page), "after the tap")


def test_every_row_is_a_page_of_the_catalog():
    """A row for a page that left the catalog would silently test nothing."""
    assert set(PAGES) - {"home"} <= set(CATALOG), set(PAGES) - {"home"} - set(CATALOG)
