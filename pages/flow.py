"""Flows: exact and fast. The lecture's fourth family (reversible architectures) on 8-bit digits: samples at a
temperature, the exact round trip image -> z -> image next to a VAE's reconstruction, interpolation between
exact codes, the likelihood of a digit and of images that are not digits, and the four families measured on
one data set. Thin UI over genlib.flow and genlib.families; every figure comes from a model card."""
import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from genlib import families, flow
from genlib.data import demo_images
from genlib.images import tile, to_uint8_hwc
from genlib.vae import lerp
from pages._shared import Param, levels_to_image, load_model, read_link, show_notes, write_link, zoomed_grid

N_DEMO = 1000  # shipped demo test digits (and clothes), 100 per class
LINK = [Param("t", float, 0.7, 0.1, 1.0, step=0.05), Param("seed", int, 0, 0, 2**31 - 1),
        Param("digit", int, 0, 0, N_DEMO - 1), Param("a", int, 3, 0, N_DEMO - 1), Param("b", int, 2, 0, N_DEMO - 1)]

st.title("🔁 Flows: exact and fast")
st.caption("A reversible network maps each digit to a code z of the same size and back, exactly. So the flow "
           "computes p(x) exactly, samples in one pass and infers z without approximation: the lecture's "
           "fourth family, trained here on 8-bit MNIST digits.")


def url_state() -> list:
    ss = st.session_state
    if "fl_init" in ss:
        return []
    values, notes = read_link(LINK)
    ss.update({f"fl_{k}": v for k, v in values.items()}, fl_init=True)
    return notes


def share():
    write_link(LINK, {p.name: st.session_state[f"fl_{p.name}"] for p in LINK})


@st.cache_data(show_spinner=False)
def digit(i: int, dataset: str = "mnist"):
    return torch.from_numpy(demo_images(dataset)[0][i]).float()[None, None]


@st.cache_data(show_spinner="Sampling…")
def flow_samples(seed: int, temperature: float, n: int = 32):
    with torch.inference_mode():
        return levels_to_image(load_model("flow-mnist8").sample(n, seed=seed, temperature=temperature), 8, 3)


@st.cache_data(show_spinner=False)
def probe_scores(i: int):
    """(probe images, their bits/dim) for test digit i."""
    probes = flow.probes(digit(i), digit(i, "fashion"), seed=i)
    with torch.inference_mode():
        return probes, {k: flow.bits_per_dim(load_model("flow-mnist8").log_prob(v)).item() for k, v in probes.items()}


@st.cache_data(show_spinner=False)
def typical_bits_per_dim() -> float:
    """The mean bits/dim of 100 test digits (every 10th demo digit): the same for every chosen digit."""
    x = torch.cat([digit(j) for j in range(0, N_DEMO, 10)])
    with torch.inference_mode():
        return flow.bits_per_dim(load_model("flow-mnist8").log_prob(x)).mean().item()


@st.cache_data(show_spinner="Sampling every family…")
def family_grid(name: str, seed: int):
    model = load_model(name)
    images = families.samples(model, 4 if name.startswith(("pixelcnn", "gan")) else 8, seed)
    if images.shape[1] == 1:  # 28x28 grey digits drawn at 56x56, beside the 64x64 colour faces
        images = images.repeat_interleave(2, 2).repeat_interleave(2, 3).expand(-1, 3, -1, -1)
    return to_uint8_hwc(tile(images, 4)[None])[0]


def new_seed():
    st.session_state.fl_seed = (st.session_state.fl_seed + 1) % 2**31


notes = url_state()
model = load_model("flow-mnist8")
vae = load_model("vae-mnist8", optional=True) if model is not None else None
show_notes(notes)


@st.fragment
def samples_section():
    st.header("1 · Samples at a temperature")
    # The button and the samples first (on a phone, the first screen); their controls below them.
    st.button("New samples", on_click=new_seed, key="fl_new", type="primary")
    seed, t = st.session_state.fl_seed, st.session_state.fl_t
    st.image(flow_samples(seed, t), width="stretch",
             caption=f"32 samples, seed {seed}, T = {t:.2f}: each is one pass of f⁻¹ through every layer")
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    c1.slider("Temperature T", 0.1, 1.0, step=0.05, key="fl_t",
              help="z ~ N(0, T² I): a lower T keeps z near the centre of the Gaussian")
    c2.number_input("Seed", 0, 2**31 - 1, key="fl_seed")
    st.caption("Lower T: cleaner, more typical digits with less variety (the flow's counterpart of the GAN's "
               "truncation); T = 1 samples the model as trained, stray strokes and all.")
    share()


