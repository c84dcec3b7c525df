"""The canonical WebSocket manager: the single source of truth."""

from __future__ import annotations

import time


class WebSocketManager:
    """Owns every live connection; one instance per process."""

    def __init__(self) -> None:
        self._connections: dict[str, list[object]] = {}

    def add_connection(self, user_id: str, connection: object) -> None:
        self._connections.setdefault(user_id, []).append(connection)

    def remove_connection(self, user_id: str, connection: object) -> None:
        self._connections.get(user_id, []).remove(connection)

    async def send_to_user(self, user_id: str, event: dict[str, object]) -> None:
        for connection in self._connections.get(user_id, []):
            await connection.send_json(event)  # type: ignore[attr-defined]

    async def emit_agent_started(self, user_id: str, thread_id: str, agent_name: str) -> None:
        await self.send_to_user(
            user_id,
            {
                "event_type": "agent_started",
                "timestamp": time.time(),
                "user_id": user_id,
                "thread_id": thread_id,
                "data": {"agent_name": agent_name},
            },
        )
