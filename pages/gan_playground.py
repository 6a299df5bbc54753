"""GAN playground: the lecture's 2x2 "faces vs noise" GAN by hand and trained live, then 2-D toy GANs
drawn the way GAN Lab draws them. Thin UI: the models and the arithmetic live in genlib.toy_gan(2d)."""
import plotly.graph_objects as go
from plotly.subplots import make_subplots
import streamlit as st

from genlib import toy_gan as tg
from genlib import toy_gan2d as t2
from pages._shared import parse_choice, parse_float, parse_int, show_notes, url_param

# Seconds between Play frames. A frame's server side takes ~0.2-0.5 s and the browser's redraw of a chart
# 0.3-0.6 s more on a busy 2-core host (benchmarks/playground.py); a faster timer only queues frames.
PLAY_EVERY = 0.5
CHUNK_2X2 = 5       # training steps per Play frame (~1-2 ms each on one core)
CHUNK_2D = 10       # (~7 ms each on one busy core)
MAX_CURVE_POINTS = 250  # curves are thinned to this many points so a long run redraws as fast as a short one
REAL = "#16a34a"    # GAN Lab's colours: green = real, purple = fake
FAKE = "#9333ea"
LR_CHOICES = (1e-4, 3e-4, 1e-3, 3e-3, 5e-3, 1e-2)
LOSS_LABELS = {"plain": "plain (the lecture's -ln p)", "mbstd": "minibatch std (remedy)"}
TABS = {"2x2": "Lecture 2x2", "2d": "2-D (GAN Lab style)"}

ss = st.session_state
# widget values that must survive runs where they are not drawn (see the page section)
KEPT_WIDGETS = ("w_tl", "w_tr", "w_bl", "w_br", "w_b", "lecture_image", "own_0", "own_1", "own_2", "own_3",
                "err_p", "l_seed", "l_lr",
                "p_dist", "p_loss", "p_lr_d", "p_lr_g", "p_d_steps", "p_g_steps", "p_seed")


# --- drawing helpers -----------------------------------------------------------------------------------
def tile_svg(x, size: int = 72) -> str:
    """A 2x2 image as grey squares like the slides: 0 = white, 1 = black. Inline SVG, not st.image: Play
    replaces the tiles several times a second, faster than served image files reliably load."""
    half = size / 2
    cells = []
    for i, v in enumerate(x):
        grey = round(255 * (1 - min(max(float(v), 0.0), 1.0)))
        cells.append(f'<rect x="{half * (i % 2)}" y="{half * (i // 2)}" width="{half}" height="{half}" '
                     f'fill="rgb({grey},{grey},{grey})"/>')
    frame = f'<rect width="{size}" height="{size}" fill="none" stroke="#999" stroke-width="2"/>'
    return (f'<svg class="tile2x2" width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
            + "".join(cells) + frame + "</svg>")


def show_tiles(images, captions, size: int = 72) -> None:
    figures = "".join(f'<figure style="margin:0;text-align:center">{tile_svg(x, size)}'
                      f'<figcaption style="font-size:0.75rem;color:#555">{c}</figcaption></figure>'
                      for x, c in zip(images, captions))
    st.markdown(f'<div style="display:flex;gap:12px;flex-wrap:wrap">{figures}</div>', unsafe_allow_html=True)


def fmt_image(x) -> str:
    return "[" + ", ".join(tg.fmt(v) for v in x) + "]"


def thin(xs, ys):
    k = max(1, len(xs) // MAX_CURVE_POINTS)
    return xs[::k], ys[::k]


def small_layout(fig: go.Figure, height: int = 260, **kw) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=-0.25), **kw)
    return fig


ERROR_CURVES = (("d_error", "D error: -ln D(real) - ln(1 - D(G(z)))", REAL),
                ("g_error", "G error: -ln D(G(z))", FAKE))
PROB_CURVES = (("d_real", "D(real face)", REAL), ("d_fake", "D(G(z))", FAKE))


def errors_figure(history, title: str) -> go.Figure:
    fig = go.Figure()
    for key, name, colour in ERROR_CURVES:
        x, y = thin(history["step"], history[key])
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, line=dict(color=colour)))
    return small_layout(fig, title=title, xaxis_title="step")


# --- tab 1: the lecture's 2x2 world -----------------------------------------------------------------------
SLIDE_IMAGES = {
    "slide 51's face [1, 0, 0, 1]": tg.SLIDE_FACE,
    "slide 52's non-face [0.25, 1, 0.5, 0.75]": tg.SLIDE_NOT_FACE,
    "slide 50's noise [0.75, 1, 1, 0.25]": tg.SLIDE_NOISE,
    **{f"face {fmt_image(x)}": x for x in tg.FACES + tg.SLIDE_53_FACES},
    **{f"no face {fmt_image(x)}": x for x in tg.NO_FACES},
    "my own image": None,
}
WEIGHT_KEYS = ("w_tl", "w_tr", "w_bl", "w_br")


