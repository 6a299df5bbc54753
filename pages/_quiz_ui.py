"""The Reflect quiz's results and notes UI (used by pages/reflect_quiz.py): the score under each scheme,
certainty-based marks with accuracy per certainty level, the review of what was missed, mastery per topic
across the session, the CSV, and what the teacher should know about the question files. Logic lives in
quiz.session; this module only draws. Texts from question files go through Question.markdown (their
$...$ maths is typeset; [html] text is shown literally), file names and errors through `plain`."""
from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

import quiz
from quiz import session as qs

STATE = "rq"  # st.session_state[STATE]: the running quiz
LOG = "rq_log"  # st.session_state[LOG]: every answer of this browser session, across quizzes
CHART_MARGIN = dict(t=50, b=40, l=40, r=10)


def plain(text) -> str:
    """Text from a question file or the server (a topic, a file name, an error) shown as written."""
    return quiz.literal_markdown(str(text), maths=False)


# ------------------------------------------------------------------------------------------- score

def score_ui(results: list[dict], scheme: str, round_: int) -> None:
    again = f" (round {round_}: the ones you missed)" if round_ > 1 else ""
    right = sum(r["correct"] for r in results)
    if scheme == "cbm":
        cbm_ui(results, again)
    else:
        total, _ = qs.summary(results, scheme)
        st.metric(f"Score, {qs.SCHEME_NAMES[scheme].lower()}{again}", f"{100 * total:.0f} %",
                  help=quiz.RULES[scheme])
        st.write(f"{sum(qs.marks(r, scheme) for r in results):.2f} of {len(results)} points; "
                 f"{right} of {len(results)} questions fully right.")
        return
    st.write(f"{right} of {len(results)} questions fully right.")


def cbm_ui(results: list[dict], again: str) -> None:
    cbm = qs.cbm_summary(results)
    c1, c2 = st.columns(2)
    c1.metric(f"Total, certainty-based marks{again}", f"{cbm['total']:+d}",
              help=f"Out of {3 * cbm['questions']} (all right and sure). {quiz.RULES['cbm']}")
    c2.metric("Average per question", f"{cbm['average']:+.2f}", help="Between −6 (sure and wrong every time) "
              "and +3 (sure and right every time).")
    levels = list(quiz.CERTAINTIES)
    shown = [cbm["levels"][c] for c in levels]
    names = [quiz.CERTAINTIES[c] for c in levels]
    fig = go.Figure()
    for c, name in zip(levels, names):  # the band where this certainty earns the most (Gardner-Medwin)
        lo, hi = qs.BEST_RANGE[c]
        fig.add_shape(type="rect", x0=c - 1.4, x1=c - 0.6, y0=100 * lo, y1=100 * hi, line_width=0,
                      fillcolor="#54a24b", opacity=0.18, layer="below")
    fig.add_trace(go.Bar(
        x=[c - 1 for c in levels], y=[100 * s["right"] / s["answers"] if s["answers"] else 0 for s in shown],
        text=[f"{s['right']} of {s['answers']} right" if s["answers"] else "no answers" for s in shown],
        textposition="outside", cliponaxis=False, marker_color="#4c78a8", name="accuracy", width=0.5))
    fig.update_layout(title="Accuracy at each certainty (green: where that certainty pays best)",
                      xaxis=dict(tickvals=[0, 1, 2], ticktext=names, title=None),
                      yaxis=dict(title="right (%)", range=[0, 112], tickvals=[0, 25, 50, 67, 80, 100]),
                      height=340, margin=CHART_MARGIN, showlegend=False)
    st.plotly_chart(fig, key="rq-cbm-chart")
    st.info(qs.cbm_advice(cbm), icon="🎯")
    if cbm["unstated"]:
        st.caption(f"{cbm['unstated']} answer(s) were given without a certainty (another scheme was on) "
                   f"and count as \"{quiz.CERTAINTIES[qs.UNSTATED_CERTAINTY]}\".")


# ------------------------------------------------------------------------------------------- review

def review_ui(results: list[dict], bank: quiz.Bank) -> None:
    missed = [r for r in results if not r["correct"]]
    if not missed:
        if st.session_state[STATE].get("celebrate", True):
            st.balloons()
            st.session_state[STATE]["celebrate"] = False
        st.success("Everything right. Try other topics or a new seed.")
        return
    st.subheader(f"Review: {len(missed)} to look at again")
    by_id = bank.by_id()
    for r in missed:
        q = by_id.get(r["id"])
        mark = "🟡" if r["partial"] > 0 else "❌"
        sure = f" · you were {quiz.CERTAINTIES[r['certainty']]}" if r["certainty"] else ""
        with st.expander(f"{mark} {q.markdown(q.prompt) if q else plain(r['prompt'])}{sure}"):
            if q is None:
                continue
            st.markdown(f"**Your answer:** {q.markdown(r['your_answer']) if r['your_answer'] else '(none)'}")
            st.markdown(f"**Right answer:** {q.markdown(r['correct_answer'])}")
            explain(q)


def explain(q: quiz.Question) -> None:
    if q.has_feedback:
        st.info(f"**Why.** {q.markdown(q.explanation)}", icon="💡")
    else:
        st.info(f"{q.markdown(q.explanation)}  \n*The question file gives no explanation.*", icon="💡")
    if q.source:
        st.caption(f"Source: lecture, {plain(q.source)}")


