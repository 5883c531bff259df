"""Finding ``module:app`` as gunicorn does."""

import importlib
import sys
import traceback


class AppImportError(Exception):
    """The application named by ``module:app`` could not be loaded.

    The message says why; for an exception raised while the module ran, it
    holds that exception's traceback.
    """


def import_app(spec):
    """Import ``module:attr`` and return the WSGI callable.

    ``attr`` may be dotted (``pkg.wsgi:app.wsgi_app``) and defaults to
    ``application`` (``myproject.wsgi`` is ``myproject.wsgi:application``).
    Raises AppImportError with a clear message when the module cannot be
    found, raises while it is imported, lacks the attribute, or the
    attribute is not callable.
    """
    if not isinstance(spec, str):
        raise TypeError(f"import_app: expected 'module:app', got {type(spec).__name__}")
    module_name, _, attr = spec.partition(":")
    attr = attr or "application"
    if not module_name or not all(part.isidentifier() for part in module_name.split(".")):
        raise AppImportError(
            f"{spec!r} is not 'module:app' (a module path such as 'myproject.wsgi', "
            "then ':' and the callable's name)"
        )
    if not all(part.isidentifier() for part in attr.split(".")):
        raise AppImportError(f"{spec!r}: {attr!r} is not an attribute name")
    try:
        module = importlib.import_module(module_name)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # the module is missing, or its own code raised
        missing = getattr(e, "name", None) if isinstance(e, ModuleNotFoundError) else None
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            looked = ", ".join(p or "." for p in sys.path[:4])
            raise AppImportError(
                f"no module named {missing!r} (looked in: {looked}, ...; "
                "use --chdir or --pythonpath)"
            ) from None
        raise AppImportError(
            f"importing {module_name!r} failed:\n{traceback.format_exc()}"
        ) from None
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise AppImportError(
                f"module {module_name!r} has no attribute {attr!r}"
            ) from None
    if not callable(obj):
        raise AppImportError(
            f"{spec!r} is a {type(obj).__name__}, not a WSGI callable"
        )
    return obj
