"""The slice of GitHub's GraphQL API the bot uses, over the fake's state.

Supported:
- ``repository(owner:, name:)`` with ``object(expression: "<rev>:<path>")`` returning a
  ``Blob`` (``text``, ``isTruncated``, ``byteSize``, ``oid``, ``isBinary``...), ``Tree`` or
  ``Commit``, any number of them under aliases (the batch fetch of many files in one call),
  plus ``name``, ``nameWithOwner``, ``id``, ``isPrivate``, ``owner``, ``defaultBranchRef``;
- ``node(id:)`` / ``nodes(ids:)`` for issue and review comments; ``rateLimit``;
- mutations ``minimizeComment(input: {subjectId, classifier})`` and
  ``unminimizeComment(input: {subjectId})``.

The query is parsed by a small recursive-descent parser (aliases, arguments, variables,
inline fragments); an unknown field fails the whole request as GitHub does
("Field 'x' doesn't exist on type 'Y'").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .gitdiff import is_binary, tree_shas
from .state import FakeGitHubState, Installation, IssueComment, ReviewComment, utcnow

Json = dict[str, Any]

_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'  # block string
    r'|"(?:[^"\\]|\\.)*"'  # string
    r"|\.\.\.|[{}()\[\]:!$=@]"  # punctuators
    r"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"  # numbers
    r"|[_A-Za-z][_0-9A-Za-z]*"  # names
)
_IGNORED = re.compile(r"(?:[\s,\ufeff]+|#[^\n]*)+")

CLASSIFIERS = {
    "SPAM": "spam",
    "ABUSE": "abuse",
    "OFF_TOPIC": "off-topic",
    "OUTDATED": "outdated",
    "DUPLICATE": "duplicate",
    "RESOLVED": "resolved",
}


class GraphQLSyntaxError(Exception):
    pass


class QueryError(Exception):
    """Fails the whole request (no data), e.g. an unknown field or a missing variable."""

    def __init__(self, message: str, extensions: Json | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions or {}


class FieldError(Exception):
    """Nulls one field and adds an error (``NOT_FOUND``, ``FORBIDDEN``...)."""

    def __init__(self, type_: str, message: str) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message


@dataclass
class Variable:
    name: str


@dataclass
class EnumValue:
    name: str


@dataclass
class Field:
    name: str
    alias: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    selections: list[Field | InlineFragment] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class InlineFragment:
    type_condition: str | None
    selections: list[Field | InlineFragment]


@dataclass
class Operation:
    kind: str  # "query" or "mutation"
    selections: list[Field | InlineFragment]
    defaults: dict[str, Any]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        position = 0
        while position < len(text):
            skipped = _IGNORED.match(text, position)
            if skipped:
                position = skipped.end()
                continue
            match = _TOKEN.match(text, position)
            if not match:
                raise GraphQLSyntaxError(f"Parse error on {text[position : position + 10]!r}")
            self.tokens.append(match.group())
            position = match.end()
        self.index = 0

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise GraphQLSyntaxError(
                f"Parse error: expected {expected or 'a token'}, got {token!r}"
            )
        self.index += 1
        return token

    def name(self) -> str:
        token = self.take()
        if not re.fullmatch(r"[_A-Za-z][_0-9A-Za-z]*", token):
            raise GraphQLSyntaxError(f"Parse error: expected a name, got {token!r}")
        return token

    def document(self) -> Operation:
        kind = "query"
        defaults: dict[str, Any] = {}
        if self.peek() in ("query", "mutation"):
            kind = self.take()
            if self.peek() not in ("(", "{", "@"):
                self.name()
            if self.peek() == "(":
                defaults = self.variable_definitions()
            self.directives()
        selections = self.selection_set()
        if self.peek() is not None:
            raise GraphQLSyntaxError("Only one operation per document is supported by the fake")
        return Operation(kind, selections, defaults)

    def variable_definitions(self) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        self.take("(")
        while self.peek() != ")":
            self.take("$")
            name = self.name()
            self.take(":")
            self.type_reference()
            if self.peek() == "=":
                self.take("=")
                defaults[name] = self.value()
        self.take(")")
        return defaults

    def type_reference(self) -> None:
        if self.peek() == "[":
            self.take("[")
            self.type_reference()
            self.take("]")
        else:
            self.name()
        if self.peek() == "!":
            self.take("!")

    def directives(self) -> None:
        while self.peek() == "@":
            self.take("@")
            self.name()
            if self.peek() == "(":
                self.arguments()

    def selection_set(self) -> list[Field | InlineFragment]:
        self.take("{")
        selections: list[Field | InlineFragment] = []
        while self.peek() != "}":
            if self.peek() == "...":
                self.take("...")
                condition = None
                if self.peek() == "on":
                    self.take("on")
                    condition = self.name()
                elif self.peek() != "{":
                    raise QueryError("Fragment spreads are not supported by the fake; inline them")
                self.directives()
                selections.append(InlineFragment(condition, self.selection_set()))
                continue
            first = self.name()
            alias, name = (None, first)
            if self.peek() == ":":
                self.take(":")
                alias, name = first, self.name()
            arguments = self.arguments() if self.peek() == "(" else {}
            self.directives()
            children = self.selection_set() if self.peek() == "{" else []
            selections.append(Field(name, alias, arguments, children))
        self.take("}")
        return selections

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        arguments: dict[str, Any] = {}
        while self.peek() != ")":
            name = self.name()
            self.take(":")
            arguments[name] = self.value()
        self.take(")")
        return arguments

    def value(self) -> Any:
        token = self.take()
        if token == "$":
            return Variable(self.name())
        if token.startswith('"""'):
            return token[3:-3]
        if token.startswith('"'):
            return _unescape(token[1:-1])
        if token == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
            self.take("]")
            return items
        if token == "{":
            fields: dict[str, Any] = {}
            while self.peek() != "}":
                key = self.name()
                self.take(":")
                fields[key] = self.value()
            self.take("}")
            return fields
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        if re.fullmatch(r"-?\d[\d.eE+-]*", token):
            return float(token)
        if token in ("true", "false"):
            return token == "true"
        if token == "null":
            return None
        return EnumValue(token)


