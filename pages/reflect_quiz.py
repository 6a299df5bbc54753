"""Reflect quiz: graded self-assessment from the question files in quiz/questions (or $GENLAB_QUIZ_DIR).

Thin UI over `quiz`: the URL holds the quiz (topics, n, seed, scheme), so a link reproduces the same
questions in the same order; session_state holds the progress. Text from question files is rendered
as Markdown only (never as HTML).
"""
from __future__ import annotations

import random
import re
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

import quiz
from quiz import session as qs
from pages._shared import parse_choice, parse_int, show_notes, url_param

MAX_SEED = 999_999
DEFAULT_N = 10
STATE = "rq"  # st.session_state[STATE]: the running quiz


# ------------------------------------------------------------------------------------------- data

@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_bank(folder: str, stamp: tuple) -> quiz.Bank:  # stamp: reload when a file changes
    return quiz.load_bank([folder])


def load_bank() -> quiz.Bank:
    folder = quiz.questions_dir()
    try:
        stamp = tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in sorted(folder.iterdir()))
    except OSError:
        stamp = ()
    return _cached_bank(str(folder), stamp)


def md_escape(text: str) -> str:
    """Show text literally inside Markdown (file names and error messages)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>$~])", r"\\\1", str(text))


# ------------------------------------------------------------------------------------------- settings

def settings_from_url(bank: quiz.Bank) -> tuple[dict, list[str]]:
    """The quiz described by the URL, with a note for each bad parameter (which falls back to a default)."""
    notes = []
    slugs = {qs.topic_slug(t): t for t in bank.topics()}
    raw_topics = url_param("topics")
    topics = list(slugs.values())
    if raw_topics:
        asked = [s.strip() for s in str(raw_topics).split(",") if s.strip()]
        known = [t for s, t in slugs.items() if s in asked]  # bank order, whatever the link's order
        unknown = [s for s in asked if s not in slugs]
        if unknown:
            notes.append(f"`topics`: {', '.join(md_escape(u) for u in unknown)} in the link "
                         f"{'is' if len(unknown) == 1 else 'are'} not a topic of this quiz; "
                         f"known: {', '.join(slugs)}." + ("" if known else " Using all topics."))
        topics = known or topics
    pool = sum(1 for q in bank.questions if q.topic in topics)
    n, note = parse_int(url_param("n"), min(DEFAULT_N, pool), 1, pool, "n")
    notes.append(note)
    default_seed = st.session_state.setdefault("rq_default_seed", random.randrange(MAX_SEED + 1))
    seed, note = parse_int(url_param("seed"), default_seed, 0, MAX_SEED, "seed")
    notes.append(note)
    scheme, note = parse_choice(url_param("scheme"), quiz.SCHEMES, "partial", "scheme")
    notes.append(note)
    return {"topics": topics, "n": n, "seed": seed, "scheme": scheme}, [n for n in notes if n]


def write_url(config: dict, bank: quiz.Bank) -> None:
    all_topics = config["topics"] == bank.topics()
    wanted = {"n": str(config["n"]), "seed": str(config["seed"]), "scheme": config["scheme"]}
    if not all_topics:
        wanted["topics"] = ",".join(qs.topic_slug(t) for t in config["topics"])
    elif "topics" in st.query_params:
        del st.query_params["topics"]
    for key, value in wanted.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value


def new_quiz(config: dict, bank: quiz.Bank) -> dict:
    picked = qs.pick(bank.questions, config["topics"], config["n"], config["seed"])
    return {"config": dict(config), "ids": [q.id for q in picked], "round": 1, "pos": 0,
            "submitted": False, "results": [], "history": []}


def settings_ui(bank: quiz.Bank, config: dict) -> None:
    """The setup form; submitting it starts a new quiz (and puts it in the URL)."""
    with st.expander("⚙️ Quiz settings: topics, number of questions, seed", expanded=False):
        with st.form("rq-settings"):
            topics = st.multiselect("Topics", bank.topics(), default=config["topics"], key="rq-topics")
            pool = sum(1 for q in bank.questions if q.topic in (topics or bank.topics()))
            n = st.number_input("Number of questions", 1, max(1, len(bank.questions)),
                                value=min(config["n"], len(bank.questions)), step=1, key="rq-n",
                                help=f"The chosen topics hold {pool} questions; asking for more gives all of them.")
            seed = st.number_input("Seed (same seed, same quiz)", 0, MAX_SEED, value=config["seed"], step=1,
                                   key="rq-seed")
            c1, c2 = st.columns(2)
            start = c1.form_submit_button("Start quiz", type="primary")
            reseed = c2.form_submit_button("🎲 Start with a new random seed")
        if start or reseed:
            chosen = topics or bank.topics()
            n_total = sum(1 for q in bank.questions if q.topic in chosen)
            cfg = {**config, "topics": [t for t in bank.topics() if t in chosen],
                   "n": int(min(n, n_total)), "seed": random.randrange(MAX_SEED + 1) if reseed else int(seed)}
            st.session_state[STATE] = new_quiz(cfg, bank)
            write_url(cfg, bank)
            st.rerun()


# ------------------------------------------------------------------------------------------- asking

def _selected(q: quiz.Question, key: str, order: list[int]):
    """The current answer from the widgets' state: option indices, or a number."""
    if q.kind == "numeric":
        return st.session_state.get(key)
    if q.kind == "single":
        value = st.session_state.get(key)
        return set() if value is None else {value}
    return {i for i in order if st.session_state.get(f"{key}-{i}")}


