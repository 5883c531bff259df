"""Type stubs of gateway_wsgi._native, the Rust extension (crates/gateway-wsgi/src)."""

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Optional, Union

__version__: str
DEFAULT_THREADS: int
WORKER_BOOT_ERROR: int
WORKER_ENV: str

WSGIApp = Callable[..., Iterable[bytes]]
StrPath = Union[str, "os.PathLike[str]"]

class AccessLog:
    def __init__(self, format: str = "combined") -> None: ...

class Gzip:
    def __init__(self, level: int = 6, min_size: int = 1024) -> None: ...

class BasicAuth:
    def __init__(
        self,
        users: Optional[Mapping[str, str]] = None,
        *,
        file: Optional[StrPath] = None,
        realm: str = "gateway",
    ) -> None: ...

class BearerAuth:
    def __init__(
        self,
        tokens: Optional[Mapping[str, str]] = None,
        *,
        file: Optional[StrPath] = None,
        realm: str = "gateway",
    ) -> None: ...

class Mount:
    def __init__(self, prefix: str) -> None: ...
    @property
    def prefix(self) -> str: ...

Middleware = Union[AccessLog, Gzip, BasicAuth, BearerAuth, Mount]

def serve(
    app: WSGIApp,
    bind: str = "127.0.0.1:8000",
    *,
    middleware: Optional[Iterable[Middleware]] = None,
    workers: int = 1,
    threads: int = 256,
    timeout: Optional[float] = 30.0,
    keep_alive: Optional[float] = None,
    header_timeout: Optional[float] = 30.0,
    body_timeout: Optional[float] = None,
    graceful_timeout: Optional[float] = 30.0,
    server_header: Optional[str] = "gateway",
) -> None: ...


def check_bind(bind: str) -> None: ...
