"""VAE latent explorer: the 2-D latent map of a VAE, every point of which decodes to an image,
next to a plain autoencoder whose latent space has holes. Thin UI: the maths is in genlib.vae."""
import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
import streamlit as st
import torch

from genlib.data import CLASS_NAMES
from genlib.metrics import mnist_nll_comparison
from genlib.vae import grid_image, lerp
from genlib.zoo import metric
from pages._shared import Param, load_model, read_link, show_notes, write_link
from pages._vae_work import chosen_image, decode_one, demo_set, latent_codes, manifold_image, prior_samples, zoom

DATASETS = {"mnist": "MNIST digits", "fashion": "Fashion-MNIST clothes"}
MODELS = {("mnist", "vae"): "vae-mnist", ("mnist", "ae"): "ae-mnist", ("fashion", "vae"): "vae-fashion"}
Z_LIMIT = 4.0       # VAE map and sliders span [-4, 4]: 99.99% of the N(0, 1) prior per axis
GRID = 41           # invisible clickable points per axis (plotly selections ignore heatmaps)
N_DEMO = 1000       # shipped demo test images, 100 per class
COLORS = qualitative.D3  # ten distinct colours, one per class
LINK = [Param("ds", str, "mnist", choices=tuple(DATASETS)), Param("model", str, "vae", choices=("vae", "ae")),
        Param("img", int, 0, 0, N_DEMO - 1), Param("a", int, 3, 0, N_DEMO - 1), Param("b", int, 2, 0, N_DEMO - 1),
        Param("seed", int, 0, 0, 2**31 - 1)]


def wide_image(image, width: int, caption: str) -> None:
    """`image` drawn `width` px wide, or as wide as a narrower screen allows (st.image's own pixel width
    would overflow a phone's screen)."""
    st.container(width=width).image(image, caption=caption, width="stretch")


def z_link(box=None) -> list[Param]:
    """z1, z2: read once the model (and so the range of z) is known."""
    z1, z2 = (box or {}).get("z1", (None, None)), (box or {}).get("z2", (None, None))
    return [Param("z1", float, 0.0, *z1), Param("z2", float, 0.0, *z2)]


st.title("🗺️ VAE latent explorer")
st.caption("Walk the 2-D latent space of a variational autoencoder: every point decodes to an image. "
           "Switch to a plain autoencoder to see why it is not a generative model.")


# ---------- state from the link (bad values -> a note and a default, never a traceback) ----------
def url_state() -> list:
    ss = st.session_state
    if "vx_init" in ss:
        return []
    values, notes = read_link(LINK, also_known=("z1", "z2"))
    if (values["ds"], values["model"]) not in MODELS:
        notes.append(f"The plain autoencoder is trained on MNIST only; showing the VAE for {DATASETS[values['ds']]}.")
        values["model"] = "vae"
    ss.update({f"vx_{k}": v for k, v in values.items() if k != "model"}, vx_kind=values["model"], vx_init=True)
    ss.vx_z_link = {k: st.query_params.get_all(k) for k in ("z1", "z2")}  # checked once the model is known
    return notes


def share():
    """The page's state into the link (also from a fragment: the link follows every control)."""
    ss = st.session_state
    write_link(LINK + z_link(), {"ds": ss.vx_ds, "model": ss.vx_kind, "z1": round(ss.vx_z1, 2),
                                 "z2": round(ss.vx_z2, 2), **{k: ss[f"vx_{k}"] for k in ("img", "a", "b", "seed")}})


notes = url_state()

with st.sidebar:
    st.radio("Dataset", list(DATASETS), format_func=DATASETS.get, key="vx_ds")
    kinds = ["vae", "ae"] if st.session_state.vx_ds == "mnist" else ["vae"]
    if st.session_state.vx_kind not in kinds:
        st.session_state.vx_kind = "vae"
    st.radio("Model", kinds, key="vx_kind", horizontal=True,
             format_func={"vae": "VAE", "ae": "plain autoencoder"}.get,
             help="The plain autoencoder (MNIST only) has the same encoder and decoder but no noise and no KL term.")