def use_lecture_weights():
    for key, w in zip(WEIGHT_KEYS, tg.LECTURE_WEIGHTS):
        ss[key] = w
    ss["w_b"] = tg.LECTURE_BIAS


def lecture_world():
    st.subheader("What the agent sees")
    st.caption("2x2 images, pixels in raster order (top-left, top-right, bottom-left, bottom-right); "
               "0 = white, 1 = black. In this land every face is slanted by 45°: a dark top-left to "
               "bottom-right diagonal.")
    left, right = st.columns(2)
    with left:
        st.markdown("**Faces**")
        show_tiles(tg.FACES, [fmt_image(x) for x in tg.FACES])
    with right:
        st.markdown("**No faces**")
        show_tiles(tg.NO_FACES, [fmt_image(x) for x in tg.NO_FACES])


def discriminator_by_hand():
    st.subheader("The discriminator by hand")
    if "w_b" not in ss:
        use_lecture_weights()
    pick, weights_col = st.columns([3, 2])
    with weights_col:
        st.markdown("**Weights and bias** (the lecture's: +1, -1, -1, +1 and -1)")
        weights = [st.slider(f"weight {name}", -2.0, 2.0, step=0.25, key=key)
                   for name, key in zip(tg.PIXELS, WEIGHT_KEYS)]
        bias = st.slider("bias", -2.0, 2.0, step=0.25, key="w_b")
        st.button("Back to the lecture's values", on_click=use_lecture_weights)
    with pick:
        choice = st.selectbox("Image", list(SLIDE_IMAGES), key="lecture_image")
        x = SLIDE_IMAGES[choice]
        if x is None:
            cols = st.columns(4)
            x = [c.number_input(name, 0.0, 1.0, step=0.25, key=f"own_{i}")
                 for i, (c, name) in enumerate(zip(cols, tg.PIXELS))]
        img_col, math_col = st.columns([1, 4])
        with img_col:
            show_tiles([x], [fmt_image(x)], size=96)
        with math_col:
            st.markdown("Without the bias (slide 50: positive → face, negative → no face):")
            st.code(tg.no_bias_sum_text(x, weights), language=None, wrap_lines=True)
            st.markdown("With the bias and the sigmoid (slides 51–52):")
            g = tg.score(x, weights, bias)
            st.code(tg.score_text(x, weights, bias) + "\n" + tg.output_text(g), language=None, wrap_lines=True)
            f = tg.sigmoid(g)
            st.markdown("f > 0.5: **face**" if f > 0.5 else "f < 0.5: **not a face**" if f < 0.5
                        else "f = 0.5: undecided")
    rows = [{"image": fmt_image(im), "lecture says": kind, "g": round(tg.score(im, weights, bias), 2),
             "f = σ(g)": round(tg.sigmoid(tg.score(im, weights, bias)), 2)}
            for kind, ims in (("face", tg.FACES), ("no face", tg.NO_FACES)) for im in ims]
    with st.expander("Every image of the slides with these weights"):
        st.dataframe(rows, hide_index=True)


def error_functions():
    st.subheader("Error functions")
    p = st.slider("D's prediction p (its probability that the image is a real face)", 0.01, 0.99, step=0.01,
                  key="err_p")
    a, b = st.columns(2)
    a.metric("D on a fake: -ln(1 - p)", f"{tg.discriminator_error_fake(p):.2f}")
    b.metric("G on its fake: -ln(p)", f"{tg.generator_error(p):.2f}")
    st.caption("The lecture's numbers: D's error -ln(1 - 0.1) = 0.11 and -ln(1 - 0.9) = 2.30; "
               "G's error -ln(0.1) = 2.30 and -ln(0.9) = 0.11. Each error is small when its player gets "
               "what it wants.")
    ps = [i / 100 for i in range(1, 100)]
    fig = go.Figure([
        go.Scatter(x=ps, y=[tg.discriminator_error_fake(q) for q in ps], name="D: -ln(1 - p)", line_color=REAL),
        go.Scatter(x=ps, y=[tg.generator_error(q) for q in ps], name="G: -ln(p)", line_color=FAKE),
        go.Scatter(x=[p, p], y=[tg.discriminator_error_fake(p), tg.generator_error(p)], mode="markers",
                   marker=dict(size=10, color="black"), showlegend=False)])
    st.plotly_chart(small_layout(fig, xaxis_title="p = D(G(z))"), key="err_curves")


