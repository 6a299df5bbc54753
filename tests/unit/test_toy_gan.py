"""The lecture's toy GAN: its numbers to two decimals, its arithmetic written as the slides write it,
training that makes faces, and the 2-D remedy that covers more of the ring than the plain loss."""
import math

import pytest
import torch

from genlib import toy_gan as tg
from genlib import toy_gan2d as t2


# --- the lecture's numbers -----------------------------------------------------------------------------
@pytest.mark.parametrize("x, g, f", [([1, 0, 0, 1], 1.0, 0.73), ([0.25, 1, 0.5, 0.75], -1.5, 0.18)])
def test_lecture_discriminator_reproduces_the_slides(x, g, f):
    D = tg.lecture_discriminator()
    assert D.weights == [1.0, -1.0, -1.0, 1.0] and D.bias == -1.0
    assert round(D.score(torch.tensor([x])).item(), 2) == g
    p = D(torch.tensor([x], dtype=torch.float32))
    assert p.shape == (1,)
    assert round(p.item(), 2) == f


def test_batch_shape_and_the_half_way_point():
    D = tg.lecture_discriminator()
    p = D(torch.tensor([tg.SLIDE_FACE, tg.SLIDE_NOT_FACE, [1, 0.5, 0.5, 1]], dtype=torch.float32))
    assert p.shape == (3,)
    assert p[0] > 0.5 > p[1] and p[2].item() == 0.5  # g = 0 sits exactly on the lecture's threshold


@pytest.mark.parametrize("x, score", [(tg.SLIDE_FACE, 2.0), (tg.SLIDE_NOISE, -1.0)])
def test_no_bias_scores_of_slide_50(x, score):
    assert sum(p * w for p, w in zip(x, tg.LECTURE_WEIGHTS)) == score


def test_the_arithmetic_is_written_as_the_slides_write_it():
    assert tg.no_bias_sum_text(tg.SLIDE_FACE) == "1 * 1 + 1 * 1 + 0 * (-1) + 0 * (-1) = 2.0"
    assert tg.no_bias_sum_text(tg.SLIDE_NOISE) == "0.75 * 1 + 0.25 * 1 + 1 * (-1) + 1 * (-1) = -1.0"
    assert tg.score_text(tg.SLIDE_FACE) == "g = +1 * 1 + 0 * (-1) + 0 * (-1) + 1 * 1 - 1 = 1"
    assert tg.score_text(tg.SLIDE_NOT_FACE) == "g = +0.25 * 1 + 1 * (-1) + 0.5 * (-1) + 0.75 * 1 - 1 = -1.5"
    assert tg.output_text(1) == "f = σ(g) → output = 0.73"
    assert tg.output_text(-1.5) == "f = σ(g) → output = 0.18"
    # other weights are written the same way (a positive bias gets a plus)
    assert tg.score_text([1, 0, 0, 1], (0.5, -2, -2, 0.5), 0.25) == \
        "g = +1 * 0.5 + 0 * (-2) + 0 * (-2) + 1 * 0.5 + 0.25 = 1.25"


@pytest.mark.parametrize("p, d_fake, g_err", [(0.1, 0.11, 2.30), (0.9, 2.30, 0.11)])
def test_error_functions_of_the_slides(p, d_fake, g_err):
    assert round(tg.discriminator_error_fake(p), 2) == d_fake   # -ln(1 - p)
    assert round(tg.generator_error(p), 2) == g_err             # -ln(p)
    assert round(tg.discriminator_error_real(p), 2) == g_err    # D on a real face: -ln(p)
    assert torch.allclose(tg.generator_error(torch.tensor(p)), torch.tensor(-math.log(p)))


def test_the_face_rule_separates_the_slides_images():
    assert tg.is_face(tg.FACES).all()
    assert not tg.is_face(tg.NO_FACES).any()
    assert tg.is_face(tg.sample_faces(500, torch.Generator().manual_seed(0))).all()
    assert tg.is_face(tg.sample_noise(500, torch.Generator().manual_seed(0))).float().mean() < 0.3


