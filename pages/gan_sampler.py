"""GAN face sampler: "this face does not exist", from the GAN trained here on UTKFace (weights/gan-faces).

Thin UI: genlib.gan makes the faces; this page reads widgets / the URL (?seed=, ?trunc=) and draws.
"""
from __future__ import annotations

import io
import random

import streamlit as st

from pages._shared import load_model, parse_float, parse_int, show_notes, url_param

MAX_SEED = 2**31 - 1
DEFAULT_TRUNC = 0.8
BIG_PX = 320        # the main face: 64 px upscaled 5x
GRID_SEEDS = 16


# ---- cached model helpers (no model loads at import time) ---------------------------------------

@st.cache_resource(show_spinner=False)
def _discriminator():
    """D ships separately (gan-faces-d); the page works without it."""
    import genlib

    try:
        return genlib.load("gan-faces-d")
    except genlib.WeightsError:
        return None


@st.cache_resource(show_spinner="Loading the training faces (about 5 s)…")
def _training_faces():
    """UTKFace train split as a flat uint8 tensor [N, 3*64*64] (kept in memory, never written anywhere)."""
    import torch

    from genlib.data import load_faces

    x = load_faces("train")["x"]
    return x, torch.from_numpy(x).permute(0, 3, 1, 2).reshape(len(x), -1)


def _face_data_present() -> bool:
    from genlib.data import FACE_INDEX, data_root

    return (data_root() / "faces" / FACE_INDEX).exists()


def faces(G, seeds, truncation):
    """One face per seed, [n, 3, 64, 64] in [0, 1]; a face depends only on its own seed and truncation."""
    import torch

    return G.generate(torch.cat([G.latents(1, seed=s, truncation=truncation) for s in seeds]))


def upscale(img01, px=BIG_PX):
    """[3,64,64] in [0,1] -> PIL image px x px. Lanczos + a light unsharp mask: smooth edges, not blocks."""
    from PIL import Image, ImageFilter

    from genlib.gan import to_uint8_hwc

    im = Image.fromarray(to_uint8_hwc(img01[None])[0]).resize((px, px), Image.LANCZOS)
    return im.filter(ImageFilter.UnsharpMask(radius=2, percent=60, threshold=2))


def png_bytes(im) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


# ---- state: seed and truncation live in session_state and in the URL ------------------------------

def init_state():
    if "gan_seed" in st.session_state:
        return
    notes = []
    seed, note = parse_int(url_param("seed"), random.randint(0, 99_999), 0, MAX_SEED, "seed")
    notes.append(note)
    trunc, note = parse_float(url_param("trunc"), DEFAULT_TRUNC, 0.1, 1.0, "trunc")
    notes.append(note)
    st.session_state.gan_seed = seed
    st.session_state.gan_trunc = round(trunc * 20) / 20  # the slider's 0.05 grid
    st.session_state.gan_seed_b = (seed + 1) % (MAX_SEED + 1)
    st.session_state.gan_notes = [n for n in notes if n]


def new_face():
    st.session_state.gan_seed = random.randint(0, 99_999)
    st.session_state.gan_notes = []


# ---- UI pieces ------------------------------------------------------------------------------------

def controls_ui():
    st.button("🎲 New face", on_click=new_face, type="primary", width="stretch")
    st.number_input("Seed (share it, or type one to get its face back)", min_value=0, max_value=MAX_SEED,
                    step=1, key="gan_seed")
    st.slider("Truncation ψ", 0.1, 1.0, step=0.05, key="gan_trunc")
    st.caption("Truncation scales the random input z toward its average: lower ψ gives cleaner, more "
               "typical faces, ψ = 1 the full variety (and more failures).")
    return int(st.session_state.gan_seed), float(st.session_state.gan_trunc)


def main_face_ui(G, seed, trunc):
    with st.spinner("Drawing the face…"):
        face = faces(G, [seed], trunc)
    big = upscale(face[0])
    st.image(big, caption=f"seed {seed}, ψ = {trunc:g}: this face does not exist", width=BIG_PX,
                 output_format="PNG")  # PNG: JPEG would smear the fine detail
    st.download_button("⬇️ Download PNG", png_bytes(big), file_name=f"genlab-face-seed{seed}-psi{trunc:g}.png",
                       mime="image/png")
    return face


def discriminator_ui(face):
    D = _discriminator()
    if D is None:
        return
    p = float(D.opinion(face)[0])
    st.metric("The discriminator's opinion: real photo?", f"{p:.0%}")
    st.caption("D is the network that was trained to tell real faces from G's fakes. At the end of training "
               "neither wins, so its opinion of a single face is a weak signal, not a truth detector.")


def grid_ui(G, seed, trunc):
    seeds = [(seed + i) % (MAX_SEED + 1) for i in range(1, GRID_SEEDS + 1)]
    with st.spinner("Drawing 16 faces…"):
        batch = faces(G, seeds, trunc)
    cols = st.columns(8)
    for i, (s, img) in enumerate(zip(seeds, batch)):
        cols[i % 8].image(upscale(img, 128), caption=f"seed {s}", width="stretch", output_format="PNG")


