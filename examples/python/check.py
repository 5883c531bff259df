#!/usr/bin/env python3
"""Serve the Flask and Django examples with the installed `gateway-wsgi`
command and check them with a real HTTP client (http.client).

    python3 examples/python/check.py [--venv DIR]

Makes a venv in a temporary directory (or DIR, kept), pip-installs Flask,
Django and this checkout's package (`pip install ./crates/gateway-wsgi`:
maturin from PyPI builds the Rust extension), then for each framework
starts `gateway-wsgi APP --bind 127.0.0.1:PORT --gzip --access-log
--basic-auth FILE` and checks: 401 without (or with wrong) credentials,
200 with them, REMOTE_USER, the 64 KiB page gzipped and decoded to the
app's bytes, a multipart form/upload echo, a streaming (chunked) body, one
access-log line per request on the server's stdout with no password in
it, and a clean exit on SIGTERM (status 0, no traceback). Then Flask under
--root-path (SCRIPT_NAME seen by url_for, 404 outside, a clean exit on
SIGINT), Flask on a Unix socket (--bind unix:PATH), SIGTERM with a request in flight
(it finishes within --graceful-timeout; past it, it is cut and the status
is 1), --workers 2 (two processes answer, SIGTERM drains them, the environ
says wsgi.multiprocess), --threads 1 (wsgi.multithread False), the Python API from a script (serve() with
AccessLog, BearerAuth and Gzip; a Python thread runs while it serves, so
the GIL is released; it returns on Ctrl-C), and the command's errors (an app that cannot be imported, a bad
option): a clear message and a non-zero status, never a panic.

Uses only the standard library; exits 1 at the first failed check.
"""

import argparse
import base64
import gzip
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "python"
sys.path.insert(0, str(EXAMPLES))
from pages import BIG, HELLO, STREAM, describe_upload  # noqa: E402

REQUIREMENTS = ["flask>=3,<4", "django>=4.2,<7"]
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
USER = "alice"


class CheckFailed(Exception):
    pass


