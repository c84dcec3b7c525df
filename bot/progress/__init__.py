"""Progress you can see: the default branch's history, its backfill, the dashboard issue and
badge data.

Records the totals of every push to the default branch (``bot.store.history``), backfills a
new repository's last six months at low priority, keeps one dashboard issue per repository
current, and answers what a badge shows. Computation that the CLI needs too (trends, pace,
the date a target is reached) is in :mod:`analyzers.trend`.

May import ``checks``, ``github``, ``work``, ``store``, ``ops`` and ``analyzers``; ``events``,
``jobs`` and ``web`` call it.
"""