# --- training the lecture's GAN ---------------------------------------------------------------------------
def diagonal_gap(images: torch.Tensor) -> torch.Tensor:
    """[n] (top-left + bottom-right) - (top-right + bottom-left): how much darker the face diagonal is."""
    return images[:, 0] + images[:, 3] - images[:, 1] - images[:, 2]


def test_an_untrained_generator_does_not_draw_faces():
    """The check below can fail: before training, G's images are not faces."""
    gan = tg.SlantedGAN(seed=0)
    assert not tg.is_face(gan.samples(torch.linspace(0, 1, 50).tolist())).all()


def test_train_slanted_defaults_make_faces():
    G, D, history = tg.train_slanted(seed=0)
    images = G(torch.linspace(0, 1, 50))
    assert images.shape == (50, 4)
    assert ((images >= 0) & (images <= 1)).all()
    assert tg.is_face(images).all()
    assert diagonal_gap(images).min() > 0.5  # "clearly darker", for every z
    assert len(history["d_error"]) == len(history["g_error"]) == len(history["step"]) > 0
    assert all(math.isfinite(v) for v in history["d_error"] + history["g_error"])


def test_trained_discriminator_scores_real_faces_above_fakes_early_on():
    G, D, history = tg.train_slanted(steps=30, seed=0)
    with torch.no_grad():
        real = D(tg.sample_faces(256, torch.Generator().manual_seed(1))).mean()
        fake = D(G(torch.rand(256, generator=torch.Generator().manual_seed(2)))).mean()
    assert real > fake + 0.02, (real, fake)
    assert all(r > f for r, f in zip(history["d_real"][5:], history["d_fake"][5:]))


def test_training_is_deterministic_and_keeps_the_weights():
    a, b = tg.SlantedGAN(seed=3), tg.SlantedGAN(seed=3)
    a.step(20)
    b.step(20)
    assert a.history == b.history
    assert len(a.history["d_weights"][-1]) == 4 and len(a.history["g_weights"][-1]) == 4
    assert a.history["d_weights"][-1] == a.D.weights


# --- 2-D toy GANs -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("dist", t2.DISTRIBUTIONS)
def test_every_distribution_trains_and_draws(dist):
    real = t2.sample_real(dist, 200, torch.Generator().manual_seed(0))
    assert real.shape == (200, 2) and torch.isfinite(real).all()
    assert (real.abs() < t2.BOUNDS[1]).all()  # everything lies inside the drawn square
    gan = t2.ToyGAN2D(dist, loss="mbstd", seed=0)
    gan.step(3)
    axis, prob = gan.d_grid(20)
    assert axis.shape == (20,) and prob.shape == (20, 20) and ((prob >= 0) & (prob <= 1)).all()
    assert gan.fakes().shape == (512, 2) and len(gan.history["g_error"]) == 3


def test_modes_covered_counts_modes():
    ring = t2.sample_real("ring", 800, torch.Generator().manual_seed(0))
    assert t2.modes_covered(ring) == 8
    assert t2.modes_covered(ring[ring[:, 0] > 1.0]) == 3  # the three modes on the right
    assert t2.modes_covered(torch.zeros(100, 2)) == 0


def test_remedy_covers_more_ring_modes_than_the_plain_loss():
    """Mode collapse, measured: same seed, same steps, same (collapse-prone) setup."""
    plain = t2.mode_coverage("plain", seed=0, steps=500)
    remedy = t2.mode_coverage("mbstd", seed=0, steps=500)
    assert plain <= 2, f"plain loss covered {plain} modes: no collapse to show"
    assert remedy >= plain + 3, (plain, remedy)


def test_genlib_toy_modules_never_import_streamlit():
    import ast
    from pathlib import Path

    for module in (tg, t2):
        tree = ast.parse(Path(module.__file__).read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any(name.split(".")[0] == "streamlit" for name in names), module.__name__
