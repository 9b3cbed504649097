"""The live app: audio stream, control thread, analyzer, MIDI, keyboard and panel or headless log.

Threads (DESIGN.md section 1): the audio callback (``audio.engine``), the control thread
(``control.loop``: MIDI/keyboard -> state -> decoder -> processor), the analyzer thread, the
panel thread (or, headless, this module's supervision loop writing the log), MIDI port threads.
The main thread supervises: signals, a lost audio device, MIDI reconnects, health lines.

Losing the audio server: PortAudio's JACK host API cannot be torn down once the server has died
(aborting the stream hangs, ``Pa_Terminate`` asserts), so when closing the dead stream does not
return, the app saves its control state and replaces its own process image (``os.execv``) with
the same command. The PID, stdout/journal and systemd supervision stay; the new image waits for
the device, restores the state, appends to the same recording and carries on. With a device whose
stream closes normally (ALSA), the retry happens in-process.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from .control.state import ControlState
from .errors import CLIError, DeviceError, SemeqError

RESUME_ENV = "SEMEQ_LIVE_RESUME"  # path of the saved state when the process image was replaced
DEVICE_RETRY_S = 1.0
MIDI_RETRY_S = 2.0
XRUN_CHECK_S = 0.25
STATUS_FLUSH_S = 0.1
STARTUP_GAIN_DB = -60.0  # the kernel's gain floor: silent until the EQ is ready, then a fade-in
WARM_UP_JOIN_S = 30.0  # at exit, how long to let the control-path warm-up finish (a cold cache: seconds)


@dataclass
class StageConfig:
    """Everything ``semeq-live run`` needs; the YAML stage file sets defaults, the CLI overrides."""

    mapping: str | None = None
    model: str | None = None
    scenes: str | None = None
    reference: str | None = None
    midi_port: list = field(default_factory=list)
    midi_api: str = "alsa"
    input_device: str | None = None
    output_device: str | None = None
    sample_rate: int = 48000
    block_size: int = 128
    channels: int = 2
    input_file: str | None = None
    test_signal: str | None = None
    record: str | None = None
    headless: bool = False
    keyboard: bool = True
    panel_rate: float = 5.0
    health_interval_s: float = 10.0
    wait_for_device: bool = False
    smoothing_ms: float = 20.0
    ceiling_db: float = -1.0
    max_boost_db: float | None = None  # the boost cap of the applied EQ (None: the EQ's +12 dB range)
    subsonic_hz: float = 20.0  # DC/subsonic protection in the kernel (dsp.design); 0 = off
    term_a: str | None = None
    term_b: str | None = None
    alpha: float | None = None
    intensity: float | None = None
    autogain: bool = True
    adaptive: bool = True

    def validate(self) -> "StageConfig":
        if self.midi_api not in ("alsa", "jack"):
            raise CLIError(f"midi_api must be 'alsa' or 'jack', not {self.midi_api!r}")
        if not 8000 <= self.sample_rate <= 192000:
            raise CLIError(f"sample rate {self.sample_rate} Hz is outside 8000..192000")
        if not 16 <= self.block_size <= 8192:
            raise CLIError(f"block size {self.block_size} is outside 16..8192 frames")
        if not 1 <= self.channels <= 32:
            raise CLIError(f"channels must be 1..32, not {self.channels}")
        if self.input_file and self.test_signal:
            raise CLIError("use either --input-file or --test-signal, not both")
        if self.input_file and self.record and _same_file(self.input_file, self.record):
            raise CLIError(f"--record {self.record} is the --input-file itself; record to another "
                           "file (an existing take is kept, moved aside)")
        if self.panel_rate <= 0 or self.health_interval_s <= 0:
            raise CLIError("panel_rate and health_interval_s must be positive")
        from .control.boost_cap import check_max_boost_db
        from .dsp.design import validate_subsonic_hz

        try:
            self.max_boost_db = check_max_boost_db(self.max_boost_db)
            self.subsonic_hz = validate_subsonic_hz(self.subsonic_hz)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        if self.reference:
            from .analysis.reference import ReferenceFileError, check_reference_spec

            try:
                check_reference_spec(self.reference)
            except ReferenceFileError as exc:
                raise CLIError(str(exc)) from None
        return self


def _same_file(a, b) -> bool:
    """True if the paths name one file (also through a link), or the same path when absent."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).absolute() == Path(b).absolute()


