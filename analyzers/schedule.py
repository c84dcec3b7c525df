"""When a consolidation campaign runs on its own: ``[campaign] schedule``.

The syntax is cron's, as GitHub Actions' ``on.schedule`` uses it: five fields (minute, hour,
day of month, month, day of week) in UTC, such as ``"0 9 * * 1"`` (Mondays at 09:00 UTC),
or one of the shorthands ``@hourly``, ``@daily``, ``@weekly`` and ``@monthly``. ``"off"``
means never on its own: only when someone asks (``/ssot consolidate``, the dashboard's
checkboxes). croniter does the arithmetic; it is imported only here.
"""

from __future__ import annotations

import datetime as dt

OFF = "off"
SHORTHANDS = ("@hourly", "@daily", "@weekly", "@monthly")


def schedule_error(text: str) -> str | None:
    """Why ``text`` is not a usable schedule, or None when it is."""
    value = text.strip()
    if value.lower() == OFF or value.lower() in SHORTHANDS:
        return None
    if value.startswith("@"):
        return f"unknown shorthand {value!r}; use one of {', '.join(SHORTHANDS)}, or 'off'"
    fields = value.split()
    if len(fields) != 5:
        return (
            f"{value!r} is not a cron expression of five fields (minute hour day month weekday, "
            "UTC), e.g. '0 9 * * 1'; or use @daily, @weekly, or 'off'"
        )
    from croniter import croniter

    if not croniter.is_valid(value):
        return f"{value!r} is not a valid cron expression (minute hour day month weekday, UTC)"
    return None


def next_run(text: str, after: dt.datetime) -> dt.datetime | None:
    """The first run of schedule ``text`` strictly after ``after`` (UTC); None when "off".

    Raises ``ValueError`` for a schedule :func:`schedule_error` refuses.
    """
    error = schedule_error(text)
    if error is not None:
        raise ValueError(error)
    value = text.strip().lower()
    if value == OFF:
        return None
    from croniter import croniter

    start = after.astimezone(dt.UTC)
    found = croniter(value, start).get_next(dt.datetime)
    assert isinstance(found, dt.datetime)
    return found if found.tzinfo is not None else found.replace(tzinfo=dt.UTC)


def is_due(text: str, last_run: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a campaign last run at ``last_run`` (None: never) should run at ``now``.

    A campaign that never ran is due at once (a new policy with ``@weekly`` does not wait a
    week for its first batches); after that, at the schedule's first time after the last run.
    """
    if text.strip().lower() == OFF:
        return False
    if last_run is None:
        return True
    due = next_run(text, last_run)
    return due is not None and due <= now
