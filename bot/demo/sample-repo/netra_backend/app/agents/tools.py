"""Tool dispatcher."""

from __future__ import annotations

from typing import TYPE_CHECKING

from netra_backend.app.websocket_core import WebSocketManager

if TYPE_CHECKING:
    from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager


async def run_tool(manager: WebSocketManager, user_id: str, thread_id: str, tool: str) -> None:
    import time

    await manager.send_to_user(
        user_id,
        {
            "event_type": "tool_executing",
            "timestamp": time.time(),
            "user_id": user_id,
            "thread_id": thread_id,
            "data": {"tool": tool},
        },
    )


def legacy(manager: UnifiedWebSocketManager) -> None:
    pass