def morph_ui(G, seed, trunc):
    import torch

    from genlib.gan import slerp

    st.number_input("Morph to seed", min_value=0, max_value=MAX_SEED, step=1, key="gan_seed_b")
    seed_b = int(st.session_state.gan_seed_b)
    z0, z1 = G.latents(1, seed=seed, truncation=trunc), G.latents(1, seed=seed_b, truncation=trunc)
    left, right = st.columns(2)
    with left:
        t = st.slider("From seed A (0) to seed B (1)", 0.0, 1.0, 0.5, step=0.05, key="gan_t")
        st.image(upscale(G.generate(slerp(z0, z1, t))[0], 256), caption=f"{seed} → {seed_b} at t = {t:g}", output_format="PNG")
    with right:
        if st.toggle("Play as an animation", key="gan_animate"):
            with st.spinner("Rendering the morph…"):
                ts = torch.linspace(0, 1, 20)
                frames = G.generate(slerp(z0, z1, ts))
                ims = [upscale(f, 256) for f in torch.cat([frames, frames.flip(0)])]  # there and back
                buf = io.BytesIO()
                ims[0].save(buf, format="GIF", save_all=True, append_images=ims[1:], duration=80, loop=0)
            st.image(buf.getvalue(), caption="spherical interpolation, there and back")
    st.caption("Spherical interpolation (slerp) walks along the sphere where Gaussian latents live; a straight "
               "line would cut through its low-norm middle, where the faces go bland.")


def nearest_ui(face):
    st.caption("The lecture's check: is each sample just a copy of a training image? Here are the closest "
               "training faces in pixel distance (L2 over 64×64×3 values in [0, 1]).")
    if not _face_data_present():
        st.caption("The UTKFace data is not on this machine (set `GENLAB_DATA`), so this check is hidden.")
        return
    if not st.toggle("Find the nearest training faces", key="gan_nn"):
        return
    from genlib.gan import to_uint8_hwc
    from genlib.metrics import nearest_neighbours

    x, flat = _training_faces()
    with st.spinner("Searching 22,151 training faces…"):
        d, idx = nearest_neighbours(face.reshape(1, -1) * 255, flat, k=5, chunk=2048)
    cols = st.columns(6)
    cols[0].image(upscale(face[0], 128), caption="generated", width="stretch", output_format="PNG")
    for c, dist, i in zip(cols[1:], d[0], idx[0]):
        c.image(x[i], caption=f"train #{i}, distance {dist / 255:.1f}", width="stretch", output_format="PNG")
    st.caption("Real test faces are typically about as far from their nearest training face as these: "
               "see the memorisation numbers in the model card.")


def lecture_ui(G):
    with st.expander("How does this work? (lecture: Generative Adversarial Networks)"):
        st.markdown(
            "A GAN learns **implicitly**: it never writes down p(x); it only learns to *sample*. Two networks "
            "play the minimax game of the lecture:\n\n"
            "$$\\min_{G}\\max_{D}\\; \\mathbb{E}_{x\\sim p_{data}}\\log D(x) + "
            "\\mathbb{E}_{z\\sim p(z)}\\log(1 - D(G(z)))$$\n\n"
            "- the **generator** G turns random noise z (128 numbers, fixed by the seed) into a 64×64 face, "
            "trying to fool D;\n"
            "- the **discriminator** D looks at real UTKFace photos and G's fakes and outputs the probability "
            "that an image is real.\n\n"
            "This G was trained here on one CPU core (DCGAN layers, spectral norm in D, non-saturating loss, "
            "an exponential moving average of G's weights). The lecture's *nearest neighbour from training "
            "set* slide is the check below: a GAN that copied its data would show near-identical training faces.")
        card = getattr(G, "card", None) or {}
        m = card.get("metrics", {})
        if m.get("fid_utk"):
            st.json({"FID-UTK": m["fid_utk"], "memorisation": m.get("memorisation")}, expanded=False)
        st.caption("Training data: UTKFace (Zhang, Song & Qi, CVPR 2017), non-commercial research and education "
                   "only. The set contains many children; generated faces are not real people.")


def main():
    st.title("🧑 This face does not exist")
    st.write("Every click draws a new face from a GAN trained by this project. None of them is a real person; "
             "the seed makes each one reproducible, so you can share it with a link.")
    G = load_model("gan-faces")
    if G is None:
        st.stop()
    init_state()
    show_notes(st.session_state.gan_notes)

    left, right = st.columns([3, 2], gap="large")
    with right:
        seed, trunc = controls_ui()
    st.query_params["seed"] = str(seed)
    st.query_params["trunc"] = f"{trunc:g}"
    with left:
        face = main_face_ui(G, seed, trunc)
    with right:
        discriminator_ui(face)

    tab_grid, tab_morph, tab_nn = st.tabs(["16 faces", "Morph between two seeds", "Nearest training faces"])
    with tab_grid:
        grid_ui(G, seed, trunc)
    with tab_morph:
        morph_ui(G, seed, trunc)
    with tab_nn:
        nearest_ui(face)
    lecture_ui(G)


main()
