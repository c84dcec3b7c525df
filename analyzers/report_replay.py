"""The report of the last whole-tree ``ssot scan``, replayed while nothing it came from changed.

A warm scan in which no file changed still imported the engine's start path, loaded the
policy and the findings cache and rendered the same report again: on a 6,454-file tree that
was twice what listing the tree and stat-ing its files costs. Such a scan is answered here,
before any of that is imported. The report is stored with a digest, keyed with this user's
secret (:mod:`analyzers.userkey`), of everything it depends on:

- the request: the root, the ``--policy`` file, ``--format``, ``--list``, ``--strict``;
- the bytes of the policy files (``.github/ssot.toml`` and ``pyproject.toml``, or the
  ``--policy`` file);
- this package's sources and the Python version: an upgrade or an edit of the engine;
- every file git lists with its mtime and size (or its absence), as the findings cache
  checks them; they are stored with the report, so a changed file is found by comparing
  lists, without hashing the tree.

When any of it differs, when a request is one this module does not parse exactly as the
command line does, when a policy extends another (its parent may have changed) or the tree is
not a git checkout, the scan runs as usual and stores its new report. Only :mod:`os` and
:mod:`sys` are imported (and BLAKE2; marshal is built in); the git listing is started with
``posix_spawn`` and the files listed last time are stat-ed while it runs.
"""

from __future__ import annotations

import marshal
import os
import sys

from analyzers.digests import blake2b  # not hashlib, which loads OpenSSL (about 4 ms)
from analyzers.pipes import WIDE, widen
from analyzers.userkey import read_key, user_key

TYPE_CHECKING = False  # typing costs more to import than this whole module (mypy reads it)
if TYPE_CHECKING:
    from collections.abc import Sequence

FORMATS = ("text", "json", "sarif", "github", "markdown")
CACHE_DIR = ".ssot_cache"
POLICY_PATHS = (".github/ssot.toml", "pyproject.toml")
# What `git ls-files` is asked by the scan (gitio.PythonFileListing) and by the replay.
LISTING_ARGS = (
    "ls-files",
    "-z",
    "--cached",
    "--others",
    "--exclude-standard",
    "--",
    "*.py",
    "*.pyi",
)
_TAG = 32

# A listed file as the findings cache sees it: (st_mtime_ns, st_size), or None when it is gone.
Stamp = tuple[int, int]
TreeEntry = tuple[str, "Stamp | None"]

_VALUED = {
    "--root": "root",
    "--policy": "policy",
    "--format": "format",
    "--output": "output",
    "-o": "output",
    "--jobs": "jobs",
    "-j": "jobs",
}
_FLAGS = {"--list": "list", "--strict": "strict", "--no-cache": "no_cache"}


class ScanRequest:
    """What of a ``scan`` command line its report depends on, and where it goes."""

    __slots__ = ("format", "list", "no_cache", "output", "policy", "root", "strict")

    def __init__(
        self,
        root: str,
        policy: str | None = None,
        format: str = "text",
        list: bool = False,
        strict: bool = False,
        output: str | None = None,
        no_cache: bool = False,
    ) -> None:
        self.root, self.policy, self.format = root, policy, format
        self.list, self.strict, self.output = list, strict, output
        self.no_cache = no_cache  # nothing is replayed, but git lists the tree at once

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScanRequest) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__
        )

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__)
        return f"ScanRequest({fields})"

    @property
    def file_name(self) -> str:
        """The stored report of this kind of request (one per format and flags)."""
        return f"report-{self.format}{'-list' if self.list else ''}{'-strict' if self.strict else ''}.bin"


def parse_scan(argv: Sequence[str]) -> ScanRequest | None:
    """The request of a whole-tree ``scan`` command line, or None for anything else.

    Only the spellings that argparse reads the same way for certain are accepted (``--opt
    value``, ``--opt=value``, ``-o value``); an abbreviated option, a path, ``--help`` or a
    doubtful value goes to the command line proper, which is always right.
    """
    if not argv or argv[0] != "scan":
        return None
    found: dict[str, str | bool] = {}
    rest = iter(argv[1:])
    for arg in rest:
        if arg in _FLAGS:
            found[_FLAGS[arg]] = True
            continue
        name, eq, value = arg.partition("=")
        if name not in _VALUED or (eq and not name.startswith("--")):
            return None
        if not eq:
            value = next(rest, "")
        if not value or value.startswith("-"):
            return None
        found[_VALUED[name]] = value
    jobs = found.pop("jobs", None)
    if isinstance(jobs, str) and not jobs.isdigit():
        return None  # argparse's int() would refuse it, or read it in a way not worth copying
    if found.get("format", "text") not in FORMATS:
        return None
    return ScanRequest(
        root=str(found.get("root", ".")),
        policy=None if "policy" not in found else str(found["policy"]),
        format=str(found.get("format", "text")),
        list=bool(found.get("list", False)),
        strict=bool(found.get("strict", False)),
        output=None if "output" not in found else str(found["output"]),
        no_cache=bool(found.get("no_cache", False)),
    )