def _unescape(text: str) -> str:
    replacements = {
        '"': '"',
        "\\": "\\",
        "/": "/",
        "b": "\b",
        "f": "\f",
        "n": "\n",
        "r": "\r",
        "t": "\t",
    }

    def one(match: re.Match[str]) -> str:
        escaped = match.group(1)
        if escaped.startswith("u"):
            return chr(int(escaped[1:], 16))
        return replacements.get(escaped, escaped)

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", one, text)


def parse(query: str) -> Operation:
    return _Parser(query).document()


def is_mutation(query: str) -> bool:
    """Cheap test used to classify calls (content-creating or not) before parsing."""
    stripped = _IGNORED.sub(" ", query).lstrip()
    return stripped.startswith("mutation")


# --- execution -----------------------------------------------------------------------------


class _Node:
    typename = "Node"
    interfaces: tuple[str, ...] = ()

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        raise QueryError(
            f"Field '{name}' doesn't exist on type '{self.typename}'",
            {"code": "undefinedField", "typeName": self.typename, "fieldName": name},
        )


class _Executor:
    def __init__(
        self,
        state: FakeGitHubState,
        installation: Installation,
        variables: dict[str, Any],
    ) -> None:
        self.state = state
        self.installation = installation
        self.variables = variables
        self.errors: list[Json] = []

    def argument(self, value: Any) -> Any:
        if isinstance(value, Variable):
            if value.name not in self.variables:
                raise QueryError(f"Variable ${value.name} was not provided")
            return self.variables[value.name]
        if isinstance(value, EnumValue):
            return value.name
        if isinstance(value, list):
            return [self.argument(v) for v in value]
        if isinstance(value, dict):
            return {k: self.argument(v) for k, v in value.items()}
        return value

    def select(
        self, node: _Node, selections: list[Field | InlineFragment], path: list[str]
    ) -> Json:
        result: Json = {}
        for selection in selections:
            if isinstance(selection, InlineFragment):
                condition = selection.type_condition
                if condition is None or condition == node.typename or condition in node.interfaces:
                    result.update(self.select(node, selection.selections, path))
                continue
            if selection.name == "__typename":
                result[selection.key] = node.typename
                continue
            args = {k: self.argument(v) for k, v in selection.arguments.items()}
            here = [*path, selection.key]
            try:
                value = node.resolve(selection.name, args)
            except FieldError as error:
                self.errors.append(
                    {"type": error.type, "path": here, "locations": [], "message": error.message}
                )
                result[selection.key] = None
                continue
            result[selection.key] = self.shape(value, selection, here)
        return result

    def shape(self, value: Any, selection: Field, path: list[str]) -> Any:
        if isinstance(value, _Node):
            if not selection.selections:
                raise QueryError(
                    f"Field must have selections (field '{selection.name}' returns "
                    f"{value.typename} but has no selections)"
                )
            return self.select(value, selection.selections, path)
        if isinstance(value, list):
            return [self.shape(item, selection, path) for item in value]
        return value