# ------------------------------------------------------------------------------------------- mastery

def mastery_ui(bank: quiz.Bank) -> None:
    log = st.session_state.get(LOG, [])
    sizes = {t: sum(q.topic == t for q in bank.questions) for t in bank.topics()}
    rows = [r for r in qs.mastery(log, sizes) if r["mastered"] + r["missed"]]
    quizzes = len({r["quiz"] for r in log})
    st.subheader("Mastery per topic")
    st.caption(f"Across the {quizzes} quiz{'zes' if quizzes != 1 else ''} of this browser session: a question "
               "counts as mastered when your latest answer to it was fully right.")
    topics = [r["topic"] for r in rows]
    fig = go.Figure()
    for part, colour, name in (("mastered", "#54a24b", "mastered"), ("missed", "#e45756", "missed last time"),
                               ("unseen", "#d0d0d0", "not asked yet")):
        fig.add_trace(go.Bar(y=topics, x=[r[part] for r in rows], name=name, orientation="h",
                             marker_color=colour, text=[r[part] or "" for r in rows], textposition="inside"))
    fig.update_layout(barmode="stack", height=110 + 42 * len(rows), margin=dict(t=30, b=30, l=10, r=10),
                      xaxis=dict(title="questions in the bank"), yaxis=dict(autorange="reversed"),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, traceorder="normal"))
    st.plotly_chart(fig, key="rq-mastery-chart")


# ------------------------------------------------------------------------------------------- files

def files_ui(bank: quiz.Bank) -> None:
    """What is wrong with the question files: a warning per bad file or question (at the top of the page)."""
    for err in bank.errors:
        st.warning(f"**Skipped {plain(Path(err.path).name)}**, which has an error, so its questions are not "
                   f"in the quiz. {plain(_detail(err))}", icon="⚠️")
    for err in bank.skipped:
        st.warning(f"**Skipped one question of {plain(Path(err.path).name)}**; the rest of the file is in "
                   f"the quiz. {plain(_detail(err))}", icon="⚠️")


def teachers_ui(bank: quiz.Bank) -> None:
    """What the teacher should know about the question files, with a preview (below the quiz)."""
    quiet = bank.without_feedback()
    if not bank.questions:
        return
    with st.expander(f"For teachers: the question files ({len(bank.files)} files, {len(bank.questions)} "
                     f"questions{f', {len(quiet)} without feedback' if quiet else ''})"):
        if quiet:
            by_file: dict[str, list[quiz.Question]] = {}
            for q in quiet:
                by_file.setdefault(Path(q.file).name, []).append(q)
            st.markdown(f"**Note:** {len(quiet)} questions have no feedback, so after answering students see "
                        "only the right answer. Add `####general feedback` in GIFT (or `explanation:` in "
                        "YAML) to explain it.\n\n" + "\n".join(
                            f"- {plain(f)}: " + ", ".join(f"{plain(q.id)} (line {q.line})" for q in qs_)
                            for f, qs_ in by_file.items()))
        if st.toggle("Preview every question with its answer", key="rq-preview"):
            preview_ui(bank)


def _detail(err: quiz.QuizFormatError) -> str:
    return str(err).replace(err.path, "", 1).lstrip(":, ")  # the file is named in bold already


def preview_ui(bank: quiz.Bank) -> None:
    """Every question as students see it, with the key and the explanation (maths typeset)."""
    with st.container(key="rq-preview-all"):
        for q in bank.questions:
            with st.container(border=True, key=f"rq-preview-{q.id}"):
                st.caption(f"{plain(q.id)} · {plain(q.topic)} · {plain(Path(q.file).name)}, line {q.line}")
                st.markdown(q.markdown(q.prompt))
                if q.kind == "numeric":
                    st.markdown(f"Answer: {q.answer:g}" + (f" ± {q.tolerance:g}" if q.tolerance else ""))
                else:
                    st.markdown("\n".join(f"- {'✅' if i in q.correct else '▫️'} {q.markdown(o)}"
                                          for i, o in enumerate(q.options)))
                explain(q)


def grading_help() -> None:
    with st.expander("How is this graded?"):
        st.markdown(
            f"- **All or nothing** (`exact`): {quiz.RULES['exact']}\n"
            f"- **Partial credit** (`partial`): {quiz.RULES['partial']}\n"
            f"- **Certainty-based** (`cbm`): {quiz.RULES['cbm']}\n"
            f"- **Numbers**: {quiz.RULES['numeric']}\n\n"
            "Worked example, right answers {a, b, d} (k = 3): picking a, b, d scores 1 either way; "
            "a, b scores 0 all-or-nothing and 2/3 ≈ 0.67 partial; a, b, c, d scores 0 and "
            "(3 − 1)/3 ≈ 0.67; a, b, c scores 0 and (2 − 1)/3 ≈ 0.33; nothing picked scores 0.\n\n"
            "| certainty | right | wrong |\n| --- | --- | --- |\n" + "\n".join(
                f"| {c} ({quiz.CERTAINTIES[c]}) | +{quiz.cbm_mark(True, c)} | {quiz.cbm_mark(False, c)} |"
                for c in quiz.CERTAINTIES))
