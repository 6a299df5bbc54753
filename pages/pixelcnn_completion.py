"""PixelCNN completion: hide part of a test digit, sample completions pixel by pixel, see p(x_i | x_<i).

Thin UI over genlib.pixelcnn: read the controls (mirrored in the link), complete, draw. The controls come
first (they need no model), the completions after them; completions and timings are kept for every
visitor (same setting, same pixels), and the probability map and the timing run as fragments.
"""
from __future__ import annotations

import time

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from genlib import data, pixelcnn
from genlib.metrics import bits_per_dim
from genlib.zoo import metric
from pages._busy import one_at_a_time
from pages._shared import Param, load_model, read_link, shared_store, show_notes, write_link

MODEL = "pixelcnn-mnist"
MASK_LABELS = {"bottom": "bottom half", "right": "right half", "box": "a box", "rows": "some rows"}
# Default hidden extent per mask: (start, end) in pixels; bottom/right use only start.
DEFAULT_EXTENT = {"bottom": (14, 28), "right": (14, 28), "box": (8, 20), "rows": (12, 18)}
MAX_N = 8
SCALE = 6  # 28 px -> 168 px on screen


@st.cache_data(show_spinner=False)
def digits():
    x, y = data.demo_images("mnist")
    return x, y


def link_table(n_digits: int) -> list[Param]:
    return [Param("digit", int, 0, 0, n_digits - 1), Param("mask", str, "bottom", choices=tuple(MASK_LABELS)),
            Param("start", int, None, 0, 28), Param("end", int, None, 0, 28),  # None: the mask's default
            Param("n", int, 4, 1, MAX_N), Param("seed", int, 0, 0, 2**31 - 1),
            Param("paint", str, "0", choices=("0", "1"))]


def binarized(index: int) -> torch.Tensor:
    """Test digit `index` as a fixed binary image [1,1,28,28] (its own seed: same link, same picture)."""
    x, _ = digits()
    return data.binarize(torch.from_numpy(x[index])[None, None], torch.Generator().manual_seed(index))


def read_url() -> list:
    """Seed the controls from the link, once per session; returns notes about values not taken."""
    if st.session_state.get("pc_ready"):
        return []
    v, notes = read_link(link_table(len(digits()[0])))
    d0, d1 = DEFAULT_EXTENT[v["mask"]]
    start = d0 if v["start"] is None else v["start"]
    end = 28 if v["mask"] in ("bottom", "right") else d1 if v["end"] is None else v["end"]
    if start >= end:
        notes.append(f"That mask (start {start}, end {end}) hides nothing; hiding {d0}..{d1 - 1} instead.")
        start, end = d0, d1
    elif v["mask"] in ("bottom", "right") and start == 0:
        notes.append(f"That mask hides every pixel (unconditional sampling, no completion); hiding from "
                     f"{d0} instead.")
        start = d0
    st.session_state.update(pc_digit=v["digit"], pc_mask=v["mask"], pc_start=start, pc_range=(start, end),
                            pc_n=v["n"], pc_seed=v["seed"], pc_paint=v["paint"] == "1", pc_ready=True)
    return notes


def controls_ui():
    """The controls, one under the other (they sit beside the completions); returns (digit, mask, start, end,
    n, seed, paint)."""
    x, y = digits()
    digit = st.number_input(f"Test digit (0..{len(x) - 1})", 0, len(x) - 1, key="pc_digit")
    st.caption(f"Label: **{y[digit]}**")
    mask = st.selectbox("Hide", list(MASK_LABELS), format_func=MASK_LABELS.get, key="pc_mask")
    if mask in ("bottom", "right"):
        what = "rows" if mask == "bottom" else "columns"
        start = st.slider(f"Hide {what} from", 1, 27, key="pc_start")
        end = 28
    else:
        what = "Rows and columns of the box" if mask == "box" else "Hidden rows"
        start, end = st.slider(what + " (from, to)", 0, 28, key="pc_range")
    n = st.slider("Completions", 1, MAX_N, key="pc_n")
    seed = st.number_input("Seed", 0, 2**31 - 1, key="pc_seed")
    paint = st.toggle("Watch it paint (row by row)", key="pc_paint")
    return int(digit), mask, int(start), int(end), int(n), int(seed), paint


def next_seed():
    st.session_state.pc_seed = (st.session_state.pc_seed + 1) % 2**31


def known_mask(mask: str, start: int, end: int) -> torch.Tensor:
    if mask == "bottom":
        return pixelcnn.make_mask("bottom", top=start)
    if mask == "right":
        return pixelcnn.make_mask("right", left=start)
    if mask == "box":
        return pixelcnn.make_mask("box", top=start, bottom=end, left=start, right=end)
    return pixelcnn.make_mask("rows", top=start, bottom=end)


