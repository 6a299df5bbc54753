"""What the two GAN playground pages share: colours, small plotly layouts, 2x2 tiles, and the
Step / Play / Reset row that trains a game inside a fragment."""
from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st

# Seconds between Play frames. A frame's server side takes ~0.2-0.5 s and the browser's redraw of a chart
# 0.3-0.6 s more on a busy 2-core host (benchmarks/playground.py); a faster timer only queues frames.
PLAY_EVERY = 0.5
MAX_CURVE_POINTS = 250  # curves are thinned to this many points so a long run redraws as fast as a short one
REAL = "#16a34a"    # GAN Lab's colours: green = real, purple = fake
FAKE = "#9333ea"
ERROR_CURVES = (("d_error", "D error: -ln D(real) - ln(1 - D(G(z)))", REAL),
                ("g_error", "G error: -ln D(G(z))", FAKE))


@dataclass
class Game:
    """A GAN being trained in this session, and whether Play is on. One per page in session_state."""
    gan: object
    playing: bool = False


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
    """Tiles with captions. The HTML is built only from numbers and our own captions, never from a link."""
    figures = "".join(f'<figure style="margin:0;text-align:center">{tile_svg(x, size)}'
                      f'<figcaption style="font-size:0.75rem;color:#555">{c}</figcaption></figure>'
                      for x, c in zip(images, captions))
    st.markdown(f'<div style="display:flex;gap:12px;flex-wrap:wrap">{figures}</div>', unsafe_allow_html=True)


def thin(xs, ys):
    k = max(1, len(xs) // MAX_CURVE_POINTS)
    return xs[::k], ys[::k]


def small_layout(fig: go.Figure, height: int = 260, **kw) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=-0.25), **kw)
    return fig


def errors_figure(history, title: str) -> go.Figure:
    fig = go.Figure()
    for key, name, colour in ERROR_CURVES:
        x, y = thin(history["step"], history[key])
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, line=dict(color=colour)))
    return small_layout(fig, title=title, xaxis_title="step")


def training_controls(game: Game, key: str, reset, chunk: int):
    """The Step / Play-Pause / Reset row; while playing, each run of the board trains `chunk` steps.
    Buttons are keyed `{key}_step`, `{key}_play`, `{key}_reset`. Returns the place for the status line.
    One horizontal row that wraps (not columns, which a phone stacks into three rows of one button each)."""
    row = st.container(horizontal=True, vertical_alignment="center")
    if row.button("Step", key=f"{key}_step"):
        game.gan.step(1)
    if row.button("Pause" if game.playing else "Play", key=f"{key}_play", type="primary"):
        game.playing = not game.playing
        st.rerun()  # the whole page, so the board's fragment is re-made with (or without) its timer
    if row.button("Reset", key=f"{key}_reset"):
        reset()
        st.rerun()
    if game.playing:
        game.gan.step(chunk)
    return row.empty()


def board(game: Game, draw) -> None:
    """Run `draw()` as a fragment: Play re-runs only it every PLAY_EVERY s (a frame costs the steps and
    the board's charts, not the page). Made per run so the timer follows Play."""
    st.fragment(run_every=PLAY_EVERY if game.playing else None)(draw)()
