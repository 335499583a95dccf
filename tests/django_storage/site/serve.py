"""Run the site: migrate its SQLite database, make the admin user, serve it with waitress on
a free loopback port, and print ``READY <url> <pid>`` once it listens.

    SITE_SQLITE=... SITE_DB=... MONGODB_URI=... python -m tests.django_storage.site.serve
"""

import os
import socket
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.django_storage.site.settings")

import django

django.setup()

import waitress.server  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402

USER, PASSWORD = "keeper", "marmot-password"


def main() -> None:
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    get_user_model().objects.create_superuser(USER, "keeper@example.com", PASSWORD)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = waitress.server.create_server(WSGIHandler(), sockets=[sock], threads=4)
    print(f"READY http://127.0.0.1:{sock.getsockname()[1]} {os.getpid()}", flush=True)
    sys.stdout.flush()
    server.run()


if __name__ == "__main__":
    main()
