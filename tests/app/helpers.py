"""Helpers the AppTests share: reading the link notes as a visitor sees them, and tiny random models
saved into a temporary weights folder (so page tests need no trained weights and take seconds)."""
from __future__ import annotations

import re
from pathlib import Path

import torch

from genlib import zoo

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.*?)(?<!`)\1(?!`)")


def _span_text(match) -> str:
    text = match.group(2)  # CommonMark: one space is dropped on each side when both are there
    return text[1:-1] if len(text) > 1 and text[0] == text[-1] == " " and text.strip() else text


def unescape(markdown: str) -> str:
    """The text a Markdown note displays: code spans shown as their content, `\\x` as x."""
    parts, last = [], 0
    for m in CODE_SPAN.finditer(markdown):
        parts += [_ESCAPE.sub(r"\1", markdown[last:m.start()]), _span_text(m)]
        last = m.end()
    return "".join(parts + [_ESCAPE.sub(r"\1", markdown[last:])])


def outside_code_spans(markdown: str) -> str:
    """The Markdown with its code spans removed: what Streamlit interprets (links, images, HTML, ...)."""
    return CODE_SPAN.sub(" ", markdown)


def notes_text(at) -> str:
    """Every link note (blue info box) of the page, as displayed."""
    return " ".join(unescape(i.value) for i in at.info)


def save_tiny_models(folder: Path, names=None) -> list[str]:
    """Tiny random versions of the models the demo pages load, saved into `folder`; returns their names."""
    from genlib import flow, gan, pixelcnn, pixelcnnpp, vae

    cards = {"licence": "test", "command": "tests", "seed": 0, "steps": 0, "wall_time_s": 0.0}
    made = []

    def save(model, name, family, cfg, dataset="utkface64", **card):
        if names is None or name in names:
            zoo.save(model, name, {"family": family, "config": cfg, "dataset": {"id": dataset, "description": "test"},
                                   **cards, **card}, folder)
            made.append(name)

    torch.manual_seed(0)
    for net, name in (("G", "gan-faces"), ("D", "gan-faces-d")):
        cfg = {"net": net, "z_dim": 128, "ngf": 8, "ndf": 8}
        save(gan.build(cfg), name, "gan", cfg)
    cnn = pixelcnn.build({"channels": 8, "blocks": 1, "head": 8})
    save(cnn, "pixelcnn-mnist", "pixelcnn", cnn.config)
    for name, kind, dataset in (("vae-mnist", "vae", "mnist"), ("ae-mnist", "ae", "mnist"),
                                ("vae-fashion", "vae", "fashion"), ("vae-mnist-32", "vae", "mnist")):
        cfg = {"kind": kind, "z_dim": 32 if name.endswith("-32") else 2, "enc_ch": 4, "dec_ch": 4, "hidden": 16}
        save(vae.build(cfg).eval(), name, kind, cfg, dataset)
    cfg = {"kind": "vae", "z_dim": 4, "enc_ch": 4, "dec_ch": 4, "hidden": 16, "likelihood": "logistic"}
    save(vae.build(cfg).eval(), "vae-mnist8", "vae", cfg, "mnist")
    fl = flow.build({"steps": 1, "hidden": 8})
    with torch.no_grad():  # actnorm initialised on digit-like data, as training does first
        fl.train().forward_continuous(torch.rand(16, 1, 28, 28) * 255)
    save(fl.eval(), "flow-mnist8", "flow", fl.config, "mnist", images_seen=128, metrics=TINY_FLOW_METRICS)
    for name, (_, cfg) in (("pixelcnnpp-mnist8", pixelcnnpp.ablation_configs(TINY_PIXELCNNPP)[-1]),
                           ("pixelcnnpp-ablation-0", pixelcnnpp.ablation_configs(TINY_PIXELCNNPP)[0])):
        save(pixelcnnpp.build(cfg).eval(), name, "pixelcnnpp", cfg, "mnist", images_seen=128,
             metrics={**TINY_FLOW_METRICS, "test_bits_per_dim": 4.5})
    return made


TINY_PIXELCNNPP = {"channels": 8, "layers": 1, "mixtures": 2}
# what a trained flow's card holds (the flow page reads its figures from cards)
TINY_FLOW_METRICS = {"measured_with": "tests", "eval_set": "test", "eval_images": 16, "test_bits_per_dim": 7.5}


def captions(at) -> str:
    """Every caption a page shows: of its text and of its images."""
    images = [i.caption for element in at.get("image") for i in element.proto.imgs]
    return " ".join([c.value for c in at.caption] + images)


def use_weights(folder, monkeypatch) -> None:
    """Point the app at the weights in `folder`, with Streamlit's caches emptied (a model cached from another
    folder would hide the change)."""
    import streamlit as st

    monkeypatch.setattr(zoo, "WEIGHTS_DIR", folder)
    st.cache_resource.clear()
    st.cache_data.clear()


def run_page(page: str, query=None, timeout: float = 120):
    """Run one page script under AppTest with the link's query parameters."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(page, default_timeout=timeout)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()
