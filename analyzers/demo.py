"""``ssot demo`` (engine only): scan the bundled example repository and show what it finds.

The GitHub App replaces this command with a full pull-request check against the simulated
GitHub once it is installed; this version needs nothing but the engine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

SAMPLE_REPO = Path(__file__).resolve().parent.parent / "examples" / "sample-repo"


def run(argv: list[str]) -> int:
    """Scan the example repository with its own policy and print every finding."""
    parser = argparse.ArgumentParser(prog="ssot demo", description=__doc__)
    parser.parse_args(argv)
    if not SAMPLE_REPO.is_dir():
        print(f"ssot demo: the example repository is missing at {SAMPLE_REPO}", file=sys.stderr)
        return 2
    from analyzers.cli import main

    print(f"Scanning the example repository {SAMPLE_REPO} with its .github/ssot.toml\n")
    return main(["scan", "--root", str(SAMPLE_REPO), "--no-cache", "--list"])
