"""genlib.autoregressive: measured receptive fields of the three architectures, the figures the page reads
from the model cards, and the lecture's claims set against them."""
import pytest
import torch

from genlib import autoregressive as ar
from genlib import pixelcnn, pixelrnn


def images(n=4):
    return (torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(3)) < 0.4).float()


def tiny(short: str):
    torch.manual_seed(0)
    if short == "cnn":
        return pixelcnn.build({"channels": 8, "blocks": 2, "head": 8}).eval()
    return pixelrnn.build({"variant": short, "hidden": 4, "layers": 2, "head": 8}).eval()


def unseen_earlier(rf):
    before = torch.arange(784).view(28, 28) < rf.row * 28 + rf.col
    return {tuple(p) for p in (before & (rf.strength == 0)).nonzero().tolist()}


def test_pixelcnn_has_a_blind_spot_and_a_limited_reach():
    """7x7 mask-A input + 2 masked 3x3 blocks: it sees 3 + 2 = 5 rows up and nothing above; within its
    rows, the pixels up and to the right that the stacked kernels never reach (the blind spot)."""
    rf = ar.receptive_field(tiny("cnn"), images(), 12, 10)
    assert rf.earlier == 12 * 28 + 10 and rf.later_seen == 0
    assert rf.top_row == 12 - 5
    assert rf.unseen_within_reach() > 0 and (11, 27) in unseen_earlier(rf) and (7, 27) in unseen_earlier(rf)
    assert rf.unseen == rf.earlier - rf.seen and rf.unseen > rf.unseen_within_reach()  # rows 0..6 too
    assert float(rf.strength.max()) == 1.0 and float(rf.strength.min()) >= 0


def test_row_lstm_sees_a_triangle():
    rf = ar.receptive_field(tiny("row"), images(), 12, 2)
    assert rf.later_seen == 0 and rf.top_row == 0  # the recurrence reaches the top row ...
    assert (0, 27) in unseen_earlier(rf)            # ... but not its far end: a triangle
    assert (0, 2) not in unseen_earlier(rf) and (11, 27) in unseen_earlier(rf)


def test_diagonal_bilstm_sees_every_earlier_pixel_but_the_last_of_the_row_above():
    """Its full context, as measured: the one earlier pixel it misses from column c < 24 is (r-1, 27): that
    pixel enters the network only at later positions (row r, columns >= 24), and the right-to-left direction
    that carries row r leftwards is shifted down a row, so it reaches (r, c) no sooner than row r + 1."""
    model = tiny("diag")
    rf = ar.receptive_field(model, images(), 12, 2)
    assert rf.later_seen == 0 and unseen_earlier(rf) == {(11, 27)}
    assert unseen_earlier(ar.receptive_field(model, images(), 12, 27)) == set()


def test_the_first_pixel_depends_on_nothing():
    rf = ar.receptive_field(tiny("row"), images(), 0, 0)
    assert (rf.earlier, rf.seen, rf.top_row, rf.unseen) == (0, 0, None, 0) and not rf.strength.any()


BENCH = {"train_images_per_s": 140.0, "full_naive_s": 6.5, "full_fast_s": 0.2, "bottom_naive_s": 3.3,
         "bottom_fast_s": 0.09, "command": "python benchmarks/autoregressive.py --record"}


def card(nll=84.0, parameters=1000, **bench):
    return {"parameters": parameters, ar.BENCHMARK_KEY: bench,
            "metrics": {"measured_with": "x", "eval_set": "test", "eval_images": 10000, "test_nll_nats": nll}}


def test_figures_read_a_card_and_mark_what_is_absent():
    f = ar.figures(card(**BENCH))
    assert f["test_nll_nats"] == 84.0 and f["parameters"] == 1000 and f["eval_images"] == 10000
    assert f["full_naive_s"] == 6.5 and f["benchmark"] == BENCH["command"]
    empty = ar.figures(None)
    assert all(empty[k] is None for k in (*ar.TIMINGS, "test_nll_nats", "parameters"))
    assert ar.figures(card(full_naive_s=True, full_fast_s="3"))["full_naive_s"] is None  # not numbers