class _RateLimit(_Node):
    typename = "RateLimit"

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        values = {
            "cost": 1,
            "limit": 5000,
            "remaining": 4999,
            "used": 1,
            "nodeCount": 0,
            "resetAt": (utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if name in values:
            return values[name]
        return super().resolve(name, args)


class _Blob(_Node):
    typename = "Blob"
    interfaces = ("GitObject", "Node")

    def __init__(self, sha: str, content: bytes, limit: int) -> None:
        self.sha, self.content, self.limit = sha, content, limit

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        binary = is_binary(self.content)
        if name == "text":
            if binary:
                return None
            return self.content[: self.limit].decode("utf-8", "ignore")
        if name == "isTruncated":
            return len(self.content) > self.limit
        if name == "byteSize":
            return len(self.content)
        if name == "isBinary":
            return binary
        if name == "oid":
            return self.sha
        if name == "abbreviatedOid":
            return self.sha[:7]
        if name == "id":
            return f"B_kwDO{self.sha[:16]}"
        return super().resolve(name, args)


class _Tree(_Node):
    typename = "Tree"
    interfaces = ("GitObject", "Node")

    def __init__(self, sha: str) -> None:
        self.sha = sha

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        if name == "oid":
            return self.sha
        if name == "abbreviatedOid":
            return self.sha[:7]
        if name == "id":
            return f"T_kwDO{self.sha[:16]}"
        return super().resolve(name, args)


class _Commit(_Node):
    typename = "Commit"
    interfaces = ("GitObject", "Node")

    def __init__(self, sha: str, message: str) -> None:
        self.sha, self.message = sha, message

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        if name == "oid":
            return self.sha
        if name == "abbreviatedOid":
            return self.sha[:7]
        if name == "message":
            return self.message
        if name == "id":
            return f"C_kwDO{self.sha[:16]}"
        return super().resolve(name, args)


class _Owner(_Node):
    typename = "Organization"
    interfaces = ("RepositoryOwner",)

    def __init__(self, login: str, typename: str) -> None:
        self.login = login
        self.typename = typename

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        if name == "login":
            return self.login
        return super().resolve(name, args)


class _Ref(_Node):
    typename = "Ref"

    def __init__(self, name: str, target: _Commit) -> None:
        self.name, self.target = name, target

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        if name == "name":
            return self.name
        if name == "target":
            return self.target
        return super().resolve(name, args)


class _Repository(_Node):
    typename = "Repository"
    interfaces = ("Node",)

    def __init__(self, executor: _Executor, repo_id: int) -> None:
        self.executor = executor
        self.repo = executor.state.repos[repo_id]

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        state = self.executor.state
        repo = self.repo
        if name == "object":
            return self.git_object(args)
        if name == "name":
            return repo.name
        if name == "nameWithOwner":
            return repo.full_name
        if name == "id":
            return repo.node_id
        if name == "databaseId":
            return repo.id
        if name == "isPrivate":
            return repo.private
        if name == "isFork":
            return repo.fork
        if name == "owner":
            return _Owner(repo.owner.login, repo.owner.type)
        if name == "defaultBranchRef":
            sha = repo.branches.get(repo.default_branch)
            if sha is None:
                return None
            return _Ref(repo.default_branch, _Commit(sha, state.commits[sha].message))
        return super().resolve(name, args)

    def git_object(self, args: dict[str, Any]) -> _Node | None:
        state = self.executor.state
        expression = args.get("expression")
        oid = args.get("oid")
        if isinstance(oid, str):
            if oid in state.commits:
                return _Commit(oid, state.commits[oid].message)
            if oid in state.blobs:
                return _Blob(oid, state.blobs[oid], state.graphql_blob_text_limit)
            return _Tree(oid) if state.tree_files(oid) is not None else None
        if not isinstance(expression, str):
            raise QueryError("Field 'object' requires an 'expression' or an 'oid' argument")
        rev, colon, path = expression.partition(":")
        sha = state.resolve(self.repo, rev or "HEAD")
        if sha is None:
            return None
        commit = state.commits[sha]
        if not colon:
            return _Commit(sha, commit.message)
        path = path.strip("/")
        if not path:
            return _Tree(commit.tree_sha)
        blob = commit.files.get(path)
        if blob is not None:
            return _Blob(blob, state.blobs[blob], state.graphql_blob_text_limit)
        prefix = path + "/"
        if any(p.startswith(prefix) for p in commit.files):
            return _Tree(tree_shas(commit.files)[prefix])
        return None


class _Comment(_Node):
    def __init__(self, comment: IssueComment | ReviewComment) -> None:
        self.comment = comment
        self.typename = (
            "IssueComment" if isinstance(comment, IssueComment) else "PullRequestReviewComment"
        )
        self.interfaces = ("Comment", "Minimizable", "Node", "Reactable", "Updatable")

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        comment = self.comment
        if name == "id":
            return comment.node_id
        if name in ("databaseId", "fullDatabaseId"):
            return comment.id
        if name == "body":
            return comment.body
        if name == "isMinimized":
            return comment.minimized
        if name == "minimizedReason":
            return CLASSIFIERS.get(comment.minimized_reason or "") if comment.minimized else None
        if name == "viewerCanMinimize":
            return True
        return super().resolve(name, args)


class _MinimizePayload(_Node):
    def __init__(self, typename: str, key: str, comment: _Comment, mutation_id: Any) -> None:
        self.typename, self.key, self.comment, self.mutation_id = (
            typename,
            key,
            comment,
            mutation_id,
        )

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        if name == self.key:
            return self.comment
        if name == "clientMutationId":
            return self.mutation_id
        return super().resolve(name, args)


class _Query(_Node):
    typename = "Query"

    def __init__(self, executor: _Executor) -> None:
        self.executor = executor

    def accessible_comment(self, node_id: Any) -> _Comment | None:
        state = self.executor.state
        comment = state.comment_by_node_id(node_id) if isinstance(node_id, str) else None
        if comment is None or not self.executor.installation.covers(state.repos[comment.repo_id]):
            return None
        return _Comment(comment)

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        state = self.executor.state
        if name == "repository":
            owner, repo_name = args.get("owner"), args.get("name")
            repo = (
                state.find_repo(owner, repo_name)
                if isinstance(owner, str) and isinstance(repo_name, str)
                else None
            )
            if repo is None or not self.executor.installation.covers(repo):
                raise FieldError(
                    "NOT_FOUND",
                    f"Could not resolve to a Repository with the name '{owner}/{repo_name}'.",
                )
            return _Repository(self.executor, repo.id)
        if name == "rateLimit":
            return _RateLimit()
        if name == "node":
            found = self.accessible_comment(args.get("id"))
            if found is None:
                raise FieldError(
                    "NOT_FOUND",
                    f"Could not resolve to a node with the global id of '{args.get('id')}'",
                )
            return found
        if name == "nodes":
            ids = args.get("ids") or []
            return [self.accessible_comment(node_id) for node_id in ids]
        return super().resolve(name, args)


class _Mutation(_Query):
    typename = "Mutation"

    def resolve(self, name: str, args: dict[str, Any]) -> Any:
        if name not in ("minimizeComment", "unminimizeComment"):
            return _Node.resolve(self, name, args)
        payload = args.get("input")
        if not isinstance(payload, dict) or "subjectId" not in payload:
            raise QueryError(f"Argument 'input' on Field '{name}' has an invalid value")
        found = self.accessible_comment(payload["subjectId"])
        if found is None:
            raise FieldError(
                "NOT_FOUND",
                f"Could not resolve to a node with the global id of '{payload['subjectId']}'",
            )
        comment = found.comment
        if name == "minimizeComment":
            classifier = payload.get("classifier")
            if classifier not in CLASSIFIERS:
                raise QueryError(
                    f"Argument 'classifier' on InputObject 'MinimizeCommentInput' has an invalid value ({classifier})"
                )
            with self.executor.state.lock:
                comment.minimized = True
                comment.minimized_reason = str(classifier)
            return _MinimizePayload(
                "MinimizeCommentPayload", "minimizedComment", found, payload.get("clientMutationId")
            )
        with self.executor.state.lock:
            comment.minimized = False
            comment.minimized_reason = None
        return _MinimizePayload(
            "UnminimizeCommentPayload", "unminimizedComment", found, payload.get("clientMutationId")
        )


def execute(
    state: FakeGitHubState,
    installation: Installation,
    query: str,
    variables: dict[str, Any] | None,
) -> Json:
    """Run one GraphQL request; the JSON body GitHub would answer (always HTTP 200)."""
    try:
        operation = parse(query)
    except GraphQLSyntaxError as error:
        return {"errors": [{"message": str(error), "locations": []}]}
    except QueryError as error:
        return {"errors": [{"message": error.message, "locations": []}]}
    executor = _Executor(state, installation, {**operation.defaults, **(variables or {})})
    root: _Node = _Mutation(executor) if operation.kind == "mutation" else _Query(executor)
    try:
        data = executor.select(root, operation.selections, [])
    except QueryError as error:
        entry: Json = {"message": error.message, "locations": []}
        if error.extensions:
            entry["extensions"] = error.extensions
        return {"errors": [entry]}
    body: Json = {"data": data}
    if executor.errors:
        body["errors"] = executor.errors
    return body
