"""PixelCNN with the slide's switches on 8-bit digits: exact causality of every ablation configuration, the
likelihood, the receptive field (blind spot or not) and the sampler (small random models: seconds)."""
import math

import pytest
import torch

from genlib import autoregressive, discretized, pixelcnnpp

TINY = {"channels": 8, "layers": 1, "mixtures": 3}
CONFIGS = pixelcnnpp.ablation_configs(TINY)


def tiny(config: dict, seed: int = 0):
    torch.manual_seed(seed)
    model = pixelcnnpp.build(config).eval()
    with torch.no_grad():  # larger weights than the init, so that a leak is not hidden under tiny values
        for p in model.parameters():
            p.mul_(2)
    return model


@pytest.mark.parametrize("label,config", CONFIGS, ids=[label for label, _ in CONFIGS])
def test_output_k_depends_only_on_pixels_before_k(label, config):
    """Every ablation configuration is exactly causal (the check benchmarks/pixelcnnpp_ablation.py also runs on
    every trained row), and the check is not vacuous: a model that sees one row too far fails it."""
    model = tiny(config)
    assert pixelcnnpp.causality_error(model) < 1e-4
    assert (model(torch.zeros(1, 1, 28, 28)) - model(torch.full((1, 1, 28, 28), 255.0))).abs().max() > 1e-2
    assert pixelcnnpp.causality_error(LookingAhead(model)) > 1e-3


class LookingAhead(torch.nn.Module):
    """A model fed the image shifted up by one row: its output at (r, c) sees row r + 1, a leak."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(torch.cat([x[:, :, 1:], x[:, :, -1:]], 2))


@pytest.mark.parametrize("multiscale,blind", [(False, True), (True, False)])
def test_multiscale_removes_the_blind_spot(multiscale, blind):
    """The masked-convolution net misses earlier pixels up and to the right within its reach (the blind spot);
    PixelCNN++'s two streams see every earlier pixel of the rows they reach."""
    config = dict(CONFIGS[3][1] if not multiscale else CONFIGS[4][1], layers=2)
    field = autoregressive.receptive_field(ScalarOutput(tiny(config)), torch.rand(4, 1, 28, 28) * 255, 14, 14)
    assert field.later_seen == 0
    assert (field.unseen_within_reach() > 0) == blind