ds, kind = st.session_state.vx_ds, st.session_state.vx_kind
name = MODELS[(ds, kind)]
model = load_model(name)
if model is None:
    show_notes(notes)
    st.stop()

x_demo, y_demo = demo_set(ds)
codes = latent_codes(name, ds)
classes = CLASS_NAMES[ds]

# The plotted range per axis: the prior's [-4, 4] for a VAE; for the AE (its codes sit anywhere) the box
# of its codes and of [-3, 3]^2, where prior samples would land, with a margin.
if model.is_vae:
    box = {"z1": (-Z_LIMIT, Z_LIMIT), "z2": (-Z_LIMIT, Z_LIMIT)}
else:
    box = {}
    for j, key in enumerate(("z1", "z2")):
        c_lo, c_hi = min(codes[:, j].min(), -3.0), max(codes[:, j].max(), 3.0)
        pad = 0.1 * (c_hi - c_lo)
        box[key] = (round(float(c_lo - pad), 1), round(float(c_hi + pad), 1))

# z from the URL once (clamped to this model's range with a note), then from clicks and sliders
if "vx_z_link" in st.session_state:
    values, z_notes = read_link(z_link(box), query=st.session_state.pop("vx_z_link"))
    notes += z_notes
    st.session_state.update(vx_z1=values["z1"], vx_z2=values["z2"])
for key in ("z1", "z2"):  # a model switch can change the range
    lo, hi = box[key]
    st.session_state[f"vx_{key}"] = float(min(max(st.session_state[f"vx_{key}"], lo), hi))

# A click on the map (read before the sliders exist, so it can move them)
event = st.session_state.get("vx_map")
points = (event or {}).get("selection", {}).get("points", []) if event else []
if points:
    p = points[0]
    sig = (name, round(p["x"], 4), round(p["y"], 4))
    if st.session_state.get("vx_last_click") != sig:
        st.session_state.vx_last_click = sig
        st.session_state.vx_z1, st.session_state.vx_z2 = float(p["x"]), float(p["y"])
        if p.get("customdata") is not None:  # a test image was clicked: it becomes the chosen image
            cd = p["customdata"]
            st.session_state.vx_img = int(cd[0] if isinstance(cd, (list, tuple)) else cd)

show_notes(notes)

# ---------- 1. the latent map and the decoder at the chosen z ----------
st.header("1 · The latent map")
# The decoder first: on a phone (columns stack) its sliders and image are on the first screen, the map below.
dec_col, map_col = st.columns([2, 3])
with map_col:
    gx, gy = np.meshgrid(np.linspace(*box["z1"], GRID), np.linspace(*box["z2"], GRID))
    fig = go.Figure()
    fig.add_trace(go.Scatter(  # invisible dense grid: lets a click on an empty spot select a z
        x=gx.ravel(), y=gy.ravel(), mode="markers", name="click anywhere",
        marker=dict(size=9, color="rgba(0,0,0,0)"), hovertemplate="decode z = (%{x:.2f}, %{y:.2f})<extra></extra>",
        showlegend=False))
    for c, label in enumerate(classes):
        idx = np.flatnonzero(y_demo == c)
        fig.add_trace(go.Scatter(
            x=codes[idx, 0], y=codes[idx, 1], mode="markers", name=label, customdata=idx,
            marker=dict(size=6, opacity=0.8, color=COLORS[c % len(COLORS)]),
            hovertemplate=f"{label} · test image #%{{customdata}}<br>z = (%{{x:.2f}}, %{{y:.2f}})<extra></extra>"))
    fig.add_trace(go.Scatter(x=[st.session_state.vx_z1], y=[st.session_state.vx_z2], mode="markers",
                             name="chosen z", marker=dict(symbol="x", size=16, color="black"), hoverinfo="skip"))
    fig.update_layout(height=520, margin=dict(l=10, r=10, t=30, b=10), clickmode="event+select",
                      xaxis=dict(title="z1", range=box["z1"]), yaxis=dict(title="z2", range=box["z2"]),
                      legend=dict(itemsizing="constant"), title=f"{N_DEMO} test images encoded by {name}")
    st.plotly_chart(fig, key="vx_map", on_select="rerun", selection_mode="points", width="stretch")
    st.caption("Each dot is a test image at its encoded mean μ(x). Click a dot or any empty spot to decode it.")
