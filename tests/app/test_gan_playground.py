"""AppTest of the two GAN playground pages: the lecture's 2x2 numbers, Step / Play / Reset, the 2-D setup
in the link (bad values give a note and a default), links from before the split, and widget values that
survive a visit to another page."""
import ast
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.helpers import notes_text

ROOT = Path(__file__).resolve().parents[2]
LECTURE = "pages/gan_playground.py"
LAB_2D = "pages/gan_lab_2d.py"
TIMEOUT = 120  # the first run imports torch on a busy 2-core host


def run(page: str, params=None) -> AppTest:
    """The page through app.py's router (as a visitor gets it), with `params` in the link."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.query_params.update(params or {})
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def go(at, page: str) -> AppTest:
    """Open another page from the menu: a browser drops the link's parameters on a page switch."""
    at.query_params.clear()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def lecture_page(params=None) -> AppTest:
    return run(LECTURE, params)


def codes(at) -> str:
    return "\n".join(c.value for c in at.code)


def step_text(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**step "))


def steps(at) -> int:
    return int(step_text(at).split()[1].strip("*"))


def test_lecture_page_writes_out_the_slides_arithmetic():
    at = lecture_page()
    text = codes(at)
    assert "1 * 1 + 1 * 1 + 0 * (-1) + 0 * (-1) = 2.0" in text
    assert "g = +1 * 1 + 0 * (-1) + 0 * (-1) + 1 * 1 - 1 = 1\nf = σ(g) → output = 0.73" in text
    at.selectbox(key="lecture_image").select("slide 52's non-face [0.25, 1, 0.5, 0.75]").run()
    text = codes(at)
    assert "g = +0.25 * 1 + 1 * (-1) + 0.5 * (-1) + 0.75 * 1 - 1 = -1.5\nf = σ(g) → output = 0.18" in text
    assert any("not a face" in m.value for m in at.markdown)
    at.selectbox(key="lecture_image").select("slide 50's noise [0.75, 1, 1, 0.25]").run()
    assert "0.75 * 1 + 0.25 * 1 + 1 * (-1) + 1 * (-1) = -1.0" in codes(at)


def test_weight_sliders_move_the_score_live():
    at = lecture_page()
    at.slider(key="bias").set_value(0.0).run()
    assert "g = +1 * 1 + 0 * (-1) + 0 * (-1) + 1 * 1 + 0 = 2\nf = σ(g) → output = 0.88" in codes(at)
    at.slider(key="weight_top_left").set_value(-1.0).run()
    assert "g = +1 * (-1) + 0 * (-1) + 0 * (-1) + 1 * 1 + 0 = 0\nf = σ(g) → output = 0.50" in codes(at)
    next(b for b in at.button if b.label == "Back to the lecture's values").click().run()
    assert "f = σ(g) → output = 0.73" in codes(at)


def test_error_functions_show_the_lecture_numbers():
    at = lecture_page()
    for p, d_err, g_err in ((0.1, "0.11", "2.30"), (0.9, "2.30", "0.11")):
        at.slider(key="prediction").set_value(p).run()
        assert [m.value for m in at.metric] == [d_err, g_err]


def test_step_play_and_reset_train_the_lecture_gan():
    at = lecture_page()
    assert step_text(at).startswith("**step 0**")
    at.button(key="training_step").click().run()
    assert step_text(at).startswith("**step 1**")
    at.button(key="training_play").click().run()   # Play: every run of the board trains a chunk
    assert at.button(key="training_play").label == "Pause"
    after_play = steps(at)
    at.run()
    assert steps(at) > after_play > 1
    at.button(key="training_play").click().run()   # Pause
    assert at.button(key="training_play").label == "Play"
    at.button(key="training_reset").click().run()
    assert step_text(at).startswith("**step 0**")


def test_2d_page_steps_and_keeps_its_setup_in_the_link():
    at = run(LAB_2D, {"dist": "moons", "lr_g": "0.003", "seed": "7"})
    assert at.selectbox(key="dist").value == "moons"
    assert at.select_slider(key="lr_g").value == 0.003
    assert at.number_input(key="seed").value == 7
    assert not at.info  # a good link gives no notes
    assert step_text(at).startswith("**step 0**")
    at.button(key="toy_step").click().run()
    assert step_text(at).startswith("**step 1**")
    at.selectbox(key="dist").select("circle").run()   # a new distribution starts a new game
    assert step_text(at).startswith("**step 0**")
    assert at.query_params["dist"] == "circle" and at.query_params["seed"] == "7"
    assert at.query_params["lr_g"] == "0.003"


def test_mode_collapse_setup_button():
    at = run(LAB_2D)
    next(b for b in at.button if b.label.startswith("Mode-collapse setup")).click().run()
    assert at.select_slider(key="lr_g").value == 0.005 and at.selectbox(key="dist").value == "ring"
    assert at.query_params["lr_g"] == "0.005"
    assert "ring modes covered" in step_text(at)


def test_bad_link_values_give_notes_and_defaults():
    at = run(LAB_2D, {"dist": "spiral", "loss": "magic", "lr_d": "fast", "d_steps": "99", "seed": "-4",
                      "lr_g": "0.002"})
    notes = notes_text(at)
    for bad in ("dist=spiral", "loss=magic", "lr_d=fast", "d_steps=99", "seed=-4", "lr_g=0.002"):
        assert bad in notes, bad
    assert at.selectbox(key="dist").value == "ring"
    assert at.selectbox(key="loss").value == "plain"
    assert at.select_slider(key="lr_d").value == 0.001
    assert at.select_slider(key="lr_g").value == 0.001   # the nearest offered rate, with a note
    assert at.number_input(key="d_steps").value == 5   # clamped into 1..5
    assert at.number_input(key="seed").value == 0


@pytest.mark.parametrize("old_link", [{"tab": "2d", "dist": "moons", "seed": "3"}, {"dist": "moons", "seed": "3"}])
def test_links_from_before_the_split_open_the_2d_page_with_their_setup(old_link):
    at = run(LECTURE, old_link)
    assert any(t.value.endswith("2-D GAN lab") for t in at.title)
    assert at.selectbox(key="dist").value == "moons" and at.number_input(key="seed").value == 3
    assert "tab" not in at.query_params and at.query_params["dist"] == "moons"
    assert not at.info


def test_bad_tab_value_gives_a_note_on_the_lecture_page():
    at = lecture_page({"tab": "3d"})
    assert "tab=3d" in notes_text(at)
    assert "f = σ(g) → output = 0.73" in codes(at)
    assert not at.query_params  # nothing of it is kept in the link


def test_settings_survive_a_visit_to_another_page():
    """Streamlit drops the value of a widget a run does not draw unless it persists (persist_state)."""
    at = run(LECTURE)
    at.slider(key="bias").set_value(0.5).run()
    at.button(key="training_step").click().run()
    go(at, LAB_2D).selectbox(key="dist").select("line").run()
    go(at, "pages/home.py")
    go(at, LECTURE)
    assert at.slider(key="bias").value == 0.5
    assert step_text(at).startswith("**step 1**")  # the training kept going where it was
    go(at, LAB_2D)
    assert at.selectbox(key="dist").value == "line" and at.query_params["dist"] == "line"


def test_old_links_forward_exactly_the_2d_pages_parameters():
    """The 2x2 page forwards links made before the split by the 2-D page's parameter names."""
    def constant(path, name):
        tree = ast.parse((ROOT / path).read_text())
        return next(n.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == name)

    forwarded = set(ast.literal_eval(constant(LECTURE, "TOY_2D_KEYS")))
    declared = {call.args[0].value for call in ast.walk(constant(LAB_2D, "LINK")) if isinstance(call, ast.Call)}
    assert forwarded == declared
