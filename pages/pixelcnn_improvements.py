"""Improving PixelCNN, measured: the lecture's slide "Improving PixelCNN performance" as an ablation on 8-bit
digits. Samples of the ablation's baseline next to the best configuration trained longer, completion of a
half-hidden digit by the best model, and each item of the slide with its measured effect and a verdict.
Thin UI over genlib.pixelcnnpp and genlib.improvements; every figure comes from a model card."""
import time

import plotly.graph_objects as go
import streamlit as st
import torch

from genlib import families, improvements, pixelcnnpp
from genlib.data import demo_images
from pages._busy import one_at_a_time
from pages._shared import Param, levels_to_image, load_model, read_link, shared_store, show_notes, write_link

N_DEMO = 1000  # shipped demo test digits, 100 per class
N_SAMPLES, N_COMPLETIONS = 4, 3
LINK = [Param("seed", int, 0, 0, 2**31 - 1), Param("digit", int, 0, 0, N_DEMO - 1)]

st.title("🧪 Improving PixelCNN, measured")
st.caption("The lecture's slide “Improving PixelCNN performance” lists gated layers, short-cut connections, a "
           "discretized logistic loss, multi-scale and training tricks. Here each was switched on in turn and "
           "trained for the same time on 8-bit digits (256 grey levels): what does each buy?")


def url_state() -> list:
    ss = st.session_state
    if "pp_init" in ss:
        return []
    values, notes = read_link(LINK)
    ss.update({f"pp_{k}": v for k, v in values.items()}, pp_init=True)
    return notes


def share():
    write_link(LINK, {p.name: st.session_state[f"pp_{p.name}"] for p in LINK})


def new_seed():
    """Step the seed; samples for it are drawn at once (the student asked for them)."""
    st.session_state.update(pp_seed=(st.session_state.pp_seed + 1) % 2**31, pp_draw_samples=True)


@st.cache_data(show_spinner=False)
def digit(i: int):
    return torch.from_numpy(demo_images("mnist")[0][i]).float()[None, None]


def drawn(model, x, known, seed: int):
    """Key and, when someone on this server has drawn it already, the completions of x for this seed."""
    key = (model.card.get("sha256"), x.numpy().tobytes(), known.numpy().tobytes(), seed)
    return key, shared_store("pixelcnn++ samples", 64).get(key)


def draw(model, x, known, seed: int, what: str, frame, nrow: int):
    """Complete x (known pixels kept) with a progress bar, painting the rows into `frame` as they come; kept
    for every visitor per model, input and seed; one sampler at a time on the server."""
    key, done = drawn(model, x, known, seed)
    if done is not None:
        return done
    bar = st.progress(0.0, text=f"{what}…")

    def progress(done, total):  # once per image row: a message per pixel would flood the browser
        if done % 28 == 0 or done == total:
            bar.progress(done / total, text=f"{what}: {done} of {total} pixels")

    def paint(images):
        frame.image(levels_to_image(images, nrow, 4), width="stretch")

    with one_at_a_time("sampling", "digit sampling"), torch.inference_mode():
        start = time.perf_counter()
        out = model.complete(x, known, seed=seed, progress=progress, paint=paint)
        shared_store("pixelcnn++ draw seconds", 16).put(cost_key(model, known, x), time.perf_counter() - start)
    bar.empty()
    frame.empty()
    shared_store("pixelcnn++ samples", 64).put(key, out)
    return out


def cost_key(model, known, x) -> tuple:
    return model.card.get("sha256"), x.shape[0], int(known.sum())


def cost_note(model, x, known, what: str) -> str:
    last = shared_store("pixelcnn++ draw seconds", 16).get(cost_key(model, known, x))
    took = f"the last draw on this server took {last:.0f} s" if last else "up to a minute on one core"
    return f"{what} not drawn yet: one network pass per pixel, {took}."


def label_of(model) -> str:
    bpd = (model.card.get("metrics") or {}).get("test_bits_per_dim")
    return f"{model.card['name']}" + (f", {bpd:.3f} bits/dim" if bpd is not None else "")


notes = url_state()
best = load_model(improvements.MODEL)
baseline = load_model(improvements.BASELINE, optional=True) if best is not None else None
show_notes(notes)