class _Digest:
    """The keyed digest of a request, its inputs, a tree and a report."""

    def __init__(self, key: bytes, root: str, request: ScanRequest) -> None:
        self.hasher = blake2b(key=key[:64], digest_size=_TAG)
        policy = None if request.policy is None else os.path.realpath(request.policy)
        head = (sys.version, root, policy or "", request.format, request.list, request.strict)
        self.hasher.update(repr(head).encode("utf-8", "surrogateescape"))
        self.hasher.update(_package_stamps())
        self.replayable = self._add_policies(root, policy)

    def _add_policies(self, root: str, policy: str | None) -> bool:
        names = [policy] if policy is not None else [os.path.join(root, p) for p in POLICY_PATHS]
        for name in names:
            try:
                with open(name, "rb") as fh:
                    data = fh.read()
            except FileNotFoundError:
                data = b""
                self.hasher.update(b"absent\0")
            except OSError:
                return False
            if b"extends" in data:
                return False  # its parent may change unseen (as the policy cache decides)
            self.hasher.update(b"%d\0" % len(data) + data)
        return True

    def tag(self, payload: bytes) -> bytes:
        """The tag of a stored payload (which holds the tree's listing and stamps)."""
        hasher = self.hasher.copy()
        hasher.update(payload)
        return hasher.digest()


def _package_stamps() -> bytes:
    """The path, mtime and size of every source of this package: any edit or upgrade of
    the engine or its reports makes every stored report stale."""
    here = os.path.dirname(os.path.abspath(__file__))
    parts = []
    for folder, dirs, files in os.walk(here):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                parts.append(f"{folder}/{name}\0{st.st_mtime_ns}\0{st.st_size}\n")
    return "".join(parts).encode("utf-8", "surrogateescape")


class Recording:
    """The full scan's side: started before the policy is read, saved with the report.

    Starting first matters: a policy file edited while the scan runs is then digested as it
    was before, and the next scan sees the difference instead of replaying a stale report.
    """

    def __init__(self, root: str, request: ScanRequest) -> None:
        self.root = root
        self.request = request
        self.digest = _Digest(user_key(), root, request)

    def save(self, tree: Sequence[TreeEntry], report: str, exit_code: int) -> None:
        """Store ``report`` for the next scan of this tree (not when a policy extends another)."""
        if not self.digest.replayable:
            return
        rels, stamps = [rel for rel, _ in tree], [st for _, st in tree]
        payload = marshal.dumps((exit_code, rels, stamps, report))
        folder = os.path.join(self.root, CACHE_DIR)
        path = os.path.join(folder, self.request.file_name)
        tmp = f"{path}.{os.getpid()}.tmp"
        try:
            os.makedirs(folder, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(self.digest.tag(payload) + payload)
            os.replace(tmp, path)  # a concurrent scan reads the old report or the new one
        except OSError:
            pass  # a read-only checkout: every scan runs in full


class Listed:
    """What a replay that missed already knows, for the scan to go on with: the tree's git
    listing, or the git still listing it (its pid and pipe); and the stamps of the files
    (None: one could not be read)."""

    __slots__ = ("git", "rels", "root", "stamps")

    def __init__(
        self,
        root: str,
        rels: list[str] | None,
        stamps: dict[str, Stamp | None] | None,
        git: tuple[int, int] | None = None,
    ) -> None:
        self.root, self.rels, self.stamps, self.git = root, rels, stamps, git


def replay(argv: Sequence[str]) -> int | Listed | None:
    """Write the stored report of this command line and return its exit code, if nothing it
    depends on changed; else what it learnt of the tree (or None) for the scan to go on with."""
    request = parse_scan(argv)
    if request is None:
        return None
    root = os.path.realpath(request.root)
    if request.no_cache:
        return _listing_only(root)
    key = read_key()
    try:
        with open(os.path.join(root, CACHE_DIR, request.file_name), "rb") as fh:
            stored = fh.read()
    except OSError:
        return _listing_only(root)  # never stored
    if key is None or len(stored) <= _TAG:
        return _listing_only(root)  # nothing that can be checked
    git = _start_listing(root)
    if git is None:
        return None
    # While git lists the tree: the digest of the request, the stored report's check and the
    # stamps of the files it was made of, as they are now.
    digest = _Digest(key, root, request)
    payload = stored[_TAG:]
    # Compared once, by the user's own process: no timing oracle to guard against. Checked
    # before unmarshalling: marshal is not made for data someone else wrote.
    if not digest.replayable or digest.tag(payload) != stored[:_TAG]:
        return Listed(root, None, None, git)
    try:
        code, last_listed, last_stamps, report = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):  # written by this user, but not by this format
        return Listed(root, None, None, git)
    now = _stamps(root, last_listed)
    if now is None:  # a file cannot be read: the scan reports it
        return Listed(root, None, None, git)
    if now != last_stamps:  # a file changed
        return Listed(root, None, dict(zip(last_listed, now, strict=True)), git)
    listed = finish_listing(*git)
    if listed is None:
        return None
    if listed != last_listed:  # a file was added or removed
        known = dict(zip(last_listed, now, strict=True))
        added = [rel for rel in listed if rel not in known]
        more = _stamps(root, added)
        return Listed(
            root, listed, None if more is None else {**known, **dict(zip(added, more, strict=True))}
        )
    if request.output is not None:
        try:
            with open(request.output, "w", encoding="utf-8") as out:
                out.write(report)
        except OSError:
            return None  # the command line proper says what is wrong with it
    else:
        sys.stdout.write(report)
    return int(code)


