"""PixelRNN vs PixelCNN: the comparison behind pages/autoregressive.py and benchmarks/autoregressive.py.

Pure PyTorch and plain Python (never streamlit): which models are compared, what one pixel's prediction
depends on (measured with gradients), the measured figures as the model cards hold them, and the lecture's
claims set against those figures.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from genlib import zoo
from genlib.pixelcnn import H, W

# short name (the page's link) -> (weights name, label); the order in which tables and maps show them
MODELS = {"cnn": ("pixelcnn-mnist", "PixelCNN"),
          "row": ("pixelrnn-row-mnist", "Row LSTM"),
          "diag": ("pixelrnn-diag-mnist", "Diagonal BiLSTM")}
RNNS = ("row", "diag")

# The card key benchmarks/autoregressive.py --record writes (a dict), and the figures in it.
BENCHMARK_KEY = "autoregressive_benchmark"
TIMINGS = {"train_images_per_s": "Training (img/s)",
           "full_naive_s": "Full image, naive (s)", "full_fast_s": "Full image, fast (s)",
           "bottom_naive_s": "Bottom half, naive (s)", "bottom_fast_s": "Bottom half, fast (s)"}
NOT_MEASURED = "not measured yet"

LECTURE = {  # quoted from /work/shared/seed/lecture-generative-models.md
    "rnn_slow": "PixelRNN: “very sequential generation, very slow!”",
    "cnn_trains_faster": "PixelCNN: “training is faster than PixelRNN (can parallelize convolutions)”",
    "cnn_still_slow": "PixelCNN: “generation must still proceed sequentially → still slow!”",
}


# ---- receptive fields ---------------------------------------------------------------------------------
@dataclass
class ReceptiveField:
    """What the logit of pixel (row, col) depends on, measured over a few input images."""
    row: int
    col: int
    strength: torch.Tensor  # [28,28] |d logit / d x| summed over the images, divided by its maximum (or 0)
    earlier: int            # pixels before (row, col) in raster order: all it may depend on
    seen: int               # earlier pixels it does depend on
    top_row: int | None     # the highest row it sees (None: it sees nothing)
    later_seen: int         # pixels at or after (row, col) it depends on: 0 for a causal model

    @property
    def unseen(self) -> int:
        return self.earlier - self.seen

    def unseen_within_reach(self) -> int:
        """Earlier pixels it does not see although it sees their row or a row above (blind spots, the
        outside of a triangle), as opposed to whole rows beyond its reach."""
        if self.top_row is None:
            return 0
        earlier = _raster() < self.row * W + self.col
        rows = torch.arange(H).view(H, 1).expand(H, W) >= self.top_row
        return int((earlier & rows & (self.strength == 0)).sum())


def _raster() -> torch.Tensor:
    return torch.arange(H * W).view(H, W)


def receptive_field(model, images, row: int, col: int) -> ReceptiveField:
    """The dependencies of pixel (row, col)'s logit: gradients of that logit with respect to the input,
    summed in absolute value over `images` [n,1,28,28] (a union: a path one image's gates close is still
    seen through another image). Exact zeros are pixels the architecture cannot see."""
    from genlib.pixelrnn import dependency_map  # works for any model whose forward gives the logits

    dep = dependency_map(model, images, row, col).float()
    before = _raster() < row * W + col
    seen = dep > 0
    rows_seen = seen.any(1).nonzero()
    peak = float(dep.max())
    return ReceptiveField(row, col, dep / peak if peak > 0 else dep, int(before.sum()), int((seen & before).sum()),
                          int(rows_seen[0]) if len(rows_seen) else None, int((seen & ~before).sum()))


# ---- measured figures ------------------------------------------------------------------------------------
def figures(card: dict | None) -> dict:
    """The comparison's figures of one model card (None: the model is not installed); absent ones are None.
    Keys: test_nll_nats, bits_per_dim, eval_images, parameters, layers, the TIMINGS keys, measured_with,
    benchmark. layers: the PixelCNN's gated blocks or the PixelRNN's LSTM layers (the input conv and the 1x1
    output layers, alike in all three, not counted)."""
    card = card or {}
    bench = card.get(BENCHMARK_KEY) or {}
    config = card.get("config") or {}
    out = {"test_nll_nats": zoo.metric(card, "test_nll_nats"), "bits_per_dim": zoo.metric(card, "test_bits_per_dim"),
           "eval_images": zoo.metric(card, "eval_images", 0), "measured_with": zoo.metric(card, "measured_with"),
           "parameters": card.get("parameters"), "layers": config.get("layers") or config.get("blocks"),
           "benchmark": bench.get("command")}
    for key in TIMINGS:
        value = bench.get(key)
        out[key] = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return out


# the rows of the comparison table: (figures key, title, format)
TABLE = [("test_nll_nats", "test NLL (nats)", ".2f"), ("eval_images", "NLL measured on (test images)", ","),
         ("parameters", "parameters", ","), ("layers", "layers (PixelCNN: gated blocks)", "d"),
         ("train_images_per_s", TIMINGS["train_images_per_s"], ".0f"),
         *((key, TIMINGS[key], ".3g") for key in ("full_naive_s", "full_fast_s", "bottom_naive_s", "bottom_fast_s"))]


def table(figs: dict) -> list[dict]:
    """The figures {short name: figures(card)} as text, one row per figure and one column per model;
    NOT_MEASURED where a figure is absent; the last rows: the fast sampler's speed-up over the naive one."""
    def text(value, fmt):
        return NOT_MEASURED if not value else format(value, fmt)

    rows = [{"figure": title} | {MODELS[s][1]: text(f[key], fmt) for s, f in figs.items()} for key, title, fmt in TABLE]
    for part in ("full", "bottom"):
        rows.append({"figure": f"{'Full image' if part == 'full' else 'Bottom half'}: fast vs naive"}
                    | {MODELS[s][1]: NOT_MEASURED if not (f[f"{part}_naive_s"] and f[f"{part}_fast_s"])
                       else f"{f[f'{part}_naive_s'] / f[f'{part}_fast_s']:.0f}x faster" for s, f in figs.items()})
    return rows


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:.0f} s"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b > 0 else "∞"


