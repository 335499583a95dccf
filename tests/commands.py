"""A PyMongo command listener that records what a client sent, for tests that count commands."""

from __future__ import annotations

from typing import Any

from pymongo import monitoring


class Commands(monitoring.CommandListener):
    """Every command a client started, in order: (name, command document)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.sent.append((event.command_name, dict(event.command)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to record: what was sent is enough."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to record: what was sent is enough."""

    def named(self, *names: str) -> list[dict[str, Any]]:
        """The command documents of the commands called ``names``."""
        return [command for name, command in self.sent if name in names]

    def clear(self) -> None:
        self.sent.clear()