def load_stage_config(path) -> dict:
    """Read a YAML file of stage defaults (keys as in ``StageConfig``, '-' or '_' both fine)."""
    import difflib

    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise CLIError(f"{path}: cannot read the config file ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise CLIError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CLIError(f"{path}: expected a mapping of settings (e.g. 'block_size: 128')")
    known = {f.name: f for f in fields(StageConfig)}
    out = {}
    for raw_key, value in data.items():
        key = str(raw_key).replace("-", "_")
        if key not in known:
            near = difflib.get_close_matches(key, known, n=2)
            hint = f" (did you mean {' or '.join(near)}?)" if near else ""
            raise CLIError(f"{path}: unknown setting '{raw_key}'{hint}; known: {', '.join(known)}")
        default = getattr(StageConfig(), key)
        if key == "midi_port":
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise CLIError(f"{path}: midi_port must be a port name or a list of them")
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise CLIError(f"{path}: {raw_key} must be true or false, not {value!r}")
        elif key == "max_boost_db" and value is None:
            pass  # 'max_boost_db: null': no cap
        elif isinstance(default, (int, float)) and not isinstance(default, bool) or \
                key in ("alpha", "intensity", "max_boost_db"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise CLIError(f"{path}: {raw_key} must be a number, not {value!r}")
            if isinstance(default, int) and not isinstance(default, bool) and value != int(value):
                raise CLIError(f"{path}: {raw_key} must be a whole number, not {value!r}")
            value = type(default)(value) if default is not None else float(value)
        elif value is not None and not isinstance(value, str):
            raise CLIError(f"{path}: {raw_key} must be text, not {value!r}")
        out[key] = value
    return out


def initial_state(cfg: StageConfig, model) -> ControlState:
    """The control state a show starts from: the stage config's terms, morph, intensity and modes
    (unknown terms raise the model's error with suggestions), else the model's first terms."""
    state = ControlState()
    terms = model.terms
    initial = {"autogain": cfg.autogain, "adaptive": cfg.adaptive}
    for key in ("term_a", "term_b"):
        value = getattr(cfg, key)
        if value is not None:
            if value not in terms:
                model.centroid(value)  # raises UnknownTermError with suggestions
            initial[key] = value
    state.update(**initial)
    if state.term_a not in terms:
        state.update(term_a=terms[0])
    if state.term_b not in terms:
        state.update(term_b=terms[min(1, len(terms) - 1)])
    for key in ("alpha", "intensity"):
        if getattr(cfg, key) is not None:
            state.update(**{key: getattr(cfg, key)})
    return state


class _MidiLogBridge(logging.Handler):
    """Turns the MIDI layer's connect/disconnect log records into app events."""

    def __init__(self, emit_event):
        super().__init__(logging.INFO)
        self._emit_event = emit_event

    def emit(self, record):
        self._emit_event("device", {"kind": "midi", "level": record.levelname.lower(),
                                    "message": record.getMessage()})


class LiveApp:
    def __init__(self, config: StageConfig, out=None, argv: list[str] | None = None):
        self.cfg = config.validate()
        self.out = out or sys.stdout
        self.argv = list(sys.argv[1:] if argv is None else argv)
        self.stop_event = threading.Event()
        self.stop_reason = ""
        self.device_status = "starting"
        self.midi_input = None
        self._midi_unavailable_logged = False
        self._feedback_attached = False  # the LED port, once handed to the control thread
        self.control = None
        self._warm_up_thread = None
        self.control_warm_up_s = None
        self.analyzer_thread = None
        self.panel = None
        self.keyboard = None
        self.finder = None  # type-to-find (ui.finder), with the keyboard
        self.vocab = None  # the panel's vocabulary fields (ui.vocab), with the panel
        self._curve_of, self._curve = None, None  # the panel's curve and the settings it plots
        self.log = None
        self._last_xruns = 0
        self._last_latency_ms = None
        self._resumed = os.environ.pop(RESUME_ENV, None)

    # ------------------------------------------------------------------ building
    def build_audio(self) -> None:
        """The stream, plus the fast checks of the user's files (so bad input fails early).

        Nothing here loads numba: the stream opens (device errors show at once) and plays
        silence while the EQ kernel loads (``build_dsp``) and the semantic engine after it
        (``build_control``); the sound then fades in with the EQ already in place.
        """
        from .audio.engine import AudioEngine
        from .audio.metrics import ProcessMetrics
        from .audio.recorder import Recorder
        from .audio.sources import file_source, signal_source
        from .midi import (MidiController, SceneBank, default_mapping_path, load_mapping,
                           resolve_mapping_path, resolve_palette)
        from .model import load_model
        from .ui.headless import HeadlessLog

        cfg = self.cfg
        self.log = HeadlessLog(self.out) if cfg.headless else None
        self.model = load_model(cfg.model)
        self.state = self._initial_state()
        mapping_path = resolve_mapping_path(cfg.mapping) if cfg.mapping else default_mapping_path()
        self.mapping = load_mapping(mapping_path, known_terms=self.model.terms)
        self.mapping_path = str(mapping_path)
        self.terms = resolve_palette(self.mapping, self.model)  # what term A/B step through
        self.scenes = SceneBank(cfg.scenes, known_terms=self.model.terms) if cfg.scenes else None
        self.controller = MidiController(self.mapping, self.state, self.terms, scenes=self.scenes)

        sr, ch = cfg.sample_rate, cfg.channels
        if cfg.input_file:
            self.source = file_source(cfg.input_file, sr, ch)
        elif cfg.test_signal:
            self.source = signal_source(cfg.test_signal, sr, ch)
        else:
            self.source = None
        self.recorder = None
        if cfg.record:
            self.recorder = Recorder(cfg.record, sr, ch, append=bool(self._resumed))
            if self.recorder.kept_previous is not None:
                self.emit("recording", {"status": "previous take kept",
                                        "moved_to": str(self.recorder.kept_previous)})
        self.audio = AudioEngine(None, sample_rate=sr, block_size=cfg.block_size, channels=ch,
                                 input_device=cfg.input_device,
                                 output_device=cfg.output_device, source=self.source,
                                 recorder=self.recorder)
        self.process_metrics = ProcessMetrics()
        if self.log is not None:
            self.log.metrics = self.audio.metrics  # state lines carry the MIDI -> audio latency

    def build_dsp(self) -> None:
        """Load the numba kernels (from cache when warm) and put the EQ in the signal path."""
        from .dsp.processor import EQProcessor

        # The fused block kernel (EQ, meters, rings, metrics in one call) is the only numba entry
        # point the callback uses: load it here, never in the callback.
        self.audio.accelerate()
        cfg = self.cfg
        if cfg.midi_port and cfg.midi_api == "jack":  # the JACK MIDI input's callbacks: numba too
            from .midi.jack_input import load_native_callbacks

            load_native_callbacks()
        self.processor = proc = EQProcessor(cfg.sample_rate, cfg.channels,
                                            smoothing_ms=cfg.smoothing_ms, ceiling_db=cfg.ceiling_db,
                                            subsonic_hz=cfg.subsonic_hz)
        # Start inaudible; the control thread's first publish (the state's output gain) fades the
        # sound in through the kernel's gain smoothing, with the EQ already set.
        proc.set_output_gain_db(STARTUP_GAIN_DB)
        self.audio.set_processing(proc.process_into, lambda: proc.applied_seq)

    def build_control(self) -> None:
        """The analyzer, the semantic engine and the control thread (while audio already runs)."""
        from .analysis import Analyzer, AnalyzerThread
        from .analysis.reference import BUILTIN_NAMES
        from .control.loop import LiveControl
        from .control.engine import SemanticEngine

        sr, ch = self.cfg.sample_rate, self.cfg.channels
        # The default reference is "auto" (the built-in that fits the source); each switch is one
        # log line ("reference_auto").
        self.analyzer = Analyzer(sr, ch, self.model, reference="auto")
        self.analyzer.on_reference_switch = lambda label: self.emit("reference_auto", {"reference": label})
        # --reference: auto, a built-in name (music, voice, pink) or a file, loaded if it exists and
        # written by "learn reference" (a built-in name keeps a learned reference in memory only).
        ref = self.cfg.reference
        builtin = ref in BUILTIN_NAMES or ref == "auto"
        if ref and (builtin or Path(ref).exists()):
            self.analyzer.load_reference(ref)
        self.engine = SemanticEngine(self.model, sr, reference_band_db=self.analyzer.reference.band_db,
                                     max_boost_db=self.cfg.max_boost_db)
        self.control = LiveControl(self.state, self.engine, self.processor, self.audio.metrics,
                                   terms=self.terms, controller=self.controller, scenes=self.scenes,
                                   analyzer=self.analyzer,
                                   reference_path=None if builtin else self.cfg.reference,
                                   on_event=self._on_control_event,
                                   on_quit=lambda: self.request_stop("quit key"))
        self.analyzer_thread = AnalyzerThread(self.analyzer, 0.1, on_estimate=self.control.new_estimate)
        self.audio.set_input_tap(self.analyzer.ring.push)  # what Analyzer.push does; fused

    def _warm_up_control_path(self) -> None:
        """Load every numba signature the control thread's EQ computation can meet, on a thread
        of its own, now that the start-up EQ is published (``control/warm_up.py``). Not before:
        the sound would wait for it. Not on the control thread: MIDI would. It is done long
        before the analyzer's first estimate (0.85 s of audio) when numba's cache is warm; on a
        cold cache the first update that needs a version still being compiled waits for it, as
        it would have without the warm-up, and every later version is ready before it is met."""
        from .control.warm_up import warm_control_path

        def run():
            try:
                self.control_warm_up_s = warm_control_path(
                    self.model, self.cfg.sample_rate, reference_band_db=self.analyzer.reference.band_db,
                    max_boost_db=self.cfg.max_boost_db, terms=self.terms)
            except Exception as exc:  # noqa: BLE001 - the show goes on; the first use compiles
                self._on_control_event("control_error", {"error": f"warm-up: {type(exc).__name__}: {exc}"})

        self._warm_up_thread = threading.Thread(target=run, name="semeq-warm-up", daemon=True)
        self._warm_up_thread.start()

    def _initial_state(self) -> ControlState:
        state = initial_state(self.cfg, self.model)
        if self._resumed:
            try:
                saved = json.loads(Path(self._resumed).read_text())
                state.update(**{k: v for k, v in saved.items() if k in state.to_dict()
                                and (not k.startswith("term") or v in self.model.terms)})
                Path(self._resumed).unlink()
            except (OSError, ValueError, KeyError):
                pass  # a lost resume file costs the state, not the show
        return state

    # ------------------------------------------------------------------ events
    def emit(self, event: str, fields: dict) -> None:
        """Device/life-cycle events: a log line headless; the panel shows the current status."""
        if self.log is not None:
            self.log.write(event, **fields)

    def _on_control_event(self, kind: str, fields: dict) -> None:
        if kind == "state":
            if self.log is not None:
                self.log.state_change(fields)
        else:
            self.emit(kind, fields)

    def request_stop(self, reason: str) -> None:
        self.stop_reason = self.stop_reason or reason
        self.stop_event.set()

    def _install_signals(self) -> None:
        import faulthandler

        from .stop_signals import StopSignals

        # `kill -USR1 PID` prints every thread's stack to stderr: for diagnosing a stuck show.
        faulthandler.register(signal.SIGUSR1, all_threads=True)
        stops = [signal.SIGTERM, signal.SIGINT] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
        StopSignals(self.request_stop).install(stops)  # no lock in the handler: see there

    # ------------------------------------------------------------------ devices
    def _open_audio(self, wait: bool) -> bool:
        """Open the stream; with ``wait``, retry until it works or a stop is requested."""
        from .audio import devices

        announced = False
        while True:
            try:
                self.audio.open()
                self.device_status = "running"
                return True
            except DeviceError as exc:
                if not wait:
                    raise
                if not announced:
                    self.emit("device", {"kind": "audio", "status": "waiting", "error": str(exc),
                                         "retry_s": DEVICE_RETRY_S})
                    announced = True
                self.device_status = "waiting for device"
            if self.stop_event.wait(DEVICE_RETRY_S):
                return False
            devices.rescan()

    def _open_midi(self) -> None:
        from .midi import FeedbackOutput, MidiInput

        led_port = getattr(self.mapping, "led_port", None)
        if led_port and not self._feedback_attached:
            try:  # found later, or again after a replug, by the control thread's feedback ticks
                self.control.attach_feedback(FeedbackOutput(led_port, api=self.cfg.midi_api))
                self._feedback_attached = True
            except SemeqError as exc:
                self.emit("device", {"kind": "midi", "status": "no LED feedback", "error": str(exc)})
        if not self.cfg.midi_port or self.midi_input is not None:
            return
        try:
            self.midi_input = MidiInput(self.cfg.midi_port, api=self.cfg.midi_api,
                                        on_message=self.control.midi, poll_interval=1.0)
        except SemeqError as exc:
            if not self._midi_unavailable_logged:  # retried every MIDI_RETRY_S, logged once
                self._midi_unavailable_logged = True
                self.emit("device", {"kind": "midi", "status": "unavailable", "error": str(exc),
                                     "retry_s": MIDI_RETRY_S})
            return
        if self._midi_unavailable_logged:
            self._midi_unavailable_logged = False
            self.emit("device", {"kind": "midi", "status": "available"})

    def _audio_lost(self) -> None:
        self.device_status = "lost"
        self.emit("device", {"kind": "audio", "status": "lost",
                             "device": self.audio.output.name if self.audio.output else None})
        if self.audio.close(timeout=2.0):
            from .audio import devices

            devices.rescan()
            if self._open_audio(wait=True):
                self.emit("device", {"kind": "audio", "status": "reconnected",
                                     "device": self.audio.output.name})
            return
        self._replace_process()

    def _replace_process(self) -> None:
        """PortAudio is stuck on a dead server: keep the state and start afresh in this process."""
        fd, path = tempfile.mkstemp(prefix="semeq-live-resume-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(self.state.to_dict(), f)
        self.emit("device", {"kind": "audio", "status": "restarting",
                             "reason": "audio server gone; re-opening PortAudio in a fresh process image"})
        self._stop_threads()
        if self.recorder is not None:
            self.recorder.close()
        try:
            self.out.flush()
        except (OSError, ValueError):
            pass
        env = dict(os.environ)
        env[RESUME_ENV] = path
        argv = list(self.argv)
        if "--wait-for-device" not in argv:
            argv.append("--wait-for-device")
        os.execve(sys.executable, [sys.executable, "-m", "semeq_live", *argv], env)

    # ------------------------------------------------------------------ status
    def status(self) -> dict:
        from .ui.curve import CURVE_POINTS, applied_curve_db, plot_grid

        s = self.control.settings
        est = self.analyzer_thread.latest if self.analyzer_thread else None
        if s is not self._curve_of:  # new settings: recompute the plotted curve (else reuse it)
            self._curve = applied_curve_db(s.forward, s.inverse, plot_grid(CURVE_POINTS),
                                           self.cfg.sample_rate) if s else None
            self._curve_of = s
        curve = self._curve
        rec = None
        if self.recorder is not None:
            rec = {"path": str(self.recorder.path),
                   "seconds": self.recorder.frames_written / self.cfg.sample_rate,
                   "dropped": self.recorder.dropped_frames}
        last = self.control.last_midi
        state = self.state.snapshot().to_dict()
        return {
            # palette position, nearest words, word map, certainty marks (ui.vocab)
            **(self.vocab.fields(state, s.z_target if s else None) if self.vocab else {}),
            "finder": self.finder.view() if self.finder else None,
            "state": state,
            "settings": None if s is None else {"forward": list(map(float, s.forward)),
                                               "inverse": None if s.inverse is None else list(map(float, s.inverse)),
                                               "mode": s.mode, "reason": s.reason,
                                               "autogain_db": s.autogain_db,
                                               "boost_cap": s.boost_cap_dict()},
            "curve_db": curve,
            "estimate": None if est is None else {"confident": est.confident, "reason": est.reason,
                                                  "profile": list(est.profile or ())},
            "levels": self.audio.meter.read(),
            "timing": self.audio.metrics.timing(),
            "process": self.process_metrics.sample(),
            "latency_ms": self._last_latency_ms,
            "midi": {"ports": self.midi_input.connected if self.midi_input else [],
                     "last": f"{last[0]}: {last[1]}" if last else None},
            "device": {"status": self.device_status,
                       "output": self.audio.output.name if self.audio.output else "?",
                       "input": self.source.description if self.source else (
                           self.audio.input.name if self.audio.input else "?"),
                       "sample_rate": self.cfg.sample_rate, "block_size": self.cfg.block_size},
            "record": rec,
            "keyboard": self.keyboard is not None,
            "reference": self._reference_status(),
            "protection": {"subsonic_hz": self.processor.subsonic_hz},
        }

    def _reference_status(self) -> dict | None:
        """Which "neutral" the analyzer judges the input against (contract 6), and ``fit``: how it
        was tilted to fit a source far from it (None: used as it is; ``analysis/reference_fit.py``)."""
        ref = getattr(self, "analyzer", None)
        ref = ref.reference if ref is not None else None
        if ref is None:
            return None
        thread = getattr(self, "analyzer_thread", None)
        est = thread.latest if thread is not None else None
        fitted = est is not None and est.reference_note is not None
        return {"name": ref.name, "source": ref.source, "fit": est.reference_note if fitted else None,
                "fit_tilt_db_per_oct": est.reference_tilt_db_per_oct if fitted else None}

    def _health(self) -> dict:
        tm = self.audio.metrics.timing()
        s = self.control.settings
        est = self.analyzer_thread.latest
        lv = self.audio.meter.read()
        return {
            "device": self.device_status, "callbacks": tm["callbacks"], "xruns": tm["xruns"],
            "cb_p50_us": tm["p50_us"], "cb_p99_us": tm["p99_us"], "cb_max_us": tm["max_us"],
            "load_pct": tm["load_pct"], "load_p99_pct": tm["load_p99_pct"],
            "callback_errors": self.audio.callback_errors, **self.process_metrics.sample(),
            "in_rms_dbfs": lv["in_rms_dbfs"], "out_rms_dbfs": lv["out_rms_dbfs"],
            "mode": s.mode if s else None, "autogain_db": s.autogain_db if s else None,
            "cap_acting": s.cap_acting if s else None,
            "held_back_db": round(s.held_back_db, 2) if s else None,
            "estimate": est.reason if est is not None else None,
            "top_terms": est.top_terms[:3] if est is not None else [],
            "reference": (self._reference_status() or {}).get("name"),
            "reference_fit": (self._reference_status() or {}).get("fit"),
            "midi_ports": self.midi_input.connected if self.midi_input else [],
            "latency_ms": self._last_latency_ms,
            "recorded_s": (self.recorder.frames_written / self.cfg.sample_rate
                           if self.recorder else None),
            "record_dropped": self.recorder.dropped_frames if self.recorder else None,
            "cpu_threads": self.process_metrics.thread_cpu(self._thread_names()),
            # events the control thread applied and EQ computations it published (batches: under
            # a flood many events per computation)
            "control_events": self.control.events_handled,
            "control_publishes": self.control.publishes,
            "control_warm_up_s": self.control_warm_up_s,  # None until done
            "subsonic_hz": self.processor.subsonic_hz,
        }

    def _thread_names(self) -> dict[int, str]:
        """OS thread id -> role, for the per-thread CPU split in health lines."""
        names = {}
        for t in threading.enumerate():
            if t.native_id is None:
                continue
            role = {"MainThread": "main", "semeq-analyzer": "analyzer", "semeq-control": "control",
                    "semeq-panel": "panel", "semeq-recorder": "recorder"}.get(t.name)
            names[t.native_id] = role or ("midi" if "midi" in t.name else "other")
        if self.audio.audio_thread_id:
            names[self.audio.audio_thread_id] = "audio"
        return names

    # ------------------------------------------------------------------ running
    def run(self) -> int:
        t_start = time.monotonic()
        self._install_signals()
        sys.setswitchinterval(0.0005)  # the audio thread must get the GIL back within a block
        self.recorder = None
        self.audio = None
        try:
            self.build_audio()
            opened = self._open_audio(wait=self.cfg.wait_for_device or bool(self._resumed))
        except BaseException:
            if self.recorder is not None:
                self.recorder.close()  # a valid (short) file, not a broken header
            raise
        if not opened:
            return self._shutdown(0)
        try:
            self.build_dsp()
            self.build_control()
            logging.getLogger("semeq_live.midi").addHandler(_MidiLogBridge(self._on_control_event))
            logging.getLogger("semeq_live.midi").setLevel(logging.INFO)
            self.control.start()
            self._warm_up_control_path()
            self._open_midi()
            self.analyzer_thread.start()
        except BaseException:
            self.stop_reason = "start-up failed"
            self._shutdown(2)  # close the stream and the recording before the error is shown
            raise
        self.emit("start", {"resumed": bool(self._resumed), "pid": os.getpid(),
                            "output": self.audio.output.name,
                            "input": self.source.description if self.source else self.audio.input.name,
                            "sample_rate": self.cfg.sample_rate, "block_size": self.cfg.block_size,
                            "channels": self.cfg.channels, "mapping": self.mapping_path,
                            "palette": self.terms,
                            "midi_ports": self.midi_input.connected if self.midi_input else [],
                            "record": self.cfg.record, "state": self.state.to_dict(),
                            "subsonic_hz": self.processor.subsonic_hz,
                            "setup_s": time.monotonic() - t_start,
                            "ready_s": self._since_process_start(time.monotonic())})
        self._start_ui()
        self._supervise()
        return self._shutdown(0)

    def _start_ui(self) -> None:
        if self.cfg.headless:
            return
        from .ui.finder import TermFinder
        from .ui.keyboard import KeyboardReader, KeyDispatcher
        from .ui.panel import PanelThread
        from .ui.vocab import VocabularyStatus

        self.vocab = VocabularyStatus(self.model, self.terms)
        if self.cfg.keyboard:
            self.finder = TermFinder(self.model.terms, self.terms, self.vocab.static["certainty"])
            reader = KeyboardReader(KeyDispatcher(self.control.command, self.finder).on_key)
            if reader.start():
                self.keyboard = reader
        self.panel = PanelThread(self.status, rate=self.cfg.panel_rate).start()

    def _supervise(self) -> None:
        metrics = self.audio.metrics
        next_health = time.monotonic() + self.cfg.health_interval_s
        next_xrun = 0.0
        first_audio_logged = False
        next_midi_try = time.monotonic() + MIDI_RETRY_S
        while not self.stop_event.wait(STATUS_FLUSH_S):
            now = time.monotonic()
            if not self.audio.alive():
                self._audio_lost()
                continue
            first_eq_block = None if first_audio_logged else metrics.applied(1)
            if first_eq_block is not None:  # seq 1: the start-up EQ, with which the sound fades in
                first_audio_logged = True
                self.emit("audio", {"status": "sound", "startup_s":
                                    self._since_process_start(first_eq_block[0]),
                                    "stream_s": self._startup_s()})
            if self.log is not None:
                self.log.flush_state_changes(metrics)
            seq = self.control.seq
            lat = metrics.latency_s(seq) if seq else None
            if lat is not None:
                self._last_latency_ms = 1000.0 * lat
            if now >= next_xrun:
                next_xrun = now + XRUN_CHECK_S
                xruns = metrics.xruns
                if xruns != self._last_xruns:
                    tm = metrics.timing()
                    self.emit("xrun", {"new": xruns - self._last_xruns, "total": xruns,
                                       "input_overflow": tm["input_overflow"],
                                       "output_underflow": tm["output_underflow"],
                                       "cb_max_us": tm["max_us"]})
                    self._last_xruns = xruns
            if self.cfg.midi_port and self.midi_input is None and now >= next_midi_try:
                next_midi_try = now + MIDI_RETRY_S  # the MIDI system itself was unavailable
                self._open_midi()
            if now >= next_health:
                next_health = now + self.cfg.health_interval_s
                self.emit("health", self._health())

    def _startup_s(self) -> float | None:
        """Process start to the first (silent) audio callback."""
        return self._since_process_start(self.audio.first_audio_at)

    @staticmethod
    def _since_process_start(t_monotonic: float | None) -> float | None:
        """Seconds from this process's start to ``t_monotonic``.

        Linux: the start time in /proc (clock ticks since boot) against CLOCK_BOOTTIME, good to
        10 ms; psutil's create_time is based on a whole-second boot time and can be 1 s off.
        """
        if t_monotonic is None:
            return None
        ago = time.monotonic() - t_monotonic
        try:
            with open("/proc/self/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime
            return time.clock_gettime(time.CLOCK_BOOTTIME) - started - ago
        except (OSError, ValueError, IndexError, AttributeError):
            try:
                import psutil

                return time.time() - psutil.Process().create_time() - ago
            except Exception:  # noqa: BLE001
                return None

    def _stop_threads(self) -> None:
        if self.keyboard is not None:
            self.keyboard.stop()
            self.keyboard = None
        if self.panel is not None:
            self.panel.stop()
            self.panel = None
        if self.analyzer_thread is not None:
            self.analyzer_thread.stop()
        if self.control is not None:
            self.control.stop()
        if self._warm_up_thread is not None:  # not torn down mid-compilation at exit
            self._warm_up_thread.join(WARM_UP_JOIN_S)

    def _shutdown(self, code: int) -> int:
        self._stop_threads()
        if self.midi_input is not None:
            self.midi_input.close()
            self.midi_input = None
        if self.control is not None and self.control.feedback is not None:
            self.control.feedback.close()
            self.control.feedback = None
        closed = self.audio.close(timeout=2.0)
        if closed:
            from .audio import devices

            devices.release()  # now, while the server is surely there, not in an exit handler
        if self.recorder is not None:
            self.recorder.close()
        if self.log is not None:
            self.log.flush_state_changes(self.audio.metrics, force=True)
        tm = self.audio.metrics.timing()
        self.emit("stop", {"reason": self.stop_reason or "audio unavailable", "callbacks": tm["callbacks"],
                           "xruns": tm["xruns"], "record": self.cfg.record,
                           "recorded_s": (self.recorder.frames_written / self.cfg.sample_rate
                                          if self.recorder else None),
                           **({"log_lines": dict(self.log.lines)} if self.log is not None else {})})
        if not closed:
            # PortAudio is wedged on a dead server: its exit handler would hang or abort.
            try:
                self.out.flush()
            except (OSError, ValueError):
                pass
            os._exit(code)
        return code


def config_from_args(args) -> StageConfig:
    """Merge the YAML stage file (if any) and the command-line options (which win)."""
    values = asdict(StageConfig())
    if getattr(args, "config", None):
        values.update(load_stage_config(args.config))
    for f in fields(StageConfig):
        v = getattr(args, f.name, None)
        if v is not None and v != []:
            values[f.name] = v
    return StageConfig(**values)


def render_demo_instead(cfg: StageConfig, output: str, seconds: float = 20.0) -> int:
    """No audio device at all: render the bundled demo performance offline, and say why.

    The demo is the MIDI performance generated for the mapping in use (a morph sweep, intensity
    moves, a bypass comparison), played through the same control path (``offline.SemanticSession``:
    mapping, control loop, engine, analyzer, processor) onto the input file, or onto pink noise when
    there is none, from the state the stage config would start the show with.
    """
    from .audio.sources import pink_noise
    from .midi import default_mapping_path, load_mapping, load_performance, resolve_mapping_path
    from .midi.demo import write_demo_performance
    from .model import load_model
    from .offline import (DEMO_TAG, SemanticSession, check_output, make_room_for_demo, open_input,
                          render_file)

    if cfg.input_file:
        check_output(cfg.input_file, output, force=True)  # never the input itself
    mapping_path = resolve_mapping_path(cfg.mapping) if cfg.mapping else default_mapping_path()
    print("semeq-live run: no audio device on this machine (no audio server running and no sound "
          "card), so nothing can be played live.\nRendering the demo performance offline instead: "
          f"the MIDI moves of the demo for {Path(mapping_path).name} applied to "
          f"{cfg.input_file or 'pink noise'} -> {output}", file=sys.stderr)
    model = load_model(cfg.model)
    mapping = load_mapping(mapping_path, known_terms=model.terms)
    with tempfile.TemporaryDirectory(prefix="semeq-demo-") as tmp:
        if cfg.input_file:
            source = cfg.input_file
        else:
            import soundfile as sf

            source = str(Path(tmp) / "pink.wav")
            sf.write(source, pink_noise(cfg.sample_rate, cfg.channels, seconds), cfg.sample_rate,
                     subtype="FLOAT")
        performance = load_performance(
            write_demo_performance(Path(tmp) / "demo.mid", str(mapping_path), seconds=seconds))
        with open_input(source) as f:
            sr, ch = f.samplerate, f.channels
        session = SemanticSession(sr, ch, initial_state(cfg, model), model=model, mapping=mapping,
                                  performance=performance, smoothing_ms=cfg.smoothing_ms,
                                  ceiling_db=cfg.ceiling_db, subsonic_hz=cfg.subsonic_hz,
                                  max_boost_db=cfg.max_boost_db)
        # A second run replaces its own earlier demo; any other file there is kept, moved aside.
        kept = make_room_for_demo(output)
        if kept is not None:
            print(f"semeq-live run: {output} was not a demo of ours; it is kept as {kept}",
                  file=sys.stderr)
        render_file(source, output, session.process, progress=False, force=True,
                    software=DEMO_TAG)
    print(f"semeq-live run: wrote {output}. To play live, start an audio server (e.g. "
          "'jackd -d alsa') or connect an interface; 'semeq-live devices' shows what is found.",
          file=sys.stderr)
    return 0
