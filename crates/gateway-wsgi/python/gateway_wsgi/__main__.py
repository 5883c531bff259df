"""``python -m gateway_wsgi module:app``: the ``gateway-wsgi`` command."""

from .cli import main

raise SystemExit(main())