@st.fragment
def round_trip_section():
    st.header("2 · The exact round trip: image → z → image")
    i = int(st.number_input("Test digit (0–999)", 0, N_DEMO - 1, key="fl_digit"))
    x = digit(i)
    with torch.inference_mode():
        z = model.encode(x)
        back = model.decode(z)
        recon = None if vae is None else (vae.decode(vae.encode(x)[0]) * 255).round()
    parts = flow.code_images(z)
    cols = st.columns(5)
    cols[0].image(levels_to_image(x, 1), caption=f"test digit #{i}")
    cols[1].image(zoomed_grid(parts[0], 1, 4),
                  caption="z, first part: 2 maps of 14×14 (left the flow at the first scale)")
    cols[2].image(zoomed_grid(parts[1], 1, 4),
                  caption="z, second part: 8 maps of 7×7 (the top of the flow)")
    err = (back - x).abs().max().item()
    cols[3].image(levels_to_image(back, 1), caption=f"decode(z): largest pixel error {err:.0f} grey levels")
    if recon is not None:
        vae_err = (recon - x).abs().mean().item()
        cols[4].image(levels_to_image(recon, 1), caption=f"VAE: decode(μ(x)), mean error {vae_err:.1f} grey levels")
    st.caption("z has 784 numbers, as many as the image: grey is 0, white and black ±3 standard deviations. The flow "
               "loses nothing; the VAE squeezes the digit through 32 numbers and its encoder only approximates "
               "p(z|x), so its reconstruction is a blurred version.")
    st.header("3 · Interpolation between two real digits")
    ca, cb = st.columns(2)
    a = digit(int(ca.number_input("from test digit", 0, N_DEMO - 1, key="fl_a")))
    b = digit(int(cb.number_input("to test digit", 0, N_DEMO - 1, key="fl_b")))
    with torch.inference_mode():
        st.image(levels_to_image(flow.interpolate_codes(model, a, b), 10, 3), width="stretch",
                 caption="flow: decode((1−t)·f(a) + t·f(b)), exact codes, so both ends are the digits themselves")
        if vae is not None:
            path = vae.decode(lerp(vae.encode(a)[0][0], vae.encode(b)[0][0], 10))
            st.image(zoomed_grid(path, 10, 3), width="stretch",
                     caption="VAE: decode((1−t)·μ(a) + t·μ(b)); even its ends are reconstructions, not the digits")
    st.header("4 · How likely is this image? Digits and non-digits")
    probes, bpd = probe_scores(i)
    typical = typical_bits_per_dim()
    for col, (k, v) in zip(st.columns(len(probes)), probes.items()):
        col.image(levels_to_image(v, 1, 3), caption=f"{k}: {bpd[k]:.2f} bits/dim", width=84)
    fig = go.Figure(go.Bar(x=list(bpd.values()), y=list(bpd), orientation="h", marker_color="#4f46e5",
                           text=[f"{v:.2f}" for v in bpd.values()], textposition="outside"))
    fig.add_vline(x=typical, line_dash="dash", annotation_text=f"mean of 100 test digits: {typical:.2f}",
                  annotation_position="top right", annotation_yshift=18)  # above the bars, not on their labels
    fig.update_layout(height=290, margin=dict(l=0, r=40, t=40, b=40), yaxis_autorange="reversed",
                      xaxis_title="−log p(x) in bits per pixel (lower = more likely)")
    st.plotly_chart(fig, key="fl_probe_chart")
    lp = -bpd["this digit"] * flow.D * np.log(2)
    st.markdown(f"Test digit #{i}: log p(x) ≥ **{lp:.1f} nats**, **{bpd['this digit']:.3f} bits/dim** "
                "(the dequantization bound: exact for the continuous density, a lower bound for the 8-bit image).")
    lower = [k for k in bpd if k != "this digit" and bpd[k] < bpd["this digit"]]
    st.markdown("Measured here: " + (f"the model finds {', '.join(lower)} *more* likely than this digit. "
                                     if lower else "this digit is more likely than every probe. ") +
                "A likelihood says how cheaply an image can be coded, not whether it looks like the training data: "
                "flat images are cheap to code (Nalisnick et al. 2019 saw flows trained on CIFAR-10 prefer SVHN).")
    share()