def claims(figs: dict) -> list[dict]:
    """The lecture's three speed claims next to the measured figures `figs` ({short name: figures(card)}):
    one row per claim with 'claim', 'measured' (the numbers, in words) and 'verdict' ('confirmed',
    'qualified', 'not confirmed here' or NOT_MEASURED)."""
    def get(name, key):
        return (figs.get(name) or {}).get(key)

    def label(name):
        return MODELS[name][1]

    rows = []
    # 1. PixelRNN generation is very sequential and very slow: slower than the PixelCNN, naive and cached
    have = [n for n in RNNS if get(n, "full_naive_s") is not None]
    cnn_naive, cnn_fast = get("cnn", "full_naive_s"), get("cnn", "full_fast_s")
    if not have:
        rows.append({"claim": LECTURE["rnn_slow"], "measured": NOT_MEASURED, "verdict": NOT_MEASURED})
    else:
        parts, naive_slower, fast_slower = [], [], []
        for n in have:
            naive, fast = get(n, "full_naive_s"), get(n, "full_fast_s")
            text = f"{label(n)}: one image takes {_fmt_s(naive)} naively (784 sequential steps)"
            if cnn_naive:
                text += f", {_ratio(naive, cnn_naive)} the PixelCNN's {_fmt_s(cnn_naive)}"
                naive_slower.append(naive > cnn_naive)
            if fast is not None:
                text += f"; {_fmt_s(fast)} with the exact cached sampler ({_ratio(naive, fast)} faster)"
                if cnn_fast:
                    text += f", {_ratio(fast, cnn_fast)} the PixelCNN's {_fmt_s(cnn_fast)}"
                    fast_slower.append(fast > cnn_fast)
            parts.append(text)
        rows.append({"claim": LECTURE["rnn_slow"], "measured": "; ".join(parts) + ".",
                     "verdict": _verdict(naive_slower, fast_slower)})

    # 2. PixelCNN training is faster than PixelRNN
    cnn_train = get("cnn", "train_images_per_s")
    have = [n for n in RNNS if get(n, "train_images_per_s") is not None]
    if cnn_train is None or not have:
        rows.append({"claim": LECTURE["cnn_trains_faster"], "measured": NOT_MEASURED, "verdict": NOT_MEASURED})
    else:
        parts = [f"PixelCNN {cnn_train:.0f} img/s"]
        parts += [f"{label(n)} {get(n, 'train_images_per_s'):.0f} img/s (PixelCNN "
                  f"{_ratio(cnn_train, get(n, 'train_images_per_s'))})" for n in have]
        faster = [cnn_train > get(n, "train_images_per_s") for n in have]
        verdict = "confirmed" if all(faster) else "qualified" if any(faster) else "not confirmed here"
        measured = ", ".join(parts) + " (bf16 training steps, batch 64)"
        # Whole models of different depths; the claim is about the layer: a masked conv runs all 784 positions
        # at once, an LSTM layer steps through rows or diagonals.
        if verdict != "confirmed" and all(get(n, "layers") for n in ("cnn", *have)):
            per_layer = {n: get(n, "train_images_per_s") * get(n, "layers") for n in ("cnn", *have)}
            measured += ("; per layer (img/s x layers): " + ", ".join(
                f"{label(n)} {v:,.0f}" for n, v in per_layer.items()))
            if all(per_layer["cnn"] > per_layer[n] for n in have):
                verdict = "qualified"
                measured += ": layer for layer the PixelCNN trains faster, but these PixelRNNs are shallower"
        rows.append({"claim": LECTURE["cnn_trains_faster"], "measured": measured + ".", "verdict": verdict})

    # 3. PixelCNN generation must still proceed sequentially: still slow (sampling one image costs more
    # than training on ten, naive and cached)
    if cnn_naive is None or cnn_train is None:
        rows.append({"claim": LECTURE["cnn_still_slow"], "measured": NOT_MEASURED, "verdict": NOT_MEASURED})
    else:
        text = (f"sampling one image naively takes {_fmt_s(cnn_naive)}, as long as training on "
                f"{cnn_naive * cnn_train:.0f} images ({cnn_train:.0f} img/s): training gets all 784 conditionals "
                f"from one pass, sampling needs one pass per pixel")
        if cnn_fast is not None:
            images = cnn_fast * cnn_train
            count = f"{images:.0f}" if images >= 10 else f"{images:.1f}"
            text += (f"; the exact cached sampler takes {_fmt_s(cnn_fast)} ({_ratio(cnn_naive, cnn_fast)} faster), "
                     f"as long as training on {count} images")
        rows.append({"claim": LECTURE["cnn_still_slow"], "measured": text + ".",
                     "verdict": _verdict([cnn_naive * cnn_train > 10],
                                         [] if cnn_fast is None else [cnn_fast * cnn_train > 10])})
    return rows


def _verdict(naive_agrees: list[bool], fast_agrees: list[bool]) -> str:
    """confirmed: the naive sampler's figures agree with the claim and the cached sampler's do too (or are
    not measured); qualified: the naive ones agree, the cached sampler's do not; else not confirmed here."""
    if not naive_agrees:
        return "not compared yet (the PixelCNN is not measured)"
    if not all(naive_agrees):
        return "qualified" if any(naive_agrees) else "not confirmed here"
    return "confirmed" if all(fast_agrees) else "qualified"
