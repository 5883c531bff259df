"""A gzip WSGI middleware in Python: what a granian, gunicorn or waitress user
adds to compress responses (the pattern of Werkzeug's and `wsgi-gzip`'s
middleware), used by benches/load/python.py as the peers' gzip.

It compresses, at zlib level 6 (as gateway's Rust Gzip does), a response
whose client sent `Accept-Encoding: gzip`, that has no Content-Encoding yet
and whose body is at least 1 KiB (gateway's default `min_size`). The body is
collected, compressed in one call and sent with its new Content-Length.
"""

import gzip

LEVEL = 6
MIN_SIZE = 1024


class GzipMiddleware:
    def __init__(self, app, level=LEVEL, min_size=MIN_SIZE):
        self.app = app
        self.level = level
        self.min_size = min_size

    def __call__(self, environ, start_response):
        if "gzip" not in environ.get("HTTP_ACCEPT_ENCODING", ""):
            return self.app(environ, start_response)
        head = {}

        def capture(status, headers, exc_info=None):
            head["status"] = status
            head["headers"] = headers
            head["exc_info"] = exc_info
            return lambda data: head.setdefault("written", []).append(data)

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        body = b"".join(head.get("written", [])) + body
        headers = head["headers"]
        names = {name.lower() for name, _ in headers}
        if len(body) >= self.min_size and "content-encoding" not in names:
            body = gzip.compress(body, compresslevel=self.level, mtime=0)
            headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
            headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(body))),
                        ("Vary", "Accept-Encoding")]
        start_response(head["status"], headers, head["exc_info"])
        return [body]