with dec_col:
    for key in ("z1", "z2"):
        lo, hi = box[key]
        st.slider(key, lo, hi, key=f"vx_{key}", step=0.05 if model.is_vae else 0.1)
    z1, z2 = st.session_state.vx_z1, st.session_state.vx_z2
    st.image(decode_one(model, z1, z2), caption=f"decode(z) at z = ({z1:.2f}, {z2:.2f}) · {name}")
    if not model.is_vae:
        st.warning("A plain autoencoder only learned to decode the codes of its training images. "
                   "Between and around the clusters there is no guarantee of anything digit-like: "
                   "its latent space has holes, and it has no prior to sample from.")

# ---------- 2. the manifold ----------
st.header("2 · The manifold")
if model.is_vae:
    st.markdown("A 20×20 grid of the unit square mapped through the inverse Gaussian CDF, "
                "z = Φ⁻¹(u), then decoded (Kingma & Welling 2014, Fig. 4): every cell holds the same prior mass.")
else:
    st.markdown(f"The autoencoder has no prior, so there is no Φ⁻¹ grid: this is a plain 20×20 grid over "
                f"z1 ∈ [{box['z1'][0]}, {box['z1'][1]}], z2 ∈ [{box['z2'][0]}, {box['z2'][1]}], the box its codes "
                "occupy. Look for the smudges and non-digits in the gaps and around the clusters.")
wide_image(manifold_image(name, (box["z1"], box["z2"])), 560, f"manifold of {name}")

# ---------- 3-6: two fragments, so their controls rerun their own sections only ----------
@st.fragment
def test_images_section():
    st.header("3 · Reconstruction and the ELBO")
    img = st.number_input("Chosen test image (0–999; clicking a dot also picks it)", 0, N_DEMO - 1, key="vx_img")
    x_img, r = x_demo[img], chosen_image(name, ds, img)
    cols = st.columns(4)
    cols[0].image(zoom(x_img, 4), caption=f"test image #{img} ({classes[y_demo[img]]})")
    cols[1].image(zoom(r["x_bin"], 4), caption="binarized x (seed 0)")
    cols[2].image(zoom(r["recon"], 4), caption=f"decode(μ(x)), μ = ({r['mu'][0]:.2f}, {r['mu'][1]:.2f})")
    if model.is_vae:
        with cols[3]:
            st.metric("reconstruction  E_q[log p(x|z)]", f"{r['reconstruction']:.1f} nats")
            st.metric("KL(q(z|x) ‖ p(z))", f"{r['kl']:.2f} nats")
            st.metric("ELBO = reconstruction − KL", f"{r['elbo']:.1f} nats")
            st.metric(f"log p(x) ≈ (k = {r['k']})", f"{r['log_p']:.1f} nats",
                      help="importance-weighted estimate; it is never far below the ELBO and tightens as k grows")
    else:
        cols[3].info("A plain autoencoder has no KL term and no ELBO: it only minimises the reconstruction error, "
                     "so nothing makes its codes fill the space a prior would sample from.")
    st.header("4 · Interpolation: latent space vs pixel space")
    ca, cb = st.columns(2)
    a = ca.number_input("from test image", 0, N_DEMO - 1, key="vx_a")
    b = cb.number_input("to test image", 0, N_DEMO - 1, key="vx_b")
    xa = torch.from_numpy(x_demo[[a, b]]).float()[:, None] / 255
    with torch.inference_mode():
        m_ab, _ = model.encode(xa)
        latent_path = model.decode(lerp(m_ab[0], m_ab[1], 10))
    pixel_path = lerp(xa[0], xa[1], 10)
    wide_image(grid_image(latent_path, 10), 620,
               "decode((1−t)·μ(a) + t·μ(b)): " + ("every step stays on the manifold of digit-like images"
                                                 if model.is_vae else "the straight line may cross a hole"))
    wide_image(grid_image(pixel_path, 10), 620, "(1−t)·a + t·b in pixel space: a cross-fade, not a morph")
    share()


