"""Webhook handlers, one module per GitHub event, and the dispatch table (``dispatch``).

A handler turns a stored delivery into work: a check request (``route``), a totals refresh,
an installation update. May import ``commands``, ``checks``, ``store``, ``work``, ``ops``.
"""
