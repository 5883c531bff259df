#!/usr/bin/env python3
"""Load comparison of Python WSGI servers: gateway against granian, gunicorn
and waitress, one worker each.

One command creates (or reuses) a venv under target/pyvenv with the peers
from PyPI, builds gateway's server, starts every (server, app) pair on
loopback pinned to one core, and runs wrk (pinned to the other) against each
in interleaved rounds, with the helpers of benches/load/run.py: requests/s,
p99, and the server's CPU time per request (utime + stime of the whole
process tree: gunicorn and granian run their worker as a child process).

    python3 benches/load/python.py                  # 3 rounds of 5 s
    python3 benches/load/python.py --rounds 5 --only hello,flask
    python3 benches/load/python.py --markdown /tmp/python.md
    python3 benches/load/python.py --upload         # the 256 MiB upload only

Apps (benches/load/python/):
  hello  examples/python/hello.py, the plain WSGI hello
  flask  flask_app:app, `/` (a Flask hello)
  page   the 64 KiB page `/page` with Accept-Encoding: gzip: gateway
         serves flask_app:app behind its Rust Gzip (`--gzip`); the peers
         serve flask_app:gzipped, the same app behind a Python gzip
         middleware (gzip_middleware.py, zlib level 6 like gateway's)

Peers: granian 2.8 (`--interface wsgi`, its defaults), gunicorn (`-k gthread
--threads 4`), waitress (its default 4 threads). Ratios are to granian (and,
for `flask`, to gunicorn too), per round.

`--upload` posts 256 MiB to benches/load/python/upload.py (reads
`wsgi.input` in 64 KiB chunks and answers the byte count and a SHA-256) and
reports the server's peak RSS (VmHWM).
"""

import argparse
import hashlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import run as load  # noqa: E402  (the helpers of benches/load/run.py)

ROOT = load.ROOT
VENV = os.path.join(load.TARGET, "pyvenv")
PIP = ["granian==2.8.*", "gunicorn", "waitress", "flask"]
APPS = os.path.join(HERE, "python")
PYPATH = os.pathsep.join([APPS, os.path.join(ROOT, "examples", "python")])


def venv_bin(name):
    return os.path.join(VENV, "bin", name)


