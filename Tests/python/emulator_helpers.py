"""Helpers to run `ferry-cli emulator` as a subprocess and talk to its admin API (stdlib only).

Usage:
    with EmulatorProcess(extra_args=["--time-scale", "0"]) as emu:
        emu.info["base_url"], emu.admin("POST", "/_ferry/clock/advance", {"seconds": 60})
"""
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EMULATOR_DEFAULT_KEY_ID = "FERRYTESTKEY"
EMULATOR_DEFAULT_KEY_SECRET = "ferry-test-secret"


def emulator_cli_path():
    """The ferry-cli binary: $FERRY_CLI, else the debug build."""
    return os.environ.get("FERRY_CLI") or os.path.join(REPO, ".build", "debug", "ferry-cli")


class EmulatorProcess:
    def __init__(self, extra_args=(), timeout=30):
        self.extra_args = list(extra_args)
        self.timeout = timeout
        self.proc = None
        self.info = None

    def start(self):
        env = dict(os.environ)
        for k in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
            env.pop(k, None)
        self.proc = subprocess.Popen([emulator_cli_path(), "emulator", "--port", "0", *self.extra_args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read()
            raise RuntimeError(f"emulator exited before its ready line: {err}")
        self.info = json.loads(line)
        return self

    @property
    def base_url(self):
        return self.info["base_url"]

    @property
    def host_port(self):
        return self.base_url[len("http://"):]

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=10) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return json.loads(e.read() or b"null")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
