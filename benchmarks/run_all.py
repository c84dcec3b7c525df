"""Run every benchmark (``make bench``): bench_scan.py, then optionally the per-phase profile.

Arguments are passed to bench_scan.py (``--files``, ``--seed``, ``--repeat``, ``--keep``, ...);
``--profile`` also runs profile_scan.py on a 2,000-file corpus afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_scan
import profile_scan


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    with_profile = "--profile" in args
    if with_profile:
        args.remove("--profile")
    if "--install-semgrep" not in args and "--skip-semgrep" not in args:
        args.append("--install-semgrep")  # semgrep gets its own venv: see bench_scan.find_semgrep
    code = bench_scan.main(args)
    if code == 0 and with_profile:
        code = profile_scan.main(["--files", "2000"])
    return code


if __name__ == "__main__":
    sys.exit(main())
