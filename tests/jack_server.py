"""Start and stop a real JACK server (dummy driver: no sound card needed) for tests and benchmarks.

Each server gets its own name and the process environment is pointed at it
(``JACK_DEFAULT_SERVER``), so PortAudio (sounddevice) and rtmidi's JACK API in this process and in
child processes all talk to it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time


class JackServer:
    def __init__(self, name: str = "semeq-test", rate: int = 48000, period: int = 128):
        self.name = name
        self.rate = rate
        self.period = period
        self.proc: subprocess.Popen | None = None
        self.log_path = f"/tmp/jackd-{name}-{os.getpid()}.log"

    @staticmethod
    def available() -> bool:
        return shutil.which("jackd") is not None and shutil.which("jack_lsp") is not None

    def env(self) -> dict:
        env = dict(os.environ)
        env["JACK_DEFAULT_SERVER"] = self.name
        env["JACK_NO_AUDIO_RESERVATION"] = "1"
        env["JACK_NO_START_SERVER"] = "1"
        return env

    def start(self, timeout: float = 15.0) -> "JackServer":
        if not self.available():
            raise RuntimeError("jackd is not installed: apt-get install -y jackd2 libportaudio2")
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            ["jackd", "-n", self.name, "--no-realtime", "-d", "dummy",
             "-r", str(self.rate), "-p", str(self.period)],
            stdout=log, stderr=subprocess.STDOUT, env=self.env(),
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jackd exited early: {open(self.log_path).read()[-2000:]}")
            r = subprocess.run(["jack_lsp"], env=self.env(), capture_output=True, text=True)
            if r.returncode == 0 and "system:playback_1" in r.stdout:
                os.environ.update({k: v for k, v in self.env().items()
                                   if k.startswith("JACK_")})
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"jackd did not come up in {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def xruns_in_log(self) -> int:
        try:
            return open(self.log_path).read().count("XRun")
        except OSError:
            return 0

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
