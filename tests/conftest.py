"""Shared fixtures: paths to ../shared (data and music) and a real JACK server (dummy driver)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SAFE_CSV = SHARED / "data" / "safe_eq.csv"
AUDIO_DIR = SHARED / "audio"


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        pytest.skip(f"{what} not found at {path}: this test reads it from ../shared beside the "
                    "checkout (it is never copied into the repo)")
    return path


@pytest.fixture(scope="session")
def safe_csv() -> Path:
    return _need(SAFE_CSV, "SAFE-DB data (shared/data/safe_eq.csv)")


def _is_speech(path: Path) -> bool:
    # shared/audio/ATTRIBUTION.md: the one-voice clips are named speech_*; everything else is music.
    return path.name.startswith("speech_")


@pytest.fixture(scope="session")
def music_files() -> list[Path]:
    """The full-mix music excerpts of shared/audio (44.1 kHz stereo)."""
    _need(AUDIO_DIR, "music excerpts (shared/audio)")
    files = sorted(p for p in AUDIO_DIR.glob("*.flac") if not _is_speech(p))
    if not files:
        pytest.skip(f"no .flac music in {AUDIO_DIR}")
    return files


@pytest.fixture(scope="session")
def speech_files() -> list[Path]:
    """The one-voice speech clips of shared/audio (16 kHz mono)."""
    _need(AUDIO_DIR, "speech clips (shared/audio)")
    files = sorted(p for p in AUDIO_DIR.glob("*.flac") if _is_speech(p))
    if not files:
        pytest.skip(f"no speech_*.flac clips in {AUDIO_DIR}")
    return files


@pytest.fixture(scope="session")
def jack_server():
    """A real JACK server with the dummy driver, shared by the whole test session."""
    from .jack_server import SESSION_PREFIX, JackServer, stop_orphaned_session_servers

    if not JackServer.available():
        pytest.skip("jackd not installed (apt-get install -y jackd2 libportaudio2)")
    stop_orphaned_session_servers()
    # A name of our own, so concurrent test sessions never share (and kill) one server.
    server = JackServer(name=f"{SESSION_PREFIX}{os.getpid()}").start()
    yield server
    server.stop()
