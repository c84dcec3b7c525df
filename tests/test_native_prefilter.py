"""The native (Hyperscan) prefilter keeps every file that the slicer has hits in.

It may say "candidate" where no hit is (a class-name pattern widened to bytes), never drop a
file with a hit, or its findings would vanish; it asks for an event name only as a value
(``"type": "agent_started"``), where the pure-Python prefilter asks for the bare word, and
for a base class only as a whole word. Checked on the standard library and on a generated
corpus, and on its own traps.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzers import Policy, analyze, native_prefilter, triggers
from analyzers.triggers import use_native

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import corpus
from test_slicing import STDLIB_POLICY, stdlib_files

PolicyFn = Callable[[str], Policy]
needs_hyperscan = pytest.mark.skipif(
    not native_prefilter.AVAILABLE, reason="hyperscan has no wheel for this platform"
)


def generated_files(root: Path) -> list[tuple[str, bytes]]:
    corpus.generate(root, files=300, seed=5, git=False)
    return [(p.relative_to(root).as_posix(), p.read_bytes()) for p in sorted(root.rglob("*.py"))]


@needs_hyperscan
@pytest.mark.slow
@pytest.mark.parametrize("which", ["stdlib", "generated"])
def test_native_prefilter_keeps_every_file_that_has_hits(
    which: str, policy: Policy, tmp_path: Path
) -> None:
    # The stdlib with a policy whose triggers are common there; the generated corpus with
    # the example policy. Every file with a hit (what the slicer parses around) must pass;
    # the Python prefilter, which asks for event names as bare words, passes more.
    chosen = STDLIB_POLICY if which == "stdlib" else policy
    files = stdlib_files() if which == "stdlib" else generated_files(tmp_path / "corpus")
    trigger_set = use_native(chosen)
    assert trigger_set.native is not None
    dropped, with_hits, native_only, python_only = [], 0, 0, 0
    for path, data in files:
        python, native = trigger_set.is_candidate_python(data), trigger_set.is_candidate(data)
        try:
            hits = trigger_set.hits(data.decode("utf-8")) if python or native else []
        except UnicodeDecodeError:
            continue
        if hits and not native:
            dropped.append(path)
        with_hits += bool(hits)
        native_only += native and not python
        python_only += python and not native
    assert dropped == []
    assert with_hits > 50  # the comparison saw hits of its own
    assert native_only <= with_hits // 20  # widened class patterns: a superset, not "everything"
    if which == "generated":
        assert python_only > 0  # event names in comparisons and calls no longer pass


COORDINATOR_POLICY = """
    version = 1
    [[concept]]
    name = "coordinator"
    canonical = "pkg.base.DataUpdateCoordinator"
    [concept.implementation]
    bases = ["pkg.base.DataUpdateCoordinator"]
