"""Deprecated: the 'unified' manager from the first consolidation attempt."""

from __future__ import annotations


class UnifiedWebSocketManager:
    def __init__(self) -> None:
        self.connections: dict[str, object] = {}

    def add_connection(self, user_id: str, connection: object) -> None:
        self.connections[user_id] = connection

    async def send_to_user(self, user_id: str, message: dict[str, object]) -> None:
        await self.connections[user_id].send_json(message)  # type: ignore[attr-defined]

    async def broadcast(self, message: dict[str, object]) -> None:
        for connection in self.connections.values():
            await connection.send_json(message)  # type: ignore[attr-defined]
