"""The lecture's slide "Improving PixelCNN performance", item by item, next to the ablation measured on 8-bit
MNIST (benchmarks/pixelcnnpp_ablation.py, whose table --record copies into pixelcnnpp-mnist8's card).
Pure Python (never streamlit): the page draws what this module says."""
from __future__ import annotations

from genlib import pixelcnnpp, zoo

CARD_KEY = "ablation"           # the field of the shipped model's card holding the ablation table
MODEL = "pixelcnnpp-mnist8"     # the best configuration, trained longer
BASELINE = "pixelcnnpp-ablation-0"  # the ablation's baseline row, shipped for its samples
# A change smaller than this is within what a second run of the same row differs by, so it gets no verdict
# either way: the EMA row trained again with another seed (benchmarks/pixelcnnpp_ablation.py --cores 2, its
# "second runs" line) scored 1.2572 against 1.2242 bits/dim, a difference of 0.033.
NOISE_BITS_PER_DIM = 0.033

# The slide's items (quoted from the lecture), the ablation rows that switch each on, and what each does.
ITEMS = [
    {"item": "Gated convolutional layers", "rows": [1],
     "what": "Each block multiplies a feature map by a sigmoid gate computed beside it, a · σ(b), instead of a ReLU: "
             "the multiplicative units of the LSTM inside a convolution."},
    {"item": "Short-cut connections", "rows": [2],
     "what": "Residual connections (each block adds to its input) and skip connections (every block also feeds "
             "the output): deep stacks train, and the output sees early and late features."},
    {"item": "Discretized logistic loss", "rows": [3],
     "what": "Instead of 256 unrelated classes per pixel, a mixture of 5 logistics on the grey axis, each grey "
             "level the probability of its bin: levels 200 and 201 are neighbours, and 15 numbers replace 256."},
    {"item": "Multi-scale", "rows": [4],
     "what": "Down-sampling 28 → 14 → 7 and back up, with two streams of shifted convolutions (above, and "
             "above-and-left): the whole past is in view after a few layers, with no blind spot."},
    {"item": "Training tricks", "rows": [5, 6],
     "what": "Polyak averaging (an exponential moving average of the weights is the model that is evaluated) "
             "and dropout inside every block, against over-fitting."},
]


def ablation(weights_dir=None) -> list[dict]:
    """The ablation rows as the shipped card records them ([] while the model or its table is missing)."""
    try:
        return list(zoo.card(MODEL, weights_dir).get(CARD_KEY) or [])
    except zoo.WeightsError:
        return []


def effect(row: dict, previous: dict) -> str:
    """'-0.123 bits/dim, x0.8 training speed': the row's change against the row before it."""
    speed = row["train_images_per_s"] / previous["train_images_per_s"]
    return f"{row['test_bits_per_dim'] - previous['test_bits_per_dim']:+.3f} bits/dim, x{speed:.2f} training speed"


def verdict(change: float) -> str:
    if change <= -NOISE_BITS_PER_DIM:
        return "helps here"
    if change >= NOISE_BITS_PER_DIM:
        return "hurts here, at this training budget"
    return "no measurable effect here"


def items(rows: list[dict]) -> list[dict]:
    """One entry per slide item: its rows' measured effects ('measured': lines of text, a row not trained yet
    says so), and a verdict on the summed change in bits/dim of the rows that were measured."""
    by_row = {r["row"]: r for r in rows}
    out = []
    for item in ITEMS:
        measured, change = [], None
        for i in item["rows"]:
            if i in by_row and i - 1 in by_row:
                row, previous = by_row[i], by_row[i - 1]
                measured.append(f"{row['label']}: {effect(row, previous)}")
                change = (change or 0.0) + row["test_bits_per_dim"] - previous["test_bits_per_dim"]
            else:
                measured.append(f"{pixelcnnpp.ABLATION[i][0]}: not measured yet")
        out.append({**item, "measured": measured, "change_bits_per_dim": change,
                    "verdict": "not measured yet" if change is None else verdict(change)})
    return out


def best_row(rows: list[dict]) -> dict | None:
    return min(rows, key=lambda r: r["test_bits_per_dim"]) if rows else None
