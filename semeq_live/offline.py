"""Offline rendering: a sound file through the same engine the live path uses, block by block.

Output keeps the input's sample rate, channel count and (where the output format allows it) its
subtype. The file is written to a temporary name beside the target and moved into place only when
complete, so an interrupted render never leaves a half-written file under the requested name.

Nothing is lost by a typo: the output may never be the input itself (also not through a hard or
symbolic link), and an existing file is only replaced when asked (``force``). An input shorter
than its header says (a recording cut off by a crash or a full disk) is rendered as far as it
goes, and the report says how much was missing.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import CLIError
from .fileio import atomic_output

DEFAULT_BLOCK = 512
RENDER_TAG = "semeq-live render"  # written into the output's metadata (software)
DEMO_TAG = "semeq-live demo"      # the no-audio demo: its own file may be replaced knowingly


def check_output(in_path, out_path, force: bool = False) -> None:
    """Refuse an output that is the input (same file, also via a link), and an existing output
    unless ``force``. Raises ``CLIError``; nothing has been written when it does."""
    in_path, out_path = Path(in_path), Path(out_path)
    if not os.path.lexists(out_path):
        return
    try:
        same = out_path.exists() and in_path.exists() and os.path.samefile(in_path, out_path)
    except OSError:
        same = False
    if same:
        how = "" if out_path.absolute() == in_path.absolute() else " (through a link)"
        raise CLIError(f"{out_path}: that is the input file{how}; rendering onto it would destroy "
                       "the original. Choose another output name")
    if not force:
        raise CLIError(f"{out_path}: the file exists; add --force to replace it (nothing was "
                       "written)")


def declared_frames(path, frames_seen_by_reader: int) -> int:
    """Frames the file's header promises. libsndfile trims a WAV's or AIFF's count to what the
    file holds, so their headers are read here; other formats (FLAC) report the header's count."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) == 12 and head[:4] in (b"RIFF", b"RIFX") and head[8:] == b"WAVE":
                return _riff_frames(f, "<" if head[:4] == b"RIFF" else ">", frames_seen_by_reader)
            if len(head) == 12 and head[:4] == b"FORM" and head[8:] in (b"AIFF", b"AIFC"):
                return _aiff_frames(f, frames_seen_by_reader)
    except OSError:
        pass
    return frames_seen_by_reader