MINIMAX = (r"\min_{\theta_g} \max_{\theta_d} \; \mathbb{E}_{x \sim p_{data}} \log D_{\theta_d}(x) + "
           r"\mathbb{E}_{z \sim p(z)} \log\big(1 - D_{\theta_d}(G_{\theta_g}(z))\big)")


def new_slanted():
    ss.slanted = tg.SlantedGAN(seed=ss.l_seed, lr=ss.l_lr)
    ss.l_play = False


def lecture_training():
    st.subheader("Train the two against each other")
    st.latex(MINIMAX)
    st.markdown("- **D** (θ_d) wants to *maximise* it: D(x) close to 1 on real faces and D(G(z)) close to 0 "
                "on fakes; its error is -ln D(x) - ln(1 - D(G(z))).\n"
                "- **G** (θ_g) wants to *minimise* it: D(G(z)) close to 1, D fooled into calling a fake real; "
                "its error is -ln D(G(z)).\n"
                "- Here G is one layer (a number z in [0, 1] → four sigmoid pixels), D is the one neuron above, "
                "starting from small random weights. One step = one SGD update of D, then one of G.")
    c1, c2 = st.columns(2)
    c1.number_input("seed", 0, 10_000, key="l_seed", on_change=new_slanted)
    c2.select_slider("learning rate", (0.03, 0.05, 0.1, 0.3), key="l_lr", on_change=new_slanted)
    if "slanted" not in ss:
        new_slanted()
    # Play = this fragment re-running every PLAY_EVERY s with a chunk of steps; the rest of the page is
    # not re-run, so a frame costs only the steps and these charts. Made per run so the timer follows Play.
    st.fragment(run_every=PLAY_EVERY if ss.l_play else None)(lecture_board)()


def training_controls(gan, prefix: str, reset, chunk: int):
    """The Step / Play-Pause / Reset row shared by both tabs; while playing, each fragment run trains
    `chunk` steps. Returns the column beside the buttons, for the status line."""
    playing = f"{prefix}_play"
    b1, b2, b3, status = st.columns([1, 1, 1, 4])
    if b1.button("Step", key=f"{prefix}_step"):
        gan.step(1)
    if b2.button("Pause" if ss[playing] else "Play", key=f"{prefix}_play_btn", type="primary"):
        ss[playing] = not ss[playing]
        st.rerun()  # the whole page, so the fragment is re-made with (or without) its timer
    if b3.button("Reset", key=f"{prefix}_reset"):
        reset()
        st.rerun()
    if ss[playing]:
        gan.step(chunk)
    return status


def lecture_board():
    gan = ss.slanted
    status = training_controls(gan, "l", new_slanted, CHUNK_2X2)
    h = gan.history
    status.markdown(f"**step {gan.steps}**" + (" · playing" if ss.l_play else ""))
    # one figure with two panels: each plotly chart costs the browser a redraw per frame
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Both error functions", "D's average output"))
    for col, keys in ((1, ERROR_CURVES), (2, PROB_CURVES)):
        for key, name, colour in keys:
            x, y = thin(h["step"], h[key])
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, line_color=colour), row=1, col=col)
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    st.plotly_chart(small_layout(fig, height=300), key="l_curves")
    left, right = st.columns(2)
    z = (0.0, 0.25, 0.5, 0.75, 1.0)
    fakes = gan.samples(z).tolist()
    with left:
        st.markdown("**G's images now** (the same z each frame; ✓ = a face by the lecture's rule)")
        show_tiles(fakes, [f"z={v:g}" + (" ✓" if tg.is_face([x])[0] else "") for v, x in zip(z, fakes)], size=56)
    with right:
        w, b = gan.D.weights, gan.D.bias
        st.markdown("**D now** (the lecture's: +1, -1, -1, +1, bias -1), on G's image for z = 0.5:")
        g = tg.score(fakes[2], w, b)
        st.code(tg.score_text(fakes[2], w, b) + "\n" + tg.output_text(g), language=None, wrap_lines=True)


def lecture_tab():
    lecture_world()
    st.divider()
    discriminator_by_hand()
    st.divider()
    error_functions()
    st.divider()
    lecture_training()


# --- tab 2: 2-D toy GANs ------------------------------------------------------------------------------------
DEFAULTS_2D = {"dist": "ring", "loss": "plain", "lr_d": 1e-3, "lr_g": 1e-3, "d_steps": 1, "g_steps": 1, "seed": 0}


