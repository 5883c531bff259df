"""The ``gateway-wsgi`` command: ``gateway-wsgi [OPTIONS] module:app``.

Written with argparse on the package's Python API (``serve`` and the
middleware classes), so the command and the API are one code path. The
options follow gunicorn's names where gunicorn has one (``--bind``,
``--threads``, ``--timeout``, ``--keep-alive``, ``--chdir``,
``--pythonpath``); see docs/python.md for the table against gunicorn,
waitress and granian.
"""

import argparse
import os
import re
import signal
import sys

from . import _native
from ._import import AppImportError, import_app

PROG = "gateway-wsgi"


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give 0 or more seconds")
    return value


def _count(most):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(f"{value}: give 1 to {most}")
        return value
    return parse


# 'module:name' (dotted on both sides), as APP is written.
_APP_SPEC = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")


def _file(text):
    if not os.path.isfile(text):
        raise argparse.ArgumentTypeError(f"{text!r}: no such file")
    return text


def parser():
    """The argument parser of the ``gateway-wsgi`` command."""
    p = argparse.ArgumentParser(
        prog=PROG,
        usage="%(prog)s [OPTIONS] APP",
        description="Serve a Python WSGI app (PEP 3333) over HTTP/1.1 and HTTP/2, behind "
        "gateway's Rust middleware. Stops on Ctrl-C or SIGTERM, after the requests in flight.",
        epilog="A 'module:name' right after --access-log is the APP, not a FORMAT: "
        "'gateway-wsgi --access-log app:app' logs in the combined format.",
    )
    # Optional here so that `--access-log app:app` can be read as APP (see
    # main); a missing APP is still the usual usage error.
    p.add_argument("app", metavar="APP", nargs="?", help="the WSGI callable, 'module:name' "
                   "('myproject.wsgi' means 'myproject.wsgi:application')")
    p.add_argument("-b", "--bind", default="127.0.0.1:8000", metavar="ADDRESS",
                   help="HOST:PORT, [IPv6]:PORT, :PORT (all interfaces), HOST, or unix:PATH "
                   "(default: %(default)s)")
    p.add_argument("-w", "--workers", type=_count(256), default=1, metavar="N",
                   help="worker processes, each with its own interpreter and GIL; the "
                   "command runs again in each (default: %(default)s: this process serves)")
    p.add_argument("--threads", type=_count(512), default=_native.DEFAULT_THREADS, metavar="N",
                   help="requests running the app at once, per worker (default: %(default)s)")
    p.add_argument("-t", "--timeout", type=_seconds, default=30.0, metavar="SECONDS",
                   help="longest time from a request to its response head, then 504 "
                   "(0: none; default: %(default)s)")
    p.add_argument("--keep-alive", type=_seconds, default=None, metavar="SECONDS",
                   help="how long an idle connection is kept (0: no keep-alive; default: "
                   "the header timeout)")
    p.add_argument("--header-timeout", type=_seconds, default=30.0, metavar="SECONDS",
                   help="longest time a client may take to send a request head "
                   "(default: %(default)s)")
    p.add_argument("--body-timeout", type=_seconds, default=None, metavar="SECONDS",
                   help="longest wait for the next bytes of a request body, then 408 "
                   "(default: none)")
    p.add_argument("--graceful-timeout", type=_seconds, default=30.0, metavar="SECONDS",
                   help="on SIGTERM / Ctrl-C, how long the requests in flight get to finish; "
                   "past it their connections are closed and the exit status is 1 "
                   "(default: %(default)s)")
    p.add_argument("--access-log", nargs="?", const="combined", default=None, metavar="FORMAT",
                   help="one line per request on stdout: combined (the default FORMAT), "
                   "common, json, or a format such as '%%h \"%%r\" %%>s %%b {duration_ms}'")
    p.add_argument("--gzip", action="store_true",
                   help="compress responses for clients that accept gzip")
    auth = p.add_mutually_exclusive_group()
    auth.add_argument("--basic-auth", type=_file, metavar="FILE",
                      help="require HTTP Basic auth; FILE has 'user:password' lines")
    auth.add_argument("--bearer-auth", type=_file, metavar="FILE",
                      help="require a Bearer token; FILE has 'identity:token' lines")
    p.add_argument("--realm", default="gateway", help="the auth realm (default: %(default)s)")
    p.add_argument("--root-path", metavar="PREFIX",
                   help="mount the app under PREFIX: SCRIPT_NAME=PREFIX, PATH_INFO the rest; "
                   "other paths get 404")
    p.add_argument("--chdir", metavar="DIR", help="change to DIR before importing the app")
    p.add_argument("--pythonpath", metavar="DIRS",
                   help="comma-separated directories put first on sys.path")
    p.add_argument("--no-server-header", action="store_true",
                   help="send no 'Server: gateway' header")
    p.add_argument("--version", action="version", version=f"%(prog)s {_native.__version__}")
    return p


def middleware(args):
    """The middleware list the options ask for, outermost first."""
    layers = []
    if args.access_log is not None:
        layers.append(_native.AccessLog(args.access_log))
    if args.root_path:
        layers.append(_native.Mount(args.root_path))
    if args.basic_auth:
        layers.append(_native.BasicAuth(file=args.basic_auth, realm=args.realm))
    if args.bearer_auth:
        layers.append(_native.BearerAuth(file=args.bearer_auth, realm=args.realm))
    if args.gzip:
        layers.append(_native.Gzip())
    return layers


def _stop_while_importing(signum, frame):
    raise SystemExit(0)


def _import_in_worker(spec):
    """import_app in a worker: a SIGTERM from the master while the app is
    still loading (nothing is in flight yet) ends the worker with status 0
    rather than killing it; once serve() runs, the server handles SIGTERM."""
    previous = signal.signal(signal.SIGTERM, _stop_while_importing)
    try:
        return import_app(spec)
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv=None):
    """Run the command; returns the exit status (0 after a clean stop)."""
    p = parser()
    args = p.parse_args(argv)
    if args.app is None:
        # `--access-log app:app`: argparse gave the APP to the optional FORMAT.
        # A format has a % directive or is a name; 'module:name' is neither.
        if args.access_log and _APP_SPEC.fullmatch(args.access_log):
            args.app, args.access_log = args.access_log, "combined"
        else:
            p.error("the following arguments are required: APP")
    try:
        # Options first: a bad one fails before the app is imported.
        layers = middleware(args)
        _native.check_bind(args.bind)
        if args.chdir:
            os.chdir(args.chdir)
        # As gunicorn: the working directory, then --pythonpath, come first.
        sys.path.insert(0, os.getcwd())
        if args.pythonpath:
            for entry in reversed([d for d in args.pythonpath.split(",") if d]):
                sys.path.insert(0, os.path.abspath(entry))
        in_worker = _native.WORKER_ENV in os.environ
        app = _import_in_worker(args.app) if in_worker else import_app(args.app)
        _native.serve(
            app,
            args.bind,
            middleware=layers,
            workers=args.workers,
            threads=args.threads,
            timeout=args.timeout,
            keep_alive=args.keep_alive,
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
            graceful_timeout=args.graceful_timeout,
            server_header=None if args.no_server_header else "gateway",
        )
    except KeyboardInterrupt:
        return 130
    except AppImportError as e:
        print(f"{PROG}: cannot load {args.app!r}: {e}", file=sys.stderr)
        # In a worker, the status that tells the master to stop, not restart.
        return _native.WORKER_BOOT_ERROR if _native.WORKER_ENV in os.environ else 1
    except (ValueError, TypeError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    return 0