def families_section():
    st.header("5 · One data set, four families")
    rows = families.rows()
    table = [{"family": r["family"], "model": r["model"], "data": r["data"] or "—",
              "test bits/dim (lower is better)": f"{r['bits_per_dim']:.3f}" if r["bits_per_dim"] is not None
              else r["why_no_bpd"], "density": r["density"],
              "sample 1 image (1 thread)": f"{r['sample_ms']:.1f} ms" if r.get("sample_ms") else "not measured",
              "sampling": r["sampling"], "inference of z": r["inference"],
              "parameters": f"{r['parameters']:,}" if r.get("parameters") else "—",
              "training images seen": f"{r['images_seen']:,}" if r.get("images_seen") else "—"} for r in rows]
    st.dataframe(table, hide_index=True, width="stretch")
    seed = st.session_state.get("fl_seed", 0)
    for col, r in zip(st.columns(len(rows)), rows):
        if r["data"] is not None:
            col.image(family_grid(r["model"], seed), width="stretch",
                      caption=f"{r['family']}: {r['model']}, samples (seed {seed})")
    ranked = sorted((r for r in rows if r["bits_per_dim"] is not None), key=lambda r: r["bits_per_dim"])
    if len(ranked) > 1:
        st.markdown("Measured here, best first: " + ", ".join(f"**{r['family']}** {r['bits_per_dim']:.3f}"
                                                             for r in ranked) + " bits/dim.")
        if ranked[0]["family"] == "VAE":
            st.markdown("The VAE's bound beats this flow. A likely reason: its decoder gives each pixel a "
                        "*discretized* logistic, which can put almost all of a pixel's probability on exactly 0, and "
                        "most of a digit is black background; the flow must spread its density over each grey "
                        "level's whole bin. The flow here is also small and trained briefly on one CPU thread "
                        "(published flows reach 1.05).")
    for r in rows:
        if r["note"]:
            st.caption(f"{r['family']}: {r['note']}")
    st.caption("Bits/dim on all 10,000 MNIST test digits with 256 grey levels, from each model's card (the flow's "
               "and the VAE's are bounds: dequantization, importance weighting). Sampling times from "
               "`python benchmarks/families.py --record`, on one thread. The GAN is GenLab's face model: it has "
               "no likelihood to compare, on any data.")
    with st.expander("Commands behind these figures"):
        for r in rows:
            st.markdown(f"**{r['model']}**: bits/dim `{r.get('measured_with') or '—'}`; "
                        f"timing `{r.get('benchmark_command') or 'not measured yet'}`")


if model is not None:
    samples_section()
    round_trip_section()
families_section()
card = getattr(model, "card", None)
with st.expander("The lecture box: change of variables, and why coupling layers make it cheap", expanded=False):
    st.latex(r"z = f(x),\quad x = f^{-1}(z),\quad z \sim \mathcal{N}(0, I)")
    st.latex(r"\log p(x) = \log \mathcal{N}(f(x); 0, I) + \log\left|\det \frac{\partial f(x)}{\partial x}\right|")
    st.latex(r"f = f_K \circ \dots \circ f_1 \;\Rightarrow\; \log\left|\det \tfrac{\partial f}{\partial x}\right| "
             r"= \sum_{k=1}^{K} \log\left|\det \tfrac{\partial f_k}{\partial h_{k-1}}\right|")
    st.latex(r"\text{coupling: } y_a = x_a,\quad y_b = (x_b + t(x_a)) \odot s(x_a)"
             r"\;\Rightarrow\; \frac{\partial y}{\partial x} = \begin{pmatrix} I & 0 \\ \ast & "
             r"\operatorname{diag}(s(x_a)) \end{pmatrix},\quad \log|\det| = \textstyle\sum \log s(x_a)")
    st.latex(r"x_b = y_b / s(y_a) - t(y_a)\quad\text{(the inverse: } s, t \text{ are only run forwards)}")
    st.latex(r"\log P(x) \ge \mathbb{E}_{u \sim q(u \mid x)}\big[\log p(x + u) - \log q(u \mid x)\big],\qquad "
             r"\text{bits/dim} = \frac{-\log P(x)}{D \ln 2}")
    st.caption("Dequantization: the flow models continuous values, so each 8-bit pixel gets noise u in [0, 1). With "
               "uniform noise (q = 1) the flow must fill a flat box inside every pixel's bin, which smooth layers fit "
               "badly; a learned q(u | x), a small flow of its own (Flow++), tightens the bound"
               + (" — this model has one." if (card or {}).get("config", {}).get("dequantizer") == "variational"
                  else "."))
    st.caption("A determinant of a D×D Jacobian costs O(D³) in general; a coupling layer's is triangular, so it costs "
               "a sum. Each flow step here: actnorm, an invertible 1×1 convolution (LU form: log|det| is a sum of "
               "its diagonal) and an affine coupling.")
    pilots = (card or {}).get("pilots") or []
    if pilots:
        st.caption("Pilot runs behind the recipe (from the card), in pairs of equal wall time: " + "; ".join(
            f"{flow.recipe_in_words(p)}: {p['test_bits_per_dim']:.3f} bits/dim after {p['wall_time_s'] / 60:.0f} min"
            for p in pilots) + ".")
if card:
    weighted = card["metrics"].get("test_bits_per_dim_importance_weighted")
    st.caption(f"flow-mnist8: {flow.D} dimensions, {card['parameters']:,} parameters, test "
               f"{card['metrics']['test_bits_per_dim']} bits/dim on {card['metrics']['eval_images']:,} test digits "
               + (f"(one noise draw per digit; {weighted['bits_per_dim']} with {weighted['k']} draws, importance-"
                  "weighted) " if weighted else "") +
               f"after {families.images_seen(card):,} training images. Command: `{card['command']}`")
