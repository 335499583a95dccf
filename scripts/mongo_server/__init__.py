"""The URI of a MongoDB wire-protocol server that answers ``ping``, starting one if needed.

Usage, from the repository root and with PyMongo installed (``.venv``)::

    python -m scripts.mongo_server           # print one URI on stdout (logs go to stderr)
    python -m scripts.mongo_server uri       # the same: export MONGODB_URI=$(python -m ... uri)
    python -m scripts.mongo_server status    # say what runs, exit 0 when a started server answers
    python -m scripts.mongo_server stop      # stop the server this script started, forget it

Where the server comes from, first match wins:

1. ``$MONGODB_URI``: used as given, after a ``ping``;
2. ``mongod`` on ``PATH``: started on a free loopback port with its own data folder;
3. FerretDB v1.24.2, built once with Go into the cache folder, on PostgreSQL when it is
   installed (Debian's ``/usr/lib/postgresql/N/bin``: a cluster of its own, started and stopped
   with FerretDB), else on its embedded SQLite backend.

``GRIDFIELD_SERVER=mongod`` or ``GRIDFIELD_SERVER=ferretdb`` forces the kind of server started;
``GRIDFIELD_FERRETDB_BACKEND=sqlite`` or ``postgresql`` forces FerretDB's backend.
Everything lives under ``$GRIDFIELD_CACHE`` (default ``$XDG_CACHE_HOME/gridfield`` or
``~/.cache/gridfield``): ``ferretdb-v1.24.2/bin/ferretdb``, ``server/`` (pid, URI, log, data of
mongod or SQLite-backed FerretDB) and ``server-postgresql/`` (the same for FerretDB on
PostgreSQL, whose cluster lives there, or under ``/var/tmp`` when run as root, PostgreSQL
refusing root). The two run side by side: each has its own lock, port and data, and starting
or stopping one never touches the other. A started server outlives the call and is reused by
later ones; ``stop`` ends the one the settings name.

Python callers (the test suite's conftest) call :func:`server_uri` instead of parsing output.
"""

from __future__ import annotations

from .server import ServerError, server_uri

__all__ = ["ServerError", "server_uri"]
