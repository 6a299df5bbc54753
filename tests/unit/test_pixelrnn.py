"""PixelRNN (Row LSTM, Diagonal BiLSTM): exact causality, samplers, likelihood, receptive fields."""
import pytest
import torch

from genlib import pixelcnn, pixelrnn

TINY = {"hidden": 4, "layers": 2, "head": 8}


def tiny(variant: str, seed: int = 0):
    torch.manual_seed(seed)
    model = pixelrnn.build({**TINY, "variant": variant}).eval()
    with torch.no_grad():  # larger weights than the init: gates far from 0.5, so leaks are not hidden
        for p in model.parameters():
            p.mul_(3)
    return model


def autoregressive_models():
    torch.manual_seed(0)
    return {"row": tiny("row"), "diag": tiny("diag"),
            "pixelcnn": pixelcnn.build({"channels": 8, "blocks": 2, "head": 8}).eval()}


@pytest.mark.parametrize("name", ["row", "diag", "pixelcnn"])
def test_logit_k_depends_only_on_pixels_before_k(name):
    """Input k equals the base image before raster position k and is random from k on; every logit k
    must equal the base image's logit k. One batched forward of 784 images; a leaky model fails it."""
    model = autoregressive_models()[name]
    g = torch.Generator().manual_seed(1)
    base = (torch.rand(1, 1, 28, 28, generator=g) < 0.3).float()
    noise = (torch.rand(784, 1, 28, 28, generator=g) < 0.5).float()
    before_k = torch.arange(784).view(1, 784) < torch.arange(784).view(784, 1)  # [k, i]: i < k
    inputs = torch.where(before_k.view(784, 1, 28, 28), base, noise)
    with torch.no_grad():
        mixed = model(inputs).view(784, 784).diagonal()
        reference = model(base).view(784)
    torch.testing.assert_close(mixed, reference, rtol=1e-4, atol=1e-4)
    # and the test is not vacuous: the logits do depend on earlier pixels
    assert (model(noise[:2]).view(2, 784) - reference).abs().max() > 1e-2


def test_skew_and_unskew_are_inverse_and_shift_rows():
    x = torch.arange(2 * 3 * 5 * 4, dtype=torch.float32).view(2, 3, 5, 4)
    y = pixelrnn.skew(x)
    assert y.shape == (2, 3, 5, 8)
    for r in range(5):
        torch.testing.assert_close(y[:, :, r, r:r + 4], x[:, :, r])
        assert (y[:, :, r, :r] == 0).all() and (y[:, :, r, r + 4:] == 0).all()
    torch.testing.assert_close(pixelrnn.unskew(y, 4), x)


@pytest.mark.parametrize("variant", ["row", "diag"])
def test_receptive_fields_match_the_architecture(variant):
    """Diagonal BiLSTM: every earlier pixel; Row LSTM: a triangle, so a pixel at the left edge five rows
    down does not see the top row's right end, which the Diagonal BiLSTM does."""
    model = tiny(variant)
    images = (torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(2)) < 0.5).float()
    dep = pixelrnn.dependency_map(model, images, 5, 0)
    raster = torch.arange(784).view(28, 28)
    assert (dep[raster >= 5 * 28] == 0).all()          # nothing from the pixel itself on
    assert dep[4, 0] > 0 and dep[0, 0] > 0
    if variant == "diag":
        assert dep[0, 27] > 0 and (dep[raster < 5 * 28] > 0).float().mean() > 0.95
    else:
        assert dep[0, 27] == 0


@pytest.mark.parametrize("variant", ["row", "diag"])
def test_fast_sampler_gives_exactly_the_naive_samplers_pixels(variant):
    model = tiny(variant)
    x = (torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(3)) < 0.3).float()
    known = pixelcnn.make_mask("box", top=10, bottom=16, left=5, right=20)
    calls = []
    fast = model.complete(x, known, seed=7, method="fast", progress=lambda d, t: calls.append((d, t)))
    naive = model.complete(x, known, seed=7, method="naive")
    assert torch.equal(fast, naive)
    assert torch.equal(fast[known.expand_as(x)], x[known.expand_as(x)])  # known pixels kept
    assert calls[-1] == (6 * 15, 6 * 15)
    assert not torch.equal(model.complete(x, known, seed=8), fast)        # the seed matters


@pytest.mark.parametrize("variant", ["row", "diag"])
def test_fast_sampler_draws_a_whole_image_like_the_naive_one(variant):
    model = tiny(variant, seed=4)
    known = torch.zeros(1, 1, 28, 28, dtype=torch.bool)
    blank = torch.zeros(1, 1, 28, 28)
    assert torch.equal(model.complete(blank, known, seed=1), model.complete(blank, known, seed=1, method="naive"))


@pytest.mark.parametrize("variant", ["row", "diag"])
def test_log_prob_is_the_sum_of_bernoulli_log_likelihoods(variant):
    model = tiny(variant)
    x = (torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(5)) < 0.4).float()
    with torch.no_grad():
        p = torch.sigmoid(model(x))
        expected = (x * p.log() + (1 - x) * (1 - p).log()).flatten(1).sum(1)
        torch.testing.assert_close(model.log_prob(x), expected, rtol=1e-4, atol=1e-3)


def test_gates_stay_float32_under_bfloat16_autocast():
    model = tiny("diag")
    x = torch.zeros(1, 1, 28, 28)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        _, h_left, c_left, h_right, c_right = model.layers[0].trace(model.input(x))
    assert {t.dtype for t in (h_left, c_left, h_right, c_right)} == {torch.float32}


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="variant"):
        pixelrnn.build({"variant": "column"})
