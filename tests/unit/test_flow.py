"""The reversible flow: exact inverses, log-dets equal to autograd's Jacobians, a density that integrates to 1,
sampling as one pass, and the training CLI's dry run (small random models: seconds)."""
import json
import math

import pytest
import torch

from genlib import flow
from genlib.train import __main__ as train_cli


def trained_looking(model, seed=0):
    """A small flow whose layers are far from the identity (actnorm initialised on data, random coupling and
    prior outputs), so a wrong inverse or log-det cannot hide behind zero-initialised layers."""
    torch.manual_seed(seed)
    model.train()
    with torch.no_grad():
        model.forward_continuous(digits(8, seed) + torch.rand(8, 1, 28, 28))
        for name, p in model.named_parameters():
            if "net" in name or "top" in name:
                p.add_(0.05 * torch.randn_like(p))
    return model.eval()


def small_flow(seed=0, logit_alpha=0.05):
    torch.manual_seed(seed)
    return trained_looking(flow.build({"steps": 2, "hidden": 8, "logit_alpha": logit_alpha}), seed)


def digits(n=2, seed=0):
    """8-bit digit-like images without the data folder: dark background, bright random strokes."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, 28, 28)
    x[:, :, 6:22, 10:18] = torch.randint(0, 256, (n, 1, 16, 8), generator=g).float()
    return x


@pytest.mark.parametrize("logit_alpha", [0.05, 0.0])
def test_encode_decode_round_trip(logit_alpha):
    model = small_flow(logit_alpha=logit_alpha)
    x = digits(3)
    with torch.no_grad():
        v = x + torch.rand(x.shape, generator=torch.Generator().manual_seed(1))
        z, _ = model.forward_continuous(v)
        assert z.shape == (3, 784)
        back = model.inverse_continuous(z)
        assert (back / flow.BINS - v / flow.BINS).abs().max().item() <= 1e-4  # on the [0, 1) pixel scale
        assert torch.equal(model.decode(model.encode(x)), x)                  # integer images: exactly
        assert torch.equal(model.decode(model.encode(x.to(torch.uint8))), x)  # uint8 in, the same


def layer_cases():
    """(name, layer as a function of a small input tensor returning (y, logdet), input shape)."""
    torch.manual_seed(3)
    actnorm = flow.ActNorm(4)
    actnorm.train()
    actnorm(torch.randn(16, 4, 3, 3) * 3 + 1)  # data-dependent init: not the identity
    conv = flow.InvConv1x1(4)
    coupling = flow.AffineCoupling(4, 8)
    torch.nn.init.normal_(coupling.net[-1].weight, std=0.3)  # not the zero-initialised identity
    prior = flow.StandardizeWithPrior(2, None, 2, 2)
    torch.nn.init.normal_(prior.top, std=0.5)
    pre = flow.Flow(steps=1, hidden=4, logit_alpha=0.05)
    return [
        ("actnorm", actnorm, (1, 4, 2, 2)),
        ("invconv", conv, (1, 4, 2, 2)),
        ("coupling", coupling, (1, 4, 2, 2)),
        ("top prior", prior, (1, 2, 2, 2)),
        ("logit preprocess", lambda v: pre.preprocess(v), (1, 1, 28, 28)),
    ]


@pytest.mark.parametrize("name,layer,shape", layer_cases(), ids=[c[0] for c in layer_cases()])
def test_each_layers_log_det_equals_autograds_jacobian(name, layer, shape):
    torch.manual_seed(0)
    x = torch.rand(shape) * 255 + 0.5 if name == "logit preprocess" else torch.randn(shape)
    fy = lambda v: layer(v)[0].flatten()  # noqa: E731
    expected = layer(x)[1]
    with torch.no_grad():
        jac = torch.autograd.functional.jacobian(fy, x).reshape(x.numel(), x.numel()).double()
    sign, logabsdet = torch.linalg.slogdet(jac)
    assert sign.item() != 0
    assert logabsdet.item() == pytest.approx(expected.item(), rel=1e-5, abs=1e-3)


def test_whole_flow_log_det_equals_autograds_jacobian():
    """The whole map v -> z on a tiny image family: the log-det the model adds up equals slogdet of dz/dv."""
    model = small_flow(seed=2)
    v = digits(1) + 0.5
    with torch.no_grad():
        _, logdet = model.forward_continuous(v)
        jac = torch.autograd.functional.jacobian(lambda u: model.forward_continuous(u.view(1, 1, 28, 28))[0][0],
                                                 v.flatten())  # [784, 784]
    _, logabsdet = torch.linalg.slogdet(jac.double())
    assert logabsdet.item() == pytest.approx(logdet.item(), rel=1e-4, abs=0.05)


def test_each_layer_inverts_exactly():
    for name, layer, shape in layer_cases():
        if name == "logit preprocess":
            continue
        x = torch.randn(shape)
        with torch.no_grad():
            y = layer(x)[0]
            torch.testing.assert_close(layer.inverse(y), x, atol=1e-5, rtol=0)


class Toy2D(torch.nn.Module):
    """The flow's coupling + 1x1 conv + actnorm on 2-D points (as a 2-channel 1x1 image): a density on R^2."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(5)
        self.steps = torch.nn.ModuleList([flow.FlowStep(2, 8) for _ in range(3)])
        for step in self.steps:
            torch.nn.init.normal_(step.layers[2].net[-1].weight, std=0.5)
            step.layers[0].initialized.fill_(1)
            torch.nn.init.normal_(step.layers[0].logs, std=0.3)

    def log_density(self, points):  # [n, 2] -> [n]
        h, logdet = points[:, :, None, None], 0
        for step in self.steps:
            h, ld = step(h)
            logdet = logdet + ld
        return flow.gaussian_log_density(h) + logdet


