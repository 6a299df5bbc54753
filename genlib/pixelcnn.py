"""PixelCNN for binarized 28x28 images (van den Oord et al. 2016), with an exact fast sampler.

The lecture's explicit-density model: p(x) = prod_i p(x_i | x_1..x_{i-1}) in raster order.
Masked convolutions make every logit depend only on earlier pixels, so training evaluates all 784
conditionals in one pass; sampling is still sequential (one pixel at a time).

Architecture (measured choice, see docs/notes/issue-7.md): a 7x7 type-A masked conv, then the paper's
residual blocks (1x1 down to C/2, masked 3x3, 1x1 up to C), then a 1x1 head. Residual rather than gated blocks:
on this 2-core CPU the gated variant trained ~4x slower per image (issue 7).

Two samplers give the same pixels for the same seed:
  * naive: the whole network on the whole image for every unknown pixel (784 convs worth each time);
  * fast: caches every layer's activations and, per pixel, recomputes each layer at that one position
    only (Fast PixelCNN++-style, Ramachandran et al. 2017). After the pixel at (r, c) is final, every
    activation at (r, c) is final too (it only sees earlier pixels), so a cache entry is written once.
Both draw all uniforms up front (u[i] per pixel, from the seed) and set x_i = u_i < sigmoid(logit_i).
"""
from __future__ import annotations

import math
import warnings
from typing import List

import torch
import torch.nn.functional as F
from torch import nn

H = W = 28
# The shipped shape (weights/pixelcnn-mnist: 96 x 12), and the defaults of build() and of the training CLI
# (genlib/train/pixelcnn.py), which read it from here. hidden None: channels // 2, the paper's bottleneck.
DEFAULT_CONFIG = {"channels": 96, "blocks": 12, "head": 96, "hidden": None}


def bernoulli_nll(logits, x) -> torch.Tensor:
    """-log p(x) in nats, [n], of binary images x [n,1,28,28] under per-pixel logits; computed in float32
    also when the logits come from bfloat16 autocast (training)."""
    nll = F.binary_cross_entropy_with_logits(logits.float(), x, reduction="none")
    return nll.flatten(1).sum(1)


