"""The web side: the app factory, the webhook route, setup and status pages, the dashboard
behind sign-in with GitHub (its SVG charts, one frame and stylesheet for every page), health.

May import ``jobs`` (to enqueue), ``events`` (which deliveries have a handler), ``store`` and
``ops``; never ``checks`` or ``github`` directly: everything slow happens in a job. The
dashboard reads the store only; what a person may see it asks GitHub with their own token.
"""
