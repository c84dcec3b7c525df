"""GitHub's errors and limits, as pure functions of a request body.

What a 422 looks like (two shapes: "Validation Failed" with error objects, and the reviews'
"Unprocessable Entity" with sentences), validation against githubkit's generated request
models, and the limits GitHub enforces beyond those models: check run titles, annotation
columns and sizes, actions, and where a review comment may land in a diff.
"""

from __future__ import annotations

from typing import Any

import pydantic

from .gitdiff import FileChange, PatchLine, Side, find_patch_line, patch_lines

Json = dict[str, Any]

DOCS = "https://docs.github.com/rest"
MAX_BODY = 65_536  # issue, comment and review bodies
MAX_ISSUE_TITLE = 256
MAX_OUTPUT_TEXT = 65_535  # check run summary and text
MAX_TITLE = 255
MAX_ANNOTATIONS = 50
MAX_ANNOTATION_BLOB = 64 * 1024  # annotation message / raw_details
MAX_ACTIONS = 3
ACTION_LIMITS = (("label", 20), ("description", 40), ("identifier", 20))


class GitHubError(Exception):
    """An error answered with GitHub's error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        documentation_url: str = DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url
        self.headers = headers or {}

    def body(self) -> Json:
        data: Json = {
            "message": self.message,
            "documentation_url": self.documentation_url,
            "status": str(self.status),
        }
        if self.errors is not None:
            data["errors"] = self.errors
        return data


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


def validation_failed(
    resource: str, field: str, message: str, code: str = "invalid"
) -> GitHubError:
    return GitHubError(
        422,
        "Validation Failed",
        errors=[{"resource": resource, "field": field, "code": code, "message": message}],
    )


def unprocessable(*messages: str, documentation_url: str = DOCS) -> GitHubError:
    """GitHub's other 422 shape (reviews): ``errors`` is a list of sentences."""
    return GitHubError(
        422, "Unprocessable Entity", errors=list(messages), documentation_url=documentation_url
    )


def validate_body(model: type[pydantic.BaseModel], body: Any, resource: str) -> None:
    """Validate a request body with a githubkit model; 422 naming each failing field."""
    try:
        model.model_validate(body)
    except pydantic.ValidationError as exc:
        found = exc.errors()
        # ``Missing[X]`` fields are unions with UNSET: drop the "should be UNSET" branch and
        # the union tags from locations, so the error names the field as the client wrote it.
        real = [e for e in found if "literal[<UNSET>]" not in map(str, e["loc"])] or found
        errors: list[Json] = []
        for error in real:
            parts = [
                str(part)
                for part in error["loc"]
                if not (isinstance(part, str) and ("[" in part or part[:1].isupper()))
            ]
            field = ".".join(parts) or "body"
            kind = error["type"]
            code = (
                "missing_field"
                if kind == "missing"
                else "too_long"
                if kind in ("string_too_long", "too_long")
                else "invalid"
            )
            errors.append(
                {
                    "resource": resource,
                    "field": field,
                    "code": code,
                    "message": f"{field}: {error['msg']} ({model.__name__})",
                }
            )
        raise GitHubError(422, "Validation Failed", errors=errors) from None