@st.fragment
def samples_section():
    """Sampling takes 784 network passes per digit: it runs when a student asks (or someone on this server has
    drawn this seed already), never on opening the page."""
    st.header("1 · Samples: the baseline and the best configuration")
    ss, seed = st.session_state, st.session_state.pp_seed
    share()  # before drawing: the link is right while the digits come
    blank, hidden = torch.zeros(N_SAMPLES, 1, 28, 28), torch.zeros(1, 1, 28, 28, dtype=torch.bool)
    models = [(m, t) for m, t in ((baseline, "Baseline: ReLU blocks, 256-way softmax"),
                                  (best, "Best: multi-scale PixelCNN++, trained longer")) if m is not None]
    button = st.empty()  # filled after drawing, so it says what a click will do next
    cols = st.columns(2, wrap=False)  # side by side on a phone too
    for col, (model, title) in zip(cols, models):
        if drawn(model, blank, hidden, seed)[1] is None and not ss.get("pp_draw_samples"):
            col.caption(f"{title}: " + cost_note(model, blank, hidden, f"{N_SAMPLES} digits (seed {seed})"))
            continue
        with col:
            x = draw(model, blank, hidden, seed, f"Sampling {N_SAMPLES} digits from {model.card['name']}",
                     st.empty(), nrow=2)
        col.image(levels_to_image(x, 2, 4), width="stretch",
                  caption=f"{title} ({label_of(model)}); seed {seed}, 784 pixels one after another")
    if baseline is None:
        cols[1].caption("The baseline (pixelcnnpp-ablation-0) is not installed.")
    if all(drawn(m, blank, hidden, seed)[1] is not None for m, _ in models):
        button.button("New samples", on_click=new_seed, key="pp_new", type="primary")
    else:
        button.button(f"Draw {N_SAMPLES} digits from each model", key="pp_draw", type="primary",
                      on_click=ss.update, kwargs={"pp_draw_samples": True})
    st.number_input("Seed", 0, 2**31 - 1, key="pp_seed")


@st.fragment
def completion_section():
    st.header("2 · Completing a half-hidden digit")
    ss = st.session_state
    i = int(st.number_input("Test digit (0–999)", 0, N_DEMO - 1, key="pp_digit"))
    x, seed = digit(i), ss.pp_seed
    share()
    known = top_half_known()
    many = x.expand(N_COMPLETIONS, -1, -1, -1)
    waiting = drawn(best, many, known, seed)[1] is None and not ss.get("pp_draw_completions")
    if waiting:
        st.button(f"Complete the bottom half {N_COMPLETIONS} times", key="pp_complete", type="primary",
                  on_click=ss.update, kwargs={"pp_draw_completions": True})
    cols = st.columns([1, 1, 3])
    cols[0].image(levels_to_image(x, 1, 4), caption=f"test digit #{i}")
    cols[1].image(levels_to_image(torch.where(known, x, torch.full_like(x, 40.0)), 1, 4),
                  caption="what the model is given: the top 14 rows")
    if waiting:
        cols[2].caption(cost_note(best, many, known, f"{N_COMPLETIONS} completions (seed {seed})"))
        return
    with cols[2]:
        out = draw(best, many, known, seed, f"Completing the bottom half {N_COMPLETIONS} times", st.empty(),
                   nrow=N_COMPLETIONS)
    cols[2].image(levels_to_image(out, N_COMPLETIONS, 4), caption=f"{N_COMPLETIONS} completions by "
                  f"{best.card['name']} (seed {seed}): 392 grey levels sampled one after another")
    with torch.inference_mode():
        bpd = pixelcnnpp.bits_per_dim(best.log_prob(torch.cat([x, out]))).tolist()
    st.caption(f"−log p(x) of the real digit: {bpd[0]:.3f} bits/dim; of the completions: "
               + ", ".join(f"{b:.3f}" for b in bpd[1:]) + " (exact likelihoods, lower = more likely).")


def top_half_known():
    known = torch.zeros(1, 1, 28, 28, dtype=torch.bool)
    known[..., :14, :] = True
    return known


VERDICT_ICON = {"helps here": "✅", "no measurable effect here": "➖", "hurts here, at this training budget": "❌"}


