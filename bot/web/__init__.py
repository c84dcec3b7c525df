"""The web side: the app factory, the webhook route, setup and status pages, health.

May import ``jobs`` (to enqueue), ``events`` (which deliveries have a handler), ``store`` and
``ops``; never ``checks`` or ``github`` directly: everything slow happens in a job.
"""