def site_packages():
    out = subprocess.run([venv_bin("python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def ensure_venv():
    """target/pyvenv with the peers, made with the python3 gateway links."""
    if not os.path.exists(venv_bin("python")):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    probe = "import granian, gunicorn, waitress, flask"
    if subprocess.run([venv_bin("python"), "-c", probe], capture_output=True).returncode != 0:
        subprocess.run([venv_bin("pip"), "install", "-q"] + PIP, check=True)
    out = subprocess.run([venv_bin("python"), "-c", "import granian; print(granian.__version__)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


# gateway's server, as a Python user gets it: the package of
# crates/gateway-wsgi pip-installed into the venv (maturin builds it in
# release mode), run as the `gateway-wsgi` command.
GATEWAY_BUILD = [venv_bin("pip"), "install", "-q", "--force-reinstall", "--no-deps",
                 os.path.join(ROOT, "crates", "gateway-wsgi")]


def gateway_cmd(spec, addr, gzip=False, threads=None):
    argv = [venv_bin("gateway-wsgi"), spec, "--bind", addr]
    if gzip:
        argv.append("--gzip")
    if threads:
        argv += ["--threads", str(threads)]
    return argv


def server_cmd(server, spec, addr, gzip, gateway_threads):
    host, port = addr.rsplit(":", 1)
    if server == "gateway":
        return gateway_cmd(spec, addr, gzip, gateway_threads)
    if gzip:  # the peers' gzip is the Python middleware
        spec = spec.replace(":app", ":gzipped")
    if server == "granian":
        return [venv_bin("granian"), "--interface", "wsgi", "--workers", "1", "--host", host,
                "--port", port, "--log-level", "warning", spec]
    if server == "gunicorn":
        return [venv_bin("gunicorn"), "-w", "1", "-k", "gthread", "--threads", "4", "-b", addr,
                "--log-level", "warning", spec]
    if server == "waitress":
        return [venv_bin("waitress-serve"), f"--listen={addr}", spec]
    raise ValueError(server)


# (app label, spec, path, headers, gateway gzip)
APPS_RUN = {
    "hello": ("hello:application", "/", {}, False),
    "flask": ("flask_app:app", "/", {}, False),
    "page": ("flask_app:app", "/page", {"Accept-Encoding": "gzip"}, True),
}
SERVERS = ["gateway", "granian", "gunicorn", "waitress"]


def start(argv, cores):
    port = int(argv_addr(argv).rsplit(":", 1)[1])
    argv = ["taskset", "-c", cores] + argv
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([PYPATH, site_packages()]),
               PYTHONDONTWRITEBYTECODE="1")
    # stderr to a file, not a pipe: a server that logs a lot (waitress warns
    # of its queue depth) would block once an unread pipe fills.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(argv, cwd=APPS, stdout=subprocess.DEVNULL, stderr=log,
                            env=env, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise SystemExit(f"{argv} exited: {log.read().decode(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    stop(proc)
    raise SystemExit(f"{argv} did not start listening")


def argv_addr(argv):
    for a in argv:
        if a.startswith("--listen="):
            return a.split("=", 1)[1]
        if a.startswith("127.0.0.1:"):
            return a
    i = argv.index("--port")
    return f"127.0.0.1:{argv[i + 1]}"


def stop(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def tree(pid):
    """`pid` and its descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def tree_cpu(pid):
    total = 0.0
    for p in tree(pid):
        try:
            total += load.cpu_seconds(p)
        except OSError:
            pass
    return total


def fetch(port, path, headers):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.headers.get("Content-Encoding"), resp.read()


def check(name, app, port, path, headers, expect):
    import gzip as gz
    status, encoding, body = fetch(port, path, headers)
    if "gzip" in headers.get("Accept-Encoding", ""):
        if encoding != "gzip":
            raise SystemExit(f"{name} {app}: not gzipped (Content-Encoding {encoding})")
        raw = gz.decompress(body)
    else:
        raw = body
    print(f"check {name:9} {app:6} -> {status}, {len(body)} bytes ({len(raw)} decoded)", file=sys.stderr)
    if status != 200 or (expect is not None and raw != expect):
        raise SystemExit(f"{name} {app} answered {status} with {len(raw)} bytes: not the expected body")
    return raw


def bench(args):
    version = ensure_venv()
    if not args.no_build:
        subprocess.run(GATEWAY_BUILD, cwd=ROOT, check=True)
    wrk_bin = load.find_wrk()
    apps = [a for a in APPS_RUN if not args.only or a in args.only.split(",")]
    servers = [s for s in SERVERS if not args.servers or s in args.servers.split(",")]
    runs = [(app, server) for app in apps for server in servers]
    procs = {}
    results = {r: [] for r in runs}
    try:
        for app, server in runs:
            spec, path, headers, gzip = APPS_RUN[app]
            addr = f"127.0.0.1:{load.free_port()}"
            procs[(app, server)] = start(server_cmd(server, spec, addr, gzip, args.gateway_threads),
                                         args.server_core)
        expect = {}
        for app, server in runs:
            _, path, headers, _ = APPS_RUN[app]
            raw = check(server, app, procs[(app, server)][1], path, headers, expect.get(app))
            expect.setdefault(app, raw)
        warm = argparse.Namespace(**vars(args))
        warm.duration = 1
        for app, server in runs:
            _, path, headers, _ = APPS_RUN[app]
            load.wrk(wrk_bin, procs[(app, server)][1], path, headers, warm, args.wrk_core)
        for rnd in range(args.rounds):
            for run in runs:
                app, server = run
                _, path, headers, _ = APPS_RUN[app]
                proc, port = procs[run]
                before = tree_cpu(proc.pid)
                requests, rps, p99, errors = load.wrk(wrk_bin, port, path, headers, args, args.wrk_core)
                cpu = (tree_cpu(proc.pid) - before) * 1e6 / max(requests, 1)
                results[run].append((rps, p99, cpu, errors))
                print(f"round {rnd + 1}: {server:9} {app:6} {rps:9.0f} req/s  p99 {p99:7.2f} ms"
                      f"  {cpu:7.2f} us CPU/req  non-2xx {errors}", file=sys.stderr)
    finally:
        for proc, _ in procs.values():
            stop(proc)
    return table(args, runs, results, version)


def table(args, runs, results, version):
    def med(run, k):
        return statistics.median(x[k] for x in results[run])

    def ratio(run, peer, k):
        if peer not in results or peer == run:
            return "—"
        pairs = [a[k] / b[k] for a, b in zip(results[run], results[peer])]
        return f"{statistics.median(pairs):.2f}× [{min(pairs):.2f}–{max(pairs):.2f}]"

    lines = [f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} interleaved rounds, "
             f"server (its whole process tree) on core {args.server_core}, wrk on core {args.wrk_core}; "
             f"one worker each; granian {version}. Medians of the rounds; ratios are per round, median "
             "[lowest–highest].", "",
             "| app | server | req/s | p99 ms | CPU µs/req | non-2xx | req/s vs granian | CPU/req vs granian "
             "| req/s vs gunicorn |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        app, server = run
        errors = sum(x[3] for x in results[run])
        lines.append(f"| {app} | {server} | {med(run, 0):.0f} | {med(run, 1):.2f} | {med(run, 2):.1f} | {errors} "
                     f"| {ratio(run, (app, 'granian'), 0)} | {ratio(run, (app, 'granian'), 2)} "
                     f"| {ratio(run, (app, 'gunicorn'), 0)} |")
    return "\n".join(lines)


def vm_hwm(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])  # KiB
    return 0


def upload(args):
    """POST `--upload-mib` MiB to upload.py; the server's peak RSS."""
    ensure_venv()
    if not args.no_build:
        subprocess.run(GATEWAY_BUILD, cwd=ROOT, check=True)
    size = args.upload_mib << 20
    addr = f"127.0.0.1:{load.free_port()}"
    proc, port = start(gateway_cmd("upload:application", addr), args.server_core)
    try:
        before = vm_hwm(proc.pid)
        digest = hashlib.sha256()
        block = bytes(range(256)) * 256  # 64 KiB
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(f"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n"
                     "Connection: close\r\n\r\n".encode())
        started = time.time()
        sent = 0
        while sent < size:
            chunk = block[: min(len(block), size - sent)]
            sock.sendall(chunk)
            digest.update(chunk)
            sent += len(chunk)
            if time.time() - started > args.upload_timeout:
                raise SystemExit(f"upload took over {args.upload_timeout} s")
        answer = b""
        while True:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        sock.close()
        elapsed = time.time() - started
        head, _, body = answer.partition(b"\r\n\r\n")
        expect = f"{size} {digest.hexdigest()}\n".encode()
        if not head.startswith(b"HTTP/1.1 200") or body != expect:
            raise SystemExit(f"upload answered {head[:40]!r} {body[:100]!r}, expected {expect!r}")
        peak = vm_hwm(proc.pid)
    finally:
        stop(proc)
    line = (f"upload of {args.upload_mib} MiB through upload.py (64 KiB reads of wsgi.input): "
            f"{elapsed:.1f} s, server VmHWM {peak / 1024:.1f} MiB (at start {before / 1024:.1f} MiB), "
            f"answer {body.decode().strip()}")
    return line


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1, help="wrk threads")
    ap.add_argument("--server-core", default="1")
    ap.add_argument("--wrk-core", default="0")
    ap.add_argument("--only", help="comma-separated apps: hello,flask,page")
    ap.add_argument("--servers", help="comma-separated servers: gateway,granian,gunicorn,waitress")
    ap.add_argument("--gateway-threads", type=int, help="gateway's --threads (default: the server's)")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--markdown", help="also write the table to this file")
    ap.add_argument("--upload", action="store_true", help="run the upload check instead of the load")
    ap.add_argument("--upload-mib", type=int, default=256)
    ap.add_argument("--upload-timeout", type=int, default=120, help="seconds")
    args = ap.parse_args()
    out = upload(args) if args.upload else bench(args)
    print(out)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(out + "\n")


if __name__ == "__main__":
    main()
