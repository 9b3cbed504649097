"""Atomic file writes: a file is either the old one or the complete new one, never half-written.

Everything semeq-live saves (scenes, learned mappings, reference spectra, models, renders) goes
through ``atomic_output``: the data is written to a temporary file in the target's folder, flushed
to disk, then renamed over the target. Any failure (full disk, unwritable folder, an exception in
the writer) removes the temporary file and leaves the target as it was.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_output(path, suffix: str = ".tmp"):
    """Yield a temporary path to write; on success it replaces ``path``. Raises ``OSError``."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=str(folder))
    os.close(fd)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would have
        # (or the replaced file's), so a saved scene or render is readable as usual.
        os.chmod(tmp, _mode_for(path))
        yield Path(tmp)
        with open(tmp, "rb+") as fh:  # the data must be on disk before the rename makes it current
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def move_aside(path) -> Path | None:
    """Move an existing file aside (``take.20261122-031500.wav``, from its modification time)
    instead of overwriting it; returns where it went, or None if there was nothing to keep (no
    file, or an empty one). Never raises: the caller's own open reports a real problem."""
    import time

    path = Path(path)
    try:
        if not path.exists() or path.stat().st_size == 0:
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(path.stat().st_mtime))
        target = path.with_name(f"{path.stem}.{stamp}{path.suffix}")
        n = 1
        while target.exists():
            target = path.with_name(f"{path.stem}.{stamp}-{n}{path.suffix}")
            n += 1
        path.rename(target)
        return target
    except OSError:
        return None


def write_text_atomic(path, text: str) -> Path:
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
