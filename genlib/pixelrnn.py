"""PixelRNN for binarized 28x28 images (van den Oord, Kalchbrenner, Kavukcuoglu 2016): Row LSTM and
Diagonal BiLSTM, with the PixelCNN's API (ARCHITECTURE.md) and exact fast samplers.

Both variants: a 7x7 mask-A conv (the logit of pixel i never sees pixel i), then LSTM layers with residual
connections, then two 1x1 output layers and a sigmoid per pixel. Channels: the residual stream has 2h,
each LSTM has h units (the paper's layout).

Row LSTM (one layer):
  input-to-state: a 1x3 mask-B conv along the row (taps at columns c-1 and c; the right tap is masked, so it
  is stored as a 2-tap conv), computed for the whole image at once;
  state-to-state: a 1x3 conv over the row above's h (columns c-1, c, c+1), one row after another.
  Context: a triangle above the pixel, plus a few pixels to its left in its own row.
Diagonal BiLSTM (one layer):
  skew the map (row r shifted right by r), so that a diagonal becomes a column; the input-to-state is a 1x1
  conv (mask B is the identity for one colour channel); the state-to-state is a 2x1 conv over the previous
  skewed column, padded ABOVE (row r sees rows r-1 and r of the previous column, i.e. the pixel above and the
  pixel to the left, never row r+1). The right-to-left direction runs on the horizontally flipped map; its
  output is shifted down one row before it is added (its state at (r, c) has seen (r, c+1), a later pixel).
  Context: every earlier pixel.

bfloat16: under autocast only the convolutions run in bf16; the gates, the cell and hidden states are float32
(`_lstm_cell` casts), so the recurrence does not accumulate bf16 rounding over 28 or 55 steps.

Samplers (both draw every uniform up front from the seed; x_i = u_i < sigmoid(logit_i)):
  naive: the whole network on the whole image for every unknown pixel;
  fast: keeps every layer's states and, per pixel, computes each layer at that one position. Row LSTM: the
  state-to-state term of a row depends only on the finished row above, so it is computed once per row.
  Diagonal BiLSTM: the left-to-right direction per pixel (it needs the pixel to the left and the one above);
  the right-to-left direction once per finished row (it is only used one row down).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from genlib.pixelcnn import H, W, AutoregressiveModel, MaskedConv2d, _positions
from genlib.pixelcnn import position_matrix as _mat

VARIANTS = ("row", "diag")
DEFAULT_CONFIG = {"variant": "row", "hidden": 32, "layers": 4, "head": 64}
PUBLISHED_NLL = {"Diagonal BiLSTM, 7 layers, h = 16 (van den Oord et al. 2016, Table 4)": 79.20,
                 "Diagonal BiLSTM, 1 layer, h = 32 (same table)": 80.75,
                 "PixelCNN (same paper)": 81.30}


def _lstm_cell(gates, c_prev, dim: int = 1):
    """gates with 4h entries in the order (i, f, o, g) along `dim`; float32 whatever the autocast dtype."""
    i, f, o, g = gates.float().chunk(4, dim)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def skew(x):
    """[n,C,H,W] -> [n,C,H,W+H-1], row r shifted right by r (zeros elsewhere): diagonals become columns.
    Padding each row with H zeros and re-reading the flat buffer with rows one shorter moves row r by r."""
    n, c, h, w = x.shape
    flat = F.pad(x, (0, h)).reshape(n, c, h * (w + h))
    return flat[:, :, :h * (w + h - 1)].reshape(n, c, h, w + h - 1)


def unskew(y, w: int = W):
    """The inverse of skew: [n,C,H,W+H-1] -> [n,C,H,W], out[..., r, c] = y[..., r, r + c]."""
    n, c, h, wh = y.shape
    flat = F.pad(y.reshape(n, c, h * wh), (0, h))
    return flat.reshape(n, c, h, wh + 1)[..., :w]


class RowLSTMLayer(nn.Module):
    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.input_to_state = nn.Conv2d(channels, 4 * hidden, (1, 2))        # taps (r, c-1), (r, c): mask B
        self.state_to_state = nn.Conv1d(hidden, 4 * hidden, 3, padding=1)   # row above's h: c-1, c, c+1
        self.up = nn.Conv2d(hidden, channels, 1)                             # [n,h,H,W] -> [n,2h,H,W]

    def trace(self, x):
        """x [n,2h,H,W] -> (output [n,2h,H,W], h [n,h,H,W], c [n,h,H,W])."""
        n, _, rows, cols = x.shape
        gates_in = self.input_to_state(F.pad(x, (1, 0)))                   # [n,4h,H,W], whole image at once
        h = c = x.new_zeros(n, self.hidden, cols, dtype=torch.float32)      # the (zero) row above row 0
        hs, cs = [], []
        # unbind, not gates_in[:, :, r]: each indexing op would back-propagate a whole zero-filled map
        for row_gates in gates_in.unbind(2):
            ss = self.state_to_state(h.to(gates_in.dtype))                 # [n,4h,W] from the row above
            h, c = _lstm_cell(row_gates.float() + ss.float(), c)            # [n,h,W], float32
            hs.append(h)
            cs.append(c)
        h_map = torch.stack(hs, 2)
        return x + self.up(h_map.to(x.dtype)), h_map, torch.stack(cs, 2)

    def forward(self, x):
        return self.trace(x)[0]


class DiagonalBiLSTMLayer(nn.Module):
    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.input_to_state = nn.Conv2d(channels, 8 * hidden, 1)  # both directions' gates, per pixel
        # per direction (groups=2): taps (row r-1, row r) of the previous skewed column = (above, left)
        self.state_to_state = nn.Conv1d(2 * hidden, 8 * hidden, 2, groups=2)
        self.up = nn.Conv2d(hidden, channels, 1)                  # [n,h,H,W] -> [n,2h,H,W]

    def trace(self, x):
        """x [n,2h,H,W] -> (output, h_left, c_left, h_right, c_right); the states [n,h,H,W] in image
        coordinates, h_right before its one-row shift."""
        n, _, rows, cols = x.shape
        hid = self.hidden
        gates = self.input_to_state(x)                                                  # [n,8h,H,W]
        gates = torch.cat([gates[:, :4 * hid], gates[:, 4 * hid:].flip(3)])             # [2n,4h,H,W], right flipped
        gates = skew(gates).view(2, n, 4 * hid, rows, -1).permute(4, 0, 1, 3, 2)       # [W+H-1,2,n,H,4h]
        # the 2x1 state-to-state conv of both directions as one batched matmul on [above, left] rows:
        # (bmm instead of a grouped conv1d: 5x faster backward on this CPU for these tiny maps)
        w_ss = self.state_to_state.weight.view(2, 4 * hid, hid, 2).permute(0, 3, 2, 1).reshape(2, 2 * hid, 4 * hid)
        b_ss = self.state_to_state.bias.view(2, 1, 4 * hid)
        # states outside the image (the skew's padding) are kept at zero, as the fast sampler assumes
        inside = skew(x.new_ones(1, 1, rows, cols, dtype=torch.float32))[0, 0]          # [H,W+H-1]
        h = c = x.new_zeros(2, n, rows, hid, dtype=torch.float32)                      # column -1
        hs, cs = [], []
        for j, column_gates in enumerate(gates.unbind(0)):  # unbind: see RowLSTMLayer.trace
            above = F.pad(h, (0, 0, 1, 0))[:, :, :rows]                                 # row r: h of row r-1
            taps = torch.cat([above, h], 3).view(2, n * rows, 2 * hid)                  # [2,nH,2h]
            ss = torch.baddbmm(b_ss, taps, w_ss).view(2, n, rows, 4 * hid)
            h, c = _lstm_cell(column_gates.float() + ss.float(), c, dim=3)               # [2,n,H,h]
            h, c = h * inside[:, j, None], c * inside[:, j, None]
            hs.append(h)
            cs.append(c)
        # [W+H-1,2,n,H,h] -> [2n,h,H,W+H-1] -> unskewed [2,n,h,H,W]
        h_map, c_map = (unskew(torch.stack(t, 4).permute(0, 1, 3, 2, 4).reshape(2 * n, hid, rows, -1), cols)
                        .view(2, n, hid, rows, cols) for t in (hs, cs))
        h_left, c_left = h_map[0], c_map[0]
        h_right, c_right = h_map[1].flip(3), c_map[1].flip(3)
        shifted = F.pad(h_right, (0, 0, 1, 0))[:, :, :rows]                             # down one row
        return x + self.up((h_left + shifted).to(x.dtype)), h_left, c_left, h_right, c_right

    def forward(self, x):
        return self.trace(x)[0]


class PixelRNN(AutoregressiveModel):
    def __init__(self, variant: str = "row", hidden: int = 32, layers: int = 4, head: int = 64):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}")
        self.config = {"variant": variant, "hidden": hidden, "layers": layers, "head": head}
        layer = RowLSTMLayer if variant == "row" else DiagonalBiLSTMLayer
        self.input = MaskedConv2d(1, 2 * hidden, 7, "A")                         # [n,1,28,28] -> [n,2h,28,28]
        self.layers = nn.ModuleList(layer(2 * hidden, hidden) for _ in range(layers))
        self.head1 = nn.Conv2d(2 * hidden, head, 1)                              # [n,2h,28,28] -> [n,head,..]
        self.head2 = nn.Conv2d(head, 1, 1)                                       # -> [n,1,28,28] logits

    def head(self, x):
        return self.head2(F.relu(self.head1(F.relu(x))))

    def trace(self, x):
        """Every layer's input and states: [(layer input [n,2h,H,W], *states)], and the final stream."""
        h = self.input(x)
        out = []
        for layer in self.layers:
            res = layer.trace(h)
            out.append((h, *res[1:]))
            h = res[0]
        return out, h

    def forward(self, x):
        """Binary images [n,1,28,28] of 0./1. -> logits of p(x_i = 1 | x_<i), [n,1,28,28]."""
        h = self.input(x)
        for layer in self.layers:
            h = layer(h)
        return self.head(h)

    def fast_complete(self, x, known, u, todo, progress, paint):
        sampler = _RowSampler if self.config["variant"] == "row" else _DiagSampler
        return sampler(self, x).run(x, known, u, todo, _positions(todo), progress, paint)