def _riff_frames(f, endian: str, fallback: int) -> int:
    block_align = None
    while True:
        hdr = f.read(8)
        if len(hdr) < 8:
            return fallback
        cid, size = hdr[:4], struct.unpack(endian + "I", hdr[4:])[0]
        if cid == b"fmt ":
            fmt = f.read(size)
            if len(fmt) >= 14:
                block_align = struct.unpack(endian + "H", fmt[12:14])[0]
            f.seek(size & 1, 1)
            continue
        if cid == b"data":
            if not block_align or size in (0, 0xFFFFFFFF):  # unknown length (a stream)
                return fallback
            return max(size // block_align, fallback)
        f.seek(size + (size & 1), 1)


def _aiff_frames(f, fallback: int) -> int:
    while True:
        hdr = f.read(8)
        if len(hdr) < 8:
            return fallback
        cid, size = hdr[:4], struct.unpack(">I", hdr[4:])[0]
        if cid == b"COMM":
            comm = f.read(size)
            if len(comm) >= 6:
                return max(struct.unpack(">I", comm[2:6])[0], fallback)
            return fallback
        f.seek(size + (size & 1), 1)


def make_room_for_demo(path) -> Path | None:
    """Before the demo renders to ``path``: an earlier demo there is replaced knowingly; any other
    file is moved aside (``name.YYYYmmdd-HHMMSS.wav``, like ``--record``) and its new path
    returned, so a second run never fails and never destroys a file it did not make."""
    import soundfile as sf

    from .fileio import move_aside

    path = Path(path)
    if not os.path.lexists(path):
        return None
    try:
        with sf.SoundFile(str(path)) as f:
            if (f.software or "").startswith(DEMO_TAG):  # libsndfile may append its version
                return None
    except Exception:  # noqa: BLE001 - not a sound file we can read: certainly not our demo
        pass
    return move_aside(path)


def open_input(path):
    import soundfile as sf

    if not Path(path).is_file():
        raise CLIError(f"{path}: no such file")
    try:
        return sf.SoundFile(str(path))
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except (RuntimeError, sf.LibsndfileError) as exc:
        raise CLIError(f"{path}: cannot read this audio file ({exc}); use WAV, FLAC, OGG or AIFF") from None


def output_subtype(in_subtype: str, out_path: Path) -> tuple[str, str]:
    """(format, subtype) for the output: same subtype as the input where the format supports it."""
    import soundfile as sf

    fmt = {"wav": "WAV", "flac": "FLAC", "ogg": "OGG", "aiff": "AIFF", "aif": "AIFF"}.get(
        out_path.suffix.lower().lstrip("."))
    if fmt is None:
        raise CLIError(f"{out_path}: unknown output format; use .wav, .flac, .ogg or .aiff")
    if sf.check_format(fmt, in_subtype):
        return fmt, in_subtype
    return fmt, sf.default_subtype(fmt)


def render_file(in_path, out_path, process_block: Callable[[np.ndarray, int], np.ndarray],
                block_size: int = DEFAULT_BLOCK, progress: bool = True,
                description: str = "rendering", *, force: bool = False,
                software: str = RENDER_TAG) -> dict:
    """Read ``in_path`` in blocks, call ``process_block(block, start_frame)``, write ``out_path``.

    ``process_block`` gets float32 ``[frames, channels]`` and returns the processed block. Returns a
    small report (frames, seconds, sample rate, channels, subtype, and ``truncated`` with the
    frames found and expected when the input is shorter than its header says). The output must
    not be the input, and an existing output is only replaced with ``force`` (``check_output``).
    """
    import soundfile as sf

    in_path, out_path = Path(in_path), Path(out_path)
    check_output(in_path, out_path, force)
    with open_input(in_path) as src:
        fmt, subtype = output_subtype(src.subtype, out_path)
        total = declared_frames(in_path, src.frames)
        done = 0
        unreadable = []
        try:
            with atomic_output(out_path, suffix=".partial") as tmp, \
                    sf.SoundFile(str(tmp), "w", samplerate=src.samplerate, channels=src.channels,
                                 format=fmt, subtype=subtype) as dst, \
                    _progress(progress, total, description) as tick:
                _tag(dst, software)
                for block in _readable_blocks(src, block_size, unreadable):
                    out = process_block(np.ascontiguousarray(block), done)
                    dst.write(out)
                    done += len(block)
                    tick(len(block))
        except (OSError, sf.SoundFileRuntimeError) as exc:
            # Unwritable folder, full disk, a directory in the way: say so, keep what was there.
            reason = getattr(exc, "strerror", None) or str(exc)
            raise CLIError(f"{out_path}: cannot write the output ({reason}); nothing was changed "
                           "at that path") from None
        report = {"frames": done, "seconds": done / src.samplerate, "sample_rate": src.samplerate,
                  "channels": src.channels, "subtype": subtype, "output": str(out_path),
                  "truncated": None}
        if done < total:
            report["truncated"] = {"frames_found": done, "frames_expected": total,
                                   "seconds_missing": (total - done) / src.samplerate,
                                   "read_error": unreadable[0] if unreadable else None}
        return report


def truncation_warning(in_path, report: dict) -> str | None:
    """One line for the user when ``render_file`` found the input shorter than its header."""
    t = report.get("truncated")
    if not t:
        return None
    sr = report["sample_rate"]
    return (f"warning: {in_path} is shorter than its header says: {t['frames_found']} of "
            f"{t['frames_expected']} frames ({t['frames_found'] / sr:.2f} of "
            f"{t['frames_expected'] / sr:.2f} s) could be read; rendered what is there")


def _readable_blocks(src, block_size: int, unreadable: list):
    """``src.blocks`` that stops (noting why in ``unreadable``) where a damaged file stops
    decoding, instead of failing the render: what was read is kept."""
    import soundfile as sf

    blocks = src.blocks(blocksize=block_size, dtype="float32", always_2d=True)
    while True:
        try:
            block = next(blocks)
        except StopIteration:
            return
        except (sf.LibsndfileError, RuntimeError) as exc:
            unreadable.append(str(exc))
            return
        yield block


def _tag(dst, software: str) -> None:
    try:
        dst.software = software
    except Exception:  # noqa: BLE001 - a format without metadata (the tag is a courtesy)
        pass


class _progress:
    """A rich progress bar for long files (only on a terminal); a no-op otherwise."""

    def __init__(self, enabled: bool, total: int, description: str):
        self.enabled = enabled and total > 0 and _is_tty()
        self.total = total
        self.description = description
        self._bar = None

    def __enter__(self):
        if not self.enabled:
            return lambda n: None
        from rich.progress import BarColumn, Progress, TimeRemainingColumn

        self._bar = Progress("[progress.description]{task.description}", BarColumn(),
                             "[progress.percentage]{task.percentage:>3.0f}%", TimeRemainingColumn(),
                             transient=True)
        self._bar.__enter__()
        task = self._bar.add_task(self.description, total=self.total)
        return lambda n: self._bar.advance(task, n)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)
        return False


