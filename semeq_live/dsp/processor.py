"""``EQProcessor``: the Python face of the numba kernel.

Thread model (DESIGN.md sections 1 and 5): the control thread calls the ``set_*`` methods, which
only write into a small preallocated target vector under a sequence counter (seqlock); the audio
thread calls ``process_into``, which runs the nogil kernel; the kernel copies the targets only when
the counter says the write is complete. Nothing on the audio path allocates, locks or logs.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager

import numpy as np

from ..params import (
    BAND_INDEX,
    MAX_FREQ_FRACTION,
    N_BANDS,
    as_params,
    clamp_params,
)
from . import kernel as K
from .design import SUBSONIC_DEFAULT_HZ, validate_subsonic_hz


class EQProcessor:
    """A stateful, click-free 5-band SAFE EQ (plus an optional inverse cascade) for any channel count.

    ``smoothing_ms`` is the time constant of parameter changes (0 = jump at the next control tick,
    which clicks: for tests and comparisons only). ``ceiling_db`` is the safety limiter's ceiling in
    dBFS. ``interpolate`` ramps coefficients per sample between control ticks. ``subsonic_hz`` is
    the cutoff of the DC/subsonic protection in front of the EQ (a 24 dB/octave Butterworth
    high-pass; on by default at 20 Hz, 0 = off), which stays on in bypass.
    """

    def __init__(self, sample_rate: float, channels: int, smoothing_ms: float = 20.0,
                 ceiling_db: float = -1.0, release_ms: float = 80.0, interpolate: bool = True,
                 subsonic_hz: float = SUBSONIC_DEFAULT_HZ):
        if sample_rate <= 0 or not math.isfinite(sample_rate):
            raise ValueError(f"sample_rate must be positive, got {sample_rate}")
        if int(channels) < 1:
            raise ValueError(f"channels must be >= 1, got {channels}")
        self.sample_rate = float(sample_rate)
        self.channels = int(channels)
        subsonic_hz = self._checked_subsonic(subsonic_hz)
        self.smoothing_ms = float(smoothing_ms)
        self.ceiling_db = float(ceiling_db)
        self._pending = np.zeros(K.N_PENDING)   # written by the control side (seqlock)
        self._state = np.zeros(K.state_size(self.channels))  # the kernel's own, packed
        self._write_lock = threading.Lock()  # serialises writers only; the audio thread never takes it

        cfg = self._state[K.O_CFG:K.O_CFG + K.N_CFG]
        cfg[K.G_SAMPLE_RATE] = self.sample_rate
        cfg[K.G_CHANNELS] = self.channels
        tau_s = max(self.smoothing_ms, 0.0) / 1000.0 / 2.0  # two cascaded stages share the time constant
        tick_s = K.CONTROL_INTERVAL / self.sample_rate
        cfg[K.G_SMOOTH_COEF] = 1.0 if tau_s <= 0 else 1.0 - math.exp(-tick_s / tau_s)
        cfg[K.G_CEILING] = 10.0 ** (self.ceiling_db / 20.0)
        cfg[K.G_RELEASE_COEF] = 1.0 - math.exp(-1.0 / (max(release_ms, 1.0) / 1000.0 * self.sample_rate))
        cfg[K.G_INTERPOLATE] = 1.0 if interpolate and tau_s > 0 else 0.0
        self._misc = self._state[K.O_MISC:K.O_MISC + K.N_MISC]

        flat = np.zeros(13)
        with self._publish():
            self._pending[K.C_MIX] = 1.0
            self._write_bands(0, flat)
            self._write_bands(N_BANDS, flat)
            self._write_subsonic(subsonic_hz)

    # ------------------------------------------------------------------ control side
    def _write_bands(self, first_band: int, p: np.ndarray, negate: bool = False) -> None:
        p = clamp_params(p, self.sample_rate)
        for i, (gi, fi, qi) in enumerate(BAND_INDEX):
            base = K.C_BANDS + 3 * (first_band + i)
            g = p[gi]
            self._pending[base] = -g if negate else g
            f = min(max(p[fi], 1.0), MAX_FREQ_FRACTION * self.sample_rate)
            self._pending[base + 1] = math.log(f)
            self._pending[base + 2] = math.log(p[qi]) if qi >= 0 else 0.0

    def set_params(self, params, inverse=None) -> None:
        """Set the 13 SAFE parameters; ``inverse`` (13 more) is a setting whose effect is undone.

        Values are clamped to the SAFE ranges (gain +-12 dB, Q 0.1-10, each band's frequency range,
        below 0.45 fs). Changes are smoothed by the kernel.
        """
        self.apply(params, inverse)

    def apply(self, params, inverse=None, *, wet_gain_db: float | None = None,
              output_gain_db: float | None = None, bypass: bool | None = None) -> None:
        """Publish EQ, gains and bypass as *one* update: the audio thread sees all of it or none.

        Arguments left as None keep their current value. Validation happens before anything is
        written, so a bad value changes nothing.
        """
        p = self._checked(params, "params")
        inv = None if inverse is None else self._checked(inverse, "inverse")
        scalars = []
        if wet_gain_db is not None:
            scalars.append((K.C_WET_GAIN_DB, self._finite(wet_gain_db, -24.0, 24.0)))
        if output_gain_db is not None:
            scalars.append((K.C_MASTER_GAIN_DB, self._finite(output_gain_db, -60.0, 24.0)))
        if bypass is not None:
            scalars.append((K.C_MIX, 0.0 if bypass else 1.0))
        with self._publish():
            self._write_bands(0, p)
            if inv is None:
                # Fade the inverse cascade to 0 dB; it is skipped once flat.
                for b in range(N_BANDS, 2 * N_BANDS):
                    self._pending[K.C_BANDS + 3 * b] = 0.0
            else:
                self._write_bands(N_BANDS, inv, negate=True)
            for index, value in scalars:
                self._pending[index] = value

    @staticmethod
    def _checked(values, what: str) -> np.ndarray:
        p = as_params(values)
        if p.ndim != 1 or not np.all(np.isfinite(p)):
            raise ValueError(f"{what} must be 13 finite numbers in SAFE order")
        return p

    @staticmethod
    def _finite(value, lo: float, hi: float) -> float:
        v = float(value)
        if not math.isfinite(v):
            raise ValueError("value must be finite")
        return min(max(v, lo), hi)

    def _checked_subsonic(self, hz) -> float:
        hz = validate_subsonic_hz(hz)
        if hz >= MAX_FREQ_FRACTION * self.sample_rate:
            raise ValueError(f"subsonic_hz {hz:g} is not below {MAX_FREQ_FRACTION:g} x the "
                             f"sample rate ({self.sample_rate:g} Hz)")
        return hz

    def _write_subsonic(self, hz: float) -> None:
        self._subsonic_hz = hz or None
        if hz > 0.0:
            self._pending[K.C_SUB_LN_F] = math.log(hz)
            self._pending[K.C_SUB_MIX] = 1.0
        else:  # keep the last cutoff: switching back on fades in the same filter
            if self._pending[K.C_SUB_LN_F] == 0.0:
                self._pending[K.C_SUB_LN_F] = math.log(SUBSONIC_DEFAULT_HZ)
            self._pending[K.C_SUB_MIX] = 0.0

    def set_subsonic_hz(self, hz: float) -> None:
        """Move the protection's cutoff (smoothed), or switch it on or off (0; crossfaded)."""
        hz = self._checked_subsonic(hz)
        with self._publish():
            self._write_subsonic(hz)

    @property
    def subsonic_hz(self) -> float | None:
        """The protection's published cutoff in Hz, or None when it is switched off."""
        return self._subsonic_hz

    def set_output_gain_db(self, gain_db: float) -> None:
        """Master output gain in dB (smoothed, applies in bypass too)."""
        self._set_scalar(K.C_MASTER_GAIN_DB, self._finite(gain_db, -60.0, 24.0))

    def set_wet_gain_db(self, gain_db: float) -> None:
        """Gain of the EQ path only, in dB: where auto-gain compensation goes (smoothed)."""
        self._set_scalar(K.C_WET_GAIN_DB, self._finite(gain_db, -24.0, 24.0))

    def set_bypass(self, bypass: bool) -> None:
        """Bypass the EQ with a crossfade; the filters keep running so re-engaging is seamless."""
        self._set_scalar(K.C_MIX, 0.0 if bypass else 1.0)

    def panic(self) -> None:
        """Instant bypass and EQ filter reset, applied at the start of the next block.

        The subsonic protection keeps running (and keeps its state): bypass plays the protected
        input."""
        with self._publish():
            self._pending[K.C_MIX] = 0.0
            self._pending[K.C_RESET] += 1.0

    def _set_scalar(self, index: int, value: float) -> None:
        with self._publish():
            self._pending[index] = value

    # ------------------------------------------------------------------ audio side
    @contextmanager
    def _publish(self):
        """Seqlock write: the counter is odd while the targets are being changed."""
        with self._write_lock:
            self._pending[K.P_SEQ] += 1.0
            try:
                yield
            finally:
                self._pending[K.P_SEQ] += 1.0

    @property
    def publish_seq(self) -> int:
        """Sequence number of the newest published targets (even; 2 per change)."""
        return int(self._pending[K.P_SEQ])

    @property
    def applied_seq(self) -> int:
        """Sequence number of the targets the audio thread has picked up."""
        return int(self._misc[K.M_APPLIED_SEQ])

    def process_into(self, block: np.ndarray, out: np.ndarray) -> None:
        """Process ``block`` ``[frames, channels]`` float32 into ``out`` (may be the same array).

        Allocation-free: safe to call from an audio callback.
        """
        K.process_block(block, out, self._pending, self._state)

    def process(self, block) -> np.ndarray:
        """Process a ``[frames, channels]`` block and return the result as a new float32 array."""
        x = np.asarray(block, dtype=np.float32)
        if x.ndim == 1 and self.channels == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.channels:
            raise ValueError(f"expected a [frames, {self.channels}] block, got shape {x.shape}")
        x = np.ascontiguousarray(x)
        out = np.empty_like(x)
        self.process_into(x, out)
        return out

    def reset(self) -> None:
        """Clear filter state and snap smoothed values to their targets (next block)."""
        with self._publish():
            self._pending[K.C_RESET] += 1.0

    # ------------------------------------------------------------------ introspection
    @property
    def settled(self) -> bool:
        """True when every smoothed parameter sits on its target."""
        return self._misc[K.M_SETTLED] == 1.0

    @property
    def nan_resets(self) -> int:
        return int(self._misc[K.M_NAN_RESETS])

    @property
    def limiter_gain_db(self) -> float:
        return 20.0 * math.log10(max(self._misc[K.M_LIMITER_GAIN], 1e-12))

    @property
    def limited_samples(self) -> int:
        return int(self._misc[K.M_LIMITING])


def warmup() -> None:
    """Compile (or load from numba's cache) the kernel before any stream starts."""
    p = EQProcessor(48000, 2)
    p.process(np.zeros((64, 2), dtype=np.float32))
    p = EQProcessor(48000, 1)
    p.process(np.zeros((64, 1), dtype=np.float32))
