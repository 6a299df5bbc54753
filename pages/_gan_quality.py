"""The face sampler's "How real do they look?" tab, strictest judge first: FD-dlib (a face model trained elsewhere)
on its blur ladder with the model's generations, then the detector, then the texture ladder, each with what it sees.
Reads only the card (genlib/evaluate_gan.py wrote it)."""
from __future__ import annotations

import streamlit as st

from genlib.zoo import metric

KIND_COLOURS = {"real": "#2e7d32", "blur": "#1565c0", "JPEG": "#6a1b9a", "noise": "#ef6c00", "generated": "#c62828",
                "earlier": "#ef9a9a"}


def generation_rows(fd: dict, card: dict) -> list[tuple[str, float, str]]:
    """(label, FD-dlib, kind) for each earlier generation and this model, oldest first."""
    from genlib import families

    gens = [(g["fd_dlib"], g.get("images_seen"), "earlier") for g in fd.get("earlier_generations", [])]
    gens.append((fd["generated"], families.images_seen(card), "generated"))
    label = lambda i, seen, kind: (f"generation {i}" + (f" ({seen:,} images)" if seen else "")  # noqa: E731
                                   + (", this model" if kind == "generated" else ""))
    return [(label(i, seen, kind), value, kind) for i, (value, seen, kind) in enumerate(gens, 1)]


def fd_dlib_chart(fd: dict, card: dict):
    """Horizontal bars: real photos, the blur rungs, and every generation of this GAN (this one in red)."""
    import plotly.graph_objects as go

    rows = [("real photos", fd["floor_train_vs_test"], "real")]
    rows += [(f"photos blurred by {k}", v, "blur") for k, v in fd["blurred_train_vs_test"].items()]
    rows += generation_rows(fd, card)
    rows.sort(key=lambda r: r[1])
    fig = go.Figure(go.Bar(x=[r[1] for r in rows], y=[r[0] for r in rows], orientation="h",
                           marker_color=[KIND_COLOURS[r[2]] for r in rows],
                           text=[f"{r[1]:.2f}" for r in rows], textposition="outside"))
    fig.update_layout(xaxis_title="FD-dlib to real test faces (lower = more like real faces to a face model)",
                      height=40 + 30 * len(rows), margin=dict(l=10, r=30, t=10, b=40), showlegend=False)
    fig.update_yaxes(autorange="reversed")
    return fig


def fd_dlib_ui(fd: dict, card: dict):
    per_seed = " and ".join(f"{v:.2f}" for v in fd["generated_per_seed_set"].values())
    st.write(f"**A face model trained elsewhere** (dlib's face-recognition network, trained on about three million "
             f"photos of faces) places this GAN's faces **{fd['position']}**: FD-dlib **{fd['generated']:.2f}** "
             f"(two sets of {fd['faces_per_set']:,} faces: {per_seed}). It sees whether a face is a plausible face "
             "(eyes, nose, mouth, their shapes and places), the way it tells people apart.")
    st.plotly_chart(fd_dlib_chart(fd, card), width="stretch", key="fd_dlib_chart")
    hits = min(fd["hog_detector_hit_rate"]["generated"].values())
    st.caption(f"Frechet distance between 128-D face embeddings of each set and of the {fd['reference']}, x100; "
               f"differences under about 0.5 are noise at this size. dlib's face detector finds a face in "
               f"{hits:.0%} of these faces and {fd['hog_detector_hit_rate']['test_faces']:.0%} of real ones "
               "(a sanity check, not a score).")


def ladder_chart(ladder: dict):
    """Horizontal bars, log scale: real faces, each degraded set, the generated faces (red)."""
    import plotly.graph_objects as go

    rows = [("real photos", ladder["real_faces"], "real")]
    rows += [(label, v, label.split()[0]) for label, v in ladder["degraded_real_faces"].items()]
    rows += [(f"this GAN, ψ = {k.rsplit('_', 1)[1]}", v, "generated") for k, v in ladder["generated"].items()]
    rows.sort(key=lambda r: r[1])
    fig = go.Figure(go.Bar(x=[max(r[1], 1e-3) for r in rows], y=[r[0] for r in rows], orientation="h",
                           marker_color=[KIND_COLOURS.get(r[2], "#757575") for r in rows],
                           text=[f"{r[1]:,.1f}" for r in rows], textposition="outside"))
    fig.update_layout(xaxis_type="log", xaxis_title="distance to real test faces (log scale; lower = closer)",
                      height=40 + 28 * len(rows), margin=dict(l=10, r=10, t=10, b=40), showlegend=False)
    fig.update_yaxes(autorange="reversed")
    return fig


def quality_ui(G):
    card = getattr(G, "card", None)
    fd, ladder, detector = metric(card, "fd_dlib"), metric(card, "quality_ladder"), metric(card, "detector")
    if fd:
        fd_dlib_ui(fd, card)
    else:
        st.caption("This model's card has no FD-dlib yet (`python -m genlib.evaluate_gan --fd-dlib`): the figures "
                   "below come from networks trained here only.")
    if not ladder:
        st.caption("This model's card has no quality ladder yet: `python -m genlib.evaluate_gan` measures it.")
        return
    if detector:
        low, high = detector["ci95"]
        st.write(f"**Can a machine tell?** A small network trained on {detector['train_images']:,} faces to tell "
                 f"real photos from this GAN's faces is right on **{detector['accuracy']:.0%}** of "
                 f"{detector['held_out_images']:,} faces it never saw (95% interval {low:.0%}–{high:.0%}; "
                 "50% would mean it cannot tell them apart).")
    gen = ladder["generated"]
    best = min(gen, key=gen.get)
    st.write(f"**Sharpness and texture**: the generated faces (ψ = {best.rsplit('_', 1)[1]}) sit "
             f"**{ladder['position'][best]}** on a ladder of real photos degraded on purpose. "
             "The distance is measured in the features of a network trained here to spot blur, noise and JPEG "
             "artefacts in faces; it grows along every rung of the ladder, so it can rank them.")
    st.plotly_chart(ladder_chart(ladder), width="stretch", key="texture_chart")
    worse_than_blur = bool(fd) and fd["generated"] > max(fd["blurred_train_vs_test"].values())
    if worse_than_blur or (detector and detector["accuracy"] >= 0.9):
        stricter = ("a face model finds them less plausible than photos blurred by 2 px" if worse_than_blur
                    else "a machine still tells them apart almost every time")
        st.write(f"So the figures disagree, and the stricter ones come first: in **texture** the faces are close to "
                 f"photos, yet {stricter}, from what the texture ladder does not measure (the shape of eyes and "
                 "mouths, backgrounds, generator artefacts). Look closely at the faces and you will find them too.")
    st.caption("The detector and the texture ladder are computed by `python -m genlib.evaluate_gan`, FD-dlib by "
               "`python -m genlib.evaluate_gan --fd-dlib`, all on the 1,166 UTKFace test faces. "
               "The older FID-UTK in the card uses identity features (age, gender, race) that ignore sharpness "
               "and texture, so it is not a measure of how real the faces look.")
