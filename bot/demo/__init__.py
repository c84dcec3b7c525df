"""``ssot demo``: the App against the project's fake GitHub, on loopback, with a scenario.

The one part of ``bot`` that may import ``fake_github``; may import ``web`` and lower.
"""
