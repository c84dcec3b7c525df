"""Jobs: the queue (Huey on SQLite or Redis), claiming deliveries, leases, the sweeper.

Runs each delivery's handler (``events``) with retries and back-off. May import everything
below it (``events`` and lower); imported by ``web`` (to enqueue) and the commands.
"""
