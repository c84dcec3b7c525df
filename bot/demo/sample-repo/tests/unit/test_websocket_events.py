from netra_backend.app.websocket_core.websocket_manager_factory import create_websocket_manager


class MockWebSocketManager:
    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []

    def add_connection(self, user_id: str, connection: object) -> None:
        pass

    async def send_to_user(self, user_id: str, event: dict[str, object]) -> None:
        self.sent.append(event)


def test_factory_builds_a_manager() -> None:
    assert create_websocket_manager() is not None


def test_legacy_event_shape() -> None:
    event = {"type": "agent_completed", "time": "2023-10-01T10:00:00Z", "user": "user_12345"}
    assert event["type"] == "agent_completed"
