"""Serving the sandbox as its own process: Django's WSGI handler, answering only the sandbox's
URLconf, on Django's threaded development server.

Connections are kept alive, as the real offices keep them, and answers go out without Nagle's
delay: the development server writes the headers and the body in two sends, and with Nagle on,
the body waits for the client's delayed ACK of the headers (about 40 ms on Linux) on every
request after a connection's first.
"""

from __future__ import annotations

from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.http import HttpRequest, HttpResponseBase

SANDBOX_URLCONF = "sandbox_registry.urls"


class SandboxRegistryHandler(WSGIHandler):
    """The project's handler with the sandbox's URLconf for every request, so the marketplace's
    pages are not reachable on the sandbox's port (and the sandbox's not on the marketplace's)."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = SANDBOX_URLCONF
        return super().get_response(request)


class SandboxRequestHandler(WSGIRequestHandler):
    """Django's development request handler with TCP_NODELAY on each connection."""

    disable_nagle_algorithm = True


def application() -> SandboxRegistryHandler:
    return SandboxRegistryHandler()


def server_make(host: str, port: int) -> ThreadedWSGIServer:
    """A threaded server for the sandbox on (host, port), one (daemon) thread per connection,
    as `django.core.servers.basehttp.run` builds it, with the sandbox's request handler."""
    server = ThreadedWSGIServer((host, port), SandboxRequestHandler, ipv6=":" in host)
    server.set_app(application())
    return server
