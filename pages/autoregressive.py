"""PixelRNN vs PixelCNN: the lecture's two autoregressive families side by side, measured.

Thin UI over genlib.autoregressive: (1) a digit generated from the corner, painted row by row (or a hidden
part completed, with the PixelCNN page's digits, masks and painted sampler); (2) receptive fields: click a
pixel in any model's map to see which earlier pixels its prediction depends on; (3) the measured figures
from the model cards and the lecture's claims next to them. Model, task and pixel are in the link.
"""
from __future__ import annotations

from functools import partial

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from plotly.subplots import make_subplots

import genlib
from genlib import autoregressive as ar
from pages import pixelcnn_completion as pc  # its test digits, masks, colours and painted sampler
from pages._shared import Param, literal, load_model, read_link, show_notes, write_link

TASKS = {"whole": "a whole digit", **{k: f"complete: {v} hidden" for k, v in pc.MASK_LABELS.items()}}
SAMPLES = 3       # digits drawn at once (with the original and what the model sees: one row of 5)
FIELD_IMAGES = 4  # test digits the receptive field is measured over
VERDICT_ICON = {"confirmed": "✅", "qualified": "⚖️", "not confirmed here": "❌"}


def label(short: str) -> str:
    return ar.MODELS[short][1]


def link_table() -> list[Param]:
    return [Param("model", str, "row", choices=tuple(ar.MODELS)), Param("task", str, "whole", choices=tuple(TASKS)),
            Param("digit", int, 0, 0, len(pc.digits()[0]) - 1), Param("seed", int, 0, 0, 2**31 - 1),
            Param("row", int, 16, 0, 27), Param("col", int, 4, 0, 27)]


def read_url() -> tuple[list, bool]:
    """Seed the controls from the link once per session: (notes, whether the link named the model)."""
    if "ar_row" in st.session_state:
        return [], False
    v, notes = read_link(link_table())
    st.session_state.update({f"ar_{k}": value for k, value in v.items()})
    return notes, "model" in st.query_params and v["model"] == st.query_params["model"]


def update_link() -> None:
    s = st.session_state
    write_link(link_table(), {p.name: s.get(f"ar_{p.name}", p.default) for p in link_table()})


# ---- 1. generation from the corner ------------------------------------------------------------------------
def new_seed() -> None:
    st.session_state.ar_seed = (st.session_state.ar_seed + 1) % 2**31


@st.fragment
def generation_ui(models: dict) -> None:
    st.subheader("1 · Generation from the corner, pixel by pixel")
    # The model and "New seed" above the digits, the other settings below them: on a phone (columns stack)
    # the model, the button and the first digits share the first screen.
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    short = c1.radio("Model", list(models), format_func=label, key="ar_model", horizontal=True)
    c2.button("🎲 New seed", on_click=new_seed, key="ar_new_seed", type="primary")
    picture = st.container()
    c3, c4, c5 = st.columns(3)
    task = c3.selectbox("What to sample", list(TASKS), format_func=TASKS.get, key="ar_task")
    digit = int(c4.number_input("Test digit", 0, len(pc.digits()[0]) - 1, key="ar_digit", disabled=task == "whole"))
    seed = int(c5.number_input("Seed", 0, 2**31 - 1, key="ar_seed"))
    update_link()
    if task == "whole":  # nothing known: every pixel sampled, starting at the top-left corner
        x, known = torch.zeros(1, 1, 28, 28), torch.zeros(1, 1, 28, 28, dtype=torch.bool)
    else:
        x, known = pc.binarized(digit), pc.known_mask(task, *pc.DEFAULT_EXTENT[task])
    with picture:
        out = pc.complete_ui(models[short], x, known, SAMPLES, seed, True, (task, digit if task != "whole" else None))
        given = {} if task == "whole" else {"original": pc.to_rgb(x[0], torch.ones_like(known[0])),
                                            "what the model sees": pc.to_rgb(x[0], known[0], hide=True)}
        shown = given | {f"{label(short)} sample {i + 1}": pc.to_rgb(im, known[0]) for i, im in enumerate(out)}
        st.image(list(shown.values()), caption=list(shown), output_format="PNG")  # PNG: crisp pixels
        st.caption(f"{label(short)}, seed {seed}: each pixel drawn from p(x_i | x_<i) in raster order (orange on "
                   "blue: sampled; white: given). Same seed, same pixels: a new seed or task paints again.")


# ---- 2. receptive fields --------------------------------------------------------------------------------
@st.cache_data(show_spinner=False)
def field_images() -> torch.Tensor:
    return torch.cat([pc.binarized(i) for i in range(FIELD_IMAGES)])


