"""The discretized logistic likelihood of 8-bit pixels (Salimans et al. 2017, PixelCNN++), for any model that
predicts a continuous distribution per pixel but must give a probability to each of the 256 grey levels.

A grey level k in 0..255 is the bin [k - 0.5, k + 0.5] of a logistic(mean, scale) on the same 0..255 axis;
the two end bins take the tails (-inf, 0.5] and [254.5, inf), so the 256 probabilities sum to exactly 1.
P(k) = sigmoid((k + 0.5 - mean) / scale) - sigmoid((k - 0.5 - mean) / scale), computed in log space.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

LEVELS = 256


def log_prob(x, mean, log_scale) -> torch.Tensor:
    """log P(x) per pixel, same shape as x: integer grey levels x (0..255) under logistics of `mean`
    (grey-level units) and scale exp(log_scale)."""
    x, mean, log_scale = x.float(), mean.float(), log_scale.float()
    inv_s = torch.exp(-log_scale)
    plus, minus = (x + 0.5 - mean) * inv_s, (x - 0.5 - mean) * inv_s
    log_cdf_plus = F.logsigmoid(plus)                        # log sigmoid(plus): the lowest bin's log P
    log_one_minus_cdf_minus = -F.softplus(minus)             # log (1 - sigmoid(minus)): the highest bin's
    # A middle bin: log(sigmoid(plus) - sigmoid(minus)), stable as log sigmoid(plus) + log(1 - exp(d)),
    # d = log sigmoid(minus) - log sigmoid(plus) <= 0.
    d = F.logsigmoid(minus) - log_cdf_plus
    log_mid = log_cdf_plus + torch.log(-torch.expm1(d).clamp(max=-1e-12))
    # Where the bin is so narrow against the scale that the difference underflows: the density times 1.
    centre = (x - mean) * inv_s
    log_density = centre - log_scale - 2 * F.softplus(centre)
    log_mid = torch.where(d > -1e-5, log_density, log_mid)
    return torch.where(x <= 0, log_cdf_plus, torch.where(x >= LEVELS - 1, log_one_minus_cdf_minus, log_mid))


def sample(mean, log_scale, generator=None) -> torch.Tensor:
    """Integer grey levels (float tensor) drawn from the discretized logistics: inverse CDF of a uniform, rounded."""
    u = torch.rand(mean.shape, generator=generator).clamp(1e-5, 1 - 1e-5)
    v = mean + log_scale.exp() * (torch.log(u) - torch.log1p(-u))
    return v.round().clamp(0, LEVELS - 1)


def mixture_log_prob(x, logits, means, log_scales) -> torch.Tensor:
    """log P(x) per pixel [n,1,h,w] under a mixture of K discretized logistics (PixelCNN++'s output):
    mixture logits, means and log scales each [n,K,h,w] (grey-level units)."""
    per_component = log_prob(x.expand_as(means), means, log_scales)            # [n,K,h,w]
    return torch.logsumexp(F.log_softmax(logits.float(), 1) + per_component, 1, keepdim=True)


def mixture_draw(logits, means, log_scales, u) -> torch.Tensor:
    """Grey levels [n] drawn from one pixel's mixture (each argument [n,K]) with uniforms u [n,2]: u[:,0] picks
    the component (inverse CDF of its weights), u[:,1] the value (inverse CDF of the logistic), rounded."""
    cdf = F.softmax(logits.float(), 1).cumsum(1)
    k = (cdf < u[:, :1] * cdf[:, -1:]).sum(1).clamp(max=logits.shape[1] - 1)[:, None]   # [n,1]
    v = u[:, 1].clamp(1e-5, 1 - 1e-5)
    value = means.gather(1, k)[:, 0] + log_scales.gather(1, k)[:, 0].exp() * (torch.log(v) - torch.log1p(-v))
    return value.round().clamp(0, LEVELS - 1)