def _submit(q: quiz.Question, key: str, order: list[int]) -> None:
    state = st.session_state[STATE]
    if state["submitted"]:  # a double click must not record the answer twice
        return
    state["results"].append(qs.result(q, _selected(q, key, order), state["round"]))
    state["submitted"] = True


def _next() -> None:
    state = st.session_state[STATE]
    if not state["submitted"]:
        return
    state["pos"] += 1
    state["submitted"] = False


def _label(q: quiz.Question, order: list[int], i: int) -> str:
    return f"**{quiz.letter(order.index(i))}.** {q.options[i]}"


def ask(q: quiz.Question, state: dict) -> None:
    seed = state["config"]["seed"]
    order = qs.option_order(q, seed)
    key = f"rq-{state['round']}-{q.id}"
    done = state["submitted"]
    st.markdown(q.prompt if "\n" in q.prompt else f"##### {q.prompt}")
    st.caption(f"Topic: {q.topic}")
    if q.kind == "single":
        st.radio("Pick one answer", order, index=None, key=key, disabled=done,
                 format_func=lambda i: _label(q, order, i))
    elif q.kind == "multiple":
        st.write("Select **all** that apply:")
        for i in order:
            st.checkbox(_label(q, order, i), key=f"{key}-{i}", disabled=done)
    else:
        st.number_input("Your answer (a number)", value=None, step=0.01, format="%.4g", key=key,
                        disabled=done, placeholder="type a number")
    if not done:
        answer = _selected(q, key, order)
        missing = (q.kind == "numeric" and answer is None) or (q.kind == "single" and not answer)
        st.button("Submit", type="primary", key="rq-submit", disabled=missing, on_click=_submit,
                  args=(q, key, order), help="Pick an answer first" if missing else None)
        return
    feedback(q, state["results"][-1], order, key, state["config"]["scheme"])
    last = state["pos"] + 1 >= len(state["ids"])
    st.button("See my score" if last else "Next question →", type="primary", key="rq-next", on_click=_next)


def feedback(q: quiz.Question, res: dict, order: list[int], key: str, scheme: str) -> None:
    if res["exact"] == 1:
        st.success("✅ **Right!**")
    elif res["partial"] > 0:
        st.warning(f"🟡 **Partly right.** All or nothing: 0. Partial credit: {res['partial']:.2f}.")
    else:
        st.error("❌ **Not right.**")
    if scheme == "partial" and q.kind != "numeric":
        st.caption(f"Counts as {res['partial']:.2f} with partial credit (the scheme you chose).")
    if q.kind == "numeric":
        st.markdown(f"**Answer:** {md_escape(qs.key_text(q))}; yours: {md_escape(res['your_answer'] or '(none)')}")
    else:
        right = ", ".join(_label(q, order, i) for i in order if i in q.correct)
        st.markdown(f"**Right answer{'s' if len(q.correct) > 1 else ''}:** {right}")
        if q.feedback:
            chosen = _selected(q, key, order)
            notes = [f"- {_label(q, order, i)}: {q.feedback[i]}" for i in order if i in chosen and q.feedback[i]]
            if notes:
                st.markdown("**On your choices:**\n" + "\n".join(notes))
    st.info(f"**Why.** {q.explanation}", icon="💡")
    if q.source:
        st.caption(f"Source: lecture, {q.source}")


# ------------------------------------------------------------------------------------------- results