class MaskedConv2d(nn.Module):
    """A conv whose kernel sees only rows above and, in the centre row, pixels to the left.

    Type "A" (first layer) also hides the centre, so the logit of pixel i never sees pixel i.
    Type "B" (later layers) may see the centre: there it only holds information about earlier pixels.
    The kernel is stored as its top k//2+1 rows only ([c_out, c_in, k//2+1, k]): the rows below the
    centre are always zero, so computing them would waste 1/3 of a 3x3 conv's time (same function).
    """

    def __init__(self, c_in: int, c_out: int, k: int, mask_type: str):
        super().__init__()
        self.k = k
        self.weight = nn.Parameter(torch.empty(c_out, c_in, k // 2 + 1, k))
        self.bias = nn.Parameter(torch.empty(c_out))
        bound = 1 / math.sqrt(c_in * k * k)  # nn.Conv2d's default init for the full k x k kernel
        nn.init.uniform_(self.weight, -bound, bound)
        nn.init.uniform_(self.bias, -bound, bound)
        mask = torch.ones_like(self.weight)
        mask[:, :, -1, k // 2 + (mask_type == "B"):] = 0      # centre row: centre (A) and right of it
        self.register_buffer("mask", mask, persistent=False)  # not in the weights file: rebuilt from type

    def masked_weight(self) -> torch.Tensor:
        return self.weight * self.mask

    def forward(self, x):
        p = self.k // 2
        x = F.pad(x, (p, p, p, 0))  # zeros left, right and above; nothing below (never seen)
        return F.conv2d(x, self.masked_weight(), self.bias)


class ResidualBlock(nn.Module):
    """The PixelCNN paper's residual block: 1x1 down to `hidden` (the paper: C/2), masked 3x3 at that
    width, 1x1 back up to C."""

    def __init__(self, c: int, hidden: int):
        super().__init__()
        self.down = nn.Conv2d(c, hidden, 1)               # [n,C,28,28] -> [n,hid,28,28], per pixel
        self.conv = MaskedConv2d(hidden, hidden, 3, "B")  # [n,hid,28,28], sees up/left neighbours
        self.up = nn.Conv2d(hidden, c, 1)                 # [n,hid,28,28] -> [n,C,28,28], per pixel

    def inner(self, x):  # the cached quantity of the fast sampler
        return F.relu(self.down(F.relu(x)))

    def forward(self, x):
        return x + self.up(F.relu(self.conv(self.inner(x))))


class AutoregressiveModel(nn.Module):
    """What the PixelCNN and the PixelRNNs share (ARCHITECTURE.md): logits = model(x) over binary [n,1,28,28]
    images, the likelihood, and sampling; a subclass gives forward() and fast_complete()."""

    def log_prob(self, x) -> torch.Tensor:
        """log p(x) in nats, [n]: the sum of the 784 Bernoulli log-likelihoods."""
        return -bernoulli_nll(self(x), x)

    def probability_map(self, x) -> torch.Tensor:
        """p(x_i = 1 | x_<i) for every pixel of x, [n,1,28,28]."""
        return torch.sigmoid(self(x))

    @torch.inference_mode()
    def complete(self, x, known, seed=None, progress=None, method: str = "fast", paint=None):
        """Sample the pixels where `known` is False given everything before them; [n,1,28,28] of 0./1.

        x: [n,1,28,28] (values where known is False are ignored); known: bool, broadcastable to x.
        Same seed -> same completion, for either method. progress(done, total) is called as pixels are
        sampled (after each row with hidden pixels for the fast sampler, each pixel for the naive one);
        paint(image [n,1,28,28]) after every row with hidden pixels (for live drawing).
        """
        x, known, u, todo = prepare_completion(x, known, seed)
        if method == "naive":
            return _complete_naive(self, x, known, u, todo, progress, paint)
        if method == "fast":
            return self.fast_complete(x, known, u, todo, progress, paint)
        raise ValueError(f"method must be 'fast' or 'naive', not {method!r}")


class PixelCNN(AutoregressiveModel):
    def __init__(self, channels: int, blocks: int, head: int, hidden: int | None = None):
        super().__init__()
        hidden = hidden or channels // 2
        self.config = {"channels": channels, "blocks": blocks, "head": head, "hidden": hidden}
        self.input = MaskedConv2d(1, channels, 7, "A")                        # [n,1,28,28] -> [n,C,28,28]
        self.blocks = nn.ModuleList(ResidualBlock(channels, hidden) for _ in range(blocks))
        self.head1 = nn.Conv2d(channels, head, 1)                             # [n,C,28,28] -> [n,h,28,28]
        self.head2 = nn.Conv2d(head, 1, 1)                                    # [n,h,28,28] -> [n,1,28,28]

    def trace(self, x) -> list[torch.Tensor]:
        """The residual stream after the input conv and after each block: B+1 tensors [n,C,28,28]."""
        h = self.input(x)
        states = [h]
        for block in self.blocks:
            h = block(h)
            states.append(h)
        return states

    def head(self, h):
        return self.head2(F.relu(self.head1(F.relu(h))))

    def add_identity_blocks(self, n: int) -> "PixelCNN":
        """Append n residual blocks whose output 1x1 conv starts at zero: the grown model computes exactly
        the same logits as before, so training can continue a trained model with more depth and
        receptive field (3 + blocks rows up) instead of starting the deeper one from scratch."""
        hidden = self.config["hidden"]
        for _ in range(n):
            block = ResidualBlock(self.config["channels"], hidden).to(self.head1.weight.device)
            nn.init.zeros_(block.up.weight)
            nn.init.zeros_(block.up.bias)
            self.blocks.append(block)
        self.config = {**self.config, "blocks": len(self.blocks)}
        return self

    def forward(self, x):
        """Binary images [n,1,28,28] of 0./1. -> logits of p(x_i = 1 | x_<i), [n,1,28,28]."""
        return self.head(self.trace(x)[-1])

    def fast_complete(self, x, known, u, todo, progress, paint):
        return _complete_fast(self, x, known, u, todo, progress, paint)


def prepare_completion(x, known, seed):
    """The start shared by every autoregressive sampler here: x binarized with its hidden pixels zeroed,
    `known` expanded to x's shape, every uniform u_i drawn up front from the seed (so the naive and the fast
    sampler draw pixel i with the same u_i), and `todo` [28,28]: the positions some image needs."""
    x = (torch.as_tensor(x, dtype=torch.float32) > 0.5).float()
    known = torch.as_tensor(known, dtype=torch.bool).expand_as(x)
    x = torch.where(known, x, torch.zeros_like(x))
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed))
    return x, known, torch.rand(x.shape, generator=gen), (~known).any(0)[0]


def position_matrix(conv) -> torch.Tensor:
    """A conv's (masked) weight as the matrix of one output position: [c_out, c_in, *kernel] ->
    [taps * c_in, c_out], the input patch flattened tap-major (tap, then channel), as the fast samplers
    read their caches."""
    w = conv.masked_weight() if isinstance(conv, MaskedConv2d) else conv.weight
    w = w.reshape(w.shape[0], w.shape[1], -1)                    # [c_out, c_in, taps]
    return w.permute(0, 2, 1).reshape(w.shape[0], -1).t().contiguous()


def _positions(todo):
    return [(r, c) for r, c in todo.nonzero().tolist()]  # nonzero() is raster ordered


def _complete_naive(model, x, known, u, todo, progress, paint):
    positions = _positions(todo)
    for k, (r, c) in enumerate(positions):
        p = torch.sigmoid(model(x)[:, 0, r, c])              # [n]: whole network, one pixel used
        draw = (u[:, 0, r, c] < p).float()
        x[:, 0, r, c] = torch.where(known[:, 0, r, c], x[:, 0, r, c], draw)
        if progress:
            progress(k + 1, len(positions))
        if paint and (k + 1 == len(positions) or positions[k + 1][0] != r):
            paint(x.clone())
    return x


def _complete_fast(model, x, known, u, todo, progress, paint):
    positions = _positions(todo)
    if not positions:
        return x
    n, hid = x.shape[0], model.config["hidden"]
    # Caches, channels last, zero-padded as the masked convs pad their input: the pixels 3 rows above
    # and 3 columns each side (7x7 kernel); each block's 3x3 input 1 row above, 1 column each side.
    pix = torch.zeros(n, H + 3, W + 6)
    pix[:, 3:, 3:-3] = x[:, 0]
    inner = [torch.zeros(n, H + 1, W + 2, hid) for _ in model.blocks]
    states = model.trace(x)  # correct wherever every earlier pixel is already final
    for cache, block, s in zip(inner, model.blocks, states):
        cache[:, 1:, 1:-1] = block.inner(s).permute(0, 2, 3, 1)
    mat = position_matrix  # each layer as a matrix on one position's (flattened, channels-last) input patch
    w_in, b_in = mat(model.input), model.input.bias                             # [28, C]
    layers = [(mat(b.down), b.down.bias, mat(b.conv), b.conv.bias, mat(b.up), b.up.bias)
              for b in model.blocks]                                            # [C,hid] [6hid,hid] [hid,C]
    wh1, bh1, wh2, bh2 = mat(model.head1), model.head1.bias, mat(model.head2), model.head2.bias

    (r0, c0), (r1, c1) = positions[0], positions[-1]
    args = (pix, inner, w_in, b_in, [lay[0] for lay in layers], [lay[1] for lay in layers],
            [lay[2] for lay in layers], [lay[3] for lay in layers], [lay[4] for lay in layers],
            [lay[5] for lay in layers], wh1, bh1, wh2, bh2, x, known, u)
    done, total = 0, len(positions)
    for r in range(r0, r1 + 1):
        c_from, c_to = (c0 if r == r0 else 0), ((c1 + 1) if r == r1 else W)
        done += _row_function()(r, c_from, c_to, todo[r].tolist(), *args)
        if progress and todo[r].any():
            progress(done, total)
        if paint and todo[r].any():
            paint(x.clone())
    return x


def _fast_row(r: int, c_from: int, c_to: int, todo: List[bool], pix, inner: List[torch.Tensor], w_in, b_in,
              wd: List[torch.Tensor], bd: List[torch.Tensor], w3: List[torch.Tensor], b3: List[torch.Tensor],
              wu: List[torch.Tensor], bu: List[torch.Tensor], wh1, bh1, wh2, bh2, x, known, u) -> int:
    """Positions c_from..c_to-1 of row r, in order: every layer at that one position, then the sample.
    Run through TorchScript when possible: ~75 tiny ops per pixel, where Python's per-op overhead
    would dominate (measured ~2x, docs/notes/issue-7.md). The same ops either way, so the same numbers."""
    n = x.shape[0]
    done = 0
    for c in range(c_from, c_to):
        # Every activation at (r, c), layer by layer; (r, c) in the image is (r+1, c+1) in `inner`.
        h = torch.addmm(b_in, pix[:, r:r + 4, c:c + 7].reshape(n, 28), w_in)              # [n,C]
        for i in range(len(inner)):
            cache = inner[i]
            cache[:, r + 1, c + 1] = torch.relu(torch.addmm(bd[i], torch.relu(h), wd[i]))  # [n,hid]
            patch = cache[:, r:r + 2, c:c + 3].reshape(n, -1)                              # [n,6hid]
            t = torch.relu(torch.addmm(b3[i], patch, w3[i]))                               # [n,hid]
            h = torch.addmm(h + bu[i], t, wu[i])                                           # [n,C] residual
        if not todo[c]:
            continue  # a known pixel: its activations are now cached, nothing to sample
        logit = torch.addmm(bh2, torch.relu(torch.addmm(bh1, torch.relu(h), wh1)), wh2)[:, 0]  # [n]
        draw = (u[:, 0, r, c] < torch.sigmoid(logit)).float()
        value = torch.where(known[:, 0, r, c], x[:, 0, r, c], draw)
        x[:, 0, r, c] = value
        pix[:, r + 3, c + 3] = value
        done += 1
    return done


_SCRIPTED = None


def _row_function():
    """_fast_row compiled by TorchScript once per process; the plain Python function if that fails
    (TorchScript is deprecated in recent PyTorch and may go away)."""
    global _SCRIPTED
    if _SCRIPTED is None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _SCRIPTED = torch.jit.script(_fast_row)
        except Exception:  # noqa: BLE001 - any failure: the eager path is exact too, only slower
            _SCRIPTED = _fast_row
    return _SCRIPTED


def build(config: dict) -> PixelCNN:
    """The zoo's constructor: a model card's config -> an untrained PixelCNN of that shape."""
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    hidden = int(cfg["hidden"]) if cfg.get("hidden") else None
    return PixelCNN(int(cfg["channels"]), int(cfg["blocks"]), int(cfg["head"]), hidden)


# Masks the page offers; True = known (kept), False = hidden (sampled).
MASKS = ("bottom", "right", "box", "rows")


def make_mask(kind: str, top: int = 14, bottom: int = 28, left: int = 0, right: int = 28) -> torch.Tensor:
    """A [1,1,28,28] bool `known` mask. bottom: rows >= top hidden; right: columns >= left hidden;
    box: rows top..bottom-1 x columns left..right-1 hidden; rows: rows top..bottom-1 hidden."""
    known = torch.ones(1, 1, H, W, dtype=torch.bool)
    if kind == "bottom":
        known[..., top:, :] = False
    elif kind == "right":
        known[..., :, left:] = False
    elif kind == "box":
        known[..., top:bottom, left:right] = False
    elif kind == "rows":
        known[..., top:bottom, :] = False
    else:
        raise ValueError(f"mask must be one of {MASKS}, not {kind!r}")
    return known
