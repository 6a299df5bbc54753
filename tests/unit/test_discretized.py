"""The discretized logistic of 8-bit pixels: a proper distribution over the 256 levels, equal to the logistic's
mass over each bin, and the VAE that uses it on grey levels."""
import math

import pytest
import torch

from genlib import discretized, vae

LEVELS = torch.arange(256.0)


@pytest.mark.parametrize("mean,log_scale", [(0.0, 0.0), (128.0, 2.0), (255.0, -1.0), (40.3, -4.5), (-30.0, 3.0),
                                            (300.0, 1.0), (77.7, 6.0)])
def test_probabilities_over_the_256_levels_sum_to_one(mean, log_scale):
    lp = discretized.log_prob(LEVELS, torch.full((256,), mean), torch.full((256,), log_scale))
    assert torch.isfinite(lp).all()
    assert lp.double().exp().sum().item() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("mean,log_scale", [(100.0, 1.5), (3.0, 0.5), (250.0, 2.5)])
def test_each_bin_matches_a_numerical_integration_of_the_logistic_density(mean, log_scale):
    s = math.exp(log_scale)

    def density(v):  # the logistic's pdf on the 0..255 axis, in float64 (symmetric form: no overflow)
        e = torch.exp(-((v - mean) / s).abs())
        return e / (s * (1 + e) ** 2)

    def integral(a, b, n=20001):  # trapezoid rule on [a, b]
        v = torch.linspace(a, b, n, dtype=torch.float64)
        return torch.trapezoid(density(v), v).item()

    lp = discretized.log_prob(LEVELS, torch.full((256,), mean), torch.full((256,), log_scale)).double().exp()
    for k in (0, 1, 2, 50, 100, 101, 128, 200, 254, 255):
        lo = -2000.0 if k == 0 else k - 0.5       # the end bins take the tails
        hi = 2000.0 if k == 255 else k + 0.5
        assert lp[k].item() == pytest.approx(integral(lo, hi), abs=2e-6, rel=1e-3)


def test_a_narrow_logistic_puts_its_mass_on_its_level():
    lp = discretized.log_prob(LEVELS, torch.full((256,), 77.0), torch.full((256,), -5.0))
    assert lp.exp()[77].item() > 0.999


def test_sampling_gives_levels_near_the_mean():
    g = torch.Generator().manual_seed(0)
    x = discretized.sample(torch.full((4000,), 100.0), torch.full((4000,), 1.0), generator=g)
    assert torch.equal(x, x.round()) and x.min() >= 0 and x.max() <= 255
    assert abs(x.mean().item() - 100.0) < 0.5


def test_8bit_vae_scores_grey_levels_and_decodes_to_unit_range():
    torch.manual_seed(0)
    model = vae.build({"z_dim": 4, "enc_ch": 4, "dec_ch": 4, "hidden": 16, "likelihood": "logistic"}).eval()
    x = torch.randint(0, 256, (3, 1, 28, 28)).float()
    with torch.no_grad():
        lp = model.log_prob(x, k=8, generator=torch.Generator().manual_seed(0))
        elbo = model.elbo(x, generator=torch.Generator().manual_seed(0))
        img = model.decode(torch.zeros(2, 4))
    assert lp.shape == (3,) and (lp < 0).all() and (lp >= elbo - 50).all()  # a probability; the bound is close
    assert img.shape == (2, 1, 28, 28) and img.min() >= 0 and img.max() <= 1
    # the Bernoulli VAE is unchanged: one output map, sigmoid means
    assert vae.build({"z_dim": 2}).decoder.conv[-2].out_channels == 16
