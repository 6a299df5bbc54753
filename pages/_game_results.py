"""The results of "Which one is real?": the student's accuracy against each model and by certainty (95% Wilson
intervals), the models' judges on the same rounds, the published human baselines, and a CSV of the answers."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from genlib import real_or_fake as rf


def score_rows(scores: list[rf.Score], who: str) -> list[dict]:
    return [{"who": who, "against / level": s.group, "rounds": s.rounds, "right": s.correct,
             "accuracy": rf.percent(s.accuracy),
             "95% interval": "–" if not s.rounds else f"{rf.percent(s.interval[0])} – {rf.percent(s.interval[1])}"}
            for s in scores]


COLOURS = {"you": "#6366f1", "judges": "#10b981", "people (faces, published)": "#9ca3af"}


def accuracy_chart(bars: list[tuple[str, str, float, float, float]], title: str) -> go.Figure:
    """Horizontal bars (who, label, accuracy, interval low, high), coloured by who, with 95% intervals;
    a dotted line at chance."""
    fig = go.Figure()
    for who, colour in COLOURS.items():
        mine = [b for b in bars if b[0] == who]
        if mine:
            acc = [100 * b[2] for b in mine]
            fig.add_bar(y=[b[1] for b in mine], x=acc, orientation="h", name=who, marker_color=colour,
                        text=[f"{a:.0f}%" for a in acc], textposition="outside", cliponaxis=False,
                        hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
                        error_x={"type": "data", "symmetric": False, "color": "#374151",
                                 "array": [100 * b[4] - a for b, a in zip(mine, acc)],
                                 "arrayminus": [a - 100 * b[3] for b, a in zip(mine, acc)]})
    fig.add_vline(x=50, line_dash="dot", annotation_text="chance", annotation_position="top")
    fig.update_layout(title=title, xaxis={"range": [0, 112], "title": "% of rounds right (95% interval)"},
                      yaxis={"autorange": "reversed"}, height=150 + 34 * len(bars), margin={"t": 60, "b": 70},
                      showlegend=len(fig.data) > 1, barmode="overlay",
                      legend={"orientation": "h", "yref": "container", "y": 0, "yanchor": "bottom"})
    return fig


def bars_of(who: str, scores: list[rf.Score], prefix: str = "") -> list[tuple]:
    return [(who, prefix + s.group, s.accuracy, *s.interval) for s in scores if s.rounds]


def results(game: rf.Game, answers: list) -> None:
    n = len(answers)
    mine, judges = rf.player_scores(game.rounds, answers), rf.judge_scores(game, n)
    total = mine["overall"][0]
    lo, hi = total.interval
    st.subheader(f"Your results after {n} rounds")
    st.metric("You picked the real image", f"{total.correct} of {n} ({rf.percent(total.accuracy)})",
              help="95% Wilson interval below: with a handful of rounds the interval is wide, and honest.")
    chance = "Chance (50%) is inside it: the models fooled you as often as a coin would." if lo <= 0.5 <= hi else ""
    st.write(f"95% interval: **{rf.percent(lo)} – {rf.percent(hi)}**. {chance}")
    left, right = st.columns(2)
    has_faces = any(rf.DOMAIN[r.opponent] == "faces" for r in game.rounds)
    people = [("people (faces, published)", k.split(" (")[0], *v) for k, v in rf.HUMAN_BASELINES.items()]
    left.plotly_chart(accuracy_chart(bars_of("you", mine["opponent"], "you vs ") + bars_of("judges", judges)
                                     + (people if has_faces else []), "Against each model, and the judges"))
    right.plotly_chart(accuracy_chart(bars_of("you", mine["certainty"]),
                                      "Calibration: how often you were right, by how sure you were"))
    st.dataframe(score_rows(mine["opponent"], "you") + score_rows(judges, "judge")
                 + score_rows(mine["certainty"], "you, by certainty"), hide_index=True)
    st.caption("Judges: an explicit-density model can score an image, so the PixelCNN (and the VAE, the "
               "PixelRNNs) pick the image they give the higher p(x); a GAN has no p(x), only its discriminator. "
               "`python benchmarks/judges.py` measures them over 1,000 rounds per model.")
    st.markdown(f"**People on faces** ({rf.BASELINE_SOURCE}): "
                + "; ".join(f"{rf.percent(v[0])} {k}" for k, v in rf.HUMAN_BASELINES.items())
                + ". They saw one 1024 px StyleGAN2 face at a time; two side by side, small and from a GAN "
                  "trained on a CPU, is an easier test, so expect to beat them here.")
    c1, c2 = st.columns(2)
    c1.download_button("Download your results (CSV)", rf.results_csv(game, answers), icon="⬇️",
                       file_name=f"real-or-fake-seed{game.seed}.csv", mime="text/csv", on_click="ignore")
    c2.button("Play these rounds again", icon="🔁", on_click=answers.clear)
    st.caption("Nothing is stored on the server: your answers live in this tab's link (a reload or a restarted "
               "server continues the game) and are gone when you close it (download the CSV to keep them).")
