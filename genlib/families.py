"""The lecture's four families on one data set: the rows of the comparison table on the flow page, read from
the model cards and from the figures benchmarks/families.py records in them (never typed in by hand)."""
from __future__ import annotations

from genlib import zoo

BENCHMARK_KEY = "families_benchmark"  # card field benchmarks/families.py --record writes

# One entry per family: the shipped model that stands for it, what the lecture says of its density, how its
# latent code is inferred and how it samples. `stand_in`: the model shown while the 8-bit one is not trained.
FAMILIES = [
    {"family": "Flow (reversible)", "model": "flow-mnist8", "density": "explicit, exact (dequantization bound)",
     "inference": "exact: z = f(x)", "sampling": "one pass of f⁻¹"},
    {"family": "Autoregressive (PixelCNN++)", "model": "pixelcnnpp-mnist8", "stand_in": "pixelcnn-mnist",
     "density": "explicit, exact", "inference": "none: no latent code", "sampling": "784 steps, one pixel each"},
    {"family": "VAE", "model": "vae-mnist8", "density": "explicit, lower bound (importance-weighted)",
     "inference": "approximate: q(z|x)", "sampling": "one pass of the decoder"},
    {"family": "GAN", "model": "gan-faces", "density": "implicit: no p(x)", "inference": "none: no encoder",
     "sampling": "one pass of G"},
]
EIGHT_BIT = "8-bit MNIST"


def _card(name: str, weights_dir=None) -> dict | None:
    try:
        return zoo.card(name, weights_dir)
    except zoo.WeightsError:
        return None


def images_seen(card: dict) -> int | None:
    """Training images the model saw: the card's own count (else steps x batch size), plus those of the model
    it continued (`initialised_from`), where that card recorded them."""
    own = card.get("images_seen") or (card.get("steps") and card.get("batch_size") and
                                      int(card["steps"]) * int(card["batch_size"]))
    if not own:
        return None
    return int(own) + int(started_from(card).get("images_seen") or 0)


def wall_time_s(card: dict) -> float:
    """Training seconds of the model, plus those of the model it continued, where that card recorded them."""
    return card.get("wall_time_s", 0) + (started_from(card).get("wall_time_s") or 0)


def started_from(card: dict) -> dict:
    """The model a run continued (--init), as its card records it (GAN cards written before the top-level entry
    kept it in their recipe: the second face generation, still measured as an earlier generation)."""
    return card.get("initialised_from") or (card.get("training") or {}).get("initialised_from") or {}


def uncounted_start(card: dict) -> str | None:
    """A note when the model continued an earlier one whose training images its card does not count."""
    start = started_from(card)
    if start and not start.get("images_seen"):
        return f"continues an earlier {start.get('name', 'model')}: only its own run's training images are counted"
    if start.get("earlier_runs_uncounted"):  # somewhere down the chain a card did not count its start
        return (f"an earlier run of {start.get('name', 'model')} is not counted: the training images and time "
                "shown are too low")
    return None


def rows(weights_dir=None) -> list[dict]:
    """One dict per family: family, model, data, bits_per_dim (None with `why_no_bpd`), the benchmark's
    sample_ms / train_images_per_s and its command, inference, density, parameters, images_seen, and `note`
    where the model shown is a stand-in or missing."""
    out = []
    for fam in FAMILIES:
        name, note = fam["model"], None
        card = _card(name, weights_dir)
        if card is None and fam.get("stand_in"):
            stand_in = _card(fam["stand_in"], weights_dir)
            if stand_in is not None:
                note = (f"{name} is not trained yet: the binarized-digit model {fam['stand_in']} stands in for "
                        "the timing; its likelihood is on other data, so no bits/dim here.")
                name, card = fam["stand_in"], stand_in
        row = {k: fam[k] for k in ("family", "density", "inference", "sampling")} | {"model": name, "note": note}
        if card is None:
            out.append(row | {"note": f"{name} is not installed ({zoo.TRAIN_COMMANDS.get(name, 'no command known')})",
                              "data": None, "bits_per_dim": None, "why_no_bpd": "not installed"})
            continue
        bench = card.get(BENCHMARK_KEY) or {}
        eight_bit = name.endswith("-mnist8")  # the 8-bit models' names (ARCHITECTURE.md)
        bpd = zoo.metric(card, "test_bits_per_dim") if eight_bit else None
        why = None if bpd is not None else ("none: the GAN defines no p(x)" if fam["family"] == "GAN" else
                                            "not comparable: other data")
        out.append(row | {
            "data": EIGHT_BIT if eight_bit else card["dataset"]["id"], "bits_per_dim": bpd, "why_no_bpd": why,
            "measured_with": zoo.metric(card, "measured_with"), "sample_ms": bench.get("sample_ms_per_image"),
            "train_images_per_s": bench.get("train_images_per_s"), "benchmark_command": bench.get("command"),
            "parameters": card.get("parameters"), "images_seen": images_seen(card)})
        out[-1]["note"] = out[-1]["note"] or uncounted_start(card)
    return out


def samples(model, n: int, seed: int):
    """n samples of any family's model as images in [0, 1], [n, c, h, w]: a flow or an 8-bit PixelCNN++ at
    temperature 1 (grey levels / 255), a binarized PixelCNN from the corner, a VAE's decoded means, GAN faces."""
    import torch

    with torch.inference_mode():
        if hasattr(model, "z_dim") and hasattr(model, "generate"):       # GAN
            return model.sample(n, seed=seed)
        if hasattr(model, "decode") and hasattr(model, "elbo"):          # VAE
            return model.decode(torch.randn(n, model.z_dim, generator=torch.Generator().manual_seed(seed)))
        if hasattr(model, "sample"):                                     # flow, PixelCNN++ on grey levels
            return model.sample(n, seed=seed) / 255
        empty = torch.zeros(n, 1, 28, 28)                                # binarized PixelCNN
        return model.complete(empty, torch.zeros_like(empty, dtype=torch.bool), seed=seed)
