"""Consolidation campaigns: the App opens the pull requests that move the count to its target.

The engine's safe fixes (``analyzers/campaign.py``) in reviewable batches, opened through the
Git Data API, kept current while the base moves, never reopened against a person's decision,
within ``max_open``, ``max_per_hour`` and the write budget checks need (``run``); the
webhook side (``lifecycle``) and the periodic sweep (``schedule``). May import ``checks``,
``github``, ``work``, ``store``, ``ops`` and ``analyzers``; never ``progress`` (a sibling: the
dashboard issue reads campaigns from ``bot/store/campaigns.py``).
"""
