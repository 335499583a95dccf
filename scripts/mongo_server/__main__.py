"""``python -m scripts.mongo_server [uri|status|stop]``: see the package's docstring."""

from __future__ import annotations

import sys

from . import __doc__ as usage
from .places import say
from .server import ServerError, server_uri, status, stop


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "uri"
    try:
        if command == "uri":
            print(server_uri(), flush=True)
        elif command == "stop":
            stop()
        elif command == "status":
            up, line = status()
            print(line)
            return 0 if up else 1
        elif command in ("-h", "--help", "help"):
            print(usage)
        else:
            say(f"error: unknown command {command!r}; use no argument, 'status' or 'stop'")
            return 1
    except ServerError as exc:
        say(f"error: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