def _listing_only(root: str) -> Listed | None:
    """Nothing to replay: git's listing, started now for the scan to read (None: no git).

    Started here, git lists the tree while the command line, the engine's start path and the
    policy are imported and read, and the scan imports no subprocess to start it.
    """
    git = _start_listing(root)
    return None if git is None else Listed(root, None, None, git)


def _start_listing(root: str) -> tuple[int, int] | None:
    """git listing ``root``: its pid and the pipe its output comes down (None: no git)."""
    if not os.path.isdir(root):
        return None
    read_end, write_end = os.pipe()
    widen(write_end)  # git ends while this process is busy, not when it comes to read
    try:
        pid = os.posix_spawnp(
            "git",
            ["git", "-C", root, *LISTING_ARGS],
            dict(os.environ, GIT_OPTIONAL_LOCKS="0"),
            file_actions=[
                (os.POSIX_SPAWN_DUP2, write_end, 1),
                (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
            ],
        )
    except OSError:
        os.close(read_end)
        return None
    finally:
        os.close(write_end)
    return pid, read_end


def finish_listing(pid: int, read_end: int) -> list[str] | None:
    """The sorted paths git listed (None: git failed, say outside a checkout)."""
    chunks = []
    try:
        while chunk := os.read(read_end, WIDE):
            chunks.append(chunk)
    finally:
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    return listed_paths(b"".join(chunks))


def stop_listing(pid: int, read_end: int) -> None:
    """Stop a git listing that will not be read."""
    os.kill(pid, 9)  # SIGKILL, without importing signal
    os.close(read_end)
    os.waitpid(pid, 0)


def listed_paths(out: bytes) -> list[str]:
    """The sorted, distinct paths of ``git ls-files -z`` output (a conflicted file is listed
    once per stage)."""
    # Sorted first, then made distinct: git's output is sorted nearly throughout, which the
    # sort is quick on. For a 6,454-file tree: 1.0-1.1 ms, against 2.2-3.0 ms for a set sorted.
    paths = list(dict.fromkeys(sorted(out.decode("utf-8", "surrogateescape").split("\0"))))
    if paths and not paths[0]:
        del paths[0]  # the "" after the last NUL sorts first
    return paths


def _stamps(root: str, rels: list[str]) -> list[Stamp | None] | None:
    """Each file's stamp (None: it is gone); None when one cannot be read (the scan reports
    it as unanalysable and stores no report)."""
    out: list[Stamp | None] = []
    stat = os.stat
    for rel in rels:
        try:
            st = stat(f"{root}/{rel}")
        except FileNotFoundError:
            out.append(None)
        except OSError:
            return None
        else:
            out.append((st.st_mtime_ns, st.st_size))
    return out
