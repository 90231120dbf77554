"""Loading policy files, with errors that name the file, the line and the field.

`policy.yaml:14 rules[2].match.objects[0]: 'prod..orders' is not a valid table pattern (did you
mean 'prod.*.orders'?)`. An invalid policy is an error, never a silent fallback to allow-all.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from guardrails_core.policy.compiled import Policy, PolicyCompileError, compile_policy
from guardrails_core.policy.patterns import PatternError
from guardrails_core.policy.schema import PolicyFile
from guardrails_core.yaml_data import SAFE_LOADER, load_yaml

_Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    source: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where} {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class PolicyError(ValueError):
    """The policy file is invalid. `problems` lists every problem found, each with its line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


# A policy is a page or two of YAML: far larger files, or aliases that expand to more nodes than
# this, are refused before anything walks them (a 400-byte alias bomb expands to billions).
MAX_POLICY_BYTES = 1 << 20
MAX_POLICY_NODES = 100_000


def load_policy(path: str | Path) -> Policy:
    """Read, validate and compile a policy file. Raises PolicyError naming file, line and field."""
    location = Path(path)
    source = str(location)
    try:
        with location.open("rb") as handle:
            raw = handle.read(MAX_POLICY_BYTES + 1)
    except OSError as error:
        problem = Problem(source, None, "", f"cannot read: {error.strerror}")
        raise PolicyError([problem]) from None
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(
            [Problem(source, None, "", f"larger than {MAX_POLICY_BYTES} bytes: not a policy file")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        message = (
            f"not UTF-8 text: byte 0x{raw[error.start]:02x} at column {column} ({error.reason}); "
            "save the policy as UTF-8"
        )
        raise PolicyError([Problem(source, line, "", message)]) from None
    return parse_policy(text, source=source)


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Validate and compile policy text. An empty text is refused: a policy says at least
    ``version: 1`` (which, alone, is the built-in baseline and nothing else)."""
    if len(text) > MAX_POLICY_BYTES:
        raise PolicyError(
            [Problem(source, None, "", f"larger than {MAX_POLICY_BYTES} bytes: not a policy file")]
        )
    data, lines = _load_yaml_with_lines(text, source)
    if data is None:
        raise PolicyError(
            [
                Problem(
                    source,
                    1,
                    "",
                    "the policy is empty; write `version: 1` for an explicitly empty policy "
                    "(the built-in baseline alone), or add rules",
                )
            ]
        )
    if not isinstance(data, dict):
        raise PolicyError(
            [
                Problem(
                    source,
                    1,
                    "",
                    "a policy file is a mapping (version, rules, ...)"
                    f", not a {type(data).__name__}",
                )
            ]
        )
    try:
        spec = PolicyFile.model_validate(data)
    except ValidationError as error:
        raise PolicyError(
            [_problem_from_pydantic(issue, source, lines, data) for issue in error.errors()]
        ) from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    default_id = Path(source).stem if not source.startswith("<") else "policy"
    try:
        compiled = compile_policy(
            spec,
            sha256=digest,
            source=source,
            default_id=default_id,
            baseline=baseline_policy() if spec.baseline else None,
        )
    except PolicyCompileError as error:
        raise PolicyError(
            [
                Problem(source, _line_for(lines, path), _field_name(path), message)
                for path, message in error.problems
            ]
        ) from None
    from guardrails_core.policy.packs import with_packs

    return with_packs(compiled, spec.packs)


_BASELINE: Policy | None = None


def baseline_policy() -> Policy:
    """The built-in baseline (core/policy/baseline.yaml), compiled once."""
    global _BASELINE
    if _BASELINE is None:
        _BASELINE = builtin_policy("baseline.yaml", origin="baseline")
    return _BASELINE


def builtin_policy(resource: str, *, origin: str) -> Policy:
    """A policy shipped in guardrails_core.policy (the baseline, a pack), compiled alone."""
    text = resources.files("guardrails_core.policy").joinpath(resource).read_text(encoding="utf-8")
    data, _ = _load_yaml_with_lines(text, resource)
    spec = PolicyFile.model_validate(data)
    return compile_policy(
        spec,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source=f"builtin:{resource}",
        default_id=Path(resource).stem,
        baseline=None,
        origin=origin,
    )


# --------------------------------------------------------------------------- YAML with lines


def _load_yaml_with_lines(text: str, source: str) -> tuple[Any, dict[_Path, int]]:
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
        if node is not None:
            _check_expansion(node, source)
        data = load_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise PolicyError([Problem(source, line, "", f"not valid YAML: {error.problem}")]) from None
    except yaml.YAMLError as error:
        raise PolicyError([Problem(source, None, "", f"not valid YAML: {error}")]) from None
    except RecursionError:
        raise PolicyError([Problem(source, None, "", "YAML nested too deeply")]) from None
    lines: dict[_Path, int] = {}
    duplicates: list[Problem] = []
    if node is not None:
        _record_lines(node, (), lines, duplicates, source)
    if duplicates:
        raise PolicyError(duplicates)
    return data, lines


def _check_expansion(root: yaml.Node, source: str) -> int:
    """The number of nodes ``root`` expands to once every alias is followed; refuses more than
    ``MAX_POLICY_NODES`` and recursive aliases. Each distinct node is sized once (memoised), so
    the work is bounded by the composed document, not by its expansion. Returns the nodes
    visited (the work done)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    visits = 0

    def size(node: yaml.Node) -> int:
        nonlocal visits
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise PolicyError(
                [Problem(source, node.start_mark.line + 1, "", "a YAML alias refers to itself")]
            )
        visits += 1
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        active.discard(key)
        if total > MAX_POLICY_NODES:
            raise PolicyError(
                [
                    Problem(
                        source,
                        node.start_mark.line + 1,
                        "",
                        f"YAML aliases here expand to more than {MAX_POLICY_NODES} values (an "
                        "alias bomb?); write the values out, or use fewer nested aliases",
                    )
                ]
            )
        sizes[key] = total
        return total

    size(root)
    return visits


def _record_lines(
    node: yaml.Node, path: _Path, lines: dict[_Path, int], duplicates: list[Problem], source: str
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                duplicates.append(
                    Problem(
                        source,
                        key_node.start_mark.line + 1,
                        _field_name((*path, key)),
                        "duplicate key (YAML would silently keep the last one)",
                    )
                )
            seen.add(key)
            lines[(*path, key)] = key_node.start_mark.line + 1
            _record_lines(value_node, (*path, key), lines, duplicates, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _record_lines(item, (*path, index), lines, duplicates, source)


def _line_for(lines: dict[_Path, int], path: _Path) -> int | None:
    """The line of `path`, or of its nearest recorded ancestor."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def _field_name(path: _Path) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _problem_from_pydantic(
    issue: Any, source: str, lines: dict[_Path, int], data: dict[str, Any]
) -> Problem:
    path: _Path = tuple(part for part in issue["loc"] if not _is_pydantic_tag(part))
    kind = issue["type"]
    value = issue.get("input")
    if kind == "extra_forbidden":
        known = _known_fields(path[:-1], data)
        name = str(path[-1])
        suggestion = difflib.get_close_matches(name, known, n=1)
        hint = (
            f" (did you mean {suggestion[0]!r}?)"
            if suggestion
            else (f" (known fields: {', '.join(sorted(known))})" if known else "")
        )
        message = f"unknown field {name!r}{hint}"
    elif kind in ("enum", "literal_error"):
        expected = issue.get("ctx", {}).get("expected", "")
        options = [option.strip(" '") for option in expected.replace(" or ", ",").split(",")]
        suggestion = difflib.get_close_matches(str(value), options, n=1)
        hint = f" (did you mean {suggestion[0]!r}?)" if suggestion else ""
        message = f"{value!r} is not one of {expected}{hint}"
    elif kind == "missing":
        message = "required field is missing"
    elif kind in _BOUNDS:
        symbol, key = _BOUNDS[kind]
        limit = issue.get("ctx", {}).get(key)
        message = f"{value!r} is out of range: it must be {symbol} {limit}"
    elif kind == "string_pattern_mismatch":
        message = (
            f"{value!r} is not a valid identifier (letters, digits and _ . : / - ; "
            "starting with a letter or digit)"
        )
    else:
        message = issue["msg"].removeprefix("Value error, ")
    return Problem(source, _line_for(lines, path), _field_name(path), message)


# Numeric bounds as pydantic reports them: error type -> (symbol, key of the limit in ctx).
_BOUNDS = {
    "greater_than_equal": (">=", "ge"),
    "greater_than": (">", "gt"),
    "less_than_equal": ("<=", "le"),
    "less_than": ("<", "lt"),
}


def _is_pydantic_tag(part: Any) -> bool:
    # Union branches appear in `loc` as type names (e.g. 'TicketRequirement'); they are not fields.
    return isinstance(part, str) and part[:1].isupper()


def _known_fields(path: _Path, data: dict[str, Any]) -> list[str]:
    from guardrails_core.policy import schema

    model: Any = schema.PolicyFile
    for part in path:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return list(getattr(model, "model_fields", {}).keys())


def _model_of(annotation: Any) -> Any:
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


__all__ = [
    "PatternError",
    "PolicyCompileError",
    "PolicyError",
    "Problem",
    "baseline_policy",
    "load_policy",
    "parse_policy",
]
