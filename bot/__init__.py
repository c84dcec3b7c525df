"""The GitHub App: webhooks in, jobs, GitHub API out. Imports :mod:`analyzers`, never the reverse.

Layers, each importing only those below it (docs/architecture.md; checked by the import
contracts in pyproject.toml): ``serve``/``worker``/``replay``/``demo`` (commands),
``web``, ``jobs``, ``events``, ``commands``, ``campaigns`` | ``progress`` (siblings),
``checks``, ``github``, ``work``, ``store``, ``ops``.
"""
