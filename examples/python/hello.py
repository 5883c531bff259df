"""The smallest WSGI app: serve it with gateway_python::PyApp::import("hello:application")."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"Hello, World!\n"]
