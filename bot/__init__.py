"""The GitHub App: webhooks in, jobs, GitHub API out. Imports :mod:`analyzers`, never the reverse."""