def read_url_2d() -> list:
    """The 2-D setup from the link, once per session, into the widgets' state; notes for bad values."""
    notes = []
    value, note = parse_choice(url_param("dist"), t2.DISTRIBUTIONS, DEFAULTS_2D["dist"], "dist")
    ss.p_dist = value; notes.append(note)
    value, note = parse_choice(url_param("loss"), t2.LOSSES, DEFAULTS_2D["loss"], "loss")
    ss.p_loss = value; notes.append(note)
    for key in ("lr_d", "lr_g"):
        value, note = parse_float(url_param(key), DEFAULTS_2D[key], LR_CHOICES[0], LR_CHOICES[-1], key)
        ss[f"p_{key}"] = min(LR_CHOICES, key=lambda c: abs(c - value))  # the nearest offered rate
        notes.append(note)
    for key in ("d_steps", "g_steps"):
        value, note = parse_int(url_param(key), DEFAULTS_2D[key], 1, 5, key)
        ss[f"p_{key}"] = value; notes.append(note)
    value, note = parse_int(url_param("seed"), DEFAULTS_2D["seed"], 0, 10_000, "seed")
    ss.p_seed = value; notes.append(note)
    return [n for n in notes if n]


def setup_2d() -> dict:
    return {k: ss[f"p_{k}"] for k in DEFAULTS_2D}


def write_url_2d():
    """Keep the setup in the link so it can be shared (only what differs from the defaults)."""
    want = {"tab": "2d", **{k: str(v) for k, v in setup_2d().items() if v != DEFAULTS_2D[k]}}
    if dict(st.query_params) != want:
        st.query_params.from_dict(want)


def new_gan2d():
    s = setup_2d()
    ss.gan2d = t2.ToyGAN2D(s["dist"], s["loss"], s["lr_d"], s["lr_g"], s["d_steps"], s["g_steps"], s["seed"])
    ss.p_play = False


def collapse_setup():
    ss.update(p_dist="ring", p_loss="plain", p_lr_d=t2.COLLAPSE_SETUP["lr_d"],
              p_lr_g=t2.COLLAPSE_SETUP["lr_g"], p_d_steps=1, p_g_steps=1)
    new_gan2d()


def live_settings():
    """Learning rates and D:G steps change the running game without a reset, as in GAN Lab."""
    gan, s = ss.gan2d, setup_2d()
    gan.opt_d.lr, gan.opt_g.lr = s["lr_d"], s["lr_g"]
    gan.d_steps, gan.g_steps = s["d_steps"], s["g_steps"]


def field_figure(gan, title: str = "", height: int = 430) -> go.Figure:
    """GAN Lab's view: D's output as the background, real points and G's fakes on top."""
    axis, prob = gan.d_grid(32)
    real = t2.display_real(gan.dist, 200)
    fake = gan.fakes()[:256].tolist()  # half the fixed batch: plenty to see, half the browser's work
    fig = go.Figure([
        go.Heatmap(x=axis.tolist(), y=axis.tolist(), z=prob.tolist(), zmin=0, zmax=1, opacity=0.55,
                   colorscale=[[0, FAKE], [0.5, "#ffffff"], [1, REAL]],
                   colorbar=dict(title="D(x)", thickness=12)),
        go.Scatter(x=[p[0] for p in real], y=[p[1] for p in real], mode="markers", name="real",
                   marker=dict(color=REAL, size=5, line=dict(width=0.5, color="white"))),
        go.Scatter(x=[p[0] for p in fake], y=[p[1] for p in fake], mode="markers", name="fake (G)",
                   marker=dict(color=FAKE, size=5, line=dict(width=0.5, color="white")))])
    fig.update_xaxes(range=t2.BOUNDS, constrain="domain")
    fig.update_yaxes(range=t2.BOUNDS, scaleanchor="x", scaleratio=1)
    return small_layout(fig, height=height, title=title)


def toy_tab():
    st.markdown("Green points are real samples, purple points are G's fakes; the background is D's "
                "output D(x): green where D says *real*, purple where it says *fake*. G moves its points "
                "uphill on that map; D keeps redrawing the map.")
    c = st.columns([2, 2, 2, 2, 1, 1, 1])
    c[0].selectbox("distribution", t2.DISTRIBUTIONS, key="p_dist", on_change=new_gan2d)
    c[1].selectbox("loss", t2.LOSSES, format_func=LOSS_LABELS.get, key="p_loss", on_change=new_gan2d)
    c[2].select_slider("D learning rate", LR_CHOICES, key="p_lr_d", format_func=lambda v: f"{v:g}")
    c[3].select_slider("G learning rate", LR_CHOICES, key="p_lr_g", format_func=lambda v: f"{v:g}")
    c[4].number_input("D steps", 1, 5, key="p_d_steps")
    c[5].number_input("G steps", 1, 5, key="p_g_steps")
    c[6].number_input("seed", 0, 10_000, key="p_seed", on_change=new_gan2d)
    st.button("Mode-collapse setup (ring, G learns 5x faster than D)", on_click=collapse_setup)
    if "gan2d" not in ss:
        new_gan2d()
    live_settings()
    write_url_2d()
    st.fragment(run_every=PLAY_EVERY if ss.p_play else None)(toy_board)()
    mode_collapse_section()