def results_ui(state: dict, bank: quiz.Bank) -> None:
    scheme = state["config"]["scheme"]
    results = state["results"]
    total, per_topic = qs.summary(results, scheme)
    points = sum(r[scheme] for r in results)
    st.subheader("Your score")
    rnd = f" (round {state['round']}: the ones you missed)" if state["round"] > 1 else ""
    st.metric(f"Score, {'partial credit' if scheme == 'partial' else 'all or nothing'}{rnd}",
              f"{100 * total:.0f} %", help=quiz.RULES[scheme])
    st.write(f"{points:.2f} of {len(results)} points; "
             f"{sum(r['exact'] == 1 for r in results)} of {len(results)} questions fully right.")
    topics = list(per_topic)
    fig = go.Figure(go.Bar(x=topics, y=[100 * per_topic[t][0] for t in topics],
                           text=[f"{100 * per_topic[t][0]:.0f} % of {per_topic[t][1]}" for t in topics],
                           textposition="outside", cliponaxis=False, marker_color="#4c78a8"))
    fig.update_layout(title="Score per topic", yaxis=dict(title="score (%)", range=[0, 112],
                                                          tickvals=[0, 25, 50, 75, 100]),
                      xaxis=dict(title=None), height=360, margin=dict(t=50, b=40, l=40, r=10))
    st.plotly_chart(fig, key="rq-chart")

    missed = [r for r in results if r["exact"] < 1]
    if missed:
        st.subheader(f"Review: {len(missed)} to look at again")
        by_id = bank.by_id()
        for r in missed:
            q = by_id.get(r["id"])
            with st.expander(f"{'🟡' if r['partial'] > 0 else '❌'} {r['prompt']}"):
                st.markdown(f"**Your answer:** {md_escape(r['your_answer'] or '(none)')}")
                st.markdown(f"**Right answer:** {md_escape(r['correct_answer'])}")
                if q is not None:
                    st.info(f"**Why.** {q.explanation}", icon="💡")
                if r["source"]:
                    st.caption(f"Source: lecture, {r['source']}")
    else:
        if state.get("celebrate", True):
            st.balloons()
            state["celebrate"] = False
        st.success("Everything right. Try other topics or a new seed.")

    cols = iter(st.columns(3 if missed else 2))
    if missed:
        next(cols).button(f"🔁 Retry the {len(missed)} I missed", key="rq-retry", on_click=_retry, type="primary")
    next(cols).button("🎲 New quiz (new seed)", key="rq-new", on_click=_new_seed)
    next(cols).download_button("⬇️ Download results (CSV)", qs.to_csv(state["history"] + results),
                       file_name=f"reflect-quiz-seed{state['config']['seed']}.csv", mime="text/csv",
                       key="rq-csv", on_click="ignore")


def _retry() -> None:
    state = st.session_state[STATE]
    missed = [r["id"] for r in state["results"] if r["exact"] < 1]
    state["history"] += state["results"]
    state.update(ids=missed, round=state["round"] + 1, pos=0, submitted=False, results=[], celebrate=True)


def _new_seed() -> None:
    st.session_state["rq_new_seed"] = True


# ------------------------------------------------------------------------------------------- page

def grading_help() -> None:
    with st.expander("How is this graded?"):
        st.markdown(
            f"- **All or nothing** (`exact`): {quiz.RULES['exact']}\n"
            f"- **Partial credit** (`partial`): {quiz.RULES['partial']}\n"
            f"- **Numbers**: {quiz.RULES['numeric']}\n\n"
            "Worked example, right answers {a, b, d} (k = 3): picking a, b, d scores 1 either way; "
            "a, b scores 0 all-or-nothing and 2/3 ≈ 0.67 partial; a, b, c, d scores 0 and "
            "(3 − 1)/3 ≈ 0.67; a, b, c scores 0 and (2 − 1)/3 ≈ 0.33; nothing picked scores 0.")


def main() -> None:
    st.title("✅ Reflect quiz")
    st.caption("Check what you understood from the lecture: its eight Reflect questions and many more, "
               "each with an explanation. Your quiz is in the link: share it and others get the same "
               "questions in the same order.")
    bank = load_bank()
    for err in bank.errors:
        detail = str(err).replace(err.path, "", 1).lstrip(":, ")  # the file is named in bold already
        st.warning(f"**Skipped `{Path(err.path).name}`**, which has an error, so its questions are not in "
                   f"the quiz. {md_escape(detail)}", icon="⚠️")
    if not bank.questions:
        st.error(f"No questions could be loaded from `{quiz.questions_dir()}`. Add a question file "
                 "(see quiz/README.md) or fix the errors above.")
        return

    config, notes = settings_from_url(bank)
    show_notes(notes)
    if st.session_state.pop("rq_new_seed", False):
        config["seed"] = random.randrange(MAX_SEED + 1)
        st.session_state[STATE] = new_quiz(config, bank)
    state = st.session_state.get(STATE)
    url_quiz = {k: config[k] for k in ("topics", "n", "seed")}
    if state is None or {k: state["config"][k] for k in url_quiz} != url_quiz \
            or any(i not in bank.by_id() for i in state["ids"]):
        state = st.session_state[STATE] = new_quiz(config, bank)  # a new link (or changed files): new quiz
    scheme = st.radio("Grading", quiz.SCHEMES, index=quiz.SCHEMES.index(config["scheme"]), horizontal=True,
                      key="rq-scheme", format_func={"exact": "All or nothing", "partial": "Partial credit"}.get,
                      help=f"All or nothing: {quiz.RULES['exact']}\n\nPartial credit: {quiz.RULES['partial']}")
    state["config"]["scheme"] = config["scheme"] = scheme
    write_url(state["config"], bank)
    grading_help()
    settings_ui(bank, state["config"])

    cfg = state["config"]
    try:
        share = st.context.url or ""
    except Exception:  # no browser session (e.g. AppTest)
        share = ""
    st.caption(f"Seed **{cfg['seed']}** · {len(state['ids'])} questions · "
               f"{'all topics' if cfg['topics'] == bank.topics() else ', '.join(cfg['topics'])}"
               + (" · share this quiz with the link in your address bar" if share else ""))

    total = len(state["ids"])
    answered = len(state["results"])
    st.progress(answered / total if total else 1.0, text=f"{answered} of {total} answered")
    if state["pos"] < total:
        ask(bank.by_id()[state["ids"][state["pos"]]], state)
    else:
        results_ui(state, bank)


main()
