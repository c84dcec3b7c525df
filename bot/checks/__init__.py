"""A pull request's check: context, analysis, rendering, publishing, totals, policy source.

The pipeline (``pipeline``) loads a PR (``pull_context``), analyses it with the engine
(``analysis``), renders the result as pure data (``render``) and posts it (``publish``).
May import ``analyzers``, ``github``, ``work``, ``store`` and ``ops``; never ``commands``.
"""