@st.cache_data(max_entries=512, show_spinner="Measuring gradients…")
def field(_model, name: str, sha256: str, row: int, col: int) -> ar.ReceptiveField:
    return ar.receptive_field(_model, field_images(), row, col)


def field_figure(rf: ar.ReceptiveField) -> go.Figure:
    """Grey: later pixels; pink: earlier pixels it cannot see; colour: log10 of the relative influence; red:
    the pixel. A transparent marker on every pixel makes the map clickable (heatmaps send no selections)."""
    strength = rf.strength.numpy()
    raster = np.arange(784).reshape(28, 28)
    k = rf.row * 28 + rf.col
    before, seen = raster < k, strength > 0
    status = np.where(raster == k, 2.0, np.where(before & ~seen, 1.0, np.where(before, np.nan, 0.0)))
    influence = np.where(before & seen, np.log10(np.clip(strength, 1e-6, 1)), np.nan)
    text = ["the chosen pixel" if i == k else "after it: never seen" if i > k else
            f"influence 10^{v:.1f}" if s else "earlier, but NOT seen"
            for i, s, v in zip(raster.ravel(), seen.ravel(), influence.ravel())]
    rows, cols = np.divmod(raster.ravel(), 28)
    fig = go.Figure([
        go.Heatmap(z=status, zmin=0, zmax=2, showscale=False, hoverinfo="skip",
                   colorscale=[[0, "#d1d5db"], [0.33, "#d1d5db"], [0.33, "#f9a8d4"], [0.67, "#f9a8d4"],
                               [0.67, "#dc2626"], [1, "#dc2626"]]),
        go.Heatmap(z=influence, zmin=-6, zmax=0, colorscale="Viridis", hoverinfo="skip",
                   colorbar={"title": "log10 influence", "orientation": "h", "y": -0.02, "yanchor": "top",
                             "thickness": 10}),
        go.Scatter(x=cols, y=rows, mode="markers", customdata=text,
                   marker={"symbol": "square", "size": 9, "opacity": 0}, selected={"marker": {"opacity": 0}},
                   unselected={"marker": {"opacity": 0}},
                   hovertemplate="row %{y}, column %{x}: %{customdata}<extra>click to choose</extra>")])
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain", showgrid=False, zeroline=False)
    fig.update_xaxes(showgrid=False, zeroline=False, side="top")  # columns along the top, as in an image
    fig.update_layout(height=340, margin={"l": 5, "r": 5, "t": 5, "b": 5}, dragmode=False)
    return fig


def pick(key: str) -> None:
    """A click on a map: its pixel becomes the chosen one (the number inputs follow)."""
    points = st.session_state[key].selection.points
    if points:
        st.session_state.ar_row, st.session_state.ar_col = int(points[0]["y"]), int(points[0]["x"])


def field_caption(rf: ar.ReceptiveField) -> str:
    if rf.earlier == 0:
        return "The first pixel: nothing comes before it, so its prediction is a constant."
    text = f"Depends on **{rf.seen} of the {rf.earlier}** earlier pixels"
    within = rf.unseen_within_reach()
    if rf.unseen:
        above = rf.unseen - within
        where = "all in rows it reaches" if not above else f"{within} in rows it reaches, {above} in rows above them"
        text += f"; cannot see **{rf.unseen}**, {where}"
    if rf.top_row is not None:
        text += f". Reaches up to row {rf.top_row} ({rf.row - rf.top_row} rows up)."
    if rf.later_seen:
        text += f" :red[It depends on {rf.later_seen} later pixels: the model is not causal!]"
    return text


@st.fragment
def field_ui(models: dict) -> None:
    st.subheader("2 · Receptive fields: what one pixel's prediction depends on")
    st.markdown("The gradient of one pixel's logit with respect to every input pixel, summed over "
                f"{FIELD_IMAGES} test digits: zero means the architecture cannot see that pixel. **Click a pixel in "
                "any map** (or type its row and column). Look for the PixelCNN's **blind spot** up and to the right "
                "and its **limited reach** upwards (3 + one row per block), the Row LSTM's **triangle** (one more "
                "column each way per row up), and the Diagonal BiLSTM's **full context** (measured: all but the last "
                "pixel of the row above, which only later positions of this row take in).")
    c1, c2, _ = st.columns([1, 1, 4])
    row = int(c1.number_input("Row", 0, 27, key="ar_row"))
    col = int(c2.number_input("Column", 0, 27, key="ar_col"))
    update_link()
    for column, (short, model) in zip(st.columns(len(models)), models.items()):
        with column:
            rf = field(model, ar.MODELS[short][0], model.card.get("sha256", ""), row, col)
            st.markdown(f"**{label(short)}**")
            key = f"ar_pick_{short}_{row}_{col}"  # a fresh chart per pixel: no stale selection
            st.plotly_chart(field_figure(rf), key=key, on_select=partial(pick, key), selection_mode="points",
                            config={"displayModeBar": False}, width="stretch")
            st.markdown(field_caption(rf))


