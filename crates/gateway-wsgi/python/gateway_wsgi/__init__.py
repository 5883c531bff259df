"""gateway's server for Python WSGI apps.

Serve any PEP 3333 callable (Flask's ``app``, Django's
``get_wsgi_application()``) behind gateway's Rust middleware, over
HTTP/1.1 and HTTP/2::

    import gateway_wsgi
    from myproject import app

    gateway_wsgi.serve(
        app,
        "127.0.0.1:8000",
        middleware=[                     # outermost first
            gateway_wsgi.AccessLog(),    # one line per request, on stdout
            gateway_wsgi.BasicAuth(file="users.txt"),
            gateway_wsgi.Gzip(),
        ],
        threads=8,
    )

The command ``gateway-wsgi module:app`` (or ``python -m gateway_wsgi``)
does the same from the shell; ``gateway-wsgi --help`` lists its options.
"""

from ._native import (
    DEFAULT_THREADS,
    AccessLog,
    BasicAuth,
    BearerAuth,
    Gzip,
    Mount,
    __version__,
    serve,
)
from ._import import AppImportError, import_app

__all__ = [
    "DEFAULT_THREADS",
    "AccessLog",
    "AppImportError",
    "BasicAuth",
    "BearerAuth",
    "Gzip",
    "Mount",
    "__version__",
    "import_app",
    "serve",
]
