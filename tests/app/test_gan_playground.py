"""AppTest of the GAN playground: both tabs, the lecture's numbers on the page, Step / Play / Reset, and
the 2-D setup in the URL (bad values give a note and a default, never a traceback)."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages/gan_playground.py")
TIMEOUT = 120  # the first run imports torch on a busy 2-core host


def run(params=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    at.query_params.update(params or {})
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def codes(at) -> str:
    return "\n".join(c.value for c in at.code)


def step_text(at) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**step "))


@pytest.fixture(scope="module")
def lecture():
    return run()


def test_lecture_tab_writes_out_the_slides_arithmetic(lecture):
    at = lecture
    text = codes(at)
    assert "1 * 1 + 1 * 1 + 0 * (-1) + 0 * (-1) = 2.0" in text
    assert "g = +1 * 1 + 0 * (-1) + 0 * (-1) + 1 * 1 - 1 = 1\nf = σ(g) → output = 0.73" in text
    at.selectbox(key="lecture_image").select("slide 52's non-face [0.25, 1, 0.5, 0.75]").run()
    text = codes(at)
    assert "g = +0.25 * 1 + 1 * (-1) + 0.5 * (-1) + 0.75 * 1 - 1 = -1.5\nf = σ(g) → output = 0.18" in text
    assert any("not a face" in m.value for m in at.markdown)
    at.selectbox(key="lecture_image").select("slide 50's noise [0.75, 1, 1, 0.25]").run()
    assert "0.75 * 1 + 0.25 * 1 + 1 * (-1) + 1 * (-1) = -1.0" in codes(at)
    at.selectbox(key="lecture_image").select("slide 51's face [1, 0, 0, 1]").run()


def test_weight_sliders_move_the_score_live(lecture):
    at = lecture
    at.slider(key="w_b").set_value(0.0).run()
    assert "g = +1 * 1 + 0 * (-1) + 0 * (-1) + 1 * 1 + 0 = 2\nf = σ(g) → output = 0.88" in codes(at)
    at.slider(key="w_tl").set_value(-1.0).run()
    assert "g = +1 * (-1) + 0 * (-1) + 0 * (-1) + 1 * 1 + 0 = 0\nf = σ(g) → output = 0.50" in codes(at)
    next(b for b in at.button if b.label == "Back to the lecture's values").click().run()
    assert "f = σ(g) → output = 0.73" in codes(at)


def test_error_functions_show_the_lecture_numbers(lecture):
    at = lecture
    for p, d_err, g_err in ((0.1, "0.11", "2.30"), (0.9, "2.30", "0.11")):
        at.slider(key="err_p").set_value(p).run()
        assert [m.value for m in at.metric] == [d_err, g_err]


def test_step_play_and_reset_train_the_lecture_gan(lecture):
    at = lecture
    assert step_text(at).startswith("**step 0**")
    at.button(key="l_step").click().run()
    assert step_text(at).startswith("**step 1**")
    at.button(key="l_play_btn").click().run()   # Play: every run of the board trains a chunk
    assert at.button(key="l_play_btn").label == "Pause"
    after_play = int(step_text(at).split()[1].strip("*"))
    at.run()
    assert int(step_text(at).split()[1].strip("*")) > after_play > 1
    at.button(key="l_play_btn").click().run()   # Pause
    assert at.button(key="l_play_btn").label == "Play"
    at.button(key="l_reset").click().run()
    assert step_text(at).startswith("**step 0**")
    assert not at.exception


def test_2d_tab_steps_and_keeps_its_setup_in_the_url():
    at = run({"tab": "2d", "dist": "moons", "lr_g": "0.003", "seed": "7"})
    assert at.selectbox(key="p_dist").value == "moons"
    assert at.select_slider(key="p_lr_g").value == 0.003
    assert at.number_input(key="p_seed").value == 7
    assert step_text(at).startswith("**step 0**")
    at.button(key="p_step").click().run()
    assert step_text(at).startswith("**step 1**")
    at.selectbox(key="p_dist").select("circle").run()   # a new distribution starts a new game
    assert step_text(at).startswith("**step 0**")
    assert at.query_params["dist"] == "circle" and at.query_params["seed"] == "7"
    assert at.query_params["tab"] == "2d"
    assert not at.exception


def test_mode_collapse_setup_button():
    at = run({"tab": "2d"})
    next(b for b in at.button if b.label.startswith("Mode-collapse setup")).click().run()
    assert at.select_slider(key="p_lr_g").value == 0.005 and at.selectbox(key="p_dist").value == "ring"
    assert at.query_params["lr_g"] == "0.005"
    assert "ring modes covered" in step_text(at)


def test_bad_url_values_give_notes_and_defaults():
    at = run({"tab": "2d", "dist": "spiral", "loss": "magic", "lr_d": "fast", "d_steps": "99", "seed": "-4"})
    notes = " ".join(i.value for i in at.info)
    for bad in ("dist=spiral", "loss=magic", "lr_d=fast", "d_steps=99", "seed=-4"):
        assert bad in notes, bad
    assert at.selectbox(key="p_dist").value == "ring"
    assert at.selectbox(key="p_loss").value == "plain"
    assert at.select_slider(key="p_lr_d").value == 0.001
    assert at.number_input(key="p_d_steps").value == 5   # clamped into 1..5
    assert at.number_input(key="p_seed").value == 0


def test_bad_tab_value_falls_back_to_the_lecture_tab():
    at = run({"tab": "3d"})
    assert "tab=3d" in " ".join(i.value for i in at.info)
    assert "f = σ(g) → output = 0.73" in codes(at)


def test_settings_survive_a_visit_to_another_page():
    """Streamlit drops the state of widgets a run does not draw; the page puts its settings back."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/gan_playground.py").run()
    at.slider(key="w_b").set_value(0.5).run()
    at.button(key="l_step").click().run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/gan_playground.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.slider(key="w_b").value == 0.5
    assert step_text(at).startswith("**step 1**")  # the training kept going where it was