"""


@needs_hyperscan
@pytest.mark.parametrize(
    ("text", "candidate"),
    [
        (b"class C(DataUpdateCoordinator):\n    pass\n", True),
        (b"x = DataUpdateCoordinator", True),
        (b"DataUpdateCoordinator", True),
        (b"CoordinatorEntity[DataUpdateCoordinator]", True),
        ("class Cé(DataUpdateCoordinatorß):\n".encode(), True),  # the hits decide
        (b"class C(AccuWeatherDataUpdateCoordinator):\n    pass\n", False),
        (b"from .coordinator import MyDataUpdateCoordinator\n", False),
        (b"class C(DataUpdateCoordinatorMixin): ...\n", False),
        (b"class C(Base_DataUpdateCoordinator2): ...\n", False),
    ],
)
def test_a_base_class_passes_the_native_prefilter_only_as_a_whole_word(
    text: bytes, candidate: bool, make_policy: PolicyFn
) -> None:
    # In a real tree most mentions of a base class are inside its subclasses' names, which
    # no rule reports: such a file is no candidate (and is not decoded nor searched for hits).
    trigger_set = use_native(make_policy(COORDINATOR_POLICY))
    assert trigger_set.native is not None
    assert trigger_set.is_candidate(text) is candidate
    assert trigger_set.is_candidate_python(text)  # the pure-Python prefilter asks less
    if not candidate:
        assert trigger_set.hits(text.decode()) == []


_WORDS: dict[str, native_prefilter.NativePrefilter] = {}


@needs_hyperscan
@given(
    st.text(alphabet="aZ9_ .([é\u00dfж\t", max_size=2),
    st.text(alphabet="aZ9_ .)]é\u00dfж\n", max_size=2),
)
def test_a_whole_word_matches_natively_wherever_the_hits_count_one(before: str, after: str) -> None:
    # Hyperscan's word boundary knows ASCII only: next to a non-ASCII letter it matches where
    # the hits (any letter) do not, never the reverse; next to ASCII the two agree.
    word = "DataUpdateCoordinator"
    if word not in _WORDS:
        _WORDS[word] = native_prefilter.NativePrefilter([], [], [], (), [word.encode()])
    text = before + word + after
    python = triggers._whole_words(text, word, [len(before)]) != []
    native = _WORDS[word].is_candidate(text.encode())
    assert native or not python
    if text.isascii():
        assert native is python


@needs_hyperscan
def test_a_group_needs_its_minimum_of_distinct_literals(policy: Policy) -> None:
    trigger_set = use_native(policy)
    one = b"class Pool:\n    def add_connection(self): ...\n    def add_connection(self): ...\n"
    two = b"class Pool:\n    def add_connection(self): ...\n    def broadcast(self): ...\n"
    assert trigger_set.is_candidate(one) is trigger_set.is_candidate_python(one) is False
    assert trigger_set.is_candidate(two) is trigger_set.is_candidate_python(two) is True


@needs_hyperscan
def test_a_class_name_with_a_non_ascii_letter_passes_the_native_prefilter(policy: Policy) -> None:
    # The widened pattern lets the file through; whether the name matches is then the
    # policy pattern's own answer (RE2's \w is ASCII), the same for sliced and whole files.
    data = "class WebSocketÜberManager:\n    pass\n".encode()
    assert use_native(policy).is_candidate(data)
    sliced = analyze("pkg/m.py", data, policy).findings
    assert sliced == analyze("pkg/m.py", data, policy, full_parse=True).findings
    other = "class WebSocketÜberConnectionManager:\n    pass\n".replace("Über", "Uber")
    assert [f.rule for f in analyze("pkg/m.py", other.encode(), policy).findings] == ["SSOT002"]


@pytest.mark.parametrize(
    ("pattern", "widened"),
    [
        ("(?i)websocket\\w*manager", True),
        ("Coordinator$", True),
        ("^Base(Pool|Manager)$", True),
        ("\\bPool\\b", False),  # word boundaries mean other things on bytes
        ("Pool(?=Manager)", False),  # look-ahead
        ("[\\w]+Pool", False),  # a Unicode class inside brackets
        ("Über", False),  # non-ASCII text
    ],
)
def test_which_class_patterns_are_widened_to_bytes(pattern: str, widened: bool) -> None:
    assert (native_prefilter.widen_class_pattern(pattern) is not None) is widened


@pytest.mark.parametrize(
    "name", ["WebSocketManager", "LegacyWEBSOCKETConnectionManager", "WebSocketÜberManager"]
)
def test_a_widened_pattern_matches_every_name_the_pattern_matches(name: str) -> None:
    widened = native_prefilter.widen_class_pattern("(?i)websocket\\w*manager")
    assert widened is not None
    expression, caseless = widened
    assert re.compile(r"(?i)websocket\w*manager").search(name)
    flags = re.IGNORECASE if caseless else 0
    assert re.search(expression, f"class {name}(Base):".encode(), flags)


def test_without_hyperscan_the_python_prefilter_gives_the_same_findings(
    monkeypatch: pytest.MonkeyPatch, policy: Policy, make_policy: object
) -> None:
    text = (
        b"from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n"
        b"class MockWebSocketManager:\n    pass\n"
        b'event = {"type": "agent_started", "user": "u"}\n'
    )
    use_native(policy)
    with_native = analyze("pkg/m.py", text, policy).findings
    monkeypatch.setattr(native_prefilter, "AVAILABLE", False)
    monkeypatch.setattr(triggers, "_CACHE", {})
    monkeypatch.setattr(triggers, "_NATIVE_TRIED", set())
    assert use_native(policy).native is None
    assert analyze("pkg/m.py", text, policy).findings == with_native
    assert [f.rule for f in with_native] == ["SSOT001", "SSOT002", "SSOT003"]


@needs_hyperscan
@pytest.mark.slow
@pytest.mark.parametrize("which", ["stdlib", "generated"])
def test_native_hits_are_the_python_hits(which: str, policy: Policy, tmp_path: Path) -> None:
    chosen = STDLIB_POLICY if which == "stdlib" else policy
    files = stdlib_files() if which == "stdlib" else generated_files(tmp_path / "corpus")
    trigger_set = use_native(chosen)
    assert trigger_set.native_literals is not None
    compared = differ = 0
    for _, data in files:
        if not trigger_set.is_candidate(data):
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        compared += text.isascii()
        differ += trigger_set.hits(text) != trigger_set.hits(text, native=False)
    assert compared > 20
    assert differ == 0


@needs_hyperscan
def test_native_occurrences_do_not_overlap_like_successive_finds() -> None:
    literals = native_prefilter.NativeLiterals([b"aa", b"ab"])
    assert literals.occurrences(b"aaab aa") == {b"aa": [0, 5], b"ab": [2]}


SMALL_TREE = {
    f"pkg/m{i}.py": (
        "from netra_backend.app.websocket_core.unified_manager import UnifiedWebSocketManager\n"
        "class MockWebSocketManager:\n    pass\n"
        'event = {"type": "agent_started", "user": "u"}\n'
    )
    for i in range(6)
}


def write_small_tree(root: Path) -> None:
    for rel, text in SMALL_TREE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@needs_hyperscan
def test_a_scan_builds_the_native_matchers_only_for_many_files(
    tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Compiling Hyperscan's databases costs more than it saves over a few files (a pull
    # request's check, a pre-commit run): those keep the pure-Python prefilter.
    from analyzers import runner

    write_small_tree(tmp_path)
    monkeypatch.setattr(triggers, "_CACHE", {})
    monkeypatch.setattr(triggers, "_NATIVE_TRIED", set())

    def scan() -> list[object]:
        result = runner.scan(tmp_path, policy, sorted(SMALL_TREE), use_cache=False, jobs=1)
        return result.all_findings

    few = scan()
    assert triggers.triggers_for(policy).native is None
    monkeypatch.setattr(triggers, "NATIVE_THRESHOLD", len(SMALL_TREE))
    many = scan()
    assert triggers.triggers_for(policy).native is not None
    assert many == few and len(few) == 3 * len(SMALL_TREE)


def test_an_error_building_the_matchers_is_raised_by_the_scan(
    tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A large run builds them in a thread while the engine is imported: a failure there must
    # reach the caller, not leave the scan to go on without them.
    from analyzers import runner

    write_small_tree(tmp_path)

    def broken(policy: Policy, files: int) -> triggers.TriggerSet:
        raise RuntimeError(f"no matchers for {files} files")

    monkeypatch.setattr(triggers, "NATIVE_THRESHOLD", len(SMALL_TREE))
    monkeypatch.setattr(triggers, "prepare", broken)
    with pytest.raises(RuntimeError, match=f"no matchers for {len(SMALL_TREE)} files"):
        runner.scan(tmp_path, policy, sorted(SMALL_TREE), use_cache=False, jobs=1)


@needs_hyperscan
def test_a_scan_of_one_file_does_not_load_hyperscan(tmp_path: Path) -> None:
    from git_repos import make_repo

    repo = make_repo(tmp_path, {"pkg/m.py": SMALL_TREE["pkg/m0.py"]})
    code = (
        "import sys\n"
        "from analyzers.cli import main\n"
        f"main(['scan', '--no-cache', '--root', {str(repo)!r}, '-o', {str(tmp_path / 'r')!r}])\n"
        "print('hyperscan' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"
    assert "SSOT001" in (tmp_path / "r").read_text()


@needs_hyperscan
@pytest.mark.parametrize("forking", [False, True])
def test_preparing_a_forking_scan_imports_the_fork_join_and_only_then(
    tmp_path: Path, forking: bool
) -> None:
    # The compile outlasts the engine's import on a real tree: the fork-join's import fits in
    # it, instead of after it. A scan that will not fork must not pay for it.
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from analyzers import runner, triggers\n"
        "from analyzers.policy_loader import load_policy\n"
        "text = Path('examples/websocket-ssot.toml').read_text(encoding='utf-8')\n"
        "policy = load_policy(text, 'examples/websocket-ssot.toml').policy\n"
        "before = 'analyzers.forkjoin' in sys.modules\n"
        f"runner._prepare_engine(policy, triggers.NATIVE_THRESHOLD, forking={forking})\n"
        "print(before, triggers.triggers_for(policy).native is not None, "
        "'analyzers.forkjoin' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert done.stdout.split() == ["False", "True", str(forking)]
