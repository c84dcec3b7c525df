"""The sdist and the wheel, as a person installs them: everything the commands read is inside.

Built once per session from a copy of the working tree (so no stale ``build/`` folder of the
checkout slips in): the sdist first, then the wheel from the sdist, which also proves that the
sdist is complete. Offline: setuptools and wheel come from the test's own environment
(``--no-build-isolation``), and the fresh environment the wheel goes into borrows the App's
libraries from it through a ``.pth`` line (pip installs the wheel itself with ``--no-deps``).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import tarfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import httpx
import pytest

from analyzers.engine import ENGINE_VERSION

ROOT = Path(__file__).resolve().parent.parent
# The files the commands open at run time (not imported): every one must ship.
RUNTIME_DATA = (
    "bot/web/app.yml",
    "bot/demo/sample-repo",
    "bot/demo/payloads",
    "bot/store/migrations",
)
APP_LIBRARIES = {
    "fastapi",
    "githubkit",
    "sqlalchemy",
    "huey",
    "psycopg",
    "uvicorn",
    "alembic",
    "redis",
    "prometheus-client",
}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("git") is None, reason="git lists the files to package"),
]


@dataclass(frozen=True)
class Built:
    sdist: Path
    wheel: Path


def source_files() -> list[str]:
    """The project's files as git sees them: tracked, plus new ones not ignored."""
    out = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [name for name in out.split("\0") if name and (ROOT / name).is_file()]


def runtime_files() -> list[str]:
    return sorted(
        name
        for name in source_files()
        for data in RUNTIME_DATA
        if (name == data or name.startswith(data + "/")) and "__pycache__" not in name
    )


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp = tmp_path_factory.mktemp("packaging")
    source, out = tmp / "source", tmp / "dist"
    for name in source_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    out.mkdir()
    sdist = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))",
            str(out),
        ],
        cwd=source,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]
    offline = ["--no-deps", "--no-build-isolation", "--no-index", "-q"]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", *offline, "-w", str(out), str(out / sdist)],
        check=True,
        capture_output=True,
    )
    [wheel] = out.glob("ssot_guard-*.whl")
    return Built(out / sdist, wheel)


def fresh_venv(wheel: Path, folder: Path, borrow_libraries: bool) -> Path:
    """A new virtual environment with only ``wheel`` installed in it; its ``bin`` folder.

    With ``borrow_libraries``, the libraries of this test run are on its path too, after
    its own packages (so the wheel's ``analyzers`` and ``bot`` come first).
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    if borrow_libraries:
        site = subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        Path(site, "borrowed-libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = ["install", "--no-deps", "--no-index", "-q", str(wheel)]
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), *install],
        check=True,
        capture_output=True,
    )
    return folder / "bin"


@pytest.fixture(scope="session")
def installed(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel in a fresh environment that has the App's libraries."""
    return fresh_venv(built.wheel, tmp_path_factory.mktemp("venv"), borrow_libraries=True)


@pytest.fixture(scope="session")
def engine_only(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel alone in a fresh environment: none of the App's libraries."""
    return fresh_venv(built.wheel, tmp_path_factory.mktemp("bare"), borrow_libraries=False)


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without project settings or a PYTHONPATH pointing at the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSOT_")}
    env.pop("PYTHONPATH", None)
    return {**env, **extra}


def test_the_wheel_carries_every_file_the_commands_read(built: Built) -> None:
    names = set(zipfile.ZipFile(built.wheel).namelist())
    wanted = runtime_files()
    assert "bot/web/app.yml" in wanted and "bot/demo/sample-repo/.github/ssot.toml" in wanted
    missing = [name for name in wanted if name not in names]
    assert not missing, f"not in the wheel: {missing}"


def test_the_sdist_carries_them_too(built: Built) -> None:
    with tarfile.open(built.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    missing = [name for name in runtime_files() if name not in names]
    assert not missing, f"not in the sdist: {missing}"


def test_the_engine_installs_without_the_apps_libraries(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        [meta] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(wheel.read(meta).decode())
    requirements = metadata.get_all("Requires-Dist") or []

    def name(requirement: str) -> str:
        found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        assert found is not None
        return found.group(0).lower()

    core = {name(r) for r in requirements if "extra ==" not in r}
    app = {name(r) for r in requirements if re.search(r"extra == ['\"]app['\"]", r)}
    # codeowners and croniter: `ssot consolidate` and the policy's [campaign] schedule;
    # google-re2: policy patterns and globs matched in linear time; hyperscan: the engine's
    # native prefilter (optional at run time, marked per platform); pydantic-core: the
    # policy's validator without pydantic's start (analyzers/policy_schema.py)
    assert core == {
        "pydantic",
        "pydantic-core",
        "libcst",
        "codeowners",
        "croniter",
        "google-re2",
        "hyperscan",
    }
    assert app >= APP_LIBRARIES
    assert "app" in (metadata.get_all("Provides-Extra") or [])


def test_the_installed_wheel_is_what_runs(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            str(installed / "python"),
            "-c",
            "import analyzers, bot, fake_github; print(bot.__file__)",
        ],
        cwd=tmp_path,
        env=clean_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    assert Path(done.stdout.strip()).is_relative_to(installed.parent)


def test_ssot_demo_works_from_any_folder(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(installed / "ssot"), "demo"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "the bundled example repository as main" in done.stdout
    assert "=== Check run 'SSOT guard': FAILURE ===" in done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[str]:
    """``ssot serve`` of the installed wheel, without credentials, started in an empty folder.

    Yields the setup address it printed (with its one-time token)."""
    port = free_port()
    folder = tmp_path / "anywhere"
    folder.mkdir()
    process = subprocess.Popen(
        [str(installed / "ssot"), "serve", "--port", str(port), "--log-format", "text"],
        cwd=folder,
        env=clean_env(
            SSOT_DATA_DIR=str(tmp_path / "data"), SSOT_PUBLIC_URL=f"http://127.0.0.1:{port}"
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"ssot serve exited {process.returncode}: {process.stderr.read()}")
            try:
                httpx.get(f"{url}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert process.stderr is not None
        for _ in range(500):  # printed at start, before /healthz answers
            line = process.stderr.readline()
            if "?token=" in line:
                yield line.strip()
                break
        else:
            pytest.fail("ssot serve printed no setup address")
    finally:
        process.terminate()
        try:
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_setup_page_finds_the_apps_manifest_from_any_folder(served: str) -> None:
    assert served.startswith("http://127.0.0.1:")
    with httpx.Client(follow_redirects=True) as browser:  # keeps the token's cookie
        page = browser.get(served, timeout=10)
    assert page.status_code == 200, page.text
    assert "name='manifest'" in page.text
    assert "no app.yml" not in page.text


@pytest.mark.parametrize("command", ["serve", "demo", "worker", "migrate", "replay"])
def test_an_app_command_without_the_apps_libraries_names_the_extra(
    engine_only: Path, tmp_path: Path, command: str
) -> None:
    done = subprocess.run(
        [str(engine_only / "ssot"), command],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert f"ssot {command}: this is a command of the GitHub App" in done.stderr
    assert "fastapi" in done.stderr and "pip install 'ssot-guard[app]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_and_version_need_none_of_the_apps_libraries(
    built: Built, engine_only: Path, tmp_path: Path
) -> None:
    for argv in (["--help"], ["--version"]):
        done = subprocess.run(
            [str(engine_only / "ssot"), *argv],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
    version = built.wheel.name.split("-")[1]
    assert done.stdout == f"ssot {version} (engine {ENGINE_VERSION})\n"
