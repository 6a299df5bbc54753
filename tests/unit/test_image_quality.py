"""The face GAN's quality figures: degradations, the ladder ordering, the two-sample detector."""
import pytest
import torch

import genlib
from genlib import image_quality as iq


def pink_noise_images(n: int, seed: int = 0, size: int = 64) -> torch.Tensor:
    """Colour images with a 1/f amplitude spectrum (the spectrum of natural photos), in [0,1]."""
    g = torch.Generator().manual_seed(seed)
    f = torch.fft.fftfreq(size).abs()
    radius = (f.view(-1, 1) ** 2 + f.view(1, -1) ** 2).sqrt().clamp_min(1 / size)
    spectrum = torch.randn(n, 3, size, size, generator=g) / radius
    x = torch.fft.ifft2(torch.complex(spectrum, torch.randn(n, 3, size, size, generator=g) / radius)).real
    x = (x - x.mean((2, 3), keepdim=True)) / x.std((2, 3), keepdim=True)
    return (0.5 + 0.15 * x).clamp(0, 1)


def test_degradations_keep_shape_and_range_and_blur_removes_detail():
    x = pink_noise_images(4)
    for kind, strength, _ in iq.LADDER:
        y = iq.degrade(x, kind, strength)
        assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1
    detail = lambda im: (im[..., 1:] - im[..., :-1]).abs().mean()  # noqa: E731
    assert detail(iq.degrade(x, "blur", 2.0)) < detail(iq.degrade(x, "blur", 0.5)) < detail(x)
    with pytest.raises(ValueError, match="unknown degradation"):
        iq.degrade(x, "sepia", 1)


def test_blur_and_noise_ladders_grow_in_natural_scene_statistics():
    real, sample = pink_noise_images(300, seed=1), pink_noise_images(300, seed=2)
    ref = iq.nss_features(real).numpy()
    floor = iq.frechet_nss(iq.nss_features(sample).numpy(), ref)
    for kind, strengths in (("blur", (0.5, 1.0, 2.0)), ("noise", (0.02, 0.05, 0.1))):
        d = [iq.frechet_nss(iq.nss_features(iq.degrade(sample, kind, s)).numpy(), ref) for s in strengths]
        assert floor < d[0] < d[1] < d[2], (kind, floor, d)


def test_shipped_quality_encoder_orders_every_rung_of_the_ladder():
    """The ladder ordering with the shipped encoder, on faces that need no face data: gan-faces samples,
    degraded by each rung, against the undegraded samples."""
    try:
        encoder, G = genlib.load("faces-quality"), genlib.load("gan-faces")
    except genlib.WeightsError as e:
        pytest.fail(f"shipped weights missing: {e}")
    faces = G.sample(400, seed=0)
    figures = iq.ladder_figures(encoder, faces[:200], faces[200:], {})
    assert figures["monotone_along_each_degradation"], figures
    assert figures["real_faces"] < min(figures["degraded_real_faces"].values())


def test_ladder_position_in_words():
    rungs = {"blur 0.5 px": 2.0, "blur 1 px": 10.0, "blur 2 px": 40.0, "noise 0.1": 99.0}
    assert iq.ladder_position(5.0, rungs, floor=0.5) == "between blur 0.5 px and blur 1 px"
    assert iq.ladder_position(1.0, rungs, floor=0.5) == "between real photos and blur 0.5 px"
    assert iq.ladder_position(50.0, rungs, floor=0.5) == "beyond blur 2 px"
    assert iq.ladder_position(0.4, rungs, floor=0.5) == "as close as real photos"


def test_wilson_interval_on_known_values():
    low, high = iq.wilson_interval(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-3) and high == pytest.approx(0.5962, abs=1e-3)
    assert iq.wilson_interval(0, 0) == (0.0, 1.0)


def test_two_sample_detector_tells_different_sets_apart_and_not_equal_ones():
    smooth = iq.degrade(pink_noise_images(160, seed=3), "blur", 2.0)
    same = iq.two_sample_test(smooth[:80], smooth[80:], epochs=10, batch=16)
    noisy = iq.degrade(pink_noise_images(80, seed=4), "noise", 0.1, seed=5)
    different = iq.two_sample_test(smooth[:80], noisy, epochs=10, batch=16)
    assert different["accuracy"] > 0.9
    assert same["ci95"][0] <= 0.5 <= same["ci95"][1] or same["accuracy"] < 0.7
    assert same["held_out_images"] == different["held_out_images"] == 80