def expect(cond, what, detail=""):
    if not cond:
        raise CheckFailed(f"{what}{': ' + detail if detail else ''}")
    print(f"  ok  {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`gateway-wsgi ARGS` on a free loopback port; stdout/stderr to files."""

    def __init__(self, command, app, args, tmp, name, argv=None):
        self.port = free_port()
        self.out_path = Path(tmp) / f"{name}.stdout"
        self.err_path = Path(tmp) / f"{name}.stderr"
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        if argv is None:
            argv = [command, app, "--bind", f"127.0.0.1:{self.port}", *args]
        else:
            argv = [*argv, f"127.0.0.1:{self.port}"]
        print(f"$ {' '.join(map(str, argv))}")
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise CheckFailed(f"the server exited with {self.proc.returncode}: "
                                  f"{self.stderr()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.proc.kill()
        raise CheckFailed(f"the server did not listen within {START_TIMEOUT}s: {self.stderr()}")

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp, resp.read()
        finally:
            conn.close()

    def stop(self, sig):
        self.proc.send_signal(sig)
        return self.wait(sig)

    def wait(self, sig):
        try:
            code = self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise CheckFailed(f"no exit within {STOP_TIMEOUT}s of {sig.name}") from None
        self.out.close()
        self.err.close()
        return code

    def stdout(self):
        return self.out_path.read_text("utf-8", "replace")

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        return self.err_path.read_text("utf-8", "replace")


def basic(user, password):
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def multipart(fields, files):
    boundary = "gateway" + secrets.token_hex(8)
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     .encode() + value.encode() + b"\r\n")
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                     .encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def check_framework(command, name, app, args, tmp):
    print(f"== {name}: --gzip --access-log --basic-auth")
    password = secrets.token_urlsafe(12)
    creds = Path(tmp) / f"{name}-users.txt"
    creds.write_text(f"# user:password\n{USER}:{password}\nbob:other-secret\n")
    server = Server(command, app, [*args, "--gzip", "--access-log", "--basic-auth", creds],
                    tmp, name)
    auth = basic(USER, password)
    requests = []  # (path, status) of every request, for the access log

    def get(path, headers=None, method="GET", body=None):
        resp, data = server.request(method, path, body, headers)
        requests.append((path, resp.status))
        return resp, data

    try:
        resp, _ = get("/")
        expect(resp.status == 401, "401 without credentials", str(resp.status))
        expect((resp.getheader("WWW-Authenticate") or "").startswith('Basic realm="gateway"'),
               "a Basic challenge", str(resp.getheader("WWW-Authenticate")))
        resp, _ = get("/", basic(USER, "wrong"))
        expect(resp.status == 401, "401 with a wrong password", str(resp.status))
        resp, data = get("/", auth)
        expect(resp.status == 200 and data == HELLO.encode(), "200 and the hello page",
               f"{resp.status} {data[:80]!r}")
        expect(resp.getheader("Server") == "gateway", "the Server header")
        resp, data = get("/whoami", auth)
        expect(data == f"{USER}\n".encode(), "REMOTE_USER reaches the app", repr(data))

        resp, data = get("/big", {**auth, "Accept-Encoding": "gzip"})
        expect(resp.status == 200 and resp.getheader("Content-Encoding") == "gzip",
               "the 64 KiB page is gzipped", f"{resp.status} {resp.getheader('Content-Encoding')}")
        expect(gzip.decompress(data) == BIG.encode(),
               f"it decodes to the app's 65536 bytes ({len(data)} bytes on the wire)")
        resp, data = get("/big", auth)
        expect(resp.getheader("Content-Encoding") is None and data == BIG.encode(),
               "identity without Accept-Encoding: gzip")

        upload = os.urandom(200 * 1024)
        body, ctype = multipart({"greeting": "h\u00e9llo w\u00f6rld"},
                                {"upload": ("data.bin", upload)})
        resp, data = get("/echo", {**auth, "Content-Type": ctype}, "POST", body)
        expect(resp.status == 200, "the upload echo answers 200", f"{resp.status} {data[:200]!r}")
        echoed = json.loads(data)
        expect(echoed["form"] == {"greeting": "h\u00e9llo w\u00f6rld"}, "the form field echoed",
               repr(echoed["form"]))
        expect(echoed["files"]["upload"] == dict(describe_upload(upload), filename="data.bin"),
               "the 200 KiB upload arrived whole (size and sha256)", repr(echoed["files"]))

        resp, data = get("/stream", auth)
        expect(data == "".join(STREAM).encode(), "the streaming body", repr(data))
        expect(resp.getheader("Transfer-Encoding") == "chunked"
               and resp.getheader("Content-Length") is None, "sent chunked, as a stream")
        resp, data = get("/link", auth)
        expect(data == b"/big\n", "a URL built by the framework", repr(data))
    finally:
        code = server.stop(signal.SIGTERM)
    err = server.stderr()
    expect(code == 0, "exit status 0 on SIGTERM", f"{code}; stderr: {err}")
    expect("Traceback" not in err and "panicked" not in err, "no traceback or panic", err)

    lines = server.stdout().splitlines()
    expect(len(lines) == len(requests), f"one access-log line per request ({len(requests)})",
           "\n".join(lines))
    for line, (path, status) in zip(lines, requests):
        if f" {path} " not in line or f" {status} " not in line:
            raise CheckFailed(f"access-log line for {path} {status}: {line}")
    expect(True, "each line has its request's path and status")
    expect(not any(password in line or "wrong" in line for line in lines),
           "no password in the access log")
    expect(sum(f" {USER} " in line for line in lines) == len(requests) - 2,
           "the user is logged for the authenticated requests")


def check_root_path(command, tmp):
    print("== flask: --root-path /app, stopped by SIGINT")
    server = Server(command, "flask_app:app", ["--pythonpath", EXAMPLES, "--root-path", "/app/"],
                    tmp, "root-path")
    try:
        resp, data = server.request("GET", "/app/")
        expect(resp.status == 200 and data == HELLO.encode(), "/app/ is the app's /")
        resp, data = server.request("GET", "/app/link")
        expect(data == b"/app/big\n", "url_for sees SCRIPT_NAME=/app", repr(data))
        resp, _ = server.request("GET", "/other")
        expect(resp.status == 404, "404 outside the prefix", str(resp.status))
    finally:
        code = server.stop(signal.SIGINT)
    err = server.stderr()
    expect(code == 0, "exit status 0 on SIGINT", f"{code}; stderr: {err}")
    expect("Traceback" not in err and "KeyboardInterrupt" not in err, "no traceback", err)


API_SCRIPT = """
import sys, threading, time
import gateway_wsgi

ticks = 0

def tick():
    global ticks
    while True:
        ticks += 1
        time.sleep(0.005)

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(ticks).encode(), b" ", environ.get("REMOTE_USER", "").encode()]

threading.Thread(target=tick, daemon=True).start()
gateway_wsgi.serve(app, sys.argv[1], threads=2, middleware=[
    gateway_wsgi.AccessLog("common"),
    gateway_wsgi.BearerAuth({"tok-123": "robot"}),
    gateway_wsgi.Gzip(),
])
print("serve returned", flush=True)
"""


def check_api(python, tmp):
    print("== the Python API: serve(app, middleware=[...]) from a script")
    script = Path(tmp) / "api_app.py"
    script.write_text(API_SCRIPT)
    server = Server(None, None, None, tmp, "api", argv=[python, script])
    bearer = {"Authorization": "Bearer tok-123"}
    try:
        resp, _ = server.request("GET", "/")
        expect(resp.status == 401 and (resp.getheader("WWW-Authenticate") or "")
               .startswith("Bearer"), "401 and a Bearer challenge without the token")
        _, first = server.request("GET", "/", headers=bearer)
        time.sleep(0.3)
        _, second = server.request("GET", "/", headers=bearer)
        expect(first.endswith(b" robot"), "the token's identity is REMOTE_USER", repr(first))
        expect(int(second.split()[0]) > int(first.split()[0]),
               "a Python thread runs while serve() serves (the GIL is released)",
               f"{first!r} then {second!r}")
    finally:
        code = server.stop(signal.SIGINT)
    err = server.stderr()
    expect(code == 0 and "Traceback" not in err, "Ctrl-C: serve() returns, no traceback",
           f"{code}: {err}")
    lines = server.stdout().splitlines()
    expect(lines[-1:] == ["serve returned"], "the script goes on after serve()", repr(lines))
    expect(len(lines) == 4 and " robot " in lines[1] and " 401 " in lines[0],
           "AccessLog('common'): a line per request, with the user", "\n".join(lines))


def check_graceful(command, tmp):
    print("== flask: SIGTERM with a request in flight, inside and past --graceful-timeout")
    for grace, sleep, want in [("5", "1", 0), ("0.5", "5", 1)]:
        server = Server(command, "flask_app:app",
                        ["--pythonpath", EXAMPLES, "--graceful-timeout", grace], tmp,
                        f"graceful-{grace}")
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("GET", f"/slow?seconds={sleep}")
        time.sleep(0.3)  # the request is in the app
        server.proc.send_signal(signal.SIGTERM)
        try:
            resp = conn.getresponse()
            answered = resp.status == 200 and resp.read() == b"slept\n"
        except (OSError, http.client.HTTPException):
            answered = False
        conn.close()
        code = server.wait(signal.SIGTERM)
        err = server.stderr()
        if want == 0:
            expect(answered and code == 0,
                   f"a {sleep} s request finishes within --graceful-timeout {grace}; status 0",
                   f"answered={answered} status={code}: {err}")
        else:
            expect(not answered and code == 1 and "gateway-wsgi: error:" in err,
                   f"a {sleep} s request is cut at --graceful-timeout {grace}; status 1, "
                   "says so", f"answered={answered} status={code}: {err}")


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return {int(p) for p in f.read().split()}
    except OSError:
        return set()


def check_workers(command, tmp):
    print("== flask: --workers 2")
    server = Server(command, "flask_app:app", ["--pythonpath", EXAMPLES, "--workers", "2",
                                               "--access-log"], tmp, "workers")
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while len(children(server.proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = children(server.proc.pid)
        expect(len(workers) == 2, "the master starts 2 worker processes", repr(workers))
        pids = set()
        for _ in range(20):
            resp, data = server.request("GET", "/pid")
            pids.add(int(data))
        expect(pids <= workers, f"the workers answer, not the master (pids {sorted(pids)})",
               f"workers {sorted(workers)}")
        resp, data = server.request("GET", "/flags")
        expect(data == b"wsgi.multithread=True wsgi.multiprocess=True wsgi.run_once=False\n",
               "under --workers 2, wsgi.multiprocess is True", data)
    finally:
        code = server.stop(signal.SIGTERM)
    err = server.stderr()
    expect(code == 0 and "Traceback" not in err, "SIGTERM drains the workers; status 0", err)
    expect("(2 workers, 256 threads each)" in err, "the listening line says so", err)
    lines = server.stdout().splitlines()
    expect(len(lines) == 21, "the workers' access-log lines reach stdout (20 /pid, 1 /flags)",
           f"{len(lines)} lines")


def check_flags(command, tmp):
    print("== flask: wsgi.multithread and wsgi.multiprocess tell the truth")
    for args, want in [([], b"wsgi.multithread=True wsgi.multiprocess=False"),
                       (["--threads", "1"], b"wsgi.multithread=False wsgi.multiprocess=False")]:
        # `--access-log APP`: the APP right after the option is the APP.
        argv = [command, "--pythonpath", EXAMPLES, *args, "--access-log", "flask_app:app",
                "--bind"]
        server = Server(command, None, [], tmp, "flags", argv=argv)
        try:
            resp, data = server.request("GET", "/flags")
            expect(data == want + b" wsgi.run_once=False\n",
                   f"with {' '.join(args) or 'the defaults'}: {want.decode()}", data)
        finally:
            server.stop(signal.SIGTERM)
        log = server.stdout()
        expect('"GET /flags HTTP/1.1" 200' in log,
               "'--access-log flask_app:app' serves the app and logs the combined format", log)


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.path)


def check_unix(command, tmp):
    print("== flask: --bind unix:PATH")
    path = Path(tmp) / "gw.sock"
    err_path = Path(tmp) / "unix.stderr"
    argv = [command, "flask_app:app", "--pythonpath", str(EXAMPLES), "--bind", f"unix:{path}"]
    print(f"$ {' '.join(argv)}")
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            conn = UnixConnection(str(path))
            conn.request("GET", "/link")
            resp = conn.getresponse()
            data = resp.read()
            conn.close()
            expect(resp.status == 200 and data == b"/big\n", "a request over the Unix socket",
                   f"{resp.status} {data!r}")
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(STOP_TIMEOUT)
    stderr = err_path.read_text()
    expect(code == 0 and "Traceback" not in stderr, "exit status 0 on SIGTERM", stderr)
    expect(f"listening on unix:{path}" in stderr, "the listening line names the socket", stderr)
    expect(not path.exists(), "the socket file is removed")


def check_errors(command, tmp):
    print("== the command's errors")
    broken = Path(tmp) / "broken_app.py"
    broken.write_text("raise RuntimeError('boom at import')\n")
    (Path(tmp) / "needs_dep.py").write_text("import no_such_dependency\n")
    cases = [
        (["no_such_module:app"], 1, "no module named 'no_such_module'"),
        (["broken_app:app", "--chdir", tmp], 1, "RuntimeError: boom at import"),
        (["needs_dep:app", "--chdir", tmp], 1,
         "ModuleNotFoundError: No module named 'no_such_dependency'"),
        (["flask_app:nope", "--pythonpath", EXAMPLES], 1, "has no attribute 'nope'"),
        (["flask_app:app", "--pythonpath", EXAMPLES, "--bind", "127.0.0.1:http"], 2,
         "invalid bind address"),
        (["no_such_module:app", "--bind", "1.2.3.4:99999"], 2, "invalid bind address"),
        (["flask_app:app", "--threads", "0"], 2, "give 1 to 512"),
        (["flask_app:app", "--root-path", "nope"], 2, "invalid mount prefix"),
        (["flask_app:app", "--access-log=%Q"], 2, "AccessLog"),
        ([], 2, "the following arguments are required: APP"),
        (["--access-log", "combined"], 2, "the following arguments are required: APP"),
    ]
    for argv, status, message in cases:
        proc = subprocess.run([command, *map(str, argv)], capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)
        expect(proc.returncode == status and message in proc.stderr
               and "panicked" not in proc.stderr,
               f"{' '.join(map(str, argv))}: status {status}, says {message!r}",
               f"status {proc.returncode}, stderr: {proc.stderr}")
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        proc = subprocess.run([command, "flask_app:app", "--pythonpath", str(EXAMPLES),
                               "--bind", f"127.0.0.1:{port}"],
                              capture_output=True, text=True, timeout=60)
    expect(proc.returncode == 1 and "cannot listen on" in proc.stderr,
           "a port in use: status 1, says so", f"{proc.returncode}: {proc.stderr}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--venv", help="use (and keep) this venv instead of a temporary one")
    args = p.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="gateway-wsgi-check-") as tmp:
        venv = Path(args.venv) if args.venv else Path(tmp) / "venv"
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        print(f"== pip install {' '.join(REQUIREMENTS)} ./crates/gateway-wsgi")
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                        "--disable-pip-version-check", *REQUIREMENTS,
                        str(ROOT / "crates" / "gateway-wsgi")], check=True)
        # An existing venv may hold an older build of the package: rebuild it
        # (cargo's target/ makes that quick when nothing changed).
        if args.venv:
            subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                            "--disable-pip-version-check", "--force-reinstall", "--no-deps",
                            str(ROOT / "crates" / "gateway-wsgi")], check=True)
        command = str(venv / "bin" / "gateway-wsgi")
        try:
            check_framework(command, "flask", "flask_app:app", ["--pythonpath", EXAMPLES], tmp)
            check_framework(command, "django", "django_site:application",
                            ["--chdir", EXAMPLES / "django_app", "--pythonpath", EXAMPLES], tmp)
            check_root_path(command, tmp)
            check_unix(command, tmp)
            check_graceful(command, tmp)
            check_workers(command, tmp)
            check_flags(command, tmp)
            check_api(str(venv / "bin" / "python"), tmp)
            check_errors(command, tmp)
        except CheckFailed as e:
            print(f"FAILED: {e}", file=sys.stderr)
            return 1
    print(f"== all checks passed in {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
