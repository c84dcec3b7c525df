"""action.yml, the composite GitHub Action: what it references exists, and its check step works.

The check step's script is run as the runner would run it (bash, its `env:` filled in), in a
shallow clone of a pull request's branch, with the `ssot` of this test run standing in for the
one the install step puts under $RUNNER_TEMP.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from git_repos import DEPRECATED, HAS_GIT, commit, git, make_repo

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# Actions the composite may use, at the major versions that exist.
KNOWN_ACTIONS = {"actions/setup-python": {"v5"}}


def expressions(value: Any) -> list[str]:
    """Every ``${{ ... }}`` expression in a step (keys and values, nested)."""
    if isinstance(value, dict):
        return [e for item in value.values() for e in expressions(item)]
    if isinstance(value, list):
        return [e for item in value for e in expressions(item)]
    return EXPRESSION.findall(value) if isinstance(value, str) else []


def step_named(word: str) -> dict[str, Any]:
    [step] = [s for s in STEPS if word in s.get("name", "")]
    return step


def test_it_is_a_composite_action_with_only_the_keys_of_action_metadata() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["name"] and ACTION["description"]
    assert set(ACTION) <= {"name", "author", "description", "inputs", "outputs", "runs", "branding"}
    for name, spec in ACTION["inputs"].items():
        assert set(spec) <= {"description", "required", "default", "deprecationMessage"}, name
        assert isinstance(spec["description"], str) and spec["description"], name


def test_every_action_it_uses_exists_at_a_pinned_major_version() -> None:
    for step in STEPS:
        if "uses" in step:
            name, _, ref = step["uses"].partition("@")
            assert ref in KNOWN_ACTIONS.get(name, set()), step["uses"]


def test_every_run_step_names_its_shell_and_splices_no_expression_into_the_script() -> None:
    for step in STEPS:
        if "run" in step:
            assert step["shell"] == "bash"
            # Event values (branch names) in a script would be code injection: env only.
            assert not EXPRESSION.search(step["run"]), step["name"]


def test_every_input_is_declared_and_used() -> None:
    used = {
        e.split(".", 1)[1] for step in STEPS for e in expressions(step) if e.startswith("inputs.")
    }
    assert used == set(ACTION["inputs"])


def test_step_outputs_come_from_an_earlier_step() -> None:
    seen: set[str] = set()
    for step in STEPS:
        for expression in expressions(step):
            if expression.startswith("steps."):
                assert expression.split(".")[1] in seen, expression
        if "id" in step:
            seen.add(step["id"])


def test_the_install_step_installs_the_cli_from_the_actions_own_checkout() -> None:
    step = step_named("Install")
    assert step["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert 'pip install --quiet --disable-pip-version-check "$ACTION_PATH"' in step["run"]
    # The action's checkout is this repository: what pip installs there gives `ssot`.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["ssot"] == "analyzers.entry:console"
    assert '"$RUNNER_TEMP/ssot-guard/bin/python" -m pip' in step["run"]


def test_the_readme_shows_the_action_and_promises_no_package_index_name() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install ssot-guard" not in readme
    assert "uses: <org>/ssot-guard@" in readme
    assert "fetch-depth: 0" in readme


@pytest.mark.skipif(not HAS_GIT, reason="git is needed to build test repositories")
@pytest.mark.skipif(shutil.which("bash") is None, reason="the step is a bash script")
def test_the_check_step_compares_a_shallow_pull_request_checkout_with_its_base(
    tmp_path: Path,
) -> None:
    ssot = Path(sys.executable).parent / "ssot"
    if not ssot.exists():
        pytest.skip(f"no `ssot` script beside {sys.executable}: the project is not installed")
    upstream = make_repo(tmp_path, {"app/a.py": "x = 1\n"}, name="upstream")
    fork_point = git(upstream, "rev-parse", "HEAD").strip()
    git(upstream, "switch", "-q", "-c", "feature")
    commit(upstream, {"app/b.py": "y = 2\n" + DEPRECATED}, "feature")
    git(upstream, "switch", "-q", "main")
    commit(upstream, {"app/c.py": "z = 3\n"}, "main moves on")
    # actions/checkout's default: one commit, no other branch.
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", "--depth", "1", "-b", "feature", upstream.as_uri(), str(work))
    assert git(work, "rev-parse", "--is-shallow-repository").strip() == "true"
    runner_temp = tmp_path / "runner-temp"
    (runner_temp / "ssot-guard" / "bin").mkdir(parents=True)
    (runner_temp / "ssot-guard" / "bin" / "ssot").symlink_to(ssot)

    step = step_named("ssot check")
    env = {
        **os.environ,
        "RUNNER_TEMP": str(runner_temp),
        "SSOT_INPUT_BASE": "",
        "SSOT_FORMAT": "github",
        "SSOT_BASE_REF": "main",  # ${{ github.base_ref }} of a pull request into main
    }
    assert set(step["env"]) == {"SSOT_INPUT_BASE", "SSOT_FORMAT", "SSOT_BASE_REF"}
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=work, env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    column = DEPRECATED.index("UnifiedWebSocketManager") + 1
    assert f"::error file=app/b.py,line=2,col={column}," in done.stdout
    assert "1 new finding (1 blocking)" in done.stdout
    assert git(work, "merge-base", "origin/main", "HEAD").strip() == fork_point
