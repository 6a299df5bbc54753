"""Image helpers shared by the model families (pure torch: the hosted app ships without torchvision)."""
import math

import torch


def tile(images: torch.Tensor, nrow: int, pad: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """[n, c, h, w] -> [c, H, W]: the images in rows of `nrow`, `pad` pixels of `pad_value` around and
    between them. The same layout as torchvision's make_grid (tests/unit/test_images.py compares them),
    without importing torchvision: on a host it costs ~170 MB of memory and an install for one function.
    Like make_grid, a single image comes back as it is, without padding."""
    n, c, h, w = images.shape
    if n == 1:
        return images[0]
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    out = images.new_full((c, rows * (h + pad) + pad, cols * (w + pad) + pad), pad_value)
    for i, image in enumerate(images):
        top, left = pad + (i // cols) * (h + pad), pad + (i % cols) * (w + pad)
        out[:, top:top + h, left:left + w] = image
    return out
