"""AppTest of "Which one is real?" with tiny random models in a temporary weights folder: with and without
face data, with any one model missing, a whole game to its results, and hostile links."""
import re
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

import genlib
from genlib import data, gan, pixelcnn, vae, zoo
from tests.app.helpers import notes_text, outside_code_spans

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "real_or_fake.py")
CARD = {"dataset": {"id": "mnist", "description": "test"}, "licence": "test", "command": "tests", "seed": 0,
        "steps": 0, "wall_time_s": 0.0}


@pytest.fixture
def weights(tmp_path, monkeypatch):
    """Tiny untrained vae-mnist-32, pixelcnn-mnist, gan-faces and gan-faces-d; no face data."""
    torch.manual_seed(0)
    folder = tmp_path / "weights"
    v = {"kind": "vae", "z_dim": 4, "enc_ch": 4, "dec_ch": 4, "hidden": 16, "dec_stages": 1}
    genlib.save(vae.build(v), "vae-mnist-32", {"family": "vae", "config": v, **CARD}, weights_dir=folder)
    p = {"channels": 8, "blocks": 1, "head": 8}
    genlib.save(pixelcnn.build(p), "pixelcnn-mnist", {"family": "pixelcnn", "config": p, **CARD}, weights_dir=folder)
    for net in ("G", "D"):
        g = {"net": net, "z_dim": 128, "ngf": 4, "ndf": 4}
        genlib.save(gan.build(g), "gan-faces" + ("-d" if net == "D" else ""), {"family": "gan", "config": g, **CARD},
                    weights_dir=folder)
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", folder)
    monkeypatch.setenv("GENLAB_DATA", str(tmp_path / "no-data"))
    st.cache_resource.clear()
    yield folder
    st.cache_resource.clear()


@pytest.fixture
def faces(monkeypatch):
    """Face data present: 30 synthetic 'test faces' instead of UTKFace (never needed, never shipped)."""
    x = np.random.default_rng(0).integers(0, 256, (30, 64, 64, 3)).astype(np.uint8)
    monkeypatch.setattr(data, "load_faces", lambda split="train", **_: {"x": x})


