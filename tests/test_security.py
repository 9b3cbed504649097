"""Security: files from strangers (mappings, scenes, stage configs, parameter files, models) can
never run code, and the app opens no network port.

- YAML is only read with safe loading: the source is scanned for unsafe loaders, and a file with
  Python-object tags goes through every loader entry point and must be refused with that loader's
  own error, without running anything (the payload would create a marker file).
- Model files are plain ``.npz`` arrays and are never unpickled: an object array (which numpy can
  only store pickled) or a pickle posing as a model is refused with ``ModelError``, and its payload
  does not run.
- The running app (headless, on a real JACK server, with a MIDI port) has no internet socket at
  all, so nothing listens on a network port.
"""

from __future__ import annotations

import ast
import os
import pickle  # only to build hostile test files; the package itself never imports it
import time
from pathlib import Path

import numpy as np
import pytest

from semeq_live.errors import CLIError, MappingError, ModelError

REPO = Path(__file__).resolve().parents[1]
SOURCE_DIRS = [REPO / "semeq_live", REPO / "training"]

UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
UNSAFE_YAML_CALLS = {"load", "load_all", "unsafe_load", "unsafe_load_all", "full_load", "full_load_all"}
UNSAFE_YAML_NAMES = {"Loader", "FullLoader", "UnsafeLoader", "CLoader", "CFullLoader", "CUnsafeLoader",
                     "Constructor", "FullConstructor", "UnsafeConstructor"}
NETWORK_MODULES = {"socket", "socketserver", "http.server", "xmlrpc.server", "asyncio", "zmq",
                   "pythonosc", "liblo", "websockets", "aiohttp", "flask"}


def _python_files() -> list[Path]:
    return sorted(p for d in SOURCE_DIRS if d.is_dir() for p in d.rglob("*.py"))


def _parsed():
    for path in _python_files():
        yield path, ast.parse(path.read_text(), filename=str(path))


def _imported_modules(tree) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def _call_name(node: ast.Call) -> tuple[str | None, str | None]:
    """(object, attribute) of ``obj.attr(...)`` calls, (None, name) for ``name(...)``."""
    f = node.func
    if isinstance(f, ast.Attribute):
        return (f.value.id if isinstance(f.value, ast.Name) else None), f.attr
    if isinstance(f, ast.Name):
        return None, f.id
    return None, None


# ---------------------------------------------------------------------------- source scan
def test_source_scan_finds_the_code():
    files = _python_files()
    assert len(files) > 30 and (REPO / "semeq_live" / "midi" / "yamlfile.py") in files


def test_yaml_is_only_loaded_safely():
    safe_calls, problems = 0, []
    for path, tree in _parsed():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                obj, attr = _call_name(node)
                if obj == "yaml" and attr in UNSAFE_YAML_CALLS:
                    problems.append(f"{path}:{node.lineno}: yaml.{attr}()")
                if obj == "yaml" and attr in ("safe_load", "safe_load_all", "compose"):
                    safe_calls += 1
                    for kw in node.keywords:
                        if kw.arg == "Loader" and not (isinstance(kw.value, ast.Attribute)
                                                       and kw.value.attr in ("SafeLoader", "CSafeLoader")):
                            problems.append(f"{path}:{node.lineno}: yaml.{attr} with a non-safe Loader")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "yaml" and node.attr in UNSAFE_YAML_NAMES:
                problems.append(f"{path}:{node.lineno}: yaml.{node.attr}")
    assert problems == []
    assert safe_calls >= 3  # mapping/scene reader, stage config, params file (the scan works)