def _is_tty() -> bool:
    import sys

    return sys.stderr.isatty()


class _NoMetrics:
    """Offline there is no audio callback to time: published targets are simply not recorded."""

    def target_published(self, *args) -> None:
        pass


class SemanticSession:
    """The live control path, driven block by block from a file instead of a sound card.

    Same pieces as the live app (``ControlState`` -> mapping/controller -> control loop ->
    ``SemanticEngine`` -> ``EQProcessor``, plus the input ``Analyzer``), but deterministic: MIDI
    messages are applied before the block they fall in, and the analyzer is updated every
    ``analysis_interval_s`` of *audio* time, so a render is the same on every machine.
    """

    def __init__(self, sample_rate: int, channels: int, state, model=None, mapping=None,
                 performance=None, scenes=None, block_size: int = DEFAULT_BLOCK,
                 smoothing_ms: float = 20.0, ceiling_db: float = -1.0,
                 analysis_interval_s: float = 0.1, reference=None, subsonic_hz: float | None = None,
                 max_boost_db: float | None = None):
        from .analysis import Analyzer
        from .control.loop import LiveControl
        from .control.engine import SemanticEngine
        from .dsp import EQProcessor
        from .model import load_model

        self.model = model if model is not None else load_model()
        self.sample_rate = int(sample_rate)
        self.block_size = int(block_size)
        self.state = state
        protection = {} if subsonic_hz is None else {"subsonic_hz": subsonic_hz}  # None: default
        self.processor = EQProcessor(sample_rate, channels, smoothing_ms=smoothing_ms,
                                     ceiling_db=ceiling_db, **protection)
        # The default reference is "auto": the built-in that fits the source (a voice or music).
        self.analyzer = Analyzer(sample_rate, channels, self.model, reference="auto")
        if reference is not None:
            self.analyzer.load_reference(reference)
        self.engine = SemanticEngine(self.model, sample_rate, max_boost_db=max_boost_db)
        self.controller = None
        if mapping is not None:
            from .midi import MidiController, resolve_palette

            # the same palette as live, so a performance steps through the same words
            self.controller = MidiController(mapping, state, resolve_palette(mapping, self.model),
                                             scenes=scenes)
        self.scheduler = None
        if performance is not None:
            from .midi import BlockScheduler

            self.scheduler = BlockScheduler(performance, self.sample_rate, self.block_size)
        self.control = LiveControl(state, self.engine, self.processor, _NoMetrics(),
                                   terms=self.model.terms, controller=self.controller,
                                   scenes=scenes, analyzer=self.analyzer)
        self._analysis_every = max(1, int(round(analysis_interval_s * sample_rate)))
        self._next_analysis = self._analysis_every
        self.timeline: list[dict] = []  # one entry per state change: for reports and tests
        self.control.on_event = self._record
        self.control.publish(0.0, source="start")
        self.messages = 0

    def _record(self, kind, fields) -> None:
        if kind == "state":
            self.timeline.append({"frame": self._frame, **{k: v for k, v in fields.items()
                                                           if k not in ("seq", "t_arrival")}})

    _frame = 0

    def process(self, block: np.ndarray, start_frame: int) -> np.ndarray:
        from .control.loop import ControlEvent

        self._frame = start_frame
        if self.scheduler is not None:
            for msg in self.scheduler.due(start_frame // self.block_size):
                self.messages += 1
                self.control.handle(ControlEvent("midi", msg, "performance", start_frame / self.sample_rate))
        self.analyzer.push(block)
        end = start_frame + len(block)
        if end >= self._next_analysis:
            self._next_analysis = (end // self._analysis_every + 1) * self._analysis_every
            estimate = self.analyzer.update()
            self.control.handle(ControlEvent("estimate", estimate, None, end / self.sample_rate))
        return self.processor.process(block)

    @property
    def settings(self):
        return self.control.settings
