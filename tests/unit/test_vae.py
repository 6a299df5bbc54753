"""genlib.vae: shapes, the bounds' order, KL, the likelihood estimate against quadrature, the manifold grid,
a trained model's reconstructions, and the training script's dry run."""
import math

import numpy as np
import pytest
import torch

import genlib
from genlib import zoo
from genlib.vae import AutoEncoder, VAE, build, gaussian_kl, grid_image, lerp, manifold_z

TINY = dict(enc_ch=4, dec_ch=4, hidden=16)


def binary_images(n, seed=0):
    return torch.bernoulli(torch.full((n, 1, 28, 28), 0.2), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("z_dim,stages", [(2, 1), (32, 1), (32, 2)])
def test_shapes(z_dim, stages):
    torch.manual_seed(0)
    m = build({"z_dim": z_dim, "dec_stages": stages, **TINY}).eval()
    x = binary_images(5)
    mu, logvar = m.encode(x)
    assert mu.shape == logvar.shape == (5, z_dim)
    out = m.decode(mu)
    assert out.shape == (5, 1, 28, 28) and 0 <= out.min() and out.max() <= 1
    assert m.elbo(x).shape == (5,)
    assert m.log_prob(x, k=10).shape == (5,)


def test_autoencoder_has_codes_but_no_likelihood():
    m = build({"kind": "ae", **TINY})
    assert isinstance(m, AutoEncoder) and not m.is_vae
    z, logvar = m.encode(binary_images(3))
    assert z.shape == (3, 2) and logvar is None
    assert m.decode(z).shape == (3, 1, 28, 28)
    with pytest.raises(NotImplementedError):
        m.elbo(binary_images(1))
    with pytest.raises(NotImplementedError):
        m.log_prob(binary_images(1))


def test_kl_is_nonnegative_and_zero_only_at_the_prior():
    g = torch.Generator().manual_seed(1)
    mu, logvar = torch.randn(1000, 8, generator=g) * 2, torch.randn(1000, 8, generator=g) * 3
    assert (gaussian_kl(mu, logvar) >= 0).all()
    assert gaussian_kl(torch.zeros(1, 8), torch.zeros(1, 8)).item() == 0
    # one dimension by hand: mu=1, sigma^2=e -> 0.5 * (1 + e - 1 - 1)
    assert gaussian_kl(torch.tensor([[1.0]]), torch.tensor([[1.0]])).item() == pytest.approx(0.5 * (math.e - 1))
    torch.manual_seed(0)
    _, kl = build(TINY).elbo_terms(binary_images(16))
    assert (kl >= 0).all()


def tiny_2d_vae_images_generator():
    """A seeded tiny 2-D VAE, 32 binary images and a seeded generator: the set-up of the bound tests."""
    torch.manual_seed(0)
    return build({"z_dim": 2, **TINY}).eval(), binary_images(32), torch.Generator().manual_seed(0)


def test_importance_weighted_estimate_is_above_the_elbo_on_average():
    m, x, g = tiny_2d_vae_images_generator()
    with torch.inference_mode():
        elbo = torch.stack([m.elbo(x, g) for _ in range(10)]).mean()
        log_p = m.log_prob(x, k=100, generator=g).mean()
    assert log_p > elbo


def test_iwae_bound_tightens_with_k():
    """The training objective behind --iw-k: on average ELBO <= IWAE_5 <= IWAE_50 (Burda et al., Thm 1)."""
    m, x, g = tiny_2d_vae_images_generator()
    with torch.inference_mode():
        b1, b5, b50 = (torch.stack([m.iwae_bound(x, k, g) for _ in range(8)]).mean() for k in (1, 5, 50))
    assert b1 < b5 < b50


def test_log_prob_matches_numerical_integration_in_2d():
    """log p(x) = log ∫ p(z) p(x|z) dz by a fine grid over z agrees with the k=2000 importance estimate."""
    torch.manual_seed(0)
    m = build({"z_dim": 2, **TINY}).eval()
    x = binary_images(2, seed=3)
    n, lim = 161, 6.0
    axis = torch.linspace(-lim, lim, n)
    z = torch.cartesian_prod(axis, axis)                                         # [n*n, 2]
    cell = (2 * lim / (n - 1)) ** 2
    log_pz = -0.5 * (z.pow(2).sum(1) + 2 * math.log(2 * math.pi))
    with torch.inference_mode():
        logits = m.decode_logits(z)                                              # [n*n, 1, 28, 28]
        exact = []
        for xi in x:
            log_px_z = -torch.nn.functional.binary_cross_entropy_with_logits(
                logits, xi.expand_as(logits), reduction="none").flatten(1).sum(1)
            exact.append(torch.logsumexp(log_px_z + log_pz, 0) + math.log(cell))
        est = m.log_prob(x, k=2000, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(est, torch.stack(exact), atol=0.3), (est, exact)


def test_manifold_grid_follows_the_inverse_gaussian_cdf():
    z = manifold_z(20)
    assert z.shape == (400, 2)
    first = z[:20, 0]
    assert torch.all(first[1:] > first[:-1])                 # z1 grows along a row
    assert torch.all(z[::20, 1][1:] < z[::20, 1][:-1])      # z2 falls down the rows (z2 points up)
    assert first[0].item() == pytest.approx(-1.6449, abs=1e-3)   # Φ⁻¹(0.05)
    assert torch.allclose(first, -first.flip(0), atol=1e-6)
    # equal prior mass per cell: the steps in z widen towards the tails
    steps = first[1:] - first[:-1]
    assert steps[0] > steps[9]


def test_lerp_and_grid_image():
    a, b = torch.zeros(2), torch.ones(2)
    path = lerp(a, b, 5)
    assert path.shape == (5, 2) and torch.equal(path[0], a) and torch.equal(path[-1], b)
    img = grid_image(torch.ones(6, 1, 28, 28), nrow=3)
    assert img.shape == (2 * 29 + 1, 3 * 29 + 1) and img.dtype == np.uint8


def test_save_and_load_round_trip(tmp_path):
    torch.manual_seed(0)
    cfg = {"kind": "vae", "z_dim": 2, **TINY}
    m = build(cfg).eval()
    zoo.save(m, "vae-mnist", {"family": "vae", "config": cfg, "dataset": {"id": "mnist", "description": "test"},
                              "licence": "test", "command": "test", "seed": 0, "steps": 0, "wall_time_s": 0.0},
             tmp_path)
    loaded = zoo.load("vae-mnist", tmp_path)
    assert isinstance(loaded, VAE)
    z = torch.randn(3, 2)
    assert torch.equal(loaded.decode(z), m.decode(z))


def test_trained_reconstruction_is_nearest_its_own_digit():
    """A test digit's reconstruction is closer to that digit than to any digit of another class."""
    from genlib.data import demo_images

    try:
        model = genlib.load("vae-mnist-32")
    except genlib.WeightsError as e:
        pytest.skip(str(e))
    x, y = demo_images("mnist")
    x = torch.from_numpy(x).float()[:, None] / 255
    y = torch.from_numpy(y.astype(np.int64))
    picks = torch.cat([torch.nonzero(y == c)[:5, 0] for c in range(10)])
    with torch.inference_mode():
        recon = model.decode(model.encode(x[picks])[0])
    d = torch.cdist(recon.flatten(1), x.flatten(1))                    # [50, 1000]
    own = d[torch.arange(len(picks)), picks]
    other = d.masked_fill(y[None, :] == y[picks][:, None], float("inf")).min(1).values
    assert (own < other).float().mean() >= 0.95, (own, other)


@pytest.mark.parametrize("name", ["vae-mnist-32", "ae-mnist"])
def test_training_dry_run_writes_a_loadable_model_with_metrics(tmp_path, name):
    from genlib.train.__main__ import main

    card = main(["vae", "--name", name, "--dry-run", "--out-dir", str(tmp_path), "--threads", "1"])
    assert (tmp_path / f"{name}.safetensors").exists()
    model = zoo.load(name, tmp_path)
    assert model.is_vae == (name != "ae-mnist")
    assert card["config"]["z_dim"] == (32 if name == "vae-mnist-32" else 2)
    assert card["metrics"]["test_reconstruction_nats"] > 0
    if model.is_vae:
        assert card["metrics"]["test_nll_nats"] <= card["metrics"]["test_neg_elbo_nats"] + 5
        main(["vae", "--name", name, "--dry-run", "--out-dir", str(tmp_path), "--eval-only", "--eval-k", "4"])
        assert zoo.card(name, tmp_path)["metrics"]["test_nll_k"] == 4


def test_a_resumed_run_records_the_command_that_started_it_and_each_resume(tmp_path):
    from genlib.train.__main__ import main

    base = ["vae", "--name", "vae-mnist-32", "--dry-run", "--out-dir", str(tmp_path), "--threads", "1", "--no-eval"]
    first = main(base)
    assert "resumed_with" not in first
    resumed = main(base + ["--resume", "--iw-k", "2"])
    assert resumed["command"] == first["command"]  # the run's first command, kept from its checkpoint
    [entry] = resumed["resumed_with"]
    assert entry.startswith(f"at step {first['steps']}: ") and entry.endswith("--resume --iw-k 2")
