"""Deprecated factory that wraps the unified manager."""

from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager


def create_websocket_manager() -> UnifiedWebSocketManager:
    return UnifiedWebSocketManager()
