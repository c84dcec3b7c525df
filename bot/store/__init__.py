"""The App's durable state: the schema (``tables``), engines (``db``), one module per table
family (``deliveries``, ``installations``, ``acceptances``, ``findings_cache``, ``totals``,
``locks``, ``comments``, ``limits``; progress: ``history``, ``dashboards``, ``backfills``) and
the migrations (``migrate``, ``migrations/``).

May import only ``ops`` and SQLAlchemy/Alembic: every other layer builds on it.
"""
