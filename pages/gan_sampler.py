"""GAN face sampler: "this face does not exist", from the GAN trained here on UTKFace (weights/gan-faces).

Thin UI: genlib.gan makes the faces; this page reads widgets / the link (?seed=, ?trunc=) and draws. The
face, the 16-face grid, the morph and the nearest-face search are separate fragments: "New face" reruns
the face (and the discriminator's opinion of it), nothing else. The sections below the face run only once
a student picks one. Faces are cached per (model, seed, ψ) for every visitor, so a face someone has seen
costs no generator work again.
"""
from __future__ import annotations

import random

import streamlit as st

from genlib.images import gif_bytes, jpeg_bytes, png_bytes, upscale
from genlib.zoo import metric
from pages._gan_quality import quality_ui
from pages._shared import Param, load_model, read_link, server_lock, show_notes, write_link

MAX_SEED = 2**31 - 1
BIG_PX = 320        # the main face: 64 px upscaled 5x
GRID_SEEDS = 16
LINK = [Param("seed", int, None, 0, MAX_SEED),  # absent: a random face
        Param("trunc", float, 0.8, 0.1, 1.0, step=0.05)]


# ---- cached model work (keyed by the weights' sha256, shared by every session) --------------------

@st.cache_resource(show_spinner=False)
def _discriminator():
    """D ships separately (gan-faces-d); the page works without it."""
    import genlib

    try:
        return genlib.load("gan-faces-d")
    except genlib.WeightsError:
        return None


def model_id(G) -> str:
    return (getattr(G, "card", None) or {}).get("sha256", "")


@st.cache_data(max_entries=256, show_spinner=False)  # 256 faces x 48 KB
def _face(_G, model: str, seed: int, truncation: float):
    return _G.generate(_G.latents(1, seed=seed, truncation=truncation))


def faces(G, seeds, truncation: float):
    """One face per seed, [n, 3, 64, 64] in [0, 1]; a face depends only on its own seed and truncation."""
    import torch

    return torch.cat([_face(G, model_id(G), int(s), float(truncation)) for s in seeds])


@st.cache_data(max_entries=512, show_spinner=False)
def opinion(_D, model: str, seed: int, truncation: float, _face) -> float:
    return float(_D.opinion(_face)[0])


@st.cache_data(max_entries=1024, show_spinner=False)  # ~27 KB at 320 px, ~5 KB at 128 px
def face_jpeg(_G, model: str, seed: int, truncation: float, px: int) -> bytes:
    """The face of (model, seed, ψ) upscaled to px and encoded once for every visitor: a face someone has
    seen costs no generator, resampling or encoding work again (issue 15: 0.33 CPU s per click before)."""
    return jpeg_bytes(upscale(faces(_G, [seed], truncation)[0], px))


@st.cache_resource(show_spinner="Loading the training faces (about 5 s)…")
def _training_faces():
    """UTKFace train split, uint8 [N, 64, 64, 3]: the one copy the search reads (no reordered second copy;
    the query is put in the same HWC order instead). Never written anywhere by this page."""
    from genlib.data import load_faces

    return load_faces("train")["x"]


@st.cache_data(max_entries=256, show_spinner=False)
def nearest(model: str, seed: int, truncation: float, _face, k: int = 5):
    """(distances in [0, 1] units, indices) of the k nearest training faces, once per face for everyone;
    one search at a time on the server (a queued visitor waits, the cores are not split ten ways)."""
    from genlib.metrics import nearest_neighbours

    x = _training_faces()
    query = (_face.permute(0, 2, 3, 1).reshape(1, -1) * 255)  # HWC, like the faces
    with server_lock("nearest faces"):
        d, idx = nearest_neighbours(query, x, k=k, chunk=2048)
    return d[0] / 255, idx[0]


def _face_data_present() -> bool:
    from genlib.data import FACE_INDEX, data_root

    return (data_root() / "faces" / FACE_INDEX).exists()


# ---- state: seed and truncation live in session_state and in the link -----------------------------

def init_state():
    ss = st.session_state
    if "gan_seed" in ss:
        return
    values, ss.gan_notes = read_link(LINK)
    seed = values["seed"] if values["seed"] is not None else random.randint(0, 99_999)
    ss.update(gan_seed=seed, gan_trunc=values["trunc"], grid_seed=(seed + 1) % (MAX_SEED + 1),
              morph_a=seed, morph_b=(seed + 1) % (MAX_SEED + 1), shown_trunc=values["trunc"])


