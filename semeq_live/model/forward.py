"""numpy forward passes mirroring ``training.nets.ResidualMLP`` (tested against torch to 1e-5).

``x -> silu(W_in x + b) -> [h + W2 silu(W1 h + b1) + b2] per block -> W_out h + b``.

Written for the cost of a *single* vector, where numpy's per-call overhead rivals the arithmetic
(measured with ``semeq-live bench --only model``):

- weights kept as ``[in, out]``, C-contiguous, so one vector or a batch is ``np.dot(x, W)``
  (``np.dot`` has less dispatch overhead than ``@`` for one vector);
- ``silu(x) = x sigmoid(x) = a + a tanh(a)`` with ``a = x / 2``: the halving is folded into the
  stored weights of every layer that feeds a SiLU, leaving 3 elementwise calls instead of 5;
- ``out_scale`` folds a constant into the output layer the same way (the decoder's sigmoid head
  is ``0.5 + 0.5 tanh(r / 2)``);
- optional float32 arithmetic (the decoder: it is what the weights were trained in, and halves the
  memory each vector drags through; agreement with torch float32 stays ~1e-7);
- residual-block output biases folded into the biases downstream (one call less per block);
- in-place updates on fresh temporaries, no validation per call (arrays are checked once, at load).
"""

from __future__ import annotations

import numpy as np


class ResidualMLP:
    """Weights of one network, loaded from the arrays ``{prefix}.in.w`` ... of the model file."""

    __slots__ = ("w_in", "b_in", "blocks", "w_out", "b_out", "n_in", "n_out", "dtype")

    def __init__(self, arrays: dict, prefix: str, dtype=np.float64, out_scale: float = 1.0,
                 out_order=None):
        self.dtype = np.dtype(dtype)

        def t(name, scale=1.0):  # torch stores [out, in]; keep [in, out] for x @ W
            w = np.asarray(arrays[f"{prefix}.{name}"], dtype=np.float64).T * scale
            return np.ascontiguousarray(w, dtype=self.dtype)

        def v(name, scale=1.0):
            b = np.asarray(arrays[f"{prefix}.{name}"], dtype=np.float64) * scale
            return np.ascontiguousarray(b, dtype=self.dtype)

        self.w_in, self.b_in = t("in.w", 0.5), v("in.b", 0.5)
        n_blocks = sum(1 for k in arrays if k.startswith(f"{prefix}.block") and k.endswith(".w1"))
        # Each block's output bias b2 is a constant added to the residual stream; instead of adding
        # it per call, carry it (``offset``) into the biases of the layers that read the stream.
        offset = np.zeros(np.asarray(arrays[f"{prefix}.in.b"]).shape[0])
        blocks = []
        for i in range(n_blocks):
            w1 = np.asarray(arrays[f"{prefix}.block{i}.w1"], dtype=np.float64).T
            b1 = np.asarray(arrays[f"{prefix}.block{i}.b1"], dtype=np.float64) + offset @ w1
            blocks.append((np.ascontiguousarray(0.5 * w1, dtype=self.dtype),
                           np.ascontiguousarray(0.5 * b1, dtype=self.dtype), t(f"block{i}.w2")))
            offset = offset + np.asarray(arrays[f"{prefix}.block{i}.b2"], dtype=np.float64)
        self.blocks = tuple(blocks)
        w_out = np.asarray(arrays[f"{prefix}.out.w"], dtype=np.float64).T
        b_out = np.asarray(arrays[f"{prefix}.out.b"], dtype=np.float64) + offset @ w_out
        self.w_out = np.ascontiguousarray(out_scale * w_out, dtype=self.dtype)
        self.b_out = np.ascontiguousarray(out_scale * b_out, dtype=self.dtype)
        if out_order is not None:  # permute outputs (lets the decoder head work on slices)
            self.w_out = np.ascontiguousarray(self.w_out[:, out_order])
            self.b_out = np.ascontiguousarray(self.b_out[out_order])
        self.n_in, self.n_out = self.w_in.shape[0], self.w_out.shape[1]

    def __call__(self, x) -> np.ndarray:
        """``x [..., n_in]`` -> ``out_scale * net(x)`` ``[..., n_out]`` in ``self.dtype``."""
        a = np.dot(np.asarray(x, dtype=self.dtype), self.w_in)
        a += self.b_in
        h = a * np.tanh(a)
        h += a
        for w1, b1, w2 in self.blocks:
            a = np.dot(h, w1)
            a += b1
            s = a * np.tanh(a)
            s += a
            h += np.dot(s, w2)  # (+ b2, folded into the later biases)
        r = np.dot(h, self.w_out)
        r += self.b_out
        return r
