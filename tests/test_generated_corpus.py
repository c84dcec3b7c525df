"""On the generated corpus (long test classes, deep nesting, long imports), the sliced engine
finds exactly what a whole-file parse finds, file by file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from analyzers import Policy, analyze

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import corpus


@pytest.mark.slow
def test_sliced_findings_are_the_whole_file_findings_on_the_generated_corpus(
    tmp_path: Path, policy: Policy
) -> None:
    root = tmp_path / "corpus"
    stats = corpus.generate(root, files=400, seed=21, git=False)
    broken = set(stats.syntax_error_paths)
    compared, with_findings, mismatches = 0, 0, []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in broken:
            continue  # the sliced path reports a syntax error only where it parses
        data = path.read_bytes()
        sliced = analyze(rel, data, policy).findings
        full = analyze(rel, data, policy, full_parse=True).findings
        compared += 1
        with_findings += bool(full)
        if sliced != full:
            mismatches.append(rel)
    assert mismatches == []
    assert compared > 350 and with_findings > 40
