"""A Flask app for gateway-wsgi: hello, a 64 KiB page, a form/upload echo,
a streaming response, who is logged in, and a link built by url_for (to see
--root-path at work).

    gateway-wsgi flask_app:app --pythonpath examples/python --gzip --access-log

examples/python/check.py serves it that way and checks every route.
"""

import os
import time

from flask import Flask, Response, jsonify, request, url_for

from pages import BIG, HELLO, STREAM, describe_upload

app = Flask(__name__)


@app.get("/")
def hello():
    return Response(HELLO, mimetype="text/plain")


@app.get("/big")
def big():
    return Response(BIG, mimetype="text/plain")


@app.post("/echo")
def echo():
    files = {name: dict(describe_upload(f.read()), filename=f.filename)
             for name, f in request.files.items()}
    return jsonify(form=request.form.to_dict(), files=files)


@app.get("/stream")
def stream():
    def chunks():
        yield from STREAM
    return Response(chunks(), mimetype="text/plain")


@app.get("/whoami")
def whoami():
    return Response(request.environ.get("REMOTE_USER", "") + "\n", mimetype="text/plain")


@app.get("/link")
def link():
    return Response(url_for("big") + "\n", mimetype="text/plain")


@app.get("/slow")
def slow():
    time.sleep(min(float(request.args.get("seconds", "1")), 10.0))
    return Response("slept\n", mimetype="text/plain")


@app.get("/pid")
def pid():
    return Response(f"{os.getpid()}\n", mimetype="text/plain")


@app.get("/flags")
def flags():
    env = request.environ
    names = ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once")
    return Response(" ".join(f"{n}={env[n]}" for n in names) + "\n", mimetype="text/plain")
