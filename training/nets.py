"""The networks (torch): residual MLP encoder, decoder with bounded heads, curve encoder.

All three are one ``ResidualMLP`` shape (input layer, residual blocks, output layer, SiLU), so the
numpy runtime (``semeq_live.model.forward``) has a single forward pass to mirror, and the export is
a flat list of named arrays.

Parameter coding (shared by encoder input and decoder heads; exported in the ``.npz``):
every parameter ``v`` is mapped to ``u = (t(v) - lo) / (hi - lo)`` in ``[0, 1]`` where ``t`` is the
identity for gains (range +-12 dB) and ``log`` for frequencies (each band's SAFE range) and Q
(0.1-10). The encoder sees ``2u - 1``; the decoder's head emits ``u = sigmoid(r)``, so gains are
``12 tanh(r / 2)`` and frequency/Q move on a log scale inside their ranges: never out of range.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from semeq_live.params import (
    FREQ_INDEX,
    FREQ_RANGES_HZ,
    GAIN_INDEX,
    GAIN_RANGE_DB,
    N_PARAMS,
    Q_INDEX,
    Q_RANGE,
)


def param_coding() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(is_log, lo, hi)``, each ``[13]``; ``lo``/``hi`` are in log units where ``is_log``."""
    is_log = np.zeros(N_PARAMS, dtype=bool)
    lo = np.zeros(N_PARAMS)
    hi = np.zeros(N_PARAMS)
    lo[GAIN_INDEX], hi[GAIN_INDEX] = GAIN_RANGE_DB
    for band, idx in enumerate(FREQ_INDEX):
        is_log[idx] = True
        lo[idx], hi[idx] = np.log(FREQ_RANGES_HZ[band])
    is_log[Q_INDEX] = True
    lo[Q_INDEX], hi[Q_INDEX] = np.log(Q_RANGE)
    return is_log, lo, hi


class ParamCoding(nn.Module):
    def __init__(self):
        super().__init__()
        is_log, lo, hi = param_coding()
        self.register_buffer("is_log", torch.tensor(is_log))
        # float64 so the numpy runtime gets bit-identical constants; cast to the input's dtype.
        self.register_buffer("lo", torch.tensor(lo, dtype=torch.float64))
        self.register_buffer("span", torch.tensor(hi - lo, dtype=torch.float64))

    def encode(self, params: torch.Tensor) -> torch.Tensor:
        """SAFE parameters -> ``[-1, 1]`` per parameter."""
        t = torch.where(self.is_log, torch.log(params.clamp_min(1e-6)), params)
        return 2.0 * (t - self.lo.to(params.dtype)) / self.span.to(params.dtype) - 1.0

    def decode_unit(self, u: torch.Tensor) -> torch.Tensor:
        """``u`` in ``[0, 1]`` -> SAFE parameters."""
        t = self.lo.to(u.dtype) + self.span.to(u.dtype) * u
        return torch.where(self.is_log, torch.exp(t), t)


class ResidualBlock(nn.Module):
    def __init__(self, width: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, h):
        return h + self.fc2(nn.functional.silu(self.fc1(h)))