def test_table_has_one_column_per_model_and_says_not_measured_yet():
    figs = {"cnn": ar.figures(card(**BENCH)), "row": ar.figures(card(nll=90.0)), "diag": ar.figures(None)}
    rows = {r["figure"]: r for r in ar.table(figs)}
    assert list(rows["test NLL (nats)"]) == ["figure", "PixelCNN", "Row LSTM", "Diagonal BiLSTM"]
    assert rows["test NLL (nats)"]["Row LSTM"] == "90.00" and rows["parameters"]["PixelCNN"] == "1,000"
    assert rows["Training (img/s)"]["PixelCNN"] == "140"
    assert rows["Full image: fast vs naive"]["PixelCNN"] == "32x faster"
    assert rows["Training (img/s)"]["Row LSTM"] == ar.NOT_MEASURED == rows["test NLL (nats)"]["Diagonal BiLSTM"]


def bench(train, full_naive, full_fast):
    return ar.figures(card(train_images_per_s=train, full_naive_s=full_naive, full_fast_s=full_fast))


def verdicts(figs):
    return [c["verdict"] for c in ar.claims(figs)]


def test_claims_not_measured_yet():
    assert verdicts({s: ar.figures(None) for s in ar.MODELS}) == [ar.NOT_MEASURED] * 3


def test_claims_confirmed_by_the_numbers():
    figs = {"cnn": bench(140, 6.5, 0.2), "row": bench(120, 9.0, 0.4), "diag": bench(20, 40.0, 0.8)}
    assert verdicts(figs) == ["confirmed"] * 3
    rnn_slow, trains_faster, still_slow = ar.claims(figs)
    assert "Diagonal BiLSTM" in rnn_slow["measured"] and "6.2x the PixelCNN" in rnn_slow["measured"]
    assert "PixelCNN 140 img/s" in trains_faster["measured"] and "(PixelCNN 7.0x)" in trains_faster["measured"]
    assert "as long as training on 910 images" in still_slow["measured"]


@pytest.mark.parametrize("figs, expected", [
    # the Row LSTM trains faster than the PixelCNN: claim 2 holds only against the Diagonal BiLSTM
    ({"cnn": bench(140, 6.5, 0.2), "row": bench(150, 9.0, 0.4), "diag": bench(20, 40.0, 0.8)},
     ["confirmed", "qualified", "confirmed"]),
    # the cached samplers: the Row LSTM's faster than the PixelCNN's, the PixelCNN's as cheap as 7 training images
    ({"cnn": bench(140, 6.5, 0.05), "row": bench(120, 9.0, 0.04), "diag": bench(20, 40.0, 0.8)},
     ["qualified", "confirmed", "qualified"]),
    # no PixelRNN trains slower, no PixelRNN samples slower
    ({"cnn": bench(20, 40.0, 0.9), "row": bench(120, 9.0, 0.4), "diag": bench(30, 30.0, 0.8)},
     ["not confirmed here", "not confirmed here", "confirmed"]),
])
def test_claims_qualified_or_not_confirmed(figs, expected):
    assert verdicts(figs) == expected


def test_training_claim_is_qualified_layer_for_layer():
    """Shallower PixelRNNs may train faster per image than a 12-block PixelCNN; per layer the claim holds."""
    def deep(layers, train, naive, fast, family_key="layers"):
        bench = card(train_images_per_s=train, full_naive_s=naive, full_fast_s=fast)
        return ar.figures(bench | {"config": {family_key: layers}})

    figs = {"cnn": deep(12, 64, 6.5, 0.2, "blocks"), "row": deep(4, 98, 9.0, 0.4), "diag": deep(1, 72, 40.0, 0.8)}
    trains_faster = ar.claims(figs)[1]
    assert trains_faster["verdict"] == "qualified"
    assert "PixelCNN 768, Row LSTM 392, Diagonal BiLSTM 72" in trains_faster["measured"]
    # a PixelRNN that is faster per layer too leaves the claim not confirmed
    figs["diag"] = deep(1, 900, 40.0, 0.8)
    assert ar.claims(figs)[1]["verdict"] == "not confirmed here"
    assert ar.table(figs)[3]["PixelCNN"] == "12"


def test_claim_texts_round_image_counts():
    figs = {"cnn": bench(140, 6.5, 0.05), "row": bench(120, 9.0, 0.4), "diag": bench(20, 40.0, 0.8)}
    still_slow = ar.claims(figs)[2]["measured"]
    assert "as long as training on 910 images" in still_slow and "as long as training on 7.0 images" in still_slow