def slide_section():
    st.header("3 · The slide, measured")
    rows = improvements.ablation()
    if not rows:
        st.info("The ablation has not been recorded in this model's card yet: "
                "`python benchmarks/pixelcnnpp_ablation.py --train --record`.")
        return
    labels = [r["label"] for r in rows]
    fig = go.Figure(go.Bar(x=[r["test_bits_per_dim"] for r in rows], y=labels, orientation="h",
                           marker_color="#4f46e5", text=[f"{r['test_bits_per_dim']:.3f}" for r in rows],
                           textposition="outside"))
    low = min(r["test_bits_per_dim"] for r in rows)
    fig.update_layout(height=60 + 42 * len(rows), margin={"l": 0, "r": 50, "t": 10, "b": 40},
                      yaxis_autorange="reversed", xaxis_range=[low * 0.8, max(r["test_bits_per_dim"] for r in rows)
                                                               * 1.06],
                      xaxis_title="test bits/dim after the same training time (lower is better)")
    st.plotly_chart(fig, key="pp_ablation_chart")
    minutes = rows[0]["wall_time_s"] / 60
    st.caption(f"Each row: the previous one with one more item switched on, trained by the same command for "
               f"{minutes:.0f} minutes on one CPU thread, scored on all {rows[0]['eval_images']:,} MNIST test digits.")
    for item in improvements.items(rows):
        icon = VERDICT_ICON.get(item["verdict"], "⏳")
        st.markdown(f"{icon} **{item['item']}** (the slide) — *{item['verdict']}*")
        for line in item["measured"]:
            st.caption(line if line.endswith("not measured yet") else f"measured: {line}")
        st.caption(item["what"])
    table = [{"row": r["label"], "test bits/dim": f"{r['test_bits_per_dim']:.4f}",
              "change": "" if r["change_bits_per_dim"] is None else f"{r['change_bits_per_dim']:+.4f}",
              "training img/s": f"{r['train_images_per_s']:.1f}", "speed vs baseline": f"x{r['speed_vs_baseline']:.2f}",
              "parameters": f"{r['parameters']:,}", "images seen": f"{r['images_seen']:,}"} for r in rows]
    st.dataframe(table, hide_index=True, width="stretch")
    metrics = best.card.get("metrics") or {}
    if metrics.get("test_bits_per_dim") is not None:
        top = improvements.best_row(rows)
        st.markdown(f"The best row, **{top['label']}**, trained longer than the rows' {minutes:.0f} minutes: "
                    f"**{metrics['test_bits_per_dim']:.4f} bits/dim** on the test set (published flows on "
                    f"dequantized MNIST: RealNVP 1.06, Glow 1.05, FFJORD 0.99). Trained for {trained_for(best.card)}.")
    st.caption(f"Effects within ±{improvements.NOISE_BITS_PER_DIM} bits/dim get no verdict: each row is a single "
               "run. A short budget favours fast models, so an item that slows training can lose here and win "
               "with more time; the img/s column shows what each item costs.")


def trained_for(card: dict) -> str:
    """How long the shipped model trained, with the earlier run it continued (`--init`) where there was one."""
    start = card.get("initialised_from") or {}
    own = f"{card['wall_time_s'] / 60:.0f} minutes ({card.get('images_seen', 0):,} images)"
    if not start:
        return own
    if start.get("images_seen"):
        total = f"{families.wall_time_s(card) / 60:.0f} minutes in all ({families.images_seen(card):,} images)"
        gap = families.uncounted_start(card)  # a run further down the chain was not counted
        return f"{total}; {gap}" if gap else total
    earlier = f", {float(pixelcnnpp.bits_per_dim(-start['test_nll_nats'])):.3f} bits/dim" \
        if start.get("test_nll_nats") else ""
    return f"{own} on top of an earlier {start.get('name', 'model')}{earlier}"


def lecture_box():
    with st.expander("The lecture box: the discretized logistic mixture"):
        st.markdown("A pixel's grey level $x \\in \\{0, \\dots, 255\\}$ is the bin $[x - 0.5, x + 0.5]$ of a "
                    "continuous mixture of logistics; the end bins take the tails:")
        st.latex(r"P(x) = \sum_{k=1}^{K} \pi_k \left[\sigma\!\left(\frac{x + 0.5 - \mu_k}{s_k}\right) - "
                 r"\sigma\!\left(\frac{x - 0.5 - \mu_k}{s_k}\right)\right]")
        st.markdown("$\\sigma$ is the logistic sigmoid (the logistic's CDF). With $K = 5$ the network predicts 15 "
                    "numbers per pixel instead of 256 softmax logits, and grey levels 200 and 201 share probability "
                    "mass, which a softmax has to learn level by level. The likelihood stays exact: "
                    "$\\log p(\\mathbf{x}) = \\sum_i \\log P(x_i \\mid x_{<i})$.")


if best is not None:
    samples_section()
    completion_section()
    slide_section()
    lecture_box()
st.caption("Models: weights/pixelcnnpp-mnist8 (the best configuration) and weights/pixelcnnpp-ablation-0 (the "
           "baseline), each with its model card; the table: benchmarks/pixelcnnpp_ablation.py.")
