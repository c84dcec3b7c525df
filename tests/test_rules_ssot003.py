"""SSOT003: event payloads of the golden-path events that are not in their canonical shape."""

from __future__ import annotations

from collections.abc import Callable

from analyzers import Finding

FindingsFn = Callable[..., list[Finding]]

CANONICAL = (
    '{"event_type": "agent_started", "timestamp": 1633024800.123, "user_id": "u1", '
    '"thread_id": "t1", "data": {"agent_name": "cost_optimizer"}}'
)


def payload(**changes: str | None) -> str:
    """The canonical payload as source, with keys replaced (``None`` removes a key)."""
    items = {
        '"event_type"': '"agent_started"',
        '"timestamp"': "1633024800.123",
        '"user_id"': '"u1"',
        '"thread_id"': '"t1"',
        '"data"': '{"agent_name": "cost_optimizer"}',
    }
    for key, value in changes.items():
        items.pop(f'"{key}"', None)
        if value is not None:
            items[f'"{key}"'] = value
    return "{" + ", ".join(f"{k}: {v}" for k, v in items.items()) + "}"


def only(findings: list[Finding]) -> Finding:
    assert [f.rule for f in findings] == ["SSOT003"]
    return findings[0]


def test_canonical_payload_is_not_reported(findings: FindingsFn) -> None:
    assert findings(f"event = {CANONICAL}\n") == []


def test_legacy_event_key_is_reported(findings: FindingsFn) -> None:
    text = "event = " + payload(event_type=None, type='"agent_started"') + "\n"
    finding = only(findings(text))
    assert finding.message == "`agent_started` payload is not canonical: legacy keys `type`"
    assert (finding.line, finding.col, finding.concept) == (1, 8, "golden-path")


def test_legacy_keys_of_the_failure_report_are_all_named(findings: FindingsFn) -> None:
    text = """\
        event = {
            "type": "agent_started",
            "time": "2023-10-01T10:00:00Z",
            "user": "user_12345",
            "agent_name": "cost_optimizer",
        }
        """
    message = only(findings(text)).message
    assert "legacy keys `type`, `time`, `user`" in message
    assert "missing `thread_id`, `data`" in message
    assert "string timestamp in `time`" in message
    assert "keys outside `data`: `agent_name`" in message


def test_missing_required_key_is_reported(findings: FindingsFn) -> None:
    message = only(findings("event = " + payload(thread_id=None) + "\n")).message
    assert message.endswith("missing `thread_id`")


def test_string_literal_timestamp_is_reported(findings: FindingsFn) -> None:
    text = "event = " + payload(timestamp='"2023-10-01T10:00:00Z"') + "\n"
    assert only(findings(text)).message.endswith("string timestamp in `timestamp`")


def test_f_string_timestamp_is_reported(findings: FindingsFn) -> None:
    text = "event = " + payload(timestamp='f"{now}"') + "\n"
    assert only(findings(text)).message.endswith("string timestamp in `timestamp`")


def test_isoformat_timestamp_is_reported(findings: FindingsFn) -> None:
    text = "event = " + payload(timestamp="now.isoformat()") + "\n"
    assert only(findings(text)).message.endswith("string timestamp in `timestamp`")


def test_numeric_timestamp_call_is_not_reported(findings: FindingsFn) -> None:
    assert findings("event = " + payload(timestamp="time.time()") + "\n") == []


def test_keys_outside_data_are_reported(findings: FindingsFn) -> None:
    text = "event = " + payload(agent_name='"cost_optimizer"') + "\n"
    assert only(findings(text)).message.endswith("keys outside `data`: `agent_name`")


def test_optional_keys_of_the_schema_are_not_outside_data(findings: FindingsFn) -> None:
    assert findings("event = " + payload(run_id='"r1"') + "\n") == []


def test_payload_inside_json_dumps_is_reported(findings: FindingsFn) -> None:
    text = """\
        import json
        body = json.dumps({"type": "tool_completed", "user": "u1"})
        """
    finding = only(findings(text))
    assert (finding.line, finding.col) == (2, 18)


def test_payload_in_awaited_send_json_is_reported_in_its_function(findings: FindingsFn) -> None:
    text = """\
        async def notify(ws, user):
            await ws.send_json({"type": "tool_executing", "user": user})
        """
    finding = only(findings(text))
    assert (finding.line, finding.scope_name) == (2, "notify")


def test_payload_passed_to_emit_is_reported(findings: FindingsFn) -> None:
    text = 'emit({"event_type": "agent_thinking", "timestamp": 1.0})\n'
    assert only(findings(text)).message.endswith("missing `user_id`, `thread_id`, `data`")


def test_dict_call_with_keywords_is_a_payload(findings: FindingsFn) -> None:
    text = 'event = dict(type="agent_started", user="u1")\n'
    assert "legacy keys `type`, `user`" in only(findings(text)).message


def test_multi_line_payload_is_reported_at_its_first_line(findings: FindingsFn) -> None:
    text = """\
        x = 1
        event = {
            "type": "agent_completed",
        }
        """
    finding = only(findings(text))
    assert (finding.line, finding.end_line) == (2, 4)


def test_spread_does_not_produce_a_missing_complaint(findings: FindingsFn) -> None:
    assert findings('event = {**base, "event_type": "agent_started"}\n') == []


def test_spread_does_not_hide_a_legacy_key(findings: FindingsFn) -> None:
    message = only(findings('event = {**base, "type": "agent_started"}\n')).message
    assert message.endswith("legacy keys `type`")


def test_dict_call_with_a_keyword_spread_does_not_produce_a_missing_complaint(
    findings: FindingsFn,
) -> None:
    assert findings('event = dict(**base, event_type="agent_started")\n') == []


def test_dict_of_an_event_outside_the_schema_is_ignored(findings: FindingsFn) -> None:
    assert findings('event = {"type": "user_joined", "user": "u1"}\n') == []


def test_dict_without_an_event_key_is_ignored(findings: FindingsFn) -> None:
    text = """\
        counts = {"agent_started": 3, "agent_completed": 2}
        labels = {"name": "agent_started"}
        """
    assert findings(text) == []


def test_event_name_held_in_a_variable_is_not_recognised(findings: FindingsFn) -> None:
    text = """\
        AGENT_STARTED = "agent_started"
        event = {"type": AGENT_STARTED}
        """
    assert findings(text) == []


def test_payload_in_a_test_file_has_test_scope_and_the_tests_severity(findings: FindingsFn) -> None:
    finding = only(findings('event = {"type": "agent_started"}\n', path="tests/test_events.py"))
    assert (finding.scope, finding.severity) == ("test", "warn")


def test_payload_in_a_test_class_in_source_has_test_scope(findings: FindingsFn) -> None:
    text = """\
        class TestEvents:
            def test_started(self):
                return {"type": "agent_started"}
        """
    finding = only(findings(text))
    assert (finding.scope, finding.scope_name) == ("test", "TestEvents.test_started")
