"""A real code base for the benchmarks, fetched from the package registry at run time.

The generated corpus imitates one team's monorepo; this checks that the figures do not depend
on how well it does. ``fetch`` downloads one wheel of a large application (Home Assistant
2024.1.6 by default: 6,454 Python files, 32 MB, every one of them parsable by Python 3.11)
with ``pip download --no-deps`` into a folder, extracts its Python files, commits them to a git
repository (as a checkout is) and writes the policy of ``policies/`` that names the project's
own deprecations. Nothing of it is ever committed here.

Usage::

    python benchmarks/realcode.py DEST            # fetch, extract and commit; print the stats
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import _FastImport  # noqa: E402

DEFAULT_SPEC = "homeassistant==2024.1.6"
MARKER = ".ssot-bench-realcode"
POLICIES = {"homeassistant": HERE / "policies" / "homeassistant.toml"}


@dataclass
class RealTree:
    """What was fetched: the package, its Python files and where they are."""

    spec: str
    wheel: str
    root: Path
    policy: Path
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0

    @property
    def mb(self) -> float:
        return self.bytes / 1e6

    def summary(self) -> str:
        return (
            f"{self.wheel}: {self.files:,} Python files, {self.mb:.1f} MB, policy "
            f"{self.policy.relative_to(HERE.parent)} (fetched and committed in {self.seconds:.1f} s)"
        )


def policy_for(spec: str) -> Path:
    """The policy written for the package named in ``spec``."""
    name = spec.split("==")[0].split(">")[0].split("<")[0].strip().lower()
    try:
        return POLICIES[name]
    except KeyError:
        raise SystemExit(
            f"no benchmark policy for {name!r}: known packages are {', '.join(POLICIES)}"
        ) from None


def banned_api(policy: Path) -> list[str]:
    """The policy's deprecated entries as ruff banned-api keys (``m.*`` bans the module ``m``)."""
    data = tomllib.loads(policy.read_text())
    keys: list[str] = []
    for concept in data.get("concept", []):
        for item in concept.get("deprecated", []):
            keys.append(item[:-2] if item.endswith(".*") else item)
    return keys


def fetch(dest: Path, spec: str = DEFAULT_SPEC, python: str = sys.executable) -> RealTree:
    """Download ``spec``'s wheel, write its Python files under ``dest`` (a new git repository)."""
    started = time.perf_counter()
    policy = policy_for(spec)
    with tempfile.TemporaryDirectory(prefix="ssot-wheel-") as tmp:
        done = subprocess.run(
            [
                python,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--dest",
                tmp,
                spec,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise RuntimeError(f"pip download {spec} failed: {done.stderr.strip()[-1000:]}")
        wheel = wheels[0]
        if dest.exists() and any(dest.iterdir()):
            if not (dest / MARKER).is_file():
                raise FileExistsError(
                    f"{dest} is not empty and not a fetched tree: refusing to delete it"
                )
            shutil.rmtree(dest)
        dest.mkdir(parents=True, exist_ok=True)
        (dest / MARKER).write_text(f"{spec}\n")
        tree = RealTree(spec, wheel.name, dest, policy)
        importer = _FastImport(dest, f"{wheel.name} (Python files only)")
        with zipfile.ZipFile(wheel) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".py") or info.filename.startswith("/"):
                    continue
                data = archive.read(info)
                path = dest / info.filename
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
                importer.add(info.filename, data)
                tree.files += 1
                tree.bytes += len(data)
        importer.add(".github/ssot.toml", policy.read_bytes())
        (dest / ".github").mkdir(exist_ok=True)
        shutil.copyfile(policy, dest / ".github" / "ssot.toml")
        ignore = f".ssot_cache/\n.ruff_cache/\n{MARKER}\n"
        importer.add(".gitignore", ignore.encode())
        (dest / ".gitignore").write_text(ignore)
        importer.finish()
    tree.seconds = time.perf_counter() - started
    return tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("dest", type=Path, help="folder to create (replaced if it exists)")
    parser.add_argument("--spec", default=DEFAULT_SPEC, help=f"package (default: {DEFAULT_SPEC})")
    args = parser.parse_args(argv)
    print(fetch(args.dest.resolve(), args.spec).summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
