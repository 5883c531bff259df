"""The Flask apps of the Python load comparison (benches/load/python.py).

`app` answers `/` with a hello and `/page` with a 64 KiB HTML page (built
once at import, so every server serves the same bytes); `gzipped` is the
same app behind `gzip_middleware.GzipMiddleware`, for the Python servers
that have no gzip of their own (gateway serves `app` behind its Rust Gzip).
"""

import random

from flask import Flask

from gzip_middleware import GzipMiddleware

app = Flask(__name__)


def _page(size=64 * 1024):
    # A table of pseudo-random words: compresses like real HTML (about 4:1),
    # not like a run of one byte. Seeded, so every process builds the same page.
    rng = random.Random(10)
    words = ["gateway", "wsgi", "rust", "python", "flask", "tower", "hyper", "gzip",
             "request", "response", "header", "body", "environ", "stream"]
    rows = []
    total = 0
    n = 0
    while total < size:
        cells = "".join(f"<td>{rng.choice(words)}-{rng.randrange(100000)}</td>" for _ in range(6))
        row = f"<tr><th>{n}</th>{cells}</tr>\n"
        rows.append(row)
        total += len(row)
        n += 1
    head = "<!doctype html>\n<html><head><title>page</title></head><body><table>\n"
    tail = "</table></body></html>\n"
    body = head + "".join(rows) + tail
    return body[: size - len(tail)] + tail if len(body) > size else body


PAGE = _page()


@app.route("/")
def hello():
    return "Hello, World!\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@app.route("/page")
def page():
    return PAGE


gzipped = GzipMiddleware(app)