# ---- 3. measured figures and the lecture's claims ------------------------------------------------------
def card_or_none(name: str) -> dict | None:
    try:
        return genlib.card(name)
    except genlib.WeightsError:
        return None


def measured_ui() -> None:
    st.subheader("3 · Measured here: likelihood, size, speed")
    figs = {short: ar.figures(card_or_none(name)) for short, (name, _) in ar.MODELS.items()}
    st.dataframe(ar.table(figs), hide_index=True, width="stretch")
    st.caption("Published on binarized MNIST (van den Oord et al. 2016): Diagonal BiLSTM 79.20, PixelCNN 81.30 "
               "nats. NLL from the model cards; speed from `python benchmarks/autoregressive.py --record` "
               "(one thread, bf16 training steps of batch 64, medians; naive: the whole network per pixel; fast: "
               "the exact cached sampler, same pixels).")
    for short, f in figs.items():
        if f["benchmark"]:
            st.caption(f"{label(short)} measured with: {literal(f['benchmark'])}")
    measured = [s for s, f in figs.items() if any(f[k] is not None for k in ar.TIMINGS)]
    if measured:
        st.plotly_chart(speed_figure({s: figs[s] for s in measured}), width="stretch")
    else:
        st.markdown(f"⏳ Speed {ar.NOT_MEASURED}: run `python benchmarks/autoregressive.py --record` on an idle "
                    "machine.")
    st.markdown("**The lecture's claims, next to the numbers**")
    for claim in ar.claims(figs):
        icon = VERDICT_ICON.get(claim["verdict"], "⏳")
        measured = "" if claim["measured"] == ar.NOT_MEASURED else f": {claim['measured']}"
        st.markdown(f"{icon} {claim['claim']} — *{claim['verdict']}*{measured}")


def speed_figure(figs: dict) -> go.Figure:
    fig = make_subplots(1, 2, column_widths=[0.35, 0.65],
                        subplot_titles=("Training throughput (img/s, higher is faster)",
                                        "Sampling time (s, log scale, lower is faster)"))
    names = [label(s) for s in figs]
    fig.add_bar(x=names, y=[f["train_images_per_s"] for f in figs.values()], name="training img/s", row=1, col=1)
    for key in ("full_naive_s", "full_fast_s", "bottom_naive_s", "bottom_fast_s"):
        fig.add_bar(x=names, y=[f[key] for f in figs.values()], name=ar.TIMINGS[key], row=1, col=2)
    fig.update_yaxes(type="log", row=1, col=2)
    fig.update_layout(height=380, barmode="group", margin={"t": 40, "b": 10})
    return fig


def main() -> None:
    st.title("🐢 PixelRNN vs PixelCNN")
    st.caption("Row LSTM, Diagonal BiLSTM and PixelCNN, trained here on the same binarized MNIST: watch them "
               "paint digits, see what each pixel depends on, and the lecture's speed claims measured.")
    notes, named = read_url()
    models = {short: m for short, (name, _) in ar.MODELS.items() if (m := load_model(name)) is not None}
    if models and st.session_state.ar_model not in models:
        if named:
            notes.append(f"The link asks for the {label(st.session_state.ar_model)}, whose weights are not "
                         f"installed (see above); showing the {label(next(iter(models)))}.")
        st.session_state.ar_model = next(iter(models))
    show_notes(notes)
    if models:
        generation_ui(models)
    else:
        st.warning("No autoregressive model is installed: train one with a command above.")
    st.markdown("Both write p(x) with the chain rule and **generate pixels starting from the corner**. "
                "PixelRNN models the dependency on previous pixels with LSTMs (Row LSTM, Diagonal BiLSTM); "
                "PixelCNN with masked convolutions over a context region. The lecture: PixelRNN has *very "
                "sequential generation, very slow*; PixelCNN's *training is faster*, but its *generation must "
                "still proceed sequentially*. Here all three are trained on the same binarized MNIST and measured.")
    st.latex(r"p(\mathbf{x}) = \prod_{i=1}^{784} p(x_i \mid x_1, \dots, x_{i-1})")
    if models:
        field_ui(models)
    measured_ui()


if __name__ == "__main__":
    main()
