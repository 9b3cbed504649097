"""Start a private JACK server with the dummy driver (no sound card needed), for the benchmark.

The server gets its own name; ``env()`` is the environment that points PortAudio and rtmidi's JACK
API in child processes at it, so measurements never touch a JACK server the user is running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time

from ..errors import DeviceError


class DummyJackServer:
    def __init__(self, name: str, rate: int = 48000, period: int = 128, port_max: int | None = None):
        self.name = name
        self.rate = int(rate)
        self.period = int(period)
        # jackd's shared memory grows with its port limit (2048 by default: 107 MB, mapped by
        # every client); None keeps jackd's default.
        self.port_max = port_max
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(tempfile.gettempdir(), f"semeq-jackd-{name}-{os.getpid()}.log")

    @staticmethod
    def available() -> bool:
        return shutil.which("jackd") is not None and shutil.which("jack_lsp") is not None

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(JACK_DEFAULT_SERVER=self.name, JACK_NO_AUDIO_RESERVATION="1", JACK_NO_START_SERVER="1")
        return env

    def start(self, timeout: float = 15.0) -> "DummyJackServer":
        if not self.available():
            raise DeviceError("jackd is not installed (Debian: apt-get install jackd2 libportaudio2)")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                ["jackd", "-n", self.name, "--no-realtime",
                 *(["--port-max", str(self.port_max)] if self.port_max else []),
                 "-d", "dummy", "-r", str(self.rate), "-p", str(self.period)],
                stdout=log, stderr=subprocess.STDOUT, env=self.env())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = self.log()
                if "Too many servers" in log:
                    raise DeviceError(
                        "jackd refused to start: JACK allows 8 servers and keeps the slot of a "
                        "killed one (SIGKILL) until a server of the same name starts again. Names "
                        "are in /dev/shm/jack-shm-registry: start each dead one and stop it with "
                        "SIGTERM to free its slot")
                raise DeviceError(f"jackd exited at start: {log[-800:]}")
            r = subprocess.run(["jack_lsp"], env=self.env(), capture_output=True, text=True)
            if r.returncode == 0 and "system:playback_1" in r.stdout:
                return self
            time.sleep(0.2)
        self.stop()
        raise DeviceError(f"jackd did not come up within {timeout:.0f} s")

    def log(self) -> str:
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def xruns_in_log(self) -> int:
        return self.log().count("XRun")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
