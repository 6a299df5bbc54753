"""Evaluation metrics shared by the model families: likelihood units, Frechet distance, nearest neighbours."""
from __future__ import annotations

import math

import numpy as np


def bits_per_dim(nats: float, dims: int = 28 * 28) -> float:
    """A negative log-likelihood per image in nats -> bits per dimension."""
    return nats / (dims * math.log(2))


# ---- Frechet distance (the "F" of FID) ------------------------------------------------------------

def gaussian_stats(features) -> tuple[np.ndarray, np.ndarray]:
    """features [N, d] -> (mean [d], covariance [d, d]) in float64 (unbiased covariance, N-1)."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"need features of shape [N >= 2, d], got {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False)


def _sqrt_psd(a: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix (eigenvalues clipped at 0)."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Squared Frechet (2-Wasserstein) distance between N(mu1, sigma1) and N(mu2, sigma2):

        |mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1^1/2 sigma2 sigma1^1/2)^1/2)

    The trace term uses the symmetric form, so it needs only eigen-decompositions of symmetric
    matrices (no complex sqrtm, no 'imaginary component' fix-ups). Equals the usual FID formula
    because tr((S1 S2)^1/2) = tr((S1^1/2 S2 S1^1/2)^1/2).
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    r1 = _sqrt_psd(s1)
    eig = np.linalg.eigvalsh(r1 @ s2 @ r1)
    tr_covmean = np.sqrt(np.clip(eig, 0, None)).sum()
    d = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_covmean)
    return max(d, 0.0)


def frechet_distance_features(f1, f2) -> float:
    """Frechet distance between the Gaussians fitted to two feature sets [N1, d] and [N2, d]."""
    return frechet_distance(*gaussian_stats(f1), *gaussian_stats(f2))


# ---- nearest neighbours (memorisation check, "nearest neighbor from training set") ---------------

def nearest_neighbours(queries, bank, k: int = 1, chunk: int = 4096, chunk_bytes: int = 16 * 2**20):
    """Euclidean k nearest rows of `bank` [M, ...] for each row of `queries` [N, ...] (both flattened).

    Returns (distances [N, k] float32, indices [N, k] int64), nearest first. Accepts numpy arrays or
    torch tensors; a uint8 bank (e.g. 22k faces, 272 MB) is read in place, never copied whole: it is
    converted to float one chunk at a time, of at most `chunk` rows and `chunk_bytes` bytes of floats
    (a face is 12,288 values, so ~340 faces, 16 MB, per chunk).
    """
    import torch

    q = torch.as_tensor(np.asarray(queries) if not isinstance(queries, torch.Tensor) else queries).float()
    q = q.reshape(len(q), -1)
    if not isinstance(bank, (np.ndarray, torch.Tensor)):
        bank = np.asarray(bank)
    b_all = bank.reshape(len(bank), -1)  # a view for contiguous numpy arrays and tensors alike
    k = min(k, len(b_all))
    rows = max(1, min(chunk, chunk_bytes // (4 * q.shape[1])))
    q_sq = (q * q).sum(1, keepdim=True)
    best_d = torch.full((len(q), k), float("inf"))
    best_i = torch.zeros((len(q), k), dtype=torch.long)
    with torch.inference_mode():
        for start in range(0, len(b_all), rows):
            b = torch.as_tensor(np.asarray(b_all[start:start + rows]) if not isinstance(b_all, torch.Tensor)
                                else b_all[start:start + rows]).float()
            # |q - b|^2 = |q|^2 - 2 q.b + |b|^2, one matrix product per chunk
            d2 = (q_sq - 2 * q @ b.T + (b * b).sum(1)).clamp_min(0)
            d = torch.cat([best_d, d2], 1)
            i = torch.cat([best_i, torch.arange(start, start + len(b)).expand(len(q), -1)], 1)
            best_d, pos = d.topk(k, dim=1, largest=False)
            best_i = i.gather(1, pos)
    return best_d.sqrt().numpy(), best_i.numpy()


# ---- likelihoods on binarized MNIST, side by side ---------------------------------------------------

def mnist_nll_comparison(names=("vae-mnist", "vae-mnist-32", "pixelcnn-mnist"), weights_dir=None) -> list[dict]:
    """Test -log p(x) in nats of our shipped MNIST models (read from their model cards) and the published
    numbers those cards quote: [{"model", "nats", "source": "ours" | "published"}], best (lowest) first.
    A model that is not installed, or whose card has no test NLL, is left out."""
    from genlib import zoo

    rows, published = [], {}
    for name in names:
        try:
            info = zoo.card(name, weights_dir)
        except zoo.WeightsError:
            continue
        m = info.get("metrics", {})
        if isinstance(m.get("test_nll_nats"), (int, float)):
            rows.append({"model": f"{name} (this lab)", "nats": float(m["test_nll_nats"]), "source": "ours"})
        for label, nats in m.get("published_test_nll_nats", {}).items():
            published[label] = float(nats)
    rows += [{"model": label, "nats": nats, "source": "published"} for label, nats in published.items()]
    return sorted(rows, key=lambda r: r["nats"])
