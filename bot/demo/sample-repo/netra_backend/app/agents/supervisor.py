"""Agent supervisor: emits golden-path events while an agent runs."""

from __future__ import annotations

from datetime import datetime, timezone

from netra_backend.app.websocket_core.websocket_manager import WebSocketManager


class Supervisor:
    def __init__(self, manager: WebSocketManager) -> None:
        self.manager = manager

    async def start(self, user_id: str, agent_name: str) -> None:
        # Legacy payload shape: the frontend's old parser still reads these keys.
        await self.manager.send_to_user(
            user_id,
            {
                "type": "agent_started",
                "time": datetime.now(timezone.utc).isoformat(),
                "user": user_id,
                "agent_name": agent_name,
            },
        )
