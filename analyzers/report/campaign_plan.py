"""``ssot consolidate --plan``: a campaign's batches as text or JSON. Pure."""

from __future__ import annotations

import json

from analyzers.campaign import Plan
from analyzers.report.text import finding_line, plural

SCHEMA_VERSION = 1


def render_plan(plan: Plan, fmt: str) -> str:
    """The plan in ``fmt`` (``text`` or ``json``)."""
    if fmt == "json":
        data = {"schema_version": SCHEMA_VERSION, **plan.to_dict()}
        return json.dumps(data, indent=2, sort_keys=False) + "\n"
    if fmt != "text":
        raise ValueError(f"unknown plan format {fmt!r}")
    return _text(plan)


def _text(plan: Plan) -> str:
    fixes = sum(len(b.fixes) for b in plan.batches)
    files = sum(len(b.files) for b in plan.batches)
    lines = [
        f"{_count(len(plan.batches), 'batch', 'batches')}, "
        f"{_count(fixes, 'fix', 'fixes')} in {plural(files, 'file')}."
    ]
    for batch in plan.batches:
        change = ", ".join(f"{c} {r} {n:+,}" for c, r, n in batch.totals_change())
        lines += [
            "",
            f"{batch.id}  ({len(batch.files)} files, {len(batch.fixes)} fixes; {change})",
            f"  branch {batch.branch}",
        ]
        if batch.owners:
            lines.append(f"  owners {' '.join(batch.owners)}")
        lines += [f"  {finding_line(f)}" for f in batch.fixes]
    if plan.left_out:
        lines += ["", "Left out (the fix cannot parse or rewrite them safely):"]
        lines += [f"  {item.path} ({item.concept}): {item.reason}" for item in plan.left_out]
    if plan.batches:
        lines += ["", "Apply one with `ssot consolidate --apply ID`."]
    else:
        lines.append("Nothing to consolidate: no safe fix applies.")
    return "\n".join(lines) + "\n"


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"