def check_run_limits(body: Json) -> None:
    """Check run limits GitHub enforces, some of which githubkit's models do not encode."""
    output = body.get("output")
    if isinstance(output, dict):
        title = output.get("title")
        if isinstance(title, str) and len(title) > MAX_TITLE:
            raise validation_failed(
                "CheckRun",
                "output.title",
                f"title is too long (maximum is {MAX_TITLE} characters)",
                "too_long",
            )
        for key in ("summary", "text"):
            value = output.get(key)
            if isinstance(value, str) and len(value) > MAX_OUTPUT_TEXT:
                raise validation_failed(
                    "CheckRun",
                    f"output.{key}",
                    f"{key} is too long (maximum is {MAX_OUTPUT_TEXT} characters)",
                    "too_long",
                )
        annotations = output.get("annotations") or []
        if len(annotations) > MAX_ANNOTATIONS:
            raise validation_failed(
                "CheckRun",
                "output.annotations",
                f"Only {MAX_ANNOTATIONS} annotations are allowed per request",
                "too_long",
            )
        for index, item in enumerate(annotations):
            field = f"output.annotations.{index}"
            if item["end_line"] < item["start_line"]:
                raise validation_failed(
                    "CheckRun", f"{field}.end_line", "end_line must be >= start_line"
                )
            has_columns = "start_column" in item or "end_column" in item
            if has_columns and item["start_line"] != item["end_line"]:
                raise validation_failed(
                    "CheckRun",
                    f"{field}.start_column",
                    "start_column and end_column are only allowed when start_line equals end_line",
                )
            for key in ("message", "raw_details"):
                if len(str(item.get(key, "")).encode()) > MAX_ANNOTATION_BLOB:
                    raise validation_failed(
                        "CheckRun", f"{field}.{key}", f"{key} is larger than 64 KB", "too_long"
                    )
            if len(str(item.get("title", ""))) > MAX_TITLE:
                raise validation_failed(
                    "CheckRun",
                    f"{field}.title",
                    f"title is too long (maximum is {MAX_TITLE} characters)",
                    "too_long",
                )
    for index, action in enumerate(body.get("actions") or []):
        for key, limit in ACTION_LIMITS:
            if len(str(action.get(key, ""))) > limit:
                raise validation_failed(
                    "CheckRun",
                    f"actions.{index}.{key}",
                    f"{key} is too long (maximum is {limit} characters)",
                    "too_long",
                )
    if len(body.get("actions") or []) > MAX_ACTIONS:
        raise validation_failed(
            "CheckRun", "actions", "A maximum of three actions are accepted", "too_long"
        )


def place_review_comment(
    item: Json, changes: dict[str, FileChange]
) -> tuple[PatchLine, int, Side] | str:
    """Where a review comment lands in the diff, or GitHub's reason for refusing it."""
    path = item["path"]
    if len(item["body"]) > MAX_BODY:
        return f"Body is too long (maximum is {MAX_BODY} characters)"
    change = changes.get(path)
    if change is None:
        return f"Path could not be resolved: {path}"
    if change.patch is None:
        return f"Pull request review thread diff hunk can't be blank ({path} has no patch)"
    side = item.get("side", "RIGHT")
    if side not in ("LEFT", "RIGHT"):
        return f"Side must be LEFT or RIGHT, not {side!r}"
    if "line" not in item:
        if "position" not in item:
            return "Pull request review thread line must be present (give line or position)"
        by_position = {p.position: p for p in patch_lines(change.patch)}
        target = by_position.get(item["position"])
        if target is None:
            return "Pull request review thread position is invalid"
        if target.new_line is not None:
            return target, target.new_line, "RIGHT"
        return target, target.old_line or 0, "LEFT"
    target = find_patch_line(change.patch, item["line"], as_side(side))
    if target is None:
        return (
            "Pull request review thread line must be part of the diff and Pull request "
            f"review thread diff hunk can't be blank ({path} line {item['line']} {side})"
        )
    if item.get("start_line") is not None:
        start_side = item.get("start_side", side)
        if start_side not in ("LEFT", "RIGHT"):
            return f"Start side must be LEFT or RIGHT, not {start_side!r}"
        start = find_patch_line(change.patch, item["start_line"], as_side(start_side))
        if start is None:
            return f"Pull request review thread start line must be part of the diff ({path})"
        if start.position >= target.position:
            return "Pull request review thread start line must precede the end line"
        if start.hunk_start != target.hunk_start:
            return "Pull request review thread start and end must be in the same hunk"
    return target, item["line"], as_side(side)


def as_side(value: Any) -> Side:
    return "LEFT" if value == "LEFT" else "RIGHT"
