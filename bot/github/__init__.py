"""Talking to GitHub: the githubkit client (``api``), its limits (``throttle``), blob batches.

May import ``work`` (RetryLater), ``store`` (the limits shared by workers) and ``ops``;
knows nothing of checks, commands or events.
"""
