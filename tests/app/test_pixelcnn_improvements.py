"""AppTest of "Improving PixelCNN, measured" with tiny random models in a temporary weights folder: nothing drawn on
opening; samples of the baseline and the best model on request (shared with the next visitor); a seeded completion
that keeps the given half; the ablation read from the card with a verdict per slide item; the link, bad links,
and missing weights."""
from pathlib import Path

import pytest
import streamlit as st

from genlib import improvements, zoo
from tests.app.helpers import captions, notes_text, run_page, save_tiny_models, use_weights

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "pixelcnn_improvements.py")


def ablation_rows(bits_per_dim: list[float], speeds: list[float]) -> list[dict]:
    """Rows as benchmarks/pixelcnnpp_ablation.py writes them, with the given figures."""
    rows = []
    for i, ((label, config), bpd, speed) in enumerate(zip(improvements.pixelcnnpp.ablation_configs(), bits_per_dim,
                                                           speeds)):
        rows.append({"row": i, "label": label, "config": config, "test_bits_per_dim": bpd, "eval_images": 10000,
                     "change_bits_per_dim": None if i == 0 else round(bpd - bits_per_dim[i - 1], 4),
                     "train_images_per_s": speed, "speed_vs_baseline": round(speed / speeds[0], 2),
                     "parameters": 1000 + i, "images_seen": 640 * (i + 1), "wall_time_s": 900.0, "command": "tests"})
    return rows


@pytest.fixture
def tiny_weights(tmp_path, monkeypatch):
    save_tiny_models(tmp_path, {"pixelcnnpp-mnist8", "pixelcnnpp-ablation-0"})
    use_weights(tmp_path, monkeypatch)
    yield tmp_path
    st.cache_resource.clear()
    st.cache_data.clear()


def run(query=None):
    return run_page(PAGE, query)


def test_opening_the_page_draws_nothing_until_asked(tiny_weights):
    at = run({"seed": "3", "digit": "12"})
    assert not at.exception, [e.message for e in at.exception]
    text = captions(at)
    assert "4 digits (seed 3) not drawn yet" in text and "3 completions (seed 3) not drawn yet" in text
    assert "test digit #12" in text and "completions by" not in text
    assert [b.key for b in at.button] == ["pp_draw", "pp_complete"]
    assert "benchmarks/pixelcnnpp_ablation.py --train --record" in at.info[0].value
    assert dict(at.query_params) == {"seed": "3", "digit": "12"}


def test_samples_and_a_completion_on_request(tiny_weights):
    at = run({"seed": "3", "digit": "12"})
    at.button(key="pp_draw").click().run()
    assert not at.exception, [e.message for e in at.exception]
    text = captions(at)
    assert "Baseline: ReLU blocks" in text and "Best: multi-scale PixelCNN++" in text and "seed 3" in text
    assert "completions by" not in text  # the completion waits for its own button
    at.button(key="pp_complete").click().run()
    text = captions(at)
    assert "3 completions by pixelcnnpp-mnist8 (seed 3)" in text and "−log p(x) of the real digit" in text
    at.number_input(key="pp_digit").set_value(13).run()  # asked once: a new digit is completed at once
    assert "test digit #13" in captions(at) and "3 completions by pixelcnnpp-mnist8" in captions(at)


def test_new_samples_steps_the_seed_into_the_link_and_draws(tiny_weights):
    at = run({"seed": "41"})
    at.button(key="pp_draw").click().run()
    at.button(key="pp_new").click().run()
    assert not at.exception
    assert at.number_input(key="pp_seed").value == 42 and at.query_params["seed"] == "42"
    assert "seed 42, 784 pixels one after another" in captions(at)


def test_samples_drawn_by_one_student_are_shown_to_the_next(tiny_weights):
    first = run({"seed": "5"})
    first.button(key="pp_draw").click().run()
    second = run({"seed": "5"})  # a new session on the same server
    assert "seed 5, 784 pixels one after another" in captions(second)
    assert "pp_new" in [b.key for b in second.button]
    assert "last draw on this server took" in captions(run({"seed": "6"}))