def new_face():
    st.session_state.gan_seed = random.randint(0, 99_999)
    st.session_state.gan_notes = []


# ---- UI pieces ------------------------------------------------------------------------------------

@st.fragment
def face_ui(G):
    """The face, the controls and D's opinion of it: what "New face" and the seed box rerun."""
    ss = st.session_state
    seed, trunc = int(ss.gan_seed), float(ss.gan_trunc)  # the widgets below hold these keys
    if trunc != ss.shown_trunc:  # ψ changes every face on the page, so the whole page reruns
        ss.shown_trunc = trunc
        st.rerun(scope="app")
    write_link(LINK, {"seed": seed, "trunc": trunc})
    left, right = st.columns([3, 2], gap="large")
    with left:  # the button right above the face: on a phone (columns stack) both are on the first screen
        st.button("🎲 New face", on_click=new_face, type="primary", width=BIG_PX)
        st.image(face_jpeg(G, model_id(G), seed, trunc, BIG_PX), width=BIG_PX, output_format="JPEG",
                 caption=f"seed {seed}, ψ = {trunc:g}: this face does not exist")
    with right:
        st.number_input("Seed (share it, or type one to get its face back)", min_value=0, max_value=MAX_SEED,
                        step=1, key="gan_seed")
        st.slider("Truncation ψ", 0.1, 1.0, step=0.05, key="gan_trunc")
        st.caption("Truncation scales the random input z toward its average: lower ψ gives cleaner, more "
                   "typical faces, ψ = 1 the full variety (and more failures).")
    face = faces(G, [seed], trunc)
    with left:
        # The PNG is made only when someone downloads it, and the download reruns nothing.
        st.download_button("⬇️ Download PNG", lambda: png_bytes(upscale(face[0], BIG_PX)), on_click="ignore",
                           file_name=f"genlab-face-seed{seed}-psi{trunc:g}.png", mime="image/png")
    D = _discriminator()
    if D is not None:
        with right:
            st.metric("The discriminator's opinion: real photo?", f"{opinion(D, model_id(D), seed, trunc, face):.0%}")
            st.caption("D is the network that was trained to tell real faces from G's fakes. At the end of "
                       "training neither wins, so its opinion of a single face is a weak signal, not a truth "
                       "detector.")


def next_grid():
    st.session_state.grid_seed = (st.session_state.grid_seed + GRID_SEEDS) % (MAX_SEED + 1)


@st.fragment
def grid_ui(G, trunc):
    start = int(st.session_state.grid_seed)
    seeds = tuple((start + i) % (MAX_SEED + 1) for i in range(GRID_SEEDS))
    st.button(f"🎲 The next {GRID_SEEDS} seeds", on_click=next_grid)
    # One image element holding all 16 faces (they wrap as the width allows): the browser re-renders the
    # page's element tree on every "New face" click, and 16 images in 8 columns cost it ~30 ms more each time.
    st.image([face_jpeg(G, model_id(G), s, trunc, 128) for s in seeds], caption=[f"seed {s}" for s in seeds],
             width=128, output_format="JPEG")


def morph_from_face():
    st.session_state.morph_a = st.session_state.gan_seed


@st.fragment
def morph_ui(G, trunc):
    import torch

    from genlib.gan import slerp

    a_col, b_col, use_col = st.columns([2, 2, 3], vertical_alignment="bottom")
    seed_a = int(a_col.number_input("Seed A", min_value=0, max_value=MAX_SEED, step=1, key="morph_a"))
    seed_b = int(b_col.number_input("Morph to seed B", min_value=0, max_value=MAX_SEED, step=1, key="morph_b"))
    use_col.button("Seed A = the face above", on_click=morph_from_face)
    z0, z1 = G.latents(1, seed=seed_a, truncation=trunc), G.latents(1, seed=seed_b, truncation=trunc)
    left, right = st.columns(2)
    with left:
        t = st.slider("From seed A (0) to seed B (1)", 0.0, 1.0, 0.5, step=0.05, key="gan_t")
        st.image(jpeg_bytes(upscale(G.generate(slerp(z0, z1, t))[0], 256)),
                 caption=f"{seed_a} → {seed_b} at t = {t:g}", output_format="JPEG")
    with right:
        if st.toggle("Play as an animation", key="gan_animate"):
            with st.spinner("Rendering the morph…"):
                frames = G.generate(slerp(z0, z1, torch.linspace(0, 1, 20)))
                gif = gif_bytes([upscale(f, 256) for f in torch.cat([frames, frames.flip(0)])])  # there and back
            st.image(gif, caption="spherical interpolation, there and back")
    st.caption("Spherical interpolation (slerp) walks along the sphere where Gaussian latents live; a straight "
               "line would cut through its low-norm middle, where the faces go bland.")


