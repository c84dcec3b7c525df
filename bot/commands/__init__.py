"""``/ssot`` commands and the check run's buttons: parsing, running, replies, fix commits.

``parse`` and ``replies`` are pure text; ``runner`` does the work and may import ``checks``
(a rescan is a check), ``github``, ``work``, ``store`` and ``ops``.
"""