class ScalarOutput(torch.nn.Module):
    """One output channel of a model as a [n,1,28,28] map, as receptive_field expects of a model's logits."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)[:, :1]


@pytest.mark.parametrize("head", ["softmax", "logistic"])
def test_probabilities_of_every_pixel_sum_to_one(head):
    """Over all 256 values of one pixel (the others fixed), P(x_i | x_<i) sums to 1."""
    model = tiny({**CONFIGS[4][1], "head": head})
    x = torch.randint(0, 256, (1, 1, 28, 28), generator=torch.Generator().manual_seed(2)).float()
    x = x.repeat(256, 1, 1, 1)
    x[:, 0, 9, 17] = torch.arange(256).float()
    with torch.no_grad():
        p = model.pixel_log_probs(model(x), x)[:, 0, 9, 17].exp()
    assert abs(float(p.sum()) - 1) < 1e-4


def test_log_prob_is_the_sum_of_the_pixels_log_probs_and_bits_per_dim_follow():
    model = tiny(CONFIGS[5][1])
    x = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    with torch.no_grad():
        per_pixel = model.pixel_log_probs(model(x.float()), x.float())
        lp = model.log_prob(x)
    torch.testing.assert_close(lp, per_pixel.flatten(1).sum(1))
    torch.testing.assert_close(pixelcnnpp.bits_per_dim(lp), -lp / (784 * math.log(2)))


@pytest.mark.parametrize("config", [CONFIGS[0][1], CONFIGS[5][1]], ids=["softmax-single", "logistic-multi"])
def test_completion_keeps_known_pixels_and_is_seeded(config):
    model = tiny(config)
    x = torch.randint(0, 256, (2, 1, 28, 28), generator=torch.Generator().manual_seed(3)).float()
    known = torch.ones(1, 1, 28, 28, dtype=torch.bool)
    known[..., 26:, :] = False
    calls = []
    a = model.complete(x, known, seed=5, progress=lambda done, total: calls.append((done, total)))
    b = model.complete(x, known, seed=5)
    assert torch.equal(a, b) and torch.equal(a[..., :26, :], x[..., :26, :])
    assert calls[-1] == (56, 56)
    assert a.min() >= 0 and a.max() <= 255 and torch.equal(a, a.round())
    assert not torch.equal(model.complete(x, known, seed=6), a)


def test_cropped_rows_give_the_full_images_outputs():
    """The sampler runs the net on the rows up to the pixel only; that is exact for both kinds of net."""
    for config in (CONFIGS[3][1], CONFIGS[5][1]):
        model = tiny(config)
        x = torch.randint(0, 256, (1, 1, 28, 28)).float()
        with torch.no_grad():
            torch.testing.assert_close(model(x[:, :, :12]), model(x)[:, :, :12], rtol=1e-5, atol=1e-5)


def test_mixture_sums_to_one_and_matches_numerical_integration():
    """The K-component mixture: 256 probabilities summing to 1, each the integral of the mixture's density over
    its bin (the end bins: over the tails), by the trapezoid rule."""
    logits = torch.tensor([0.3, -1.0, 1.2]).view(1, 3, 1, 1)
    means = torch.tensor([20.0, 128.0, 240.0]).view(1, 3, 1, 1)
    log_scales = torch.tensor([1.5, 3.0, 0.5]).log().view(1, 3, 1, 1)
    x = torch.arange(256.0).view(256, 1, 1, 1)
    p = discretized.mixture_log_prob(x, logits.expand(256, 3, 1, 1), means.expand(256, 3, 1, 1),
                                     log_scales.expand(256, 3, 1, 1)).exp().view(256).double()
    assert abs(float(p.sum()) - 1) < 1e-5
    w = torch.softmax(logits.view(3).double(), 0)
    m, s = means.view(3).double(), log_scales.view(3).double().exp()

    def density(v):  # [t] -> [t]
        e = torch.exp(-((v[:, None] - m) / s).abs())  # the logistic density is symmetric: no overflow
        return (w * e / (s * (1 + e) ** 2)).sum(1)

    for k in (0, 1, 19, 20, 100, 128, 239, 240, 255):
        lo, hi = (-2000.0 if k == 0 else k - 0.5), (2255.0 if k == 255 else k + 0.5)
        grid = torch.linspace(lo, hi, 400001, dtype=torch.float64)
        assert float(p[k]) == pytest.approx(float(torch.trapezoid(density(grid), grid)), rel=2e-3, abs=1e-7)


def test_mixture_draws_follow_the_mixture():
    logits = torch.tensor([[0.0, 0.0]]).repeat(20000, 1)
    means = torch.tensor([[10.0, 200.0]]).repeat(20000, 1)
    log_scales = torch.full((20000, 2), math.log(2.0))
    v = discretized.mixture_draw(logits, means, log_scales, torch.rand(20000, 2, generator=torch.Generator()
                                                                         .manual_seed(0)))
    low = v < 100
    assert 0.47 < float(low.float().mean()) < 0.53
    assert abs(float(v[low].mean()) - 10) < 0.3 and abs(float(v[~low].mean()) - 200) < 0.3


def test_unknown_switches_are_refused():
    with pytest.raises(ValueError, match="head"):
        pixelcnnpp.build({"head": "gaussian"})


def test_every_ablation_rows_command_trains_exactly_that_row(monkeypatch):
    """The script's command line for row i, parsed by the training CLI, builds row i's configuration, and only
    the rows from EMA_FROM on keep an EMA of the weights."""
    import sys
    from pathlib import Path

    from genlib.train import pixelcnnpp as trainer
    from genlib.train.__main__ import parser

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import pixelcnnpp_ablation

    for i, (label, config) in enumerate(pixelcnnpp.ablation_configs()):
        args = parser().parse_args(pixelcnnpp_ablation.row_command(i, config, 15)[3:])
        args.dry_run = False
        assert trainer.model_config(args) == config, label
        assert (args.ema > 0) == (i >= pixelcnnpp.EMA_FROM), label
    again = parser().parse_args(pixelcnnpp_ablation.row_command(5, pixelcnnpp.ablation_configs()[5][1], 15, 1)[3:])
    assert again.seed == 1 and again.name == "pixelcnnpp-ablation-5-seed1"  # a second run: its own name and seed
    sys.modules.pop("pixelcnnpp_ablation", None)


def test_rows_trained_two_at_a_time_each_beside_another(monkeypatch):
    """--cores 2: seven rows in four rounds; the last round's free core runs a second seed of the row before."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import pixelcnnpp_ablation as ablation

    assert ablation.rounds(list(range(7)), 2) == [[(0, 0), (1, 0)], [(2, 0), (3, 0)], [(4, 0), (5, 0)],
                                                   [(6, 0), (5, 1)]]
    assert ablation.rounds(list(range(6)), 2) == [[(0, 0), (1, 0)], [(2, 0), (3, 0)], [(4, 0), (5, 0)]]
    assert ablation.rounds([0, 1, 2], 1) == [[(0, 0)], [(1, 0)], [(2, 0)]]
    assert ablation.rounds([], 2) == []


def test_training_cli_dry_run_writes_a_loadable_model_and_card(tmp_path):
    from genlib import zoo
    from genlib.train import __main__ as train_cli

    card = train_cli.main(["pixelcnnpp", "--dry-run", "--out-dir", str(tmp_path), "--threads", "1"])
    assert card["family"] == "pixelcnnpp" and card["metrics"]["test_bits_per_dim"] > 0
    assert card["images_seen"] == card["steps"] * card["batch_size"] and card["train_images_per_s"] > 0
    model = zoo.load("pixelcnnpp-mnist8", weights_dir=tmp_path)
    assert model.config == card["config"] and not model.training
