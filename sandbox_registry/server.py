"""Serving the sandbox as its own process: Django's WSGI handler, answering only the sandbox's
URLconf, on Django's threaded development server."""

from __future__ import annotations

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponseBase

SANDBOX_URLCONF = "sandbox_registry.urls"


class SandboxRegistryHandler(WSGIHandler):
    """The project's handler with the sandbox's URLconf for every request, so the marketplace's
    pages are not reachable on the sandbox's port (and the sandbox's not on the marketplace's)."""

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        request.urlconf = SANDBOX_URLCONF
        return super().get_response(request)


def application() -> SandboxRegistryHandler:
    return SandboxRegistryHandler()
