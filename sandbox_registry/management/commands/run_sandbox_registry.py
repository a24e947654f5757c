"""`manage.py run_sandbox_registry [--host 127.0.0.1] [--port 8421]`: the sandbox registry as its own
process, so that the marketplace reaches it over HTTP exactly as it reaches the real offices."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from marketplace import devstack
from sandbox_registry.server import server_make


class Command(BaseCommand):
    help = "Serve the sandbox registry (USPTO ODP, TSDR, assignment search, EUIPO, EPO OPS stand-ins)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=devstack.SANDBOX_REGISTRY_PORT)

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        server = server_make(host, port)
        self.stdout.write(f"Sandbox registry on http://{host}:{port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Sandbox registry stopped.")
        finally:
            server.server_close()