@st.fragment
def samples_section():
    st.header("5 · Samples from the prior z ~ N(0, I)")
    seed = st.number_input("seed", 0, 2**31 - 1, key="vx_seed")
    wide_image(prior_samples(name, seed), 900,
               f"32 draws of z ~ N(0, I), seed {seed}, decoded by {name}" +
               ("" if model.is_vae else ": the AE was never trained to make N(0, I) meaningful"))
    st.header("6 · More latent dimensions: the 32-D VAE")
    st.write("Two latent dimensions can be drawn, but they squeeze every digit into two numbers. The same kind of "
             "VAE with a 32-D latent space fits MNIST far better (a lower −log p(x) on test digits); the price is "
             "a space nobody can look at. Its samples below use the seed of section 5.")
    if load_model("vae-mnist-32") is not None:
        wide_image(prior_samples("vae-mnist-32", seed), 900,
                   f"32 draws of z ~ N(0, I) in 32 dimensions, seed {seed}, decoded by vae-mnist-32")
    share()


test_images_section()
samples_section()
rows = mnist_nll_comparison()
if rows:
    bars = go.Figure(go.Bar(
        x=[r["nats"] for r in rows], y=[r["model"] for r in rows], orientation="h",
        marker_color=["#4f46e5" if r["source"] == "ours" else "#9ca3af" for r in rows],
        text=[f"{r['nats']:.2f}" for r in rows], textposition="outside"))
    bars.update_layout(height=60 + 34 * len(rows), margin=dict(l=0, r=40, t=10, b=40),
                       xaxis_title="test −log p(x), nats (lower is better)", yaxis_autorange="reversed")
    st.plotly_chart(bars, key="vx_nll_bars")
    st.caption("Binarized MNIST test set. Ours (indigo): from each model's card, measured with the command it "
               "records. Published (grey): Burda et al. 2015, van den Oord et al. 2016.")

# ---------- 7. the lecture's formulas ----------
with st.expander("The formulas (lecture: Variational Autoencoders)", expanded=False):
    st.latex(r"p_\theta(x) = \int p_\theta(z)\, p_\theta(x \mid z)\, dz \quad\text{(intractable)}")
    st.latex(r"\log p_\theta(x) \ge \underbrace{\mathbb{E}_{q_\phi(z\mid x)}[\log p_\theta(x\mid z)]}_{\text{reconstruction}}"
             r" - \underbrace{D_{KL}(q_\phi(z\mid x)\,\|\,p(z))}_{\text{KL}} = \text{ELBO}")
    st.latex(r"D_{KL}\big(\mathcal{N}(\mu,\sigma^2)\,\|\,\mathcal{N}(0,1)\big) = "
             r"\tfrac12 \textstyle\sum_j \big(\mu_j^2 + \sigma_j^2 - 1 - \log \sigma_j^2\big) \;\ge 0")
    st.latex(r"z = \mu_\phi(x) + \sigma_\phi(x) \odot \varepsilon,\quad \varepsilon \sim \mathcal{N}(0, I)"
             r"\quad\text{(reparameterisation)}")
    st.latex(r"\log p_\theta(x) \approx \log \frac1k \sum_{i=1}^{k} \frac{p_\theta(x\mid z_i)\,p(z_i)}{q_\phi(z_i\mid x)},"
             r"\quad z_i \sim q_\phi(z\mid x)")
    st.caption("p(x|z) here is a Bernoulli per pixel (binarized images), so log p(x|z) is minus the binary "
               "cross-entropy. Nats: natural logarithms.")

card = getattr(model, "card", None)
if metric(card, "test_nll_nats") is not None:
    st.caption(f"{name}: test −ELBO {metric(card, 'test_neg_elbo_nats')} nats, −log p(x) ≈ "
               f"{metric(card, 'test_nll_nats')} nats (k = {metric(card, 'test_nll_k')}, "
               f"{metric(card, 'test_nll_images')} images) on the binarized {ds} test set. "
               f"Command: `{metric(card, 'measured_with')}`")

share()
