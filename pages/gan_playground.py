"""GAN playground: the lecture's 2x2 "faces vs noise" GAN, by hand and trained live. Thin UI over
genlib.toy_gan; its 2-D sibling (genlib.toy_gan2d) is pages/gan_lab_2d.py. Each section is a fragment, so
moving a slider reruns that section only."""
import plotly.graph_objects as go
from plotly.subplots import make_subplots
import streamlit as st

from genlib import toy_gan as tg
from pages._playground import (ERROR_CURVES, FAKE, REAL, Game, board, show_tiles, small_layout, thin,
                               training_controls)
from pages._shared import Param, read_link, show_notes

CHUNK = 5  # training steps per Play frame (~1-2 ms each on one core)
PROB_CURVES = (("d_real", "D(real face)", REAL), ("d_fake", "D(G(z))", FAKE))
# This page shares no setup. `tab` and the 2-D page's names are read only so that links made when both
# games lived on this page (?tab=2d&dist=moons...) still open the 2-D game with that setup.
LINK = [Param("tab", str, "2x2", choices=("2x2", "2d"))]
TOY_2D_KEYS = ("dist", "loss", "lr_d", "lr_g", "d_steps", "g_steps", "seed")

WEIGHT_KEYS = tuple(f"weight_{p.replace('-', '_')}" for p in tg.PIXELS)  # weight_top_left, ...
OWN_KEYS = tuple(f"own_{p.replace('-', '_')}" for p in tg.PIXELS)
DEFAULTS = {**dict(zip(WEIGHT_KEYS, tg.LECTURE_WEIGHTS)), "bias": tg.LECTURE_BIAS,
            **dict.fromkeys(OWN_KEYS, 0.5), "prediction": 0.1, "training_seed": 0, "learning_rate": 0.1}
KEEP = "session"  # widgets keep their value across pages (Streamlit's persist_state): no copying back


def fmt_image(x) -> str:
    return "[" + ", ".join(tg.fmt(v) for v in x) + "]"


SLIDE_IMAGES = {
    "slide 51's face [1, 0, 0, 1]": tg.SLIDE_FACE,
    "slide 52's non-face [0.25, 1, 0.5, 0.75]": tg.SLIDE_NOT_FACE,
    "slide 50's noise [0.75, 1, 1, 0.25]": tg.SLIDE_NOISE,
    **{f"face {fmt_image(x)}": x for x in tg.FACES + tg.SLIDE_53_FACES},
    **{f"no face {fmt_image(x)}": x for x in tg.NO_FACES},
    "my own image": None,
}


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


def use_lecture_weights():
    st.session_state.update({k: DEFAULTS[k] for k in (*WEIGHT_KEYS, "bias")})


@st.fragment
def discriminator_by_hand():
    st.subheader("The discriminator by hand")
    pick, weights_col = st.columns([3, 2])
    with weights_col:
        st.markdown("**Weights and bias** (the lecture's: +1, -1, -1, +1 and -1)")
        weights = [st.slider(f"weight {name}", -2.0, 2.0, step=0.25, key=key, persist_state=KEEP)
                   for name, key in zip(tg.PIXELS, WEIGHT_KEYS)]
        bias = st.slider("bias", -2.0, 2.0, step=0.25, key="bias", persist_state=KEEP)
        st.button("Back to the lecture's values", on_click=use_lecture_weights)
    with pick:
        choice = st.selectbox("Image", list(SLIDE_IMAGES), key="lecture_image", persist_state=KEEP)
        x = SLIDE_IMAGES[choice]
        if x is None:
            x = [c.number_input(name, 0.0, 1.0, step=0.25, key=key, persist_state=KEEP)
                 for c, name, key in zip(st.columns(4), tg.PIXELS, OWN_KEYS)]
        g = tg.score(x, weights, bias)
        f = tg.sigmoid(g)
        img_col, math_col = st.columns([1, 4])
        with img_col:
            show_tiles([x], [fmt_image(x)], size=96)
        with math_col:  # D's verdict first: on a phone it shares the first screen with the image picked
            st.markdown(f"D's output f = σ(g) = {f:.2f}: " + ("f > 0.5, **face**" if f > 0.5 else
                        "f < 0.5, **not a face**" if f < 0.5 else "f = 0.5, undecided"))
            st.markdown("Without the bias (slide 50: positive → face, negative → no face):")
            st.code(tg.no_bias_sum_text(x, weights), language=None, wrap_lines=True)
            st.markdown("With the bias and the sigmoid (slides 51–52):")
            st.code(tg.score_text(x, weights, bias) + "\n" + tg.output_text(g), language=None, wrap_lines=True)
    rows = [{"image": fmt_image(im), "lecture says": kind, "g": round(tg.score(im, weights, bias), 2),
             "f = σ(g)": round(tg.sigmoid(tg.score(im, weights, bias)), 2)}
            for kind, ims in (("face", tg.FACES), ("no face", tg.NO_FACES)) for im in ims]
    with st.expander("Every image of the slides with these weights"):
        st.dataframe(rows, hide_index=True)