class _FastSampler:
    """Shared by both variants: the pixel cache of the 7x7 mask-A input conv, the head, the row loop."""

    def __init__(self, model: PixelRNN, x):
        self.model, self.n = model, x.shape[0]
        self.pix = torch.zeros(self.n, H + 3, W + 6)                 # zero padding as the masked conv pads
        self.pix[:, 3:, 3:-3] = x[:, 0]
        self.w_in = _mat(model.input)                                # [28, 2h]: the 4x7 patch
        self.head = (_mat(model.head1), model.head1.bias, _mat(model.head2), model.head2.bias)

    def input_at(self, r, c):
        return torch.addmm(self.model.input.bias, self.pix[:, r:r + 4, c:c + 7].reshape(self.n, -1), self.w_in)

    def logit(self, h):
        w1, b1, w2, b2 = self.head
        return torch.addmm(b2, torch.relu(torch.addmm(b1, torch.relu(h), w1)), w2)[:, 0]

    def run(self, x, known, u, todo, positions, progress, paint):
        if not positions:
            return x
        done, total = 0, len(positions)
        for r in range(positions[0][0], positions[-1][0] + 1):
            self.start_row(r)
            for c in range(W):
                h = self.position(r, c)
                if todo[r, c]:
                    draw = (u[:, 0, r, c] < torch.sigmoid(self.logit(h))).float()
                    x[:, 0, r, c] = torch.where(known[:, 0, r, c], x[:, 0, r, c], draw)
                    done += 1
                self.pix[:, r + 3, c + 3] = x[:, 0, r, c]
            self.end_row(r)
            if todo[r].any() and progress:
                progress(done, total)
            if todo[r].any() and paint:
                paint(x.clone())
        return x