def run(query=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def ok(at):
    assert not at.exception, [e.message for e in at.exception]
    return at


def text(at) -> str:
    return " ".join(e.value for kind in ("info", "warning", "error", "caption", "markdown", "success", "subheader")
                    for e in getattr(at, kind))


def answer(at, side: str, certainty: int) -> AppTest:
    """Click the round's answer button (its key carries the round: rf_<side>_<certainty>_<round index>)."""
    key = next(b.key for b in at.button if (b.key or "").startswith(f"rf_{side}_{certainty}_"))
    return ok(at.button(key=key).click().run())


def play(at, rounds: int, side: str = "left", certainty: int = 3) -> AppTest:
    for _ in range(rounds):
        answer(at, side, certainty)
    return at


def test_without_face_data_the_page_says_why_and_plays_digits(weights):
    at = ok(run({"seed": "4", "n": "4", "images": "both"}))
    said = text(at)
    assert "Faces are absent, so this game plays digits" in said and "UTKFace" in said
    assert "Playing against: VAE, PixelCNN." in said
    assert "Round 1 of 4: which one is real?" in said
    play(at, 4)
    assert "Your results after 4 rounds" in text(at)
    groups = list(at.dataframe[0].value["against / level"])
    assert "GAN" not in groups and "GAN's discriminator" not in groups
    assert {"VAE", "PixelCNN", "PixelCNN's p(x)", "VAE's p(x)", "guess", "fairly sure", "sure"} <= set(groups)


def test_with_face_data_the_gan_plays_and_its_discriminator_judges(weights, faces):
    at = ok(run({"seed": "4", "n": "6", "images": "both"}))
    said = text(at)
    assert "Faces are absent" not in said and "Playing against: VAE, PixelCNN, GAN." in said
    play(at, 6, side="right", certainty=2)
    rows = at.dataframe[0].value
    assert {"GAN", "GAN's discriminator"} <= set(rows["against / level"])
    assert rows.loc[rows["against / level"] == "fairly sure", "rounds"].item() == 6
    assert "48.2%" in text(at) and "59.0%" in text(at)  # the human baselines sit beside the results
    ok(run({"seed": "4", "n": "3", "images": "faces"}))


@pytest.mark.parametrize("gone", ["vae-mnist-32", "pixelcnn-mnist", "gan-faces", "gan-faces-d"])
def test_any_one_model_missing_the_game_still_plays(weights, faces, gone):
    (weights / f"{gone}.safetensors").unlink()
    at = ok(run({"seed": "1", "n": "4"}))
    said = text(at)
    playing = said.split("Playing against: ")[1].split(".")[0].split(", ")
    if gone == "gan-faces":
        assert "Faces are absent" in said and "gan-faces" in said and playing == ["VAE", "PixelCNN"]
    else:
        shown_as = {"vae-mnist-32": "VAE", "pixelcnn-mnist": "PixelCNN", "gan-faces-d": "gan-faces-d"}[gone]
        missing = next(e for e in at.expander if e.label.startswith("Without weights"))
        assert shown_as in missing.label and shown_as not in playing
    play(at, 4)
    assert "Your results after 4 rounds" in text(at)
    judges = set(at.dataframe[0].value["against / level"])
    assert ("GAN's discriminator" in judges) == (gone not in ("gan-faces", "gan-faces-d"))


def test_no_model_at_all_gives_a_clear_error(weights):
    for f in weights.glob("*.safetensors"):
        f.unlink()
    at = ok(run({"images": "digits"}))
    assert "No model is installed to play against" in at.error[0].value


def test_results_have_intervals_calibration_charts_and_a_csv(weights):
    at = play(ok(run({"seed": "9", "n": "3", "images": "digits"})), 3, certainty=1)
    said = text(at)  # the last round's verdict and its details stay above the results
    assert "Round 3: right" in said or "Round 3: wrong" in said
    assert re.search(r"Round 3: the (left|right) one was real \(an MNIST test digit\)", said), said
    assert at.metric[0].label == "You picked the real image"
    assert len(at.get("plotly_chart")) == 2
    rows = at.dataframe[0].value
    guess = rows[rows["against / level"] == "guess"].iloc[0]
    assert guess["rounds"] == 3 and "–" in guess["95% interval"]
    assert at.get("download_button")[0].proto.label == "Download your results (CSV)"
    again = [b for b in at.button if b.label == "Play these rounds again"][0]
    ok(again.click().run())
    assert "Round 1 of 3: which one is real?" in text(at)


def test_same_seed_same_rounds(weights):
    def first_images(seed):
        at = ok(run({"seed": str(seed), "n": "3", "images": "digits"}))
        urls = [i.url for el in at.get("image") for i in el.proto.imgs]
        answer(at, "left", 2)
        return urls + [i.url for el in at.get("image") for i in el.proto.imgs]
    assert first_images(5) == first_images(5)
    assert first_images(5) != first_images(6)


def test_the_link_carries_the_game(weights):
    at = ok(run({"seed": "12", "n": "7", "images": "digits"}))
    assert {k: at.query_params[k] for k in ("seed", "n", "images")} in (
        {"seed": "12", "n": "7", "images": "digits"}, {"seed": ["12"], "n": ["7"], "images": ["digits"]})
    assert "Round 1 of 7" in text(at)


def test_bad_link_values_get_a_literal_note_and_defaults(weights):
    hostile = "1](https://evil.example/x) ![t](https://evil.example/p.png) `x`"
    at = ok(run({"seed": hostile, "n": "abc", "images": "<script>alert(1)</script>"}))
    notes = " ".join(i.value for i in at.info)
    interpreted = outside_code_spans(notes)                     # what Markdown would render as markup
    assert "](https" not in interpreted and "<script>" not in interpreted and "`x`" not in interpreted
    shown = notes_text(at)                                      # ... but shown as typed
    assert "n=abc" in shown and "seed=1](https://evil.example/x)" in shown and "images=<script>" in shown
    assert "Round 1 of 10" in text(at)                          # the default number of rounds
    for n, shown in (("0", "Round 1 of 1"), ("999", "Round 1 of 50")):
        at = ok(run({"seed": "1", "n": n, "images": "digits"}))
        assert shown in text(at) and f"n={n}" in notes_text(at)


@pytest.mark.parametrize("value", ["", "-3", "9" * 40, "nan", "inf", "twelve", "x" * 5000, "🎲", "<script>x</script>",
                                   ["3", "4"]])
def test_fuzzed_links_never_break_the_page(weights, value):
    at = ok(run({"seed": value, "n": value, "images": value, "utm_source": "mail"}))
    assert "which one is real?" in text(at)                       # a round is on the page
    notes = " ".join(i.value for i in at.info)
    assert "utm_source" in notes_text(at)                          # an unknown key is named, not ignored silently
    assert "<script>" not in outside_code_spans(notes) and len(notes) < 2000  # literal, and a long value is cut


def progress_of(at) -> str | None:
    value = at.query_params.get("progress")
    return value[0] if isinstance(value, list) else value


def test_the_link_carries_the_answers_and_a_new_session_continues_from_it(weights):
    at = play(ok(run({"seed": "12", "n": "5", "images": "digits"})), 2, "left", 3)
    at = play(at, 1, "right", 1)
    value = progress_of(at)
    assert value and value.endswith(".l3l3r1"), value
    assert "Round 4 of 5" in text(at)
    again = ok(run({"seed": "12", "n": "5", "images": "digits", "progress": value}))  # a restarted server
    assert "Round 4 of 5" in text(again) and progress_of(again) == value
    assert play(again, 2).query_params and progress_of(again).endswith(".l3l3r1l3l3")
    assert "Your results" in text(again) or "Play these rounds again" in [b.label for b in again.button]
    [b for b in again.button if b.label == "Play these rounds again"][0].click().run()
    assert progress_of(again) is None and "Round 1 of 5" in text(again)


@pytest.mark.parametrize("value", ["2.abcd.l3", "1.0000.l3", "1.{f}.x9", "1.{f}." + "l3" * 6, "1", "🎲"])
def test_a_progress_that_does_not_fit_gives_a_note_and_a_fresh_game(weights, value):
    first = play(ok(run({"seed": "12", "n": "5", "images": "digits"})), 1)
    fingerprint = progress_of(first).split(".")[1]
    at = ok(run({"seed": "12", "n": "5", "images": "digits", "progress": value.format(f=fingerprint)}))
    assert "could not be restored" in notes_text(at) and "Round 1 of 5" in text(at)
    play(at, 1)
    assert "could not be restored" in notes_text(at)  # the note stays while the game goes on
    assert progress_of(at).endswith(".l3")