@st.fragment
def error_functions():
    st.subheader("Error functions")
    p = st.slider("D's prediction p (its probability that the image is a real face)", 0.01, 0.99, step=0.01,
                  key="prediction", persist_state=KEEP)
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
    st.plotly_chart(small_layout(fig, xaxis_title="p = D(G(z))"), key="error_curves")


MINIMAX = (r"\min_{\theta_g} \max_{\theta_d} \; \mathbb{E}_{x \sim p_{data}} \log D_{\theta_d}(x) + "
           r"\mathbb{E}_{z \sim p(z)} \log\big(1 - D_{\theta_d}(G_{\theta_g}(z))\big)")


def new_game():
    ss = st.session_state
    ss.slanted_game = Game(tg.SlantedGAN(seed=ss.training_seed, lr=ss.learning_rate))


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
    c1.number_input("seed", 0, 10_000, key="training_seed", on_change=new_game, persist_state=KEEP)
    c2.select_slider("learning rate", (0.03, 0.05, 0.1, 0.3), key="learning_rate", on_change=new_game,
                     persist_state=KEEP)
    if "slanted_game" not in st.session_state:
        new_game()
    board(st.session_state.slanted_game, training_board)


def training_board():
    game = st.session_state.slanted_game
    status = training_controls(game, "training", new_game, CHUNK)
    gan, h = game.gan, game.gan.history
    status.markdown(f"**step {gan.steps}**" + (" · playing" if game.playing else ""))
    # one figure with two panels: each plotly chart costs the browser a redraw per frame
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Both error functions", "D's average output"))
    for col, curves in ((1, ERROR_CURVES), (2, PROB_CURVES)):
        for key, name, colour in curves:
            x, y = thin(h["step"], h[key])
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, line_color=colour), row=1, col=col)
    fig.update_xaxes(title_text="step")
    fig.update_yaxes(range=[0, 1], row=1, col=2)
    st.plotly_chart(small_layout(fig, height=300), key="training_curves")
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


def forward_old_2d_links(values) -> None:
    """A link from before the split (?tab=2d or a 2-D setup) opens the 2-D page with the same setup."""
    if values["tab"] == "2d" or any(k in st.query_params for k in TOY_2D_KEYS):
        rest = {k: st.query_params.get_all(k) for k in st.query_params if k != "tab"}
        st.switch_page("pages/gan_lab_2d.py", query_params=rest)


values, notes = read_link(LINK, also_known=TOY_2D_KEYS)
forward_old_2d_links(values)
for key, value in DEFAULTS.items():
    st.session_state.setdefault(key, value)  # defaults live here, not in the widgets (no Streamlit warning)

st.title("🎮 GAN playground: the lecture's 2x2 GAN")
st.write("Faces are slanted diagonals in this land. Score images with the discriminator by hand, see both "
         "error functions, then train G and D against each other.")
st.page_link("pages/gan_lab_2d.py", label="The same game on 2-D data (GAN Lab style)", icon="➡️")
show_notes(notes)
if st.query_params:
    st.query_params.clear()  # nothing here to share; a note above says what the link held
# Scoring an image by hand first (on a phone, the first screen), then the land's faces and non-faces.
discriminator_by_hand()
st.divider()
lecture_world()
st.divider()
error_functions()
st.divider()
lecture_training()