class _RowSampler(_FastSampler):
    def __init__(self, model, x):
        super().__init__(model, x)
        layers, _ = model.trace(x)  # states of the rows above the first unknown pixel are final already
        self.h_maps = [lay[1] for lay in layers]                        # [n,h,H,W] per layer
        self.c_maps = [lay[2] for lay in layers]
        self.inputs = [torch.zeros(self.n, W + 1, l.up.weight.shape[0]) for l in model.layers]  # col -1 = 0
        self.w = [(_mat(l.input_to_state), l.input_to_state.bias, _mat(l.up), l.up.bias) for l in model.layers]

    def start_row(self, r):
        # the state-to-state term of every position in row r: one conv over the finished row above
        self.ss = [l.state_to_state(hm[:, :, r - 1]) if r > 0 else l.state_to_state.bias.view(1, -1, 1)
                   .expand(self.n, -1, W) for l, hm in zip(self.model.layers, self.h_maps)]  # [n,4h,W]
        self.c_above = [cm[:, :, r - 1] if r > 0 else torch.zeros_like(cm[:, :, 0]) for cm in self.c_maps]

    def position(self, r, c):
        h = self.input_at(r, c)                                             # [n,2h]
        for i, (w_is, b_is, w_up, b_up) in enumerate(self.w):
            self.inputs[i][:, c + 1] = h
            patch = self.inputs[i][:, c:c + 2].reshape(self.n, -1)             # (c-1, c) x channels
            gates = torch.addmm(b_is, patch, w_is) + self.ss[i][:, :, c]      # [n,4h]
            hid, cell = _lstm_cell(gates, self.c_above[i][:, :, c])
            self.h_maps[i][:, :, r, c], self.c_maps[i][:, :, r, c] = hid, cell
            h = torch.addmm(h + b_up, hid, w_up)                              # residual, [n,2h]
        return h

    def end_row(self, r):
        pass


