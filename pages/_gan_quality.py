"""The face sampler's "How real do they look?" tab: the model card's quality ladder as a chart, the detector's
accuracy, and what they mean in one sentence. Reads only the card (genlib/evaluate_gan.py wrote it)."""
from __future__ import annotations

import streamlit as st

from genlib.zoo import metric

KIND_COLOURS = {"real": "#2e7d32", "blur": "#1565c0", "JPEG": "#6a1b9a", "noise": "#ef6c00", "generated": "#c62828"}


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
    ladder, detector = metric(card, "quality_ladder"), metric(card, "detector")
    if not ladder:
        st.caption("This model's card has no quality ladder yet: `python -m genlib.evaluate_gan` measures it.")
        return
    gen = ladder["generated"]
    best = min(gen, key=gen.get)
    st.write(f"**Sharpness and texture**: the generated faces (ψ = {best.rsplit('_', 1)[1]}) sit "
             f"**{ladder['position'][best]}** on a ladder of real photos degraded on purpose. "
             "The distance is measured in the features of a network trained here to spot blur, noise and JPEG "
             "artefacts in faces; it grows along every rung of the ladder, so it can rank them.")
    st.plotly_chart(ladder_chart(ladder), width="stretch")
    if detector:
        low, high = detector["ci95"]
        st.write(f"**Can a machine tell?** A small network trained on {detector['train_images']:,} faces to tell "
                 f"real photos from this GAN's faces is right on **{detector['accuracy']:.0%}** of "
                 f"{detector['held_out_images']:,} faces it never saw (95% interval {low:.0%}–{high:.0%}; "
                 "50% would mean it cannot tell them apart).")
        if detector["accuracy"] >= 0.9:
            st.write("So the two figures say different things: in **texture** the faces are close to photos, yet a "
                     "machine still tells them apart almost every time, from what the ladder does not measure "
                     "(the shape of eyes and mouths, backgrounds, generator artefacts). Look closely at the faces "
                     "and you will find them too.")
    st.caption("Both figures are computed by `python -m genlib.evaluate_gan` on the 1,166 UTKFace test faces. "
               "The older FID-UTK in the card uses identity features (age, gender, race) that ignore sharpness "
               "and texture, so it is not a measure of how real the faces look.")