def test_density_integrates_to_one_on_a_2d_toy():
    model = Toy2D().eval()
    grid = torch.linspace(-8, 8, 401)
    xx, yy = torch.meshgrid(grid, grid, indexing="xy")
    with torch.no_grad():
        density = model.log_density(torch.stack([xx.flatten(), yy.flatten()], 1)).exp()
    cell = (grid[1] - grid[0]).item() ** 2
    assert density.sum().item() * cell == pytest.approx(1.0, abs=0.01)
    # ...and the check can fail: without its log-det the same map does not integrate to 1
    with torch.no_grad():
        h = torch.stack([xx.flatten(), yy.flatten()], 1)[:, :, None, None]
        for step in model.steps:
            h, _ = step(h)
        no_logdet = flow.gaussian_log_density(h).exp()
    assert abs(no_logdet.sum().item() * cell - 1.0) > 0.05


def test_log_prob_is_the_dequantization_bound_in_nats():
    model = small_flow()
    x = digits(2)
    with torch.no_grad():
        u = torch.rand(x.shape, generator=torch.Generator().manual_seed(0))
        assert torch.allclose(model.log_prob(x, seed=0), model.log_density(x + u))
        lp = model.log_prob(x)
    assert lp.shape == (2,) and (lp < 0).all()  # a probability of a discrete image: log <= 0
    assert flow.bits_per_dim(lp).shape == (2,)
    assert torch.allclose(flow.bits_per_dim(lp), -lp / (784 * math.log(2)))


def test_sampling_is_one_pass_of_the_inverse():
    """No loop over pixels: sampling n images calls each coupling network exactly once, whatever n."""
    model = small_flow()
    calls = []
    for module in model.modules():
        if isinstance(module, flow.AffineCoupling):
            module.net.register_forward_hook(lambda *_: calls.append(1))
    n_couplings = sum(isinstance(m, flow.AffineCoupling) for m in model.modules())
    with torch.no_grad():
        x = model.sample(5, seed=0, temperature=0.8)
    assert len(calls) == n_couplings
    assert x.shape == (5, 1, 28, 28) and x.min() >= 0 and x.max() <= 255 and torch.equal(x, x.round())
    assert torch.equal(model.sample(5, seed=0, temperature=0.8), x)      # same seed, same images
    assert not torch.equal(model.sample(5, seed=1, temperature=0.8), x)


def test_lower_temperature_shrinks_the_code():
    model = small_flow()
    with torch.no_grad():
        cold, warm = model.sample(64, seed=0, temperature=0.3), model.sample(64, seed=0, temperature=1.0)
    # the same directions in z, scaled: the colder images are the more typical (closer to the mean image)
    mean = warm.mean(0, keepdim=True)
    assert (cold - mean).pow(2).mean() < (warm - mean).pow(2).mean()


@pytest.mark.parametrize("bad", [torch.zeros(2, 28, 28), torch.zeros(1, 1, 14, 14), torch.full((1, 1, 28, 28), 300.)])
def test_bad_images_are_refused_clearly(bad):
    with pytest.raises(ValueError, match="expected"):
        small_flow().log_prob(bad)


def test_z_parts_are_the_two_scales():
    z = torch.arange(784.).view(1, 784)
    z1, z2 = flow.z_parts(z)
    assert z1.shape == (1, 2, 14, 14) and z2.shape == (1, 8, 7, 7)
    assert torch.equal(torch.cat([z1.flatten(1), z2.flatten(1)], 1), z)