def test_the_slide_is_shown_with_the_cards_figures_and_verdicts(tiny_weights):
    # gated helps, short-cuts hurt, the logistic loss is within noise; later rows help
    rows = ablation_rows([2.0, 1.8, 1.9, 1.905, 1.5, 1.4, 1.45], [40, 30, 29, 28, 24, 24, 23])
    zoo.update_card("pixelcnnpp-mnist8", tiny_weights, **{improvements.CARD_KEY: rows})
    at = run()
    assert not at.exception, [e.message for e in at.exception]
    marks = " ".join(m.value for m in at.markdown)
    assert "**Gated convolutional layers** (the slide) — *helps here*" in marks
    assert "**Short-cut connections** (the slide) — *hurts here, at this training budget*" in marks
    assert "**Discretized logistic loss** (the slide) — *no measurable effect here*" in marks
    assert "**Training tricks** (the slide) — *helps here*" in marks  # -0.10 then +0.05: -0.05 in all
    text = captions(at)
    assert "measured: + gated blocks: -0.200 bits/dim, x0.75 training speed" in text
    table = at.dataframe[0].value
    assert list(table["test bits/dim"]) == [f"{r['test_bits_per_dim']:.4f}" for r in rows]
    assert "The best row, **+ EMA of the weights (Polyak averaging)**" in marks


def test_an_item_with_a_row_missing_is_judged_on_the_rows_measured(tiny_weights):
    rows = ablation_rows([2.0, 1.8, 1.7, 1.6, 1.5, 1.45], [40, 30, 29, 28, 24, 24])  # no dropout row
    zoo.update_card("pixelcnnpp-mnist8", tiny_weights, **{improvements.CARD_KEY: rows})
    at = run()
    assert not at.exception, [e.message for e in at.exception]
    assert "**Training tricks** (the slide) — *helps here*" in " ".join(m.value for m in at.markdown)
    text = captions(at)
    assert "measured: + EMA of the weights (Polyak averaging): -0.050 bits/dim" in text
    assert "+ dropout: not measured yet" in text


def test_bad_link_values_give_a_note_and_a_default(tiny_weights):
    at = run({"digit": "1000", "seed": "x"})
    assert not at.exception
    assert "outside 0..999" in notes_text(at) and "not a whole number" in notes_text(at)
    assert at.number_input(key="pp_digit").value == 999  # clamped to the nearest allowed value


def test_without_weights_the_page_says_how_to_train_them(tmp_path, monkeypatch):
    use_weights(tmp_path, monkeypatch)
    at = run()
    assert not at.exception
    assert "python -m genlib.train pixelcnnpp" in at.error[0].value
    st.cache_resource.clear()


def test_a_model_trained_further_says_what_it_continued(tiny_weights):
    rows = ablation_rows([2.0, 1.8, 1.7, 1.6, 1.5, 1.45], [40, 30, 29, 28, 24, 24])
    zoo.update_card("pixelcnnpp-mnist8", tiny_weights, **{improvements.CARD_KEY: rows}, metrics={
        "test_bits_per_dim": 1.0649}, wall_time_s=6000.0, images_seen=170240, initialised_from={
        "name": "pixelcnnpp-mnist8", "sha256": "x", "test_nll_nats": 598.86})
    marks = " ".join(m.value for m in run().markdown)
    assert "trained longer than the rows' 15 minutes: **1.0649 bits/dim**" in marks
    assert "Trained for 100 minutes (170,240 images) on top of an earlier pixelcnnpp-mnist8, 1.102 bits/dim." in marks


def test_a_gap_further_down_the_chain_is_said(tiny_weights):
    rows = ablation_rows([2.0, 1.8, 1.7, 1.6, 1.5, 1.45], [40, 30, 29, 28, 24, 24])
    zoo.update_card("pixelcnnpp-mnist8", tiny_weights, **{improvements.CARD_KEY: rows}, metrics={
        "test_bits_per_dim": 1.02}, wall_time_s=6000.0, images_seen=480000, initialised_from={
        "name": "pixelcnnpp-mnist8", "sha256": "x", "test_nll_nats": 578.68, "images_seen": 170240,
        "wall_time_s": 6000.0, "earlier_runs_uncounted": True})
    marks = " ".join(m.value for m in run().markdown)
    assert ("Trained for 200 minutes in all (650,240 images); an earlier run of pixelcnnpp-mnist8 is not counted: "
            "the training images and time shown are too low.") in marks
