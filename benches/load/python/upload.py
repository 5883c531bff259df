"""An upload sink: reads `wsgi.input` in 64 KiB chunks and answers the byte
count and the SHA-256 of the body (benches/load/python.py --upload)."""

import hashlib

CHUNK = 64 * 1024


def application(environ, start_response):
    stream = environ["wsgi.input"]
    digest = hashlib.sha256()
    total = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        total += len(chunk)
        digest.update(chunk)
    body = f"{total} {digest.hexdigest()}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
