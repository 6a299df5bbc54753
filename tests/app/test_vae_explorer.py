"""AppTest for the VAE latent explorer, on tiny random models saved into a temporary weights folder
(so the tests need no trained weights and take seconds): it draws, bad links give notes and defaults,
missing weights give the training command, and the VAE / AE switch really swaps the latent space."""
import base64
import json
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
import torch
from streamlit.testing.v1 import AppTest

from genlib import zoo
from genlib.data import demo_images
from genlib.vae import build, encode_means
from tests.app.helpers import notes_text

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "vae_explorer.py")
MODELS = {"vae-mnist": ("vae", "mnist", 0), "ae-mnist": ("ae", "mnist", 1), "vae-fashion": ("vae", "fashion", 2),
          "vae-mnist-32": ("vae", "mnist", 3)}
# what a trained 32-D model's card holds (the page's likelihood chart reads cards, not weights)
CARD_METRICS_32 = {"measured_with": "test", "eval_set": "test", "eval_images": 1, "test_nll_nats": 84.5,
                   "published_test_nll_nats": {"VAE (Burda et al. 2015)": 86.76}}


def tiny_models(folder: Path) -> dict:
    out = {}
    for name, (kind, dataset, seed) in MODELS.items():
        torch.manual_seed(seed)
        cfg = {"kind": kind, "z_dim": 32 if name.endswith("-32") else 2, "enc_ch": 4, "dec_ch": 4, "hidden": 16}
        model = build(cfg).eval()
        if kind == "ae":  # AE codes may sit far from the origin, as a trained AE's do
            with torch.no_grad():
                model.encoder.net[-1].bias.add_(torch.tensor([8.0, -6.0]))
        zoo.save(model, name, {"family": kind, "config": cfg, "dataset": {"id": dataset, "description": "test"},
                               "licence": "test", "command": "test", "seed": seed, "steps": 0, "wall_time_s": 0.0,
                               **({"metrics": CARD_METRICS_32} if name.endswith("-32") else {})}, folder)
        out[name] = model
    return out


@pytest.fixture
def weights(tmp_path, monkeypatch):
    models = tiny_models(tmp_path)
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield models
    st.cache_resource.clear()
    st.cache_data.clear()


def page(**params) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def scatter_codes(at) -> np.ndarray:
    """The class traces' points of the latent map, in demo-image order (customdata holds the index)."""
    def arr(v):
        if isinstance(v, dict):  # plotly >= 6 sends typed arrays as base64
            return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return np.asarray(v)

    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    traces = [t for t in spec["data"] if t.get("customdata") is not None]
    idx = np.concatenate([arr(t["customdata"]) for t in traces]).astype(int)
    xy = np.stack([np.concatenate([arr(t["x"]) for t in traces]), np.concatenate([arr(t["y"]) for t in traces])], 1)
    out = np.empty_like(xy)
    out[idx] = xy
    return out


def test_page_draws_map_images_and_elbo_terms(weights):
    at = page()
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.get("plotly_chart")) == 2  # the latent map; the likelihood comparison
    assert len(at.get("image")) >= 7  # decode, manifold, reconstruction row, interpolations, both samples
    labels = [m.label for m in at.metric]
    assert any("KL" in lab for lab in labels) and any("reconstruction" in lab for lab in labels)
    assert len(at.latex) >= 4
    assert at.query_params["ds"] == "mnist" and at.query_params["model"] == "vae"


def test_the_32d_model_samples_and_its_likelihood_beside_the_published_ones(weights):
    at = page(seed="5")
    assert not at.exception, [e.message for e in at.exception]
    assert any("32 dimensions, seed 5" in (img.proto.imgs[0].caption if img.proto.imgs else "")
               for img in at.get("image"))
    bars = json.loads(at.get("plotly_chart")[1].proto.spec)["data"][0]
    assert bars["type"] == "bar"
    assert bars["y"] == ["vae-mnist-32 (this lab)", "VAE (Burda et al. 2015)"]  # lowest -log p(x) first
    assert bars["x"] == [84.5, 86.76]


def test_missing_32d_model_leaves_the_rest_of_the_page_working(weights):
    (zoo.WEIGHTS_DIR / "vae-mnist-32.safetensors").unlink()
    at = page()
    assert not at.exception, [e.message for e in at.exception]
    assert "python -m genlib.train vae --name vae-mnist-32" in " ".join(e.value for e in at.error)
    assert len(at.get("plotly_chart")) == 2  # the map, and the chart (the card remains)


def test_sliders_move_the_chosen_point_into_the_url(weights):
    at = page()
    at.slider(key="vx_z1").set_value(1.5).run()
    at.slider(key="vx_z2").set_value(-2.0).run()
    assert not at.exception
    assert at.query_params["z1"] == "1.5" and at.query_params["z2"] == "-2"
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    chosen = [t for t in spec["data"] if t.get("name") == "chosen z"][0]
    assert chosen["x"] == [1.5] and chosen["y"] == [-2.0]


def test_a_link_restores_the_chosen_point(weights):
    at = page(ds="fashion", z1="1.25", z2="-0.5", img="17")
    assert not at.exception
    assert not at.info  # a good link gives no notes
    assert at.slider(key="vx_z1").value == 1.25 and at.slider(key="vx_z2").value == -0.5
    assert at.number_input(key="vx_img").value == 17
    assert at.sidebar.radio(key="vx_ds").value == "fashion"


@pytest.mark.parametrize("params, expect", [
    ({"ds": "cifar"}, "ds=cifar"),
    ({"z1": "99"}, "z1=99"),
    ({"z2": "-1e9"}, "z2=-1e9"),
    ({"z1": "abc"}, "z1=abc"),
    ({"z1": "nan"}, "z1=nan"),
    ({"img": "5000"}, "img=5000"),
    ({"model": "gan"}, "model=gan"),
    ({"ds": "fashion", "model": "ae"}, "MNIST only"),
])
def test_bad_link_values_give_a_note_and_a_default(weights, params, expect):
    at = page(**params)
    assert not at.exception, [e.message for e in at.exception]
    notes = notes_text(at)
    assert expect in notes, notes
    assert -4 <= at.slider(key="vx_z1").value <= 4 and -4 <= at.slider(key="vx_z2").value <= 4
    assert at.query_params["ds"] in ("mnist", "fashion")


def test_missing_weights_show_the_training_command(tmp_path, monkeypatch):
    monkeypatch.setattr(zoo, "WEIGHTS_DIR", tmp_path)  # an empty folder
    st.cache_resource.clear()
    st.cache_data.clear()
    at = page()
    assert not at.exception, [e.message for e in at.exception]
    errors = " ".join(e.value for e in at.error)
    assert "python -m genlib.train vae --name vae-mnist" in errors, errors
    st.cache_resource.clear()


def test_ae_switch_uses_the_autoencoders_latent_space(weights):
    x, _ = demo_images("mnist")
    vae_codes, ae_codes = encode_means(weights["vae-mnist"], x), encode_means(weights["ae-mnist"], x)
    assert not np.allclose(vae_codes, ae_codes, atol=0.1)

    at = page()
    assert np.allclose(scatter_codes(at), vae_codes, atol=1e-4)
    at.sidebar.radio(key="vx_kind").set_value("ae").run()
    assert not at.exception
    assert np.allclose(scatter_codes(at), ae_codes, atol=1e-4)
    assert at.query_params["model"] == "ae"
    assert any("holes" in w.value for w in at.warning)
    # the AE's sliders span the box of its own codes, not the VAE prior's [-4, 4]
    assert at.slider(key="vx_z1").max > 4 >= np.abs(vae_codes).max()
