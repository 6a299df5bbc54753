"""AppTest for pages/autoregressive.py ("PixelRNN vs PixelCNN") with tiny random models of all three
families in a temporary weights folder, and with each one's weights missing."""
from pathlib import Path

import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from genlib import autoregressive as ar
from genlib import pixelcnn, pixelrnn, zoo
from tests.app.helpers import notes_text

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "autoregressive.py")
CARD = {"dataset": {"id": "mnist", "description": "test"}, "licence": "test", "command": "test", "seed": 0,
        "steps": 0, "wall_time_s": 0.0}


def save_models(folder: Path, shorts=tuple(ar.MODELS)) -> None:
    torch.manual_seed(0)
    for short in shorts:
        model = (pixelcnn.build({"channels": 8, "blocks": 1, "head": 8}) if short == "cnn" else
                 pixelrnn.build({"variant": short, "hidden": 4, "layers": 1, "head": 8}))
        family = "pixelcnn" if short == "cnn" else "pixelrnn"
        zoo.save(model, ar.MODELS[short][0], {"family": family, "config": model.config, **CARD}, folder)


@pytest.fixture
def weights(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield tmp_path
    st.cache_resource.clear()
    st.cache_data.clear()


def run(params=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    return at.run()


def link(at, name):
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value


def field_captions(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith(("Depends on", "The first pixel"))]


def table(at) -> dict:
    return {row["figure"]: row for row in at.dataframe[0].value.to_dict("records")}


def test_all_three_models_generate_and_show_their_receptive_fields(weights):
    save_models(weights)
    at = run({"model": "diag", "row": "12", "col": "2"})
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error and not at.info  # every model loads; a good link gives no notes
    assert at.radio(key="ar_model").value == "diag" and at.radio(key="ar_model").options == [
        "PixelCNN", "Row LSTM", "Diagonal BiLSTM"]
    captions = [i.caption for i in at.get("image")[0].proto.imgs]
    assert captions == [f"Diagonal BiLSTM sample {i}" for i in range(1, 4)]
    assert len(at.get("plotly_chart")) == 3  # one map per model, side by side (no speed chart: not measured)
    fields = field_captions(at)
    assert len(fields) == 3 and all(f"of the {12 * 28 + 2}** earlier pixels" in f for f in fields)
    assert "cannot see **1**" in fields[2]  # the Diagonal BiLSTM: all but the last pixel of the row above
    assert not any("not causal" in f for f in fields)
    rows = table(at)
    assert list(rows["parameters"])[1:] == ["PixelCNN", "Row LSTM", "Diagonal BiLSTM"]
    assert rows["Training (img/s)"]["Row LSTM"] == ar.NOT_MEASURED
    assert sum("not measured yet" in m.value for m in at.markdown) >= 3  # the claims wait for the benchmark
    assert (link(at, "model"), link(at, "row"), link(at, "col"), link(at, "task")) == ("diag", "12", "2", "whole")


def test_a_pixel_typed_in_moves_every_map_and_the_link(weights):
    save_models(weights)
    at = run()
    assert link(at, "model") == "row" and (link(at, "row"), link(at, "col")) == ("16", "4")  # the defaults
    at.number_input(key="ar_row").set_value(0).run()
    at.number_input(key="ar_col").set_value(0).run()
    assert not at.exception
    assert field_captions(at) == ["The first pixel: nothing comes before it, so its prediction is a constant."] * 3
    assert (link(at, "row"), link(at, "col")) == ("0", "0")


def test_completing_a_hidden_part_shows_the_digit_and_what_the_model_sees(weights):
    save_models(weights)
    at = run({"model": "cnn", "task": "bottom", "digit": "7", "seed": "3"})
    assert not at.exception, [e.message for e in at.exception]
    captions = [i.caption for i in at.get("image")[0].proto.imgs]
    assert captions[:2] == ["original", "what the model sees"] and captions[2:] == [
        f"PixelCNN sample {i}" for i in range(1, 4)]
    again = run({"model": "cnn", "task": "bottom", "digit": "7", "seed": "3"})  # same link, same pixels
    assert [i.url for i in again.get("image")[0].proto.imgs] == [i.url for i in at.get("image")[0].proto.imgs]


def test_bad_link_values_give_literal_notes_and_defaults(weights):
    save_models(weights)
    at = run({"model": "lstm`x`", "row": "99", "col": "abc", "task": "all", "seed": "-1"})
    assert not at.exception, [e.message for e in at.exception]
    notes = notes_text(at)
    for bad in ("model=lstm`x`", "row=99", "col=abc", "task=all", "seed=-1"):
        assert bad in notes, (bad, notes)
    s = at.session_state
    assert (s["ar_model"], s["ar_row"], s["ar_col"], s["ar_task"], s["ar_seed"]) == ("row", 27, 4, "whole", 0)


@pytest.mark.parametrize("missing", list(ar.MODELS))
def test_one_model_missing_shows_its_error_and_the_rest_works(weights, missing):
    save_models(weights, [s for s in ar.MODELS if s != missing])
    at = run({"model": missing})
    assert not at.exception, [e.message for e in at.exception]
    name = ar.MODELS[missing][0]
    errors = " ".join(e.value for e in at.error)
    assert name in errors and zoo.TRAIN_COMMANDS[name] in errors
    assert "weights are not installed" in notes_text(at)  # the link asked for it
    options = at.radio(key="ar_model").options
    assert ar.MODELS[missing][1] not in options and len(options) == 2
    assert at.get("image") and len(at.get("plotly_chart")) == 2 and len(field_captions(at)) == 2
    assert table(at)["parameters"][ar.MODELS[missing][1]] == ar.NOT_MEASURED


def test_no_model_installed_still_shows_the_table(weights):
    at = run()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.error) == 3 and at.warning and not at.get("plotly_chart")
    assert set(table(at)["test NLL (nats)"].values()) == {"test NLL (nats)", ar.NOT_MEASURED}


def test_recorded_benchmark_figures_fill_the_table_chart_and_claims(weights):
    save_models(weights)
    figures = {"cnn": (140, 6.5, 0.2), "row": (120, 9.0, 0.4), "diag": (20, 40.0, 0.8)}
    for short, (train, naive, fast) in figures.items():
        zoo.update_card(ar.MODELS[short][0], weights, **{ar.BENCHMARK_KEY: {
            "command": "python benchmarks/autoregressive.py --record", "train_images_per_s": train,
            "full_naive_s": naive, "full_fast_s": fast, "bottom_naive_s": naive / 2, "bottom_fast_s": fast / 2}})
    at = run()
    assert not at.exception, [e.message for e in at.exception]
    rows = table(at)
    assert rows["Training (img/s)"]["Diagonal BiLSTM"] == "20" and rows["Full image, naive (s)"]["PixelCNN"] == "6.5"
    assert rows["Full image: fast vs naive"]["Diagonal BiLSTM"] == "50x faster"
    assert len(at.get("plotly_chart")) == 3 + 1  # the maps and the speed chart
    claims = [m.value for m in at.markdown if m.value.startswith(("✅", "⚖️", "❌", "⏳"))]
    assert len(claims) == 3 and all(c.startswith("✅") and "*confirmed*" in c for c in claims), claims
