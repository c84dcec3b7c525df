"""WebSocket core package (legacy re-exports kept during the SSOT consolidation)."""

from netra_backend.app.websocket_core.websocket_manager import WebSocketManager as _Canonical

# Legacy shim: old code imports WebSocketManager from the package.
WebSocketManager = _Canonical
