"""2-D GAN lab: a GAN learning 2-D distributions, drawn the way GAN Lab draws them (D's output as the
background, real points and G's fakes on top), and mode collapse with its remedy. Thin UI over
genlib.toy_gan2d; the lecture's 2x2 GAN is pages/gan_playground.py. The whole setup is in the link."""
import plotly.graph_objects as go
import streamlit as st

from genlib import toy_gan2d as t2
from pages._playground import FAKE, REAL, Game, board, errors_figure, small_layout, training_controls
from pages._shared import Param, read_link, show_notes, write_link

CHUNK = 10  # training steps per Play frame (~7 ms each on one busy core)
LR_CHOICES = (1e-4, 3e-4, 1e-3, 3e-3, 5e-3, 1e-2)
LOSS_LABELS = {"plain": "plain (the lecture's -ln p)", "mbstd": "minibatch std (remedy)"}
# The setup: each parameter is also the key of its widget, which keeps its value across pages
# (persist_state), so the page reads the link once per session and the widgets own the setup after.
LINK = [
    Param("dist", str, "ring", choices=t2.DISTRIBUTIONS),
    Param("loss", str, "plain", choices=t2.LOSSES),
    Param("lr_d", float, 1e-3, LR_CHOICES[0], LR_CHOICES[-1], choices=LR_CHOICES),
    Param("lr_g", float, 1e-3, LR_CHOICES[0], LR_CHOICES[-1], choices=LR_CHOICES),
    Param("d_steps", int, 1, 1, 5),
    Param("g_steps", int, 1, 1, 5),
    Param("seed", int, 0, 0, 10_000),
]
KEEP = "session"


def setup() -> dict:
    return {p.name: st.session_state[p.name] for p in LINK}


def new_game():
    s = setup()
    st.session_state.toy_game = Game(t2.ToyGAN2D(s["dist"], s["loss"], s["lr_d"], s["lr_g"], s["d_steps"],
                                                 s["g_steps"], s["seed"]))


def collapse_setup():
    st.session_state.update(dist="ring", loss="plain", d_steps=1, g_steps=1, **t2.COLLAPSE_SETUP)
    new_game()


def live_settings(gan):
    """Learning rates and D:G steps change the running game without a reset, as in GAN Lab."""
    s = setup()
    gan.opt_d.lr, gan.opt_g.lr = s["lr_d"], s["lr_g"]
    gan.d_steps, gan.g_steps = s["d_steps"], s["g_steps"]


def field_figure(gan, title: str = "", height: int = 400) -> go.Figure:
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


def controls():
    c = st.columns([2, 2, 2, 2, 1, 1, 1])
    c[0].selectbox("distribution", t2.DISTRIBUTIONS, key="dist", on_change=new_game, persist_state=KEEP)
    c[1].selectbox("loss", t2.LOSSES, format_func=LOSS_LABELS.get, key="loss", on_change=new_game,
                   persist_state=KEEP)
    c[2].select_slider("D learning rate", LR_CHOICES, key="lr_d", format_func=lambda v: f"{v:g}",
                       persist_state=KEEP)
    c[3].select_slider("G learning rate", LR_CHOICES, key="lr_g", format_func=lambda v: f"{v:g}",
                       persist_state=KEEP)
    c[4].number_input("D steps", 1, 5, key="d_steps", persist_state=KEEP)
    c[5].number_input("G steps", 1, 5, key="g_steps", persist_state=KEEP)
    c[6].number_input("seed", 0, 10_000, key="seed", on_change=new_game, persist_state=KEEP)
    st.button("Mode-collapse setup (ring, G learns 5x faster than D)", on_click=collapse_setup)


def field_board():
    game = st.session_state.toy_game
    gan = game.gan
    status = training_controls(game, "toy", new_game, CHUNK)
    covered = f" · ring modes covered: {t2.modes_covered(gan.fakes())} of 8" if gan.dist == "ring" else ""
    status.markdown(f"**step {gan.steps}**{covered}" + (" · playing" if game.playing else ""))
    left, right = st.columns([3, 2])
    left.plotly_chart(field_figure(gan), key="field")
    right.plotly_chart(errors_figure(gan.history, "Both error functions"), key="errors")


@st.cache_data(max_entries=4, show_spinner="Training both GANs on the ring (a few seconds)…")
def compare_losses(seed: int, steps: int):
    """Shared by every visitor: the same seed gives the same comparison, trained once per server."""
    out = {}
    for loss in t2.LOSSES:
        gan = t2.ToyGAN2D("ring", loss, seed=seed, **t2.COLLAPSE_SETUP)
        gan.step(steps)
        out[loss] = (t2.modes_covered(gan.fakes()), field_figure(gan, height=330))
    return out


@st.fragment
def mode_collapse_section():
    with st.expander("Mode collapse on the ring: plain loss vs the remedy (measured)"):
        st.markdown("With the mode-collapse setup (G's learning rate 5x D's), the plain loss puts all of "
                    "G's points on one spot that hops from mode to mode: D catches it there, G jumps to the "
                    "next. **Minibatch std** (Karras et al. 2018) also shows D how spread out each batch is, "
                    "so a collapsed batch is caught at once and G is pushed to spread over the modes. "
                    "A mode counts as covered when at least 2% of 512 fakes lie within 0.25 of its centre.")
        if st.button("Train both for 500 steps with this seed", key="compare"):
            st.session_state.compared = True
        if st.session_state.get("compared"):
            result = compare_losses(st.session_state.seed, 500)
            for col, loss in zip(st.columns(2), t2.LOSSES):
                covered, fig = result[loss]
                col.metric(LOSS_LABELS[loss], f"{covered} of 8 modes")
                col.plotly_chart(fig, key=f"compare_{loss}")


if "toy_link_notes" not in st.session_state:  # the link is read once per session; then the widgets own it
    values, st.session_state.toy_link_notes = read_link(LINK)
    st.session_state.update(values)

st.title("🎯 2-D GAN lab")
st.markdown("Green points are real samples, purple points are G's fakes; the background is D's output D(x): "
            "green where D says *real*, purple where it says *fake*. G moves its points uphill on that map; "
            "D keeps redrawing the map.")
show_notes(st.session_state.toy_link_notes)
# The board (Step / Play and the map) first: on a phone it is the first screen; the setup below it is read first.
board_box = st.container()
controls()
if "toy_game" not in st.session_state:
    new_game()
live_settings(st.session_state.toy_game.gan)
write_link(LINK, setup())
with board_box:
    board(st.session_state.toy_game, field_board)
mode_collapse_section()
st.page_link("pages/gan_playground.py", label="The lecture's 2x2 GAN: the same game on four pixels", icon="⬅️")
