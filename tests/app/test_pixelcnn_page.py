"""AppTest for pages/pixelcnn_completion.py with a tiny random PixelCNN (fast, needs no trained weights)."""
from pathlib import Path

import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from genlib import pixelcnn, zoo
from tests.app.helpers import notes_text

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "pixelcnn_completion.py")


@pytest.fixture
def tiny_weights(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = pixelcnn.build({"channels": 8, "blocks": 1, "head": 8})
    zoo.save(model, "pixelcnn-mnist", {"family": "pixelcnn", "config": model.config, "licence": "test",
                                       "dataset": {"id": "mnist", "description": "test"}, "command": "test",
                                       "seed": 0, "steps": 0, "wall_time_s": 0.0}, weights_dir=tmp_path)
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    st.cache_resource.clear()
    yield tmp_path
    st.cache_resource.clear()


def run(params=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    return at.run()


def notes(at) -> str:
    return notes_text(at)


def test_page_shows_completions_probability_map_and_nll(tiny_weights):
    at = run({"n": "3", "seed": "5", "digit": "7"})
    assert not at.exception, [e.message for e in at.exception]
    assert not at.info  # a good link gives no notes
    captions = at.get("image")[0].proto.imgs
    assert [c.caption for c in captions] == ["original", "what the model sees",
                                             "completion 1", "completion 2", "completion 3"]
    assert any("p(\\mathbf{x}) = \\prod" in x.value for x in at.latex)  # the chain rule
    assert [m.label for m in at.metric][:2] == ["Negative log-likelihood", "Bits per dimension"]
    assert at.get("plotly_chart")
    assert at.query_params["n"] in ("3", ["3"]) and at.query_params["mask"] in ("bottom", ["bottom"])


def test_bad_link_gives_notes_and_sensible_values(tiny_weights):
    at = run({"digit": "abc", "n": "99", "mask": "diagonal", "seed": "-4", "paint": "yes"})
    assert not at.exception, [e.message for e in at.exception]
    text = notes(at)
    for bad in ("digit=abc", "n=99", "mask=diagonal", "seed=-4", "paint=yes"):
        assert bad in text, (bad, text)
    assert at.session_state["pc_n"] == 8 and at.session_state["pc_digit"] == 0
    assert at.session_state["pc_mask"] == "bottom" and at.session_state["pc_seed"] == 0


@pytest.mark.parametrize("params, says", [
    ({"mask": "rows", "start": "20", "end": "10"}, "hides nothing"),
    ({"mask": "box", "start": "5", "end": "5"}, "hides nothing"),
    ({"mask": "bottom", "start": "0"}, "hides every pixel"),
    ({"mask": "right", "start": "28"}, "hides nothing"),
])
def test_masks_that_hide_nothing_or_everything(tiny_weights, params, says):
    at = run(params)
    assert not at.exception, [e.message for e in at.exception]
    assert says in notes(at)
    assert len(at.get("image")[0].proto.imgs) == 2 + 4  # it still completes, with the default extent


def test_same_link_same_completions(tiny_weights):
    a = run({"seed": "3", "n": "2"}).get("image")[0].proto.imgs
    b = run({"seed": "3", "n": "2"}).get("image")[0].proto.imgs
    c = run({"seed": "4", "n": "2"}).get("image")[0].proto.imgs
    assert [i.url for i in a] == [i.url for i in b]  # media URLs are content hashes
    assert [i.url for i in a][2:] != [i.url for i in c][2:]


def test_watch_it_paint_ends_with_the_same_completions(tiny_weights):
    plain = run({"seed": "3", "n": "2", "mask": "rows", "start": "10", "end": "14"})
    painted = run({"seed": "3", "n": "2", "mask": "rows", "start": "10", "end": "14", "paint": "1"})
    assert not painted.exception and painted.toggle[0].value is True
    assert [i.url for i in plain.get("image")[0].proto.imgs] == [i.url for i in painted.get("image")[0].proto.imgs]


def test_missing_weights_show_how_to_train(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    st.cache_resource.clear()
    at = run()
    st.cache_resource.clear()
    assert not at.exception, [e.message for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "not installed" in errors and "python -m genlib.train pixelcnn" in errors
    assert at.number_input(key="pc_digit") and at.selectbox(key="pc_mask")  # the controls come before the model


def test_timing_runs_once_per_setting_for_every_visitor(tiny_weights):
    """The naive sampler takes seconds of a core: a measured setting is shown to everyone without measuring
    again (queuing behind other visitors' sampling is pages/_busy.py's, tested in test_busy.py)."""
    at = run({"seed": "2", "n": "1"})
    assert not [m for m in at.metric if m.label == "Naive"]
    at.button(key="pc_measure").click().run()
    assert [m.label for m in at.metric][-3:] == ["Naive", "Fast (exact)", "Speed-up"]
    other = run({"seed": "2", "n": "1"})  # another visitor, same digit, mask and seed: no click needed
    assert [m.label for m in other.metric][-3:] == ["Naive", "Fast (exact)", "Speed-up"]
    assert [m.value for m in other.metric][-3:] == [m.value for m in at.metric][-3:]
