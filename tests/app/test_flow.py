"""AppTest of "Flows: exact and fast" with tiny random models in a temporary weights folder: every section draws,
the round trip is exact, the link restores the controls, bad links give notes, missing weights give the
training command while the four-family table still draws, and the table shows what the cards record."""
from pathlib import Path

import pytest
import streamlit as st

from genlib import families, zoo
from tests.app.helpers import captions, notes_text, run_page, save_tiny_models, use_weights

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "flow.py")


@pytest.fixture
def tiny_weights(tmp_path, monkeypatch):
    save_tiny_models(tmp_path, {"flow-mnist8", "vae-mnist8", "pixelcnn-mnist", "gan-faces"})
    use_weights(tmp_path, monkeypatch)
    yield tmp_path
    st.cache_resource.clear()
    st.cache_data.clear()


def run(query=None):
    return run_page(PAGE, query, timeout=90)


def test_every_section_draws_and_the_round_trip_is_exact(tiny_weights):
    at = run()
    assert not at.exception, [e.message for e in at.exception]
    headers = [h.value for h in at.header]
    assert len(headers) == 5 and headers[1].startswith("2 · The exact round trip")
    text = captions(at)
    assert "largest pixel error 0 grey levels" in text   # decode(encode(x)) == x, computed on the page
    assert "VAE: decode(μ(x)), mean error" in text        # the VAE's reconstruction beside it
    assert "bits/dim" in " ".join(m.value for m in at.markdown)
    assert dict(at.query_params) == {"t": "0.7", "seed": "0", "digit": "0", "a": "3", "b": "2"}


def test_new_samples_steps_the_seed_into_the_link(tiny_weights):
    at = run({"seed": "41"})
    at.button(key="fl_new").click().run()
    assert not at.exception
    assert at.number_input(key="fl_seed").value == 42 and at.query_params["seed"] == "42"


def test_a_link_restores_temperature_digit_and_pair(tiny_weights):
    at = run({"t": "0.35", "seed": "9", "digit": "17", "a": "5", "b": "6"})
    assert not at.exception and not at.info
    assert at.slider(key="fl_t").value == pytest.approx(0.35)
    assert at.number_input(key="fl_digit").value == 17
    assert "test digit #17" in captions(at) and "T = 0.35" in captions(at)


@pytest.mark.parametrize("params,expect", [
    ({"t": "hot"}, "not a number"), ({"t": "7"}, "outside 0.1..1"), ({"digit": "-3"}, "outside 0..999"),
    ({"seed": "1e3"}, "not a whole number"), ({"zzz": "1"}, "does not use"),
])
def test_bad_link_values_give_a_note_and_a_default(tiny_weights, params, expect):
    at = run(params)
    assert not at.exception
    assert expect in notes_text(at)


def test_without_flow_weights_the_page_says_how_to_train_and_the_table_still_draws(tmp_path, monkeypatch):
    save_tiny_models(tmp_path, {"gan-faces"})
    use_weights(tmp_path, monkeypatch)
    at = run()
    assert not at.exception, [e.message for e in at.exception]
    assert "python -m genlib.train flow" in at.error[0].value
    assert [h.value for h in at.header] == ["5 · One data set, four families"]
    table = at.dataframe[0].value
    assert list(table["family"]) == [f["family"] for f in families.FAMILIES]
    assert "not installed" in captions(at)


def test_without_the_vae_the_comparison_is_left_out_quietly(tmp_path, monkeypatch):
    save_tiny_models(tmp_path, {"flow-mnist8"})
    use_weights(tmp_path, monkeypatch)
    at = run()
    assert not at.exception and not at.error
    assert "vae-mnist8` is unavailable" in captions(at) and "largest pixel error 0" in captions(at)


def test_the_four_family_table_shows_the_cards_figures(tiny_weights):
    zoo.update_card("flow-mnist8", weights_dir=tiny_weights, **{families.BENCHMARK_KEY: {
        "command": "python benchmarks/families.py --record", "sample_ms_per_image": 3.25, "train_images_per_s": 99.0}})
    at = run()
    table = at.dataframe[0].value.set_index("family")
    flow_row = table.loc["Flow (reversible)"]
    assert flow_row["test bits/dim (lower is better)"] == "7.500"   # the tiny card's metric
    assert flow_row["sample 1 image (1 thread)"] == "3.2 ms" and flow_row["training images seen"] == "128"
    assert table.loc["GAN"]["test bits/dim (lower is better)"].startswith("none")
    assert table.loc["VAE"]["inference of z"].startswith("approximate")