def test_training_cli_dry_run_writes_a_loadable_model_and_card(tmp_path):
    card = train_cli.main(["flow", "--dry-run", "--out-dir", str(tmp_path), "--threads", "1"])
    written = json.loads((tmp_path / "flow-mnist8.json").read_text())
    assert written["family"] == "flow" and written["sha256"] == card["sha256"]
    assert written["metrics"]["test_bits_per_dim"] > 0 and written["images_seen"] == 2 * 8
    import genlib

    model = genlib.load("flow-mnist8", weights_dir=tmp_path)
    assert model.sample(2, seed=0).shape == (2, 1, 28, 28)
    # --resume continues the same run; --export rewrites weights and card from the checkpoint
    train_cli.main(["flow", "--dry-run", "--out-dir", str(tmp_path), "--resume", "--threads", "1"])
    again = train_cli.main(["flow", "--dry-run", "--out-dir", str(tmp_path), "--export", "--threads", "1"])
    assert again["steps"] == 2 and "--resume" in again["resumed_with"][0]


def test_pilot_cards_are_copied_into_the_exported_card(tmp_path):
    pilot = train_cli.main(["flow", "--dry-run", "--out-dir", str(tmp_path / "pilot"), "--logit-alpha", "0"])
    card = train_cli.main(["flow", "--dry-run", "--out-dir", str(tmp_path / "main"),
                           "--pilots", str(tmp_path / "pilot" / "flow-mnist8.json")])
    (kept,) = card["pilots"]
    assert kept["test_bits_per_dim"] == pilot["metrics"]["test_bits_per_dim"]
    assert kept["config"]["logit_alpha"] == 0 and kept["command"] == pilot["command"]


def small_dequantizer(seed=0):
    torch.manual_seed(seed)
    deq = flow.VariationalDequantizer(hidden=4, steps=2)
    with torch.no_grad():
        for p in deq.parameters():
            p.add_(0.1 * torch.randn_like(p))  # away from the zero-initialised couplings
    return deq


def test_variational_dequantizers_log_q_equals_autograds_jacobian():
    """log q(u|x) = log N(eps) - log|det du/deps|: the density of the noise it draws, counted exactly."""
    deq, x = small_dequantizer(), digits(1)
    eps = torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        u, log_q = deq(x, eps)
        jac = torch.autograd.functional.jacobian(lambda e: deq(x, e.view(1, 1, 28, 28))[0].flatten(), eps.flatten())
    _, logabsdet = torch.linalg.slogdet(jac.double())
    assert ((u > 0) & (u < 1)).all()
    assert log_q.item() == pytest.approx((flow.gaussian_log_density(eps) - logabsdet).item(), rel=1e-4, abs=0.05)


def flow_with_learned_dequantizer():
    torch.manual_seed(0)
    model = flow.build({"steps": 1, "hidden": 8, "dequantizer": "variational", "deq_hidden": 4})
    model.dequantizer = small_dequantizer()
    return model


def test_log_prob_with_a_learned_dequantizer_is_its_bound():
    model, x = flow_with_learned_dequantizer(), digits(2)
    with torch.no_grad():
        eps = torch.randn(x.shape, generator=torch.Generator().manual_seed(5))
        u, log_q = model.dequantizer(x, eps)
        assert torch.allclose(model.log_prob(x, seed=5), model.log_density(x + u) - log_q)
        assert torch.equal(model.decode(model.encode(x)), x)  # the code of a digit does not depend on q
    with pytest.raises(ValueError, match="dequantizer"):
        flow.build({"dequantizer": "gaussian"})


def test_init_adds_a_learned_dequantizer_to_an_installed_flow(tmp_path):
    train_cli.main(["flow", "--dry-run", "--out-dir", str(tmp_path), "--threads", "1"])
    card = train_cli.main(["flow", "--dry-run", "--out-dir", str(tmp_path), "--threads", "1", "--init", "flow-mnist8",
                           "--dequantizer", "variational", "--deq-hidden", "4", "--name", "grown"])
    assert card["config"]["dequantizer"] == "variational" and card["config"]["deq_hidden"] == 4
    start = card["initialised_from"]
    assert start["name"] == "flow-mnist8" and start["added"]["dequantizer"] == "variational"
    assert start["newly_initialised_tensors"] > 0
    assert flow.recipe_in_words({"config": card["config"], "command": card["command"]}) == \
        "logit α = 0.05, learned dequantizer, continuing the shipped flow"


def test_importance_weighted_log_prob_averages_the_draws_probabilities():
    model, x = flow_with_learned_dequantizer(), digits(3)
    with torch.no_grad():
        g = torch.Generator().manual_seed(7)
        draws = torch.stack([model.dequantized_log_prob(x, g) for _ in range(4)])
        expected = torch.logsumexp(draws, 0) - math.log(4)
        assert torch.allclose(model.log_prob(x, seed=7, k=4), expected)
        assert (expected >= draws.mean(0)).all()  # Jensen: never below the plain bound of the same draws