def test_nothing_is_ever_unpickled():
    problems, np_loads = [], 0
    for path, tree in _parsed():
        bad = _imported_modules(tree) & UNSAFE_MODULES
        if bad:
            problems.append(f"{path}: imports {', '.join(sorted(bad))}")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            obj, attr = _call_name(node)
            for kw in node.keywords:
                if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant)
                                                     and kw.value.value is False):
                    problems.append(f"{path}:{node.lineno}: allow_pickle={ast.unparse(kw.value)}")
            if obj in ("np", "numpy") and attr == "load":
                np_loads += 1
            if obj == "torch" and attr == "load":  # training checkpoints: tensors only
                weights_only = [kw for kw in node.keywords if kw.arg == "weights_only"]
                if not (weights_only and isinstance(weights_only[0].value, ast.Constant)
                        and weights_only[0].value.value is True):
                    problems.append(f"{path}:{node.lineno}: torch.load without weights_only=True")
    assert problems == []
    assert np_loads >= 1  # the model reader (the scan saw it)


def test_package_opens_no_network_sockets_in_code():
    problems = []
    for path, tree in _parsed():
        if REPO / "semeq_live" not in path.parents:
            continue
        bad = {m for m in _imported_modules(tree)
               if m in NETWORK_MODULES or m.split(".")[0] in NETWORK_MODULES}
        if bad:
            problems.append(f"{path}: imports {', '.join(sorted(bad))}")
    assert problems == []


# ---------------------------------------------------------------------------- YAML entry points
def _loaders():
    from semeq_live.app import load_stage_config
    from semeq_live.cli.commands.render import load_params_file
    from semeq_live.midi import SceneBank, load_mapping

    return {
        "mapping": (load_mapping, MappingError),
        "scenes": (SceneBank, MappingError),
        "stage config": (load_stage_config, CLIError),
        "render params": (load_params_file, CLIError),
    }


# Documents of each kind with a hostile tag on a scalar value; {tag} is replaced per payload.
DOCS = {
    "mapping": "version: 1\nname: {tag}\ncontrols:\n  - {{name: M, target: alpha, type: cc, number: 1}}\n",
    "scenes": "version: 1\nscenes:\n  verse:\n    alpha: {tag}\n",
    "stage config": "block_size: 128\nrecord: {tag}\n",
    "render params": "ls_gain: {tag}\n",
}
PAYLOADS = {
    "apply": '!!python/object/apply:os.system ["touch {marker}"]',
    "new": '!!python/object/new:os.system ["touch {marker}"]',
    "name": "!!python/name:os.system",
    "module": "!!python/module:os",
    "long tag": '!<tag:yaml.org,2002:python/object/apply:os.system> ["touch {marker}"]',
}


@pytest.mark.parametrize("payload", list(PAYLOADS))
@pytest.mark.parametrize("kind", list(DOCS))
def test_python_tags_are_refused_by_every_loader(tmp_path, kind, payload):
    marker = tmp_path / "EXECUTED"
    path = tmp_path / f"{kind.replace(' ', '_')}.yaml"
    path.write_text(DOCS[kind].format(tag=PAYLOADS[payload].format(marker=marker)))
    load, error = _loaders()[kind]
    with pytest.raises(error) as info:
        load(path)
    assert str(path) in str(info.value) and ":" in str(info.value)
    assert not marker.exists(), "a YAML tag ran code"


# The same tags on a whole list or mapping (not a scalar).
COLLECTION_DOCS = {
    "mapping": ("version: 1\nname: x\ncontrols: !!python/object/apply:os.system\n"
                "  - {name: M, target: alpha, type: cc, number: 1}\n"),
    "scenes": "version: 1\nscenes: !!python/object/new:dict\n  verse: {alpha: 0.5}\n",
    "stage config": "midi_port: !!python/object/apply:os.system [nano]\n",
    "render params": "!!python/object/new:dict\nls_gain: 0\n",
}


@pytest.mark.parametrize("kind", list(COLLECTION_DOCS))
def test_python_tags_on_collections_are_refused(tmp_path, kind):
    path = tmp_path / "doc.yaml"
    path.write_text(COLLECTION_DOCS[kind])
    load, error = _loaders()[kind]
    with pytest.raises(error, match="tag"):
        load(path)