def to_rgb(img: torch.Tensor, known: torch.Tensor, hide: bool = False) -> np.ndarray:
    """A binary image [1,28,28] -> RGB uint8, upscaled: known ink white on black; sampled ink orange on
    dark blue; with hide=True the hidden region is only the dark blue (what the model is given)."""
    ink = img[0].numpy() > 0.5
    k = known[0].numpy()
    rgb = np.zeros((28, 28, 3), np.uint8)
    rgb[~k] = (20, 40, 90)
    rgb[k & ink] = (255, 255, 255)
    if not hide:
        rgb[~k & ink] = (255, 160, 40)
    return np.kron(rgb, np.ones((SCALE, SCALE, 1), np.uint8))


def complete_ui(model, x, known, n, seed, paint, setting):
    """n completions of x, kept for every visitor per setting (painting once when it is on); progress bar,
    live frames."""
    key = (model.card.get("sha256"), *setting, n, seed, paint)
    store = shared_store("pixelcnn completions", 64)  # 64 x 8 x 784 floats: 1.6 MB at most
    if (done := store.get(key)) is not None:
        return done
    bar = st.progress(0.0, text="Sampling…")
    frame = st.empty()
    total_rows = int((~known[0, 0]).any(1).sum())
    state = {"rows": 0}

    def progress(done, total):  # called after each hidden row
        bar.progress(done / total, text=f"Sampled {done} of {total} pixels")

    def show_frame(img):
        state["rows"] += 1
        frame.image([to_rgb(im, known[0]) for im in img], caption=[f"row {state['rows']}/{total_rows}"] * len(img),
                    output_format="PNG")
        time.sleep(0.05)  # slow enough to see; the sampler itself is fast

    # one sampler at a time on the server: a queued visitor sees their place, the cores are not split ten ways
    with one_at_a_time("sampling", "digit sampling"), torch.inference_mode():
        out = model.complete(x.expand(n, -1, -1, -1), known, seed=seed, progress=progress,
                             paint=show_frame if paint else None)
    bar.empty()
    frame.empty()
    store.put(key, out)
    return out


@st.cache_data(max_entries=64, show_spinner=False)
def beliefs(_model, _images: dict, key: tuple) -> tuple[dict, dict]:
    """({name: p(x_i = 1 | x_<i) map [28,28]}, {name: NLL in nats}) for the images of completion `key`,
    in one batched network pass each."""
    batch = torch.stack(list(_images.values()))
    with torch.inference_mode():
        prob = _model.probability_map(batch)[:, 0].numpy()
        nll = (-_model.log_prob(batch)).tolist()
    return dict(zip(_images, prob)), dict(zip(_images, nll))


