"""The web side: the app factory, the webhook route, setup and status pages, the dashboard
behind sign-in with GitHub (its SVG charts, one frame and stylesheet for every page), health.

May import ``jobs`` (to enqueue), ``events`` (which deliveries have a handler), ``store`` and
``ops``; never ``checks``: everything slow happens in a job. Of ``github`` only its wording of
an unreachable host: web's own calls to GitHub are the setup's one code exchange and a
person's sign-in, with their own token (the dashboard reads the store only).
"""