class _DiagSampler(_FastSampler):
    def __init__(self, model, x):
        super().__init__(model, x)
        layers, _ = model.trace(x)
        self.inputs = [lay[0] for lay in layers]                       # [n,2h,H,W] layer inputs
        self.left = [[lay[1], lay[2]] for lay in layers]               # h, c [n,h,H,W]
        self.right = [[lay[3], lay[4]] for lay in layers]
        hid = model.config["hidden"]
        self.w = []
        for l in model.layers:
            w_is, w_ss = _mat(l.input_to_state), l.state_to_state.weight    # [2h, 8h], [8h, h, 2]
            self.w.append({
                "is_left": (w_is[:, :4 * hid], l.input_to_state.bias[:4 * hid]),
                "is_right": (w_is[:, 4 * hid:], l.input_to_state.bias[4 * hid:]),
                "ss_left": (w_ss[:4 * hid, :, 0].t(), w_ss[:4 * hid, :, 1].t(), l.state_to_state.bias[:4 * hid]),
                "ss_right": (w_ss[4 * hid:, :, 0].t(), w_ss[4 * hid:, :, 1].t(), l.state_to_state.bias[4 * hid:]),
                "up": (_mat(l.up), l.up.bias)})

    def start_row(self, r):
        pass

    def _state(self, maps, r, c):
        """(h, c) at (r, c) of a direction's maps, zero outside the image."""
        if 0 <= r < H and 0 <= c < W:
            return maps[0][:, :, r, c], maps[1][:, :, r, c]
        z = torch.zeros_like(maps[0][:, :, 0, 0])
        return z, z

    def position(self, r, c):
        h = self.input_at(r, c)
        for i, w in enumerate(self.w):
            self.inputs[i][:, :, r, c] = h
            (w_is, b_is), (w_above, w_left, b_ss) = w["is_left"], w["ss_left"]
            h_above, _ = self._state(self.left[i], r - 1, c)
            h_left, c_left = self._state(self.left[i], r, c - 1)
            gates = torch.addmm(b_is, h, w_is) + b_ss + h_above @ w_above + h_left @ w_left
            hid, cell = _lstm_cell(gates, c_left)
            self.left[i][0][:, :, r, c], self.left[i][1][:, :, r, c] = hid, cell
            right_above, _ = self._state(self.right[i], r - 1, c)  # the right direction, one row down
            w_up, b_up = w["up"]
            h = torch.addmm(h + b_up, hid + right_above, w_up)
        return h

    def end_row(self, r):
        # the right-to-left direction over the finished row r, from its last column to its first
        for i, w in enumerate(self.w):
            (w_is, b_is), (w_above, w_right, b_ss) = w["is_right"], w["ss_right"]
            row_in = self.inputs[i][:, :, r].transpose(1, 2)                 # [n,W,2h]
            h_above = self.right[i][0][:, :, r - 1].transpose(1, 2) if r > 0 else None
            base = row_in @ w_is + b_is + b_ss + (h_above @ w_above if h_above is not None else 0)  # [n,W,4h]
            h_next = c_next = torch.zeros_like(self.right[i][0][:, :, r, 0])
            for c in range(W - 1, -1, -1):
                h_next, c_next = _lstm_cell(base[:, c] + h_next @ w_right, c_next)
                self.right[i][0][:, :, r, c], self.right[i][1][:, :, r, c] = h_next, c_next


def build(config: dict | None = None) -> PixelRNN:
    """The zoo's constructor: a model card's config -> an untrained PixelRNN of that shape."""
    c = {**DEFAULT_CONFIG, **(config or {})}
    return PixelRNN(c["variant"], int(c["hidden"]), int(c["layers"]), int(c["head"]))


def dependency_map(model, images, r: int, c: int) -> torch.Tensor:
    """Which input pixels the logit at (r, c) depends on: |d logit / d x| summed over `images` [n,1,28,28]
    (a union over a few inputs, so a dependency that one image's gates happen to close is still seen).
    Returns [28,28] floats, zero where there is no dependency. Works for any model with logits = model(x)."""
    x = torch.as_tensor(images, dtype=torch.float32).clone().requires_grad_(True)
    with torch.enable_grad():
        model(x)[:, 0, r, c].sum().backward()
    return x.grad.abs().sum(0)[0]