@st.fragment
def nearest_ui(G):
    st.caption("The lecture's check: is a sample just a copy of a training image? Here are the closest "
               "training faces in pixel distance (L2 over 64×64×3 values in [0, 1]).")
    if not _face_data_present():
        st.caption("The UTKFace data is not on this machine (set `GENLAB_DATA`), so this check is hidden.")
        return
    ss = st.session_state
    # a fixed key: with only the label (which holds the seed) a new face would make a new widget, and the
    # first click after "New face" would be lost
    if st.button(f"Search for the face above (seed {ss.gan_seed})", key="gan_nearest_search"):
        ss.nearest_of = (int(ss.gan_seed), float(ss.gan_trunc))
    if "nearest_of" not in ss:
        return
    seed, trunc = ss.nearest_of
    face = faces(G, [seed], trunc)
    with st.spinner(f"Searching {len(_training_faces()):,} training faces…"):
        d, idx = nearest(model_id(G), seed, trunc, face)
    cols = st.columns(6)
    cols[0].image(face_jpeg(G, model_id(G), seed, trunc, 128), caption=f"seed {seed}, ψ = {trunc:g}",
                  width="stretch", output_format="JPEG")
    for c, dist, i in zip(cols[1:], d, idx):
        c.image(_training_faces()[i], caption=f"train #{i}, distance {dist:.1f}", width="stretch", output_format="PNG")
    st.caption("Real test faces are typically about as far from their nearest training face as these: "
               "see the memorisation numbers in the model card.")


def lecture_ui(G):
    lecture = st.expander("How does this work? (lecture: Generative Adversarial Networks)", key="gan_lecture",
                          on_change="rerun")
    if not lecture.open:  # closed: nothing inside is sent, so a "New face" click does not redraw it
        return
    with lecture:
        st.markdown(
            "A GAN learns **implicitly**: it never writes down p(x); it only learns to *sample*. Two networks "
            "play the minimax game of the lecture:\n\n"
            "$$\\min_{G}\\max_{D}\\; \\mathbb{E}_{x\\sim p_{data}}\\log D(x) + "
            "\\mathbb{E}_{z\\sim p(z)}\\log(1 - D(G(z)))$$\n\n"
            f"- the **generator** G turns random noise z ({G.z_dim} numbers, fixed by the seed) into a 64×64 "
            "face, trying to fool D;\n"
            "- the **discriminator** D looks at real UTKFace photos and G's fakes and outputs the probability "
            "that an image is real.\n\n"
            "This G was trained here on one CPU core (DCGAN layers, spectral norm in D, non-saturating loss, "
            "an exponential moving average of G's weights). The lecture's *nearest neighbour from training "
            "set* slide is the check above: a GAN that copied its data would show near-identical training faces.")
        card = getattr(G, "card", None)
        if metric(card, "fid_utk"):
            st.json({"FID-UTK (identity features: blind to sharpness)": metric(card, "fid_utk"),
                     "memorisation": metric(card, "memorisation")},
                    expanded=False)
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
    face_ui(G)
    trunc = float(st.session_state.gan_trunc)
    # Nothing below the face is computed or sent until a student picks it: the browser re-renders the page's
    # whole element tree on every delta, so a default-open tab of 16 faces made every "New face" click cost
    # each browser ~40 ms more CPU (eight students on two cores, issue 15).
    more = {f"{GRID_SEEDS} more faces": lambda: grid_ui(G, trunc),
            "Morph between two seeds": lambda: morph_ui(G, trunc),
            "Nearest training faces": lambda: nearest_ui(G),
            "How real do they look?": lambda: quality_ui(G)}
    choice = st.segmented_control("More with this GAN", list(more), key="gan_more")
    if choice:
        more[choice]()
    lecture_ui(G)


main()
