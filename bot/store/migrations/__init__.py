"""Alembic migrations of the App's database (``ssot migrate``); see bot.store.migrate."""
