"""Stdlib-only WSGI apps, one per PEP 3333 rule the gateway-python tests check.

Each is served by crates/gateway-python/tests/pep3333.rs through
gateway_python::PyApp, wrapped in wsgiref.validate.validator (with its
warnings turned into errors) unless the test says why not.
"""

import sys

# What the close() tests read back: the names of the iterables closed.
CLOSED = []


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, World!"]


def lazy(environ, start_response):
    # start_response is called on the first next(), not by the call.
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"lazy "
    yield b"generator"


def writer(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"written ")
    return [b"returned"]


def exc_info_before_head(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise ValueError("changed my mind")
    except ValueError:
        start_response("503 Service Unavailable", [("Content-Type", "text/plain")], sys.exc_info())
    return [b"replaced"]


def exc_info_after_head(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"part one"
    try:
        raise ValueError("too late to change")
    except ValueError:
        # The head is out: this re-raises the ValueError.
        start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
    yield b"never"


def raise_before_head(environ, start_response):
    raise RuntimeError("broken before the head")


def raise_after_head(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"part one"
    raise RuntimeError("broken after the head")


def bad_header(environ, start_response):
    try:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "close")])
    except ValueError as err:
        message = str(err).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [message]


class Closing:
    """An iterable with close(), recording that it was closed."""

    def __init__(self, name, chunks, fail_at=None):
        self.name, self.chunks, self.fail_at = name, chunks, fail_at

    def __iter__(self):
        for i, chunk in enumerate(self.chunks):
            if i == self.fail_at:
                raise RuntimeError("failed mid-body")
            yield chunk

    def close(self):
        CLOSED.append(self.name)


def closing(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    name = environ.get("QUERY_STRING", "")
    fail_at = 1 if name == "error" else None
    chunks = [b"a", b"b", b"c"] * (1000 if name == "gone" else 1)
    return Closing(name, chunks, fail_at)


def echo_input(environ, start_response):
    stream = environ["wsgi.input"]
    first = stream.read(5)
    line = stream.readline()
    short = stream.readline(3)
    rest = list(stream)
    after = stream.read(10)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [repr([first, line, short, rest, after]).encode()]


def read_lines(environ, start_response):
    stream = environ["wsgi.input"]
    lines = stream.readlines(7)
    tail = stream.readlines()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [repr([lines, tail]).encode()]


def upload(environ, start_response):
    # Reads wsgi.input in chunks, as a streaming upload does.
    stream, total = environ["wsgi.input"], 0
    while True:
        block = stream.read(65536)
        if not block:
            break
        total += len(block)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(total).encode()]


def file_wrapper(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/x-python")])
    return environ["wsgi.file_wrapper"](open(__file__, "rb"), 4096)


def errors(environ, start_response):
    errors = environ["wsgi.errors"]
    errors.write("one line\n")
    errors.writelines(["two ", "lines\n"])
    errors.flush()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"logged"]


def environ_types(environ, start_response):
    report = {}
    for key, value in environ.items():
        assert type(key) is str, key
        if not key.startswith("wsgi."):
            assert type(value) is str, (key, value)
    report["version"] = environ["wsgi.version"]
    report["scheme"] = environ["wsgi.url_scheme"]
    for flag in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once", "wsgi.input_terminated"):
        assert type(environ[flag]) is bool, flag
        report[flag] = environ[flag]
    for key in ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME",
                "SERVER_PORT", "SERVER_PROTOCOL", "HTTP_X_NAME", "REMOTE_USER", "AUTH_TYPE"):
        report[key] = environ.get(key)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [repr(sorted(report.items())).encode("utf-8")]


def text_chunk(environ, start_response):
    # Breaks PEP 3333 on purpose (a str chunk): not validated, which would refuse it first.
    start_response("200 OK", [("Content-Type", "text/plain")])
    return ["not bytes"]


def big(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"gateway python " * 4096]


def slow_upload(environ, start_response):
    # Waits for the client's body: the GIL must be released meanwhile.
    data = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"got " + data]


def endless(environ, start_response):
    # A download the client abandons: close() must still run.
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return Closing("socket-gone", [b"x" * 65536] * 100000)


def rules(environ, start_response):
    # Each broken rule raises a Python exception carrying the Rust message.
    messages = []
    try:
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Bad", "5 \u20ac")])
    except Exception as err:
        messages.append("%s: %s" % (type(err).__name__, err))
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        start_response("201 Created", [("Content-Type", "text/plain")])
    except Exception as err:
        messages.append("%s: %s" % (type(err).__name__, err))
    return ["\n".join(messages).encode()]


class FailingClose(Closing):
    def close(self):
        raise RuntimeError("close failed")


def failing_close(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return FailingClose("failing", [b"body"])
