"""A command listener counting the chunks a client fetched, as the server sent them."""

from __future__ import annotations

from typing import Any

from pymongo import monitoring


class ChunkCounter(monitoring.CommandListener):
    """Every chunk document (its ``n``) that came back from ``<bucket>.chunks`` queries."""

    def __init__(self, bucket: str = "fs") -> None:
        self.collection = f"{bucket}.chunks"
        self.fetched: list[int] = []
        self.queries = 0
        self._ours: set[int] = set()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = event.command
        name = event.command_name
        target = command.get("find") if name == "find" else command.get("collection")
        if name in ("find", "getMore") and target == self.collection:
            self._ours.add(event.request_id)
            if name == "find":
                self.queries += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.request_id not in self._ours:
            return
        self._ours.discard(event.request_id)
        cursor: dict[str, Any] = event.reply.get("cursor", {})
        for doc in cursor.get("firstBatch", cursor.get("nextBatch", [])):
            self.fetched.append(int(doc["n"]))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._ours.discard(event.request_id)

    def clear(self) -> None:
        self.fetched.clear()
        self.queries = 0
