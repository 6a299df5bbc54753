import math

import numpy as np
import pytest

from genlib.metrics import (bits_per_dim, frechet_distance, frechet_distance_features, gaussian_stats,
                            nearest_neighbours)


def test_bits_per_dim_of_uniform_bits():
    assert bits_per_dim(784 * math.log(2)) == pytest.approx(1.0)


def test_frechet_one_dimensional_closed_form():
    # W2^2 between N(m1, s1^2) and N(m2, s2^2) is (m1 - m2)^2 + (s1 - s2)^2
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(2.0**2 + (2.0 - 3.0) ** 2)


def test_frechet_diagonal_closed_form():
    a, b = np.array([1.0, 2.0, 0.5]), np.array([4.0, 0.25, 0.5])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0])
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-9)


def test_frechet_matches_scipy_sqrtm_formula_for_non_commuting_covariances():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s1, s2 = x @ x.T + 0.1 * np.eye(6), y @ y.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    covmean = scipy_linalg.sqrtm(s1 @ s2).real
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-6)


def test_frechet_of_a_set_with_itself_is_zero_and_grows_with_a_shift():
    f = np.random.default_rng(1).normal(size=(500, 8))
    assert frechet_distance_features(f, f) == pytest.approx(0.0, abs=1e-8)
    assert frechet_distance_features(f, f + 2.0) == pytest.approx(8 * 4.0, rel=1e-6)


def test_gaussian_stats_rejects_a_single_sample():
    with pytest.raises(ValueError):
        gaussian_stats(np.zeros((1, 3)))


def test_nearest_neighbours_match_brute_force_across_chunks():
    rng = np.random.default_rng(2)
    q, bank = rng.normal(size=(7, 5)), rng.normal(size=(50, 5))
    d, i = nearest_neighbours(q, bank, k=3, chunk=8)  # several chunks
    brute = np.sqrt(((q[:, None] - bank[None]) ** 2).sum(-1))
    np.testing.assert_array_equal(i, np.argsort(brute, 1)[:, :3])
    np.testing.assert_allclose(d, np.sort(brute, 1)[:, :3], rtol=1e-4, atol=1e-4)


def test_a_bank_member_is_its_own_nearest_neighbour():
    bank = np.random.default_rng(3).integers(0, 256, (20, 4, 4, 3), dtype=np.uint8)
    d, i = nearest_neighbours(bank[[5, 11]], bank)
    assert i[:, 0].tolist() == [5, 11]
    assert np.allclose(d, 0, atol=1e-2)


def test_mnist_nll_comparison_reads_cards_and_skips_what_is_missing(tmp_path):
    from genlib import zoo
    from genlib.metrics import mnist_nll_comparison
    from genlib.vae import build

    model = build({"z_dim": 2, "enc_ch": 4, "dec_ch": 4, "hidden": 16})
    card = {"family": "vae", "config": {"z_dim": 2, "enc_ch": 4, "dec_ch": 4, "hidden": 16}, "command": "t",
            "dataset": {"id": "mnist", "description": "test"}, "licence": "test", "seed": 0, "steps": 0,
            "wall_time_s": 0.0}
    measured = {"measured_with": "t", "eval_set": "test", "eval_images": 1}
    zoo.save(model, "vae-mnist", {**card, "metrics": {**measured, "test_nll_nats": 140.5,
                                                     "published_test_nll_nats": {"VAE (paper)": 86.76}}}, tmp_path)
    zoo.save(model, "vae-mnist-32", {**card, "metrics": {**measured, "test_neg_elbo_nats": 90.0}}, tmp_path)  # no NLL
    rows = mnist_nll_comparison(weights_dir=tmp_path)  # pixelcnn-mnist is not installed there at all
    assert [(r["model"], r["nats"], r["source"]) for r in rows] == [
        ("VAE (paper)", 86.76, "published"), ("vae-mnist (this lab)", 140.5, "ours")]