def toy_board():
    gan = ss.gan2d
    status = training_controls(gan, "p", new_gan2d, CHUNK_2D)
    covered = f" · ring modes covered: {t2.modes_covered(gan.fakes())} of 8" if gan.dist == "ring" else ""
    status.markdown(f"**step {gan.steps}**{covered}" + (" · playing" if ss.p_play else ""))
    left, right = st.columns([3, 2])
    left.plotly_chart(field_figure(gan), key="p_field")
    right.plotly_chart(errors_figure(gan.history, "Both error functions"), key="p_errors")


@st.cache_data(max_entries=4, show_spinner="Training both GANs on the ring (a few seconds)…")
def compare_losses(seed: int, steps: int):
    out = {}
    for loss in t2.LOSSES:
        gan = t2.ToyGAN2D("ring", loss, seed=seed, **t2.COLLAPSE_SETUP)
        gan.step(steps)
        out[loss] = (t2.modes_covered(gan.fakes()), field_figure(gan, height=330))
    return out


def mode_collapse_section():
    with st.expander("Mode collapse on the ring: plain loss vs the remedy (measured)"):
        st.markdown("With the mode-collapse setup (G's learning rate 5x D's), the plain loss puts all of "
                    "G's points on one spot that hops from mode to mode: D catches it there, G jumps to the "
                    "next. **Minibatch std** (Karras et al. 2018) also shows D how spread out each batch is, "
                    "so a collapsed batch is caught at once and G is pushed to spread over the modes. "
                    "A mode counts as covered when at least 2% of 512 fakes lie within 0.25 of its centre.")
        if st.button("Train both for 500 steps with this seed", key="p_compare"):
            ss.p_compared = True
        if ss.get("p_compared"):
            result = compare_losses(ss.p_seed, 500)
            cols = st.columns(2)
            for col, loss in zip(cols, t2.LOSSES):
                covered, fig = result[loss]
                col.metric(LOSS_LABELS[loss], f"{covered} of 8 modes")
                col.plotly_chart(fig, key=f"p_cmp_{loss}")


# --- page ---------------------------------------------------------------------------------------------------
st.title("🎮 GAN playground")
st.write("Play the lecture's 2x2 GAN where faces are slanted diagonals, then watch the same game on 2-D data.")

if "p_url_read" not in ss:  # the link is read once per session; after that the widgets own the setup
    ss.p_url_notes = read_url_2d()
    ss.p_url_read = True
    # a link with a 2-D setup opens the 2-D tab even without tab=2d
    fallback = "2d" if any(url_param(k) is not None for k in DEFAULTS_2D) else "2x2"
    tab_value, tab_note = parse_choice(url_param("tab"), tuple(TABS), fallback, "tab")
    ss.p_default_tab = TABS[tab_value]
    ss.p_url_notes += [tab_note] if tab_note else []
# Streamlit forgets a widget's value after a run that does not draw it (the other tab, another page); a
# copy taken at the end of every run puts the settings back, so only the open tab needs drawing.
for key, value in ss.get("p_kept", {}).items():
    if key not in ss:
        ss[key] = value
for key, value in {"l_play": False, "p_play": False, "err_p": 0.1, "l_seed": 0, "l_lr": 0.1,
                   **{f"own_{i}": 0.5 for i in range(4)}}.items():
    ss.setdefault(key, value)  # defaults live here, not in the widgets (one source, no Streamlit warning)
show_notes(ss.p_url_notes)

lecture, toy = st.tabs(list(TABS.values()), default=ss.p_default_tab, key="gp_tab", on_change="rerun")
if lecture.open is not False:  # None: the tabs do not track state (then both are drawn)
    with lecture:
        lecture_tab()
if toy.open is not False:
    with toy:
        toy_tab()
if lecture.open is True and st.query_params:
    st.query_params.clear()  # the 2x2 tab has no setup to share
ss.p_kept = {key: ss[key] for key in KEPT_WIDGETS if key in ss}
