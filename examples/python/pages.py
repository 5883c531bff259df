"""The pages the Flask and Django examples serve, and check.py expects.

Shared so that the check compares what a framework sent, through gateway,
with the very bytes the app meant to send.
"""

import hashlib

#: The hello page.
HELLO = "Hello, World!\n"


def _big_page():
    lines = []
    size = 0
    n = 0
    while size < 64 * 1024:
        line = f"{n:05d} gateway serves this page through a Rust gzip middleware.\n"
        lines.append(line)
        size += len(line)
        n += 1
    return "".join(lines)[: 64 * 1024]


#: A 64 KiB text page (compressible: for --gzip).
BIG = _big_page()

#: The chunks of the streaming response, sent one at a time.
STREAM = [f"chunk {i} of 8\n" for i in range(8)]


def describe_upload(data):
    """What the upload echo answers about an uploaded file's bytes."""
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
