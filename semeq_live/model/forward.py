"""numpy forward passes mirroring ``training.nets.ResidualMLP`` (tested against torch to 1e-5).

``x -> silu(W_in x + b) -> [h + W2 silu(W1 h + b1) + b2] per block -> W_out h + b``.

Weights are kept transposed (``[in, out]``) and C-contiguous so a batch is ``x @ W`` and a single
vector goes through the same code without reshaping. No allocation beyond the small temporaries
numpy makes; no validation per call (arrays are checked once, at load time): a single-vector
decode costs a handful of microseconds.
"""

from __future__ import annotations

import numpy as np


def silu(x: np.ndarray) -> np.ndarray:
    # x * sigmoid(x), with sigmoid written through tanh: no overflow warning for any input.
    return x * (0.5 + 0.5 * np.tanh(0.5 * x))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 + 0.5 * np.tanh(0.5 * x)


class ResidualMLP:
    """Weights of one network, loaded from the arrays ``{prefix}.in.w`` ... of the model file."""

    __slots__ = ("w_in", "b_in", "blocks", "w_out", "b_out", "n_in", "n_out")

    def __init__(self, arrays: dict, prefix: str):
        def t(name):  # torch stores [out, in]; keep [in, out] for x @ W
            return np.ascontiguousarray(np.asarray(arrays[f"{prefix}.{name}"], dtype=np.float64).T)

        def v(name):
            return np.ascontiguousarray(np.asarray(arrays[f"{prefix}.{name}"], dtype=np.float64))

        self.w_in, self.b_in = t("in.w"), v("in.b")
        self.w_out, self.b_out = t("out.w"), v("out.b")
        n_blocks = sum(1 for k in arrays if k.startswith(f"{prefix}.block") and k.endswith(".w1"))
        self.blocks = tuple((t(f"block{i}.w1"), v(f"block{i}.b1"), t(f"block{i}.w2"), v(f"block{i}.b2"))
                            for i in range(n_blocks))
        self.n_in, self.n_out = self.w_in.shape[0], self.w_out.shape[1]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        h = silu(x @ self.w_in + self.b_in)
        for w1, b1, w2, b2 in self.blocks:
            h = h + (silu(h @ w1 + b1) @ w2 + b2)
        return h @ self.w_out + self.b_out
