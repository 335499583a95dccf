"""An upload app of intake_apps behind its server, in a process of its own (so its memory is
measured apart from the test's): ``python -m tests.web.intake_server fastapi|flask URI DB``
prints the port, then serves until killed."""

from __future__ import annotations

import logging
import socket
import sys

from pymongo import AsyncMongoClient

from . import intake_apps


def main(kind: str, uri: str, db_name: str) -> None:
    if kind == "fastapi":
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        print(sock.getsockname()[1], flush=True)
        app = intake_apps.fastapi_app(AsyncMongoClient(uri), db_name)
        uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning")).run(sockets=[sock])
    else:
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, intake_apps.flask_app(uri, db_name), threaded=True)
        print(server.server_port, flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])
