"""Evaluation metrics shared by the model families: likelihood units, Frechet distance, nearest neighbours."""
from __future__ import annotations

import math


def bits_per_dim(nats: float, dims: int = 28 * 28) -> float:
    """A negative log-likelihood per image in nats -> bits per dimension."""
    return nats / (dims * math.log(2))