@st.fragment
def probability_ui(model, images: dict, key: tuple):
    st.subheader("What the model believes: p(x_i = 1 | x_<i) for every pixel")
    choice = st.selectbox("Image", list(images), key="pc_prob_image")
    prob, nlls = beliefs(model, images, key)
    fig = go.Figure(go.Heatmap(z=prob[choice], zmin=0, zmax=1, colorscale="Viridis",
                               colorbar={"title": "p(x=1)"},
                               hovertemplate="row %{y}, column %{x}<br>p(ink) = %{z:.3f}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_layout(height=420, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    c1, c2 = st.columns([3, 2])
    with c1:
        st.plotly_chart(fig, width="stretch")
    with c2:
        st.metric("Negative log-likelihood", f"{nlls[choice]:.1f} nats")
        st.metric("Bits per dimension", f"{bits_per_dim(nlls[choice]):.4f}")
        st.caption("−log p(x) = −Σ_i log p(x_i | x_<i): the sum, over all 784 pixels, of how surprised the "
                   "model is by each pixel given the pixels before it (raster order). One network pass gives "
                   "all 784 conditionals at once, which is why training and scoring are fast.")
        st.dataframe([{"image": name, "NLL (nats)": round(v, 1)} for name, v in nlls.items()],
                     hide_index=True, width="stretch")


@st.fragment
def speed_ui(model, x, known, seed, setting):
    st.subheader("Why sampling is slow, and how to make it fast")
    st.markdown(
        "Each pixel can be sampled only after every pixel before it: **sampling is sequential**. The naive "
        "sampler runs the whole network on the whole image for every hidden pixel. The fast sampler caches "
        "each layer's activations and, per pixel, recomputes every layer at that one position only "
        "(what the next pixel can see), giving **exactly the same pixels for the same seed**.")
    info = model.card.get("benchmark")
    if info:
        st.caption(f"Measured with `{info.get('command')}`: {info.get('summary')}")
    # A naive run takes seconds of a core: each setting is timed once for everyone, one timing at a time.
    key = (model.card.get("sha256"), *setting, seed)
    timings = shared_store("pixelcnn timings", 32)
    if st.button("Measure naive vs fast on this digit", key="pc_measure") and timings.get(key) is None:
        with one_at_a_time("sampling", "sampler timing"), st.spinner("Timing the naive sampler (seconds)…"):
            if timings.get(key) is None:  # someone may have timed this setting while we waited
                t0 = time.perf_counter()
                naive = model.complete(x, known, seed=seed, method="naive")
                t_naive = time.perf_counter() - t0
                t0 = time.perf_counter()
                fast = model.complete(x, known, seed=seed, method="fast")
                t_fast = time.perf_counter() - t0
                timings.put(key, (t_naive, t_fast, bool(torch.equal(naive, fast)), int((~known).sum())))
    if (measured := timings.get(key)) is not None:
        t_naive, t_fast, same, pixels = measured
        c1, c2, c3 = st.columns(3)
        c1.metric("Naive", f"{t_naive:.2f} s", help=f"{pixels} hidden pixels, one full network pass each")
        c2.metric("Fast (exact)", f"{t_fast:.2f} s")
        c3.metric("Speed-up", f"{t_naive / max(t_fast, 1e-9):.1f}x", help="identical samples: " + str(same))
        st.caption(f"Identical samples: **{same}**. Timed once for this setting on this server.")


def main():
    st.title("🧩 PixelCNN completion")
    st.caption("Hide part of a test digit and let the PixelCNN sample the hidden pixels, one at a time.")
    show_notes(read_url())
    # The completions first: on a phone (columns stack) they and "New completions" are on the first screen.
    shown, controls = st.columns([2, 1], gap="large")
    with controls:
        digit, mask, start, end, n, seed, paint = controls_ui()
        if start >= end:  # a range slider can close to nothing
            show_notes([f"That range hides nothing; hiding {DEFAULT_EXTENT[mask][0]}..{DEFAULT_EXTENT[mask][1] - 1}."])
            start, end = DEFAULT_EXTENT[mask]
    write_link(link_table(len(digits()[0])), {"digit": digit, "mask": mask, "start": start, "end": end, "n": n,
                                              "seed": seed, "paint": str(int(paint))})
    with shown:
        st.button("🎲 New completions", on_click=next_seed, type="primary", help="The next seed: new samples.")
        model = load_model(MODEL)
        if model is None:
            st.stop()
        x = binarized(digit)
        known = known_mask(mask, start, end)
        setting = (digit, mask, start, end)
        out = complete_ui(model, x, known, n, seed, paint, setting)
        st.image([to_rgb(x[0], torch.ones_like(known[0])), to_rgb(x[0], known[0], hide=True)]
                 + [to_rgb(im, known[0]) for im in out],
                 caption=["original", "what the model sees"] + [f"completion {i + 1}" for i in range(n)],
                 output_format="PNG")  # PNG: crisp pixels
        st.caption(f"{n} completion{'s' if n > 1 else ''}, seed {seed}. White: known pixels. Orange on blue: pixels "
                   "the model sampled. Same seed, same completions.")
    st.markdown("An **explicit-density** model: the chain rule writes the probability of an image as a "
                "product of one-pixel conditionals in raster order, each a Bernoulli whose parameter a "
                "masked CNN computes from the pixels before it.")
    st.latex(r"p(\mathbf{x}) = \prod_{i=1}^{784} p(x_i \mid x_1, \dots, x_{i-1})")

    images = {"original": x[0]} | {f"completion {i + 1}": im for i, im in enumerate(out)}
    probability_ui(model, images, (model.card.get("sha256"), *setting, n, seed))
    speed_ui(model, x, known, seed, setting)
    card = model.card
    if metric(card, "test_nll_nats") is not None:
        st.caption(f"This model: {metric(card, 'test_nll_nats'):.2f} nats ({metric(card, 'test_bits_per_dim', 0):.4f} "
                   f"bits/dim) on {metric(card, 'eval_images'):,} binarized MNIST test images. Published: PixelCNN "
                   f"81.30, PixelRNN 79.20 nats (van den Oord et al. 2016). Trained with `{card.get('command')}`.")


if __name__ == "__main__":  # Streamlit runs a page as __main__; pages/autoregressive.py imports its helpers
    main()