def test_mapping_tag_error_names_file_line_and_key(tmp_path):
    from semeq_live.midi import load_mapping
    from semeq_live.midi.yamlfile import LocatedError

    path = tmp_path / "m.yaml"
    path.write_text("version: 1\ncontrols:\n  - name: !!python/name:os.system\n"
                    "    target: alpha\n    type: cc\n    number: 1\n")
    with pytest.raises(LocatedError) as info:
        load_mapping(path)
    err = info.value
    assert (err.path, err.line, err.key) == (str(path), 3, "controls[0].name")


# ---------------------------------------------------------------------------- model files
class _Payload:
    """Unpickling this runs ``touch marker``: proof that a loader unpickled something."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _bundled_arrays() -> dict:
    from semeq_live.model import DEFAULT_MODEL_PATH
    from semeq_live.model.store import read_model

    path = Path(os.environ.get("SEMEQ_TEST_MODEL") or DEFAULT_MODEL_PATH)
    if not path.is_file():
        pytest.skip(f"no model file at {path} (train one or set SEMEQ_TEST_MODEL)")
    return read_model(path)


@pytest.mark.parametrize("where", ["extra array", "replaces the term names"])
def test_model_with_a_pickled_object_array_is_refused(tmp_path, where):
    from semeq_live.model import load_model

    marker = tmp_path / "EXECUTED"
    arrays = dict(_bundled_arrays())
    evil = np.array([_Payload(marker), "x"], dtype=object)
    if where == "extra array":
        arrays["notes"] = evil
    else:
        key = next(k for k, v in arrays.items() if v.dtype.kind == "U" and v.ndim == 1)
        arrays[key] = evil
    path = tmp_path / "evil.npz"
    np.savez(path, **arrays)  # numpy pickles object arrays (that is the point)
    with pytest.raises(ModelError, match="evil.npz"):
        load_model(path)
    assert not marker.exists(), "the model loader unpickled a payload"


def test_a_pickle_posing_as_a_model_is_refused(tmp_path):
    from semeq_live.model import load_model

    marker = tmp_path / "EXECUTED"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps({"weights": _Payload(marker)}))
    with pytest.raises(ModelError, match="corrupt"):
        load_model(path)
    assert not marker.exists()


def test_the_cli_reports_a_hostile_model_in_one_line(tmp_path, capsys):
    from semeq_live.cli import main

    marker = tmp_path / "EXECUTED"
    path = tmp_path / "model.npz"
    np.save(path.with_suffix(".npy"), np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    path.with_suffix(".npy").rename(path)
    assert main(["terms", "--model", str(path)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err and str(path) in err
    assert not marker.exists()


# ---------------------------------------------------------------------------- network
@pytest.mark.jack
@pytest.mark.slow
def test_running_app_listens_on_no_network_port(jack_server, tmp_path):
    import psutil
    import rtmidi

    from .test_e2e_live import AppProcess

    midi = rtmidi.MidiOut(rtmidi.API_UNIX_JACK, name="semeq-sec")
    midi.open_virtual_port("semeq-sec-ctl")
    app = AppProcess(["--test-signal", "pink", "--health-interval", "0.5", "--midi-api", "jack",
                      "--midi-port", "semeq-sec-ctl", "--record", str(tmp_path / "rec.wav"),
                      "--scenes", str(tmp_path / "scenes.yaml")], jack_server.env(), tmp_path)
    try:
        app.wait_for(lambda r: r["event"] == "start", timeout=60)
        app.wait_for(lambda r: r["event"] == "device" and "connected" in r.get("message", ""))
        app.wait_for(lambda r: r["event"] == "health" and (r.get("callbacks") or 0) > 0)
        midi.send_message([0xB0, 1, 100])  # the control path is active too
        app.wait_for(lambda r: r["event"] == "state" and r.get("alpha") is not None)
        time.sleep(0.5)
        proc = psutil.Process(app.proc.pid)
        inet = proc.net_connections(kind="inet")
        listening = [c for c in proc.net_connections(kind="all") if c.status == psutil.CONN_LISTEN]
        assert inet == [], f"the app has internet sockets: {inet}"
        assert listening == [], f"the app listens: {listening}"
        assert app.terminate() == 0, app.stderr()[-2000:]
    finally:
        midi.close_port()
        midi.delete()
        app.terminate()
