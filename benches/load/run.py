#!/usr/bin/env python3
"""Load comparison: gateway against raw hyper, axum and axum + tower-http.

One invocation builds every server in release mode, starts them all on
loopback, pins each server to one core and wrk to the other, and runs wrk
against each (server, route) pair in interleaved rounds (A B C A B C ...), so
that the noise of this shared machine falls on every server alike. For each
pair it reports requests/s, p99 latency and the server's CPU time per request
(utime + stime from /proc/PID/stat, before and after the run): when wrk is the
limit, CPU per request still tells which server is cheaper.

    python3 benches/load/run.py                      # everything, 3 rounds of 5 s
    python3 benches/load/run.py --rounds 5 --duration 10 --only hello
    python3 benches/load/run.py --markdown docs/benchmarks-load.md

Groups:
  hello  the hello route: raw hyper, axum, the bare bridge (Inline, Blocking,
         and mixed: an `inline_when` predicate) and the full `stack` example;
         ratios against raw hyper.
  stack  `stack` against axum + tower-http on `/`, `/big` (gzip) and
         `/private/` (Basic auth); ratios of stack to axum + tower-http.

The axum peers are their own cargo project (benches/load/peers), built as an
axum user would build them: outside gateway's workspace, so flate2 keeps its
default backend (miniz_oxide) rather than gateway's zlib-rs. `--zlib-rs-peer`
adds the same axum + tower-http peer built with flate2's zlib-rs backend, to
show what the compressor alone is worth. The peer serves on `/big` the very
bytes gateway's `/big` serves: they are fetched from the stack once and handed
over in a file (PEER_BIG_FILE).

Binaries go to $CARGO_TARGET_DIR (default: target/) and, for the peers, to
its `peers/` and `peers-zlib-rs/` subdirectories.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
PEERS = os.path.join(ROOT, "benches", "load", "peers", "Cargo.toml")
# where each build puts its binaries: (target dir, cargo build arguments)
BUILDS = {
    "gateway": (TARGET, ["--example"]),
    "peers": (os.path.join(TARGET, "peers"), ["--manifest-path", PEERS, "--bin"]),
    "peers-zlib-rs": (os.path.join(TARGET, "peers-zlib-rs"),
                      ["--manifest-path", PEERS, "--features", "zlib-rs", "--bin"]),
}
BASIC = "Basic ZGVtbzpkZW1v"  # demo:demo

# name -> (build, binary, extra args, address style); the address is appended
# as `--addr ADDR` or as the first argument.
SERVERS = {
    "raw hyper": ("gateway", "load-peer-hyper", [], "arg"),
    "axum": ("peers", "load-peer-axum", [], "arg"),
    "axum + tower-http": ("peers", "load-peer-axum-stack", [], "arg"),
    "axum + tower-http (zlib-rs)": ("peers-zlib-rs", "load-peer-axum-stack", [], "arg"),
    "bridge inline": ("gateway", "load-bridge", ["--inline"], "flag"),
    "bridge blocking": ("gateway", "load-bridge", [], "flag"),
    "bridge mixed": ("gateway", "load-bridge", ["--mixed"], "flag"),
    "gateway stack": ("gateway", "stack", [], "flag"),
}

# (group, server, route label, path, headers)
RUNS = [
    ("hello", "raw hyper", "/", "/", {}),
    ("hello", "axum", "/", "/", {}),
    ("hello", "bridge inline", "/", "/", {}),
    ("hello", "bridge blocking", "/", "/", {}),
    ("hello", "bridge mixed", "/", "/", {}),
    ("hello", "gateway stack", "/", "/", {}),
    ("stack", "gateway stack", "/", "/", {}),
    ("stack", "axum + tower-http", "/", "/", {}),
    ("stack", "gateway stack", "/big gzip", "/big", {"Accept-Encoding": "gzip"}),
    ("stack", "axum + tower-http", "/big gzip", "/big", {"Accept-Encoding": "gzip"}),
    ("stack", "gateway stack", "/private/", "/private/", {"Authorization": BASIC}),
    ("stack", "axum + tower-http", "/private/", "/private/", {"Authorization": BASIC}),
]
# with --zlib-rs-peer
ZLIB_RS_RUNS = [
    ("stack", "axum + tower-http (zlib-rs)", "/big gzip", "/big", {"Accept-Encoding": "gzip"}),
]


def find_wrk():
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    print("wrk not found: installing Debian's package (apt-get install wrk)", file=sys.stderr)
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    return shutil.which("wrk")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def binary(name):
    build, name, _, _ = SERVERS[name]
    if build == "path":
        return name
    return os.path.join(BUILDS[build][0], "release", "examples" if build == "gateway" else "", name)


def build(names):
    """Build, in release mode, every binary that `names` need."""
    for key, (target, flags) in BUILDS.items():
        bins = sorted({SERVERS[n][1] for n in names if SERVERS[n][0] == key})
        if bins:
            cmd = ["cargo", "build", "--release", "--quiet", "--target-dir", target]
            cmd += flags[:-1] + [a for b in bins for a in (flags[-1], b)]
            subprocess.run(cmd, cwd=ROOT, check=True)


def start(name, cores, env=None):
    _, _, args, style = SERVERS[name]
    port = free_port()
    addr = f"127.0.0.1:{port}"
    argv = [binary(name)] + args
    argv += ["--addr", addr] if style == "flag" else [addr]
    if shutil.which("taskset"):
        argv = ["taskset", "-c", cores] + argv
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=dict(os.environ, RUST_LOG="info", **(env or {})))
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{name} did not start listening on {addr}")


def check(port, path, headers):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    with urllib.request.urlopen(req, timeout=5) as resp:
        body = resp.read()
        return resp.status, resp.headers.get("Content-Encoding"), len(body)


def wrk(wrk_bin, port, path, headers, args, cores):
    cmd = [wrk_bin, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
           "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", cores] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 30).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return requests, rps, float(p99.group(1)) * scale, int(errors.group(1)) if errors else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--server-core", default="1")
    ap.add_argument("--wrk-core", default="0")
    ap.add_argument("--only", help="comma-separated groups: hello,stack")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--markdown", help="also write the table to this file")
    ap.add_argument("--compare-stack", metavar="BINARY",
                    help="also run this build of the stack example (e.g. the one before a change) "
                         "on the stack routes, as 'stack (compared)'")
    ap.add_argument("--zlib-rs-peer", action="store_true",
                    help="also run axum + tower-http built with flate2's zlib-rs backend on /big")
    args = ap.parse_args()

    all_runs = RUNS + (ZLIB_RS_RUNS if args.zlib_rs_peer else [])
    if args.compare_stack:
        SERVERS["stack (compared)"] = ("path", os.path.abspath(args.compare_stack), [], "flag")
        all_runs += [("stack", "stack (compared)") + r[2:] for r in RUNS
                     if r[:2] == ("stack", "gateway stack")]
    runs = [r for r in all_runs if not args.only or r[0] in args.only.split(",")]
    names = sorted({r[1] for r in runs}, key=list(SERVERS).index)
    peers_big = [n for n in names if SERVERS[n][1] == "load-peer-axum-stack"]
    if peers_big and "gateway stack" not in names:
        names.append("gateway stack")  # the source of /big's bytes
    if not args.no_build:
        build(names)
    wrk_bin = find_wrk()

    servers = {}
    big = tempfile.NamedTemporaryFile(prefix="gateway-big-", delete=False)
    big.close()
    try:
        # gateway first: the axum + tower-http peers serve its /big bytes.
        for name in sorted(names, key=lambda n: SERVERS[n][0] != "gateway"):
            if name in peers_big and os.path.getsize(big.name) == 0:
                port = servers["gateway stack"][1]
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/big", timeout=5) as resp:
                    with open(big.name, "wb") as f:
                        f.write(resp.read())
            servers[name] = start(name, args.server_core, {"PEER_BIG_FILE": big.name})
        for group, name, label, path, headers in runs:
            status, encoding, size = check(servers[name][1], path, headers)
            note = f" content-encoding={encoding}" if encoding else ""
            print(f"check {name:18} {path:10} -> {status}, {size} bytes{note}", file=sys.stderr)
            if status != 200:
                raise SystemExit(f"{name} {path} answered {status}")
        for name in peers_big:  # both serve the same /big bytes
            with urllib.request.urlopen(f"http://127.0.0.1:{servers[name][1]}/big", timeout=5) as resp:
                with open(big.name, "rb") as f:
                    if resp.read() != f.read():
                        raise SystemExit(f"{name} /big differs from gateway's")
        # Warm up every server once.
        warm = argparse.Namespace(**vars(args))
        warm.duration = 1
        for name, (proc, port) in servers.items():
            wrk(wrk_bin, port, "/", {}, warm, args.wrk_core)

        results = {i: [] for i in range(len(runs))}
        for rnd in range(args.rounds):
            for i, (group, name, label, path, headers) in enumerate(runs):
                proc, port = servers[name]
                before = cpu_seconds(proc.pid)
                requests, rps, p99, errors = wrk(wrk_bin, port, path, headers, args, args.wrk_core)
                cpu = cpu_seconds(proc.pid) - before
                results[i].append((rps, p99, cpu * 1e6 / max(requests, 1), errors))
                print(f"round {rnd + 1}: {name:18} {label:10} {rps:10.0f} req/s  p99 {p99:7.2f} ms"
                      f"  {cpu * 1e6 / max(requests, 1):6.2f} us CPU/req", file=sys.stderr)
    finally:
        for proc, _ in servers.values():
            proc.send_signal(signal.SIGTERM)
        for proc, _ in servers.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        os.unlink(big.name)

    med = {i: tuple(statistics.median(x[k] for x in results[i]) for k in range(3)) + (sum(x[3] for x in results[i]),)
           for i in results}
    lines = [f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} interleaved rounds, "
             f"server on core {args.server_core}, wrk on core {args.wrk_core}; medians of the rounds. "
             "Per round: the CPU/request ratio to the peer measured in the same round, as median "
             "[lowest–highest] over the rounds (the noise of the machine falls on both sides of each pair).", ""]
    lines += ["| group | server | route | req/s | p99 ms | CPU µs/req | non-2xx | vs peer: req/s | vs peer: CPU/req "
              "| per round: CPU/req |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for i, (group, name, label, path, headers) in enumerate(runs):
        rps, p99, cpu, errors = med[i]
        if group == "hello":
            peer = next(j for j, r in enumerate(runs) if r[0] == "hello" and r[1] == "raw hyper")
        else:
            peer = next(j for j, r in enumerate(runs)
                        if r[0] == "stack" and r[1] == "axum + tower-http" and r[2] == label)
        prps, _, pcpu, _ = med[peer]
        ratio_rps = f"{rps / prps:.2f}×" if peer != i else "1 (peer)"
        ratio_cpu = f"{cpu / pcpu:.2f}×" if peer != i else "1 (peer)"
        paired = "1 (peer)"
        if peer != i:
            pairs = [a[2] / b[2] for a, b in zip(results[i], results[peer])]
            paired = f"{statistics.median(pairs):.2f}× [{min(pairs):.2f}–{max(pairs):.2f}]"
        lines.append(f"| {group} | {name} | {label} | {rps:.0f} | {p99:.2f} | {cpu:.2f} | {errors} | {ratio_rps} "
                     f"| {ratio_cpu} | {paired} |")
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