class ResidualMLP(nn.Module):
    """``x -> silu(W_in x) -> [h + W2 silu(W1 h)] * n_blocks -> W_out h``."""

    def __init__(self, n_in: int, n_out: int, width: int = 128, hidden: int = 256, n_blocks: int = 1):
        super().__init__()
        self.inp = nn.Linear(n_in, width)
        self.blocks = nn.ModuleList(ResidualBlock(width, hidden) for _ in range(n_blocks))
        self.out = nn.Linear(width, n_out)

    def forward(self, x):
        h = nn.functional.silu(self.inp(x))
        for block in self.blocks:
            h = block(h)
        return self.out(h)

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Weights as float64 arrays named ``{prefix}.in.w`` ... for the ``.npz``."""
        out = {f"{prefix}.in.w": self.inp.weight, f"{prefix}.in.b": self.inp.bias,
               f"{prefix}.out.w": self.out.weight, f"{prefix}.out.b": self.out.bias}
        for i, b in enumerate(self.blocks):
            out.update({f"{prefix}.block{i}.w1": b.fc1.weight, f"{prefix}.block{i}.b1": b.fc1.bias,
                        f"{prefix}.block{i}.w2": b.fc2.weight, f"{prefix}.block{i}.b2": b.fc2.bias})
        return {k: v.detach().double().cpu().numpy() for k, v in out.items()}

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> "ResidualMLP":
        """Rebuild from exported arrays (float64), e.g. to compare numpy with torch."""
        w_in, w_out = arrays[f"{prefix}.in.w"], arrays[f"{prefix}.out.w"]
        n_blocks = sum(1 for k in arrays if k.startswith(f"{prefix}.block") and k.endswith(".w1"))
        hidden = arrays[f"{prefix}.block0.w1"].shape[0] if n_blocks else 1
        net = cls(w_in.shape[1], w_out.shape[0], w_in.shape[0], hidden, n_blocks).double()
        with torch.no_grad():
            net.inp.weight.copy_(torch.as_tensor(w_in))
            net.inp.bias.copy_(torch.as_tensor(arrays[f"{prefix}.in.b"]))
            net.out.weight.copy_(torch.as_tensor(w_out))
            net.out.bias.copy_(torch.as_tensor(arrays[f"{prefix}.out.b"]))
            for i, b in enumerate(net.blocks):
                b.fc1.weight.copy_(torch.as_tensor(arrays[f"{prefix}.block{i}.w1"]))
                b.fc1.bias.copy_(torch.as_tensor(arrays[f"{prefix}.block{i}.b1"]))
                b.fc2.weight.copy_(torch.as_tensor(arrays[f"{prefix}.block{i}.w2"]))
                b.fc2.bias.copy_(torch.as_tensor(arrays[f"{prefix}.block{i}.b2"]))
        return net


class Encoder(nn.Module):
    """13 SAFE parameters -> tanh-bounded latent (13 -> 128 -> 256 -> 128 -> latent)."""

    def __init__(self, latent: int = 32, width: int = 128, hidden: int = 256):
        super().__init__()
        self.coding = ParamCoding()
        self.mlp = ResidualMLP(N_PARAMS, latent, width, hidden)

    def forward(self, params):
        return torch.tanh(self.mlp(self.coding.encode(params)))


class Decoder(nn.Module):
    """Latent -> 13 SAFE parameters through bounded heads (never out of the SAFE ranges)."""

    def __init__(self, latent: int = 32, width: int = 128, hidden: int = 256):
        super().__init__()
        self.coding = ParamCoding()
        self.mlp = ResidualMLP(latent, N_PARAMS, width, hidden)

    def forward(self, z):
        return self.coding.decode_unit(torch.sigmoid(self.mlp(z)))

    @classmethod
    def from_arrays(cls, arrays) -> "Decoder":
        """A float64 torch decoder with the exported weights (bench and tests)."""
        mlp = ResidualMLP.from_arrays(arrays, "decoder")
        dec = cls(mlp.inp.in_features, mlp.inp.out_features).double()
        dec.mlp = mlp
        return dec


class ProjectionHead(nn.Module):
    """Latent -> unit vector for the supervised contrastive loss (discarded after training)."""

    def __init__(self, latent: int = 32, dim: int = 32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent, 64), nn.SiLU(), nn.Linear(64, dim))

    def forward(self, z):
        return nn.functional.normalize(self.net(z), dim=-1)


class CurveEncoder(nn.Module):
    """A level-free deviation curve on the analysis bands -> the audio latent (tanh-bounded).

    The input is prepared by the caller (``training.curves.prepare_curve``): mean over the mid
    bands removed, divided by ``curve_scale`` dB.
    """

    def __init__(self, n_bands: int, latent: int = 32, width: int = 128, hidden: int = 256):
        super().__init__()
        self.mlp = ResidualMLP(n_bands, latent, width, hidden)

    def forward(self, x):
        return torch.tanh(self.mlp(x))
