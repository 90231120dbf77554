"""Object patterns: globs on `catalog.schema.name`, and on locations (URLs, paths, stages).

A dotted pattern is matched right-aligned: `orders` matches any table named orders,
`sales.*` any object in schema sales, `prod.sales.orders` one table of catalog prod. A part of
the object's name that is unknown (an unqualified table when no default schema is known) matches
only when the caller asks for the permissive reading: deny and review rules treat the unknown part
as "could be anything" (fail closed), allow rules and data scopes as "not known to be inside".
Patterns starting with `!` exclude. Matching is case-insensitive.

Location patterns (`/srv/exports/*`, `s3://bucket/**`, `@stage/*`, `~/x/*`, `C:/x/*`) are matched
against every reading of the location (see `guardrails_core.locations`: `..` resolved, URLs
decoded, ...): `*` stays in one path segment, `**` spans folders. An allow needs every reading
inside, a deny any; a location that cannot be read safely is treated like an unknown name.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

from guardrails_core.locations import LocationPatternError, compile_pattern, readings
from guardrails_core.model import ObjectKind, ObjectRef

LOCATION_KINDS = frozenset(
    {ObjectKind.FILE, ObjectKind.URL, ObjectKind.HOST, ObjectKind.PROGRAM, ObjectKind.STAGE}
)
# Locations with a path: normalised before matching. Hosts and programs are matched as written.
_PATH_KINDS = frozenset({ObjectKind.FILE, ObjectKind.URL, ObjectKind.STAGE})
NO_REAL_PATHS: Mapping[str, str] = MappingProxyType({})


# Name parts the analyzer could not know statically: shell variables, the placeholder the shell
# analyzer puts where an expansion was, globs and brace expansions in paths.
_UNKNOWN_MARKERS = ("__shell_expansion__", "$", "{", "*", "?", "[")


def is_unknown_name(text: str | None) -> bool:
    return text is None or any(marker in text for marker in _UNKNOWN_MARKERS)


class PatternError(ValueError):
    """An object pattern that cannot match anything sensible; the message suggests a fix."""


_WINDOWS_ROOT = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


def _is_location_pattern(pattern: str) -> bool:
    return (
        "://" in pattern
        or pattern.startswith(("/", "@", "~", "."))
        or _WINDOWS_ROOT.match(pattern) is not None
    )


@dataclass(frozen=True)
class ObjectPattern:
    text: str
    negated: bool
    location: bool
    parts: tuple[re.Pattern[str], ...]
    path: re.Pattern[str] | None = None

    @classmethod
    def parse(cls, text: str) -> ObjectPattern:
        raw = text.strip()
        negated = raw.startswith("!")
        body = raw[1:].strip() if negated else raw
        if not body:
            raise PatternError(f"{text!r} is an empty object pattern")
        if _is_location_pattern(body):
            try:
                path = compile_pattern(body)
            except LocationPatternError as error:
                raise PatternError(str(error)) from None
            return cls(text, negated, True, (_glob(body),), path)
        pieces = _split_dotted(body)
        if any(piece == "" for piece in pieces):
            suggestion = ".".join(piece or "*" for piece in pieces)
            raise PatternError(
                f"{body!r} is not a valid table pattern (did you mean {suggestion!r}?)"
            )
        if len(pieces) > 4:
            raise PatternError(
                f"{body!r} has {len(pieces)} parts; a pattern is at most catalog.schema.name.column"
            )
        return cls(text, negated, False, tuple(_glob(piece) for piece in pieces))

    def matches(
        self,
        ref: ObjectRef,
        *,
        unknown_matches: bool,
        real_paths: Mapping[str, str] = NO_REAL_PATHS,
    ) -> bool:
        """Whether `ref` is covered (ignoring negation, which the caller applies).
        `real_paths`: where local paths really lead (symlinks resolved), by written name."""
        if self.location or ref.kind in LOCATION_KINDS:
            if not self.location:
                return False
            if is_unknown_name(ref.qualified):
                # `/tmp/$DIR` could be anywhere: it may match a deny, never an allow.
                return unknown_matches
            if ref.kind not in _PATH_KINDS or self.path is None:
                return bool(self.parts[0].fullmatch(ref.qualified.lower()))
            return _matches_location(self.path, ref.qualified, unknown_matches, real_paths)
        names: list[str | None] = [
            None if is_unknown_name(part) else part
            for part in (ref.catalog, ref.schema_name, ref.name)
        ]
        if ref.column:
            names.append(None if is_unknown_name(ref.column) else ref.column)
        if len(self.parts) > len(names):
            return False
        for pattern, name in zip(reversed(self.parts), reversed(names), strict=False):
            if name is None:
                if not unknown_matches:
                    return False
                continue
            if not pattern.fullmatch(name.lower()):
                return False
        return True


def _matches_location(
    path: re.Pattern[str], written: str, unknown_matches: bool, real_paths: Mapping[str, str]
) -> bool:
    found = readings(written)
    if found is None:
        return unknown_matches  # cannot be read safely: as unknown as `/tmp/$DIR`
    real = real_paths.get(written)
    forms = (*found, real.lower()) if real is not None else found
    hits = (bool(path.fullmatch(form)) for form in forms)
    # A deny holds if any reading is inside, an allow only if every reading is.
    return any(hits) if unknown_matches else all(hits)


def _glob(text: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(text.lower()), flags=re.DOTALL)


def _split_dotted(text: str) -> list[str]:
    """Split on dots outside double quotes, so `"my.schema".orders` is two parts."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
            continue
        if char == "." and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class ObjectPatternSet:
    """Include patterns and `!` exclusions; an object matches if included and not excluded."""

    include: tuple[ObjectPattern, ...]
    exclude: tuple[ObjectPattern, ...]

    @classmethod
    def parse(cls, texts: list[str] | tuple[str, ...]) -> ObjectPatternSet:
        patterns = [ObjectPattern.parse(text) for text in texts]
        include = tuple(pattern for pattern in patterns if not pattern.negated)
        exclude = tuple(pattern for pattern in patterns if pattern.negated)
        return cls(include or (ObjectPattern.parse("*"),) if exclude else include, exclude)

    def matches(
        self,
        ref: ObjectRef,
        *,
        unknown_matches: bool,
        real_paths: Mapping[str, str] = NO_REAL_PATHS,
    ) -> bool:
        if not any(
            p.matches(ref, unknown_matches=unknown_matches, real_paths=real_paths)
            for p in self.include
        ):
            return False
        # An exclusion only applies when the object is known to be inside it.
        return not any(
            p.matches(ref, unknown_matches=False, real_paths=real_paths) for p in self.exclude
        )


_LABEL = re.compile(r"\{label:([A-Za-z0-9_.:-]+)\}")
# A label value is placed into a pattern only when it cannot change the pattern's meaning.
_UNPLACEABLE = re.compile(r'[*?\[\]"{}!\\\s\x00-\x1f]')
MATCH_ALL = ObjectPatternSet.parse(["*"])


@dataclass(frozen=True)
class TemplatedPatternSet:
    """Object patterns that name context labels, filled in per command: the dbt pack's
    `{label:dbt.relation}__dbt_backup` is the backup of the relation the running dbt node builds,
    and no other table."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]

    @classmethod
    def parse(cls, texts: list[str] | tuple[str, ...]) -> TemplatedPatternSet | None:
        """None when no pattern names a label. Raises PatternError for a pattern that is invalid
        whatever the label holds."""
        for text in texts:
            if "{label" in _LABEL.sub("x", text):
                raise PatternError(f"{text!r}: a label is written {{label:NAME}}")
        labels = sorted({name for text in texts for name in _LABEL.findall(text)})
        if not labels:
            return None
        for text in texts:
            ObjectPattern.parse(_LABEL.sub("x", text))
        return cls(tuple(texts), tuple(labels))

    def resolve(self, labels: Mapping[str, str]) -> ObjectPatternSet | None:
        """The patterns with this context's label values; None when a label is missing or its
        value holds characters that would change the pattern (quotes, globs, spaces)."""
        values = tuple(labels.get(name) for name in self.labels)
        found = self._memo.get(values)
        if found is None and values not in self._memo:
            if len(self._memo) >= 1024:
                self._memo.clear()
            filled = dict(zip(self.labels, values, strict=True))
            usable = all(value and not _UNPLACEABLE.search(value) for value in values)
            found = self._memo[values] = (
                ObjectPatternSet.parse(
                    [_LABEL.sub(lambda m: filled[m.group(1)] or "", text) for text in self.texts]
                )
                if usable
                else None
            )
        return found

    @cached_property
    def _memo(self) -> dict[tuple[str | None, ...], ObjectPatternSet | None]:
        return {}


def glob_matches(patterns: tuple[re.Pattern[str], ...], value: str) -> bool:
    lowered = value.lower()
    return any(pattern.fullmatch(lowered) for pattern in patterns)


def compile_globs(texts: list[str] | tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(_glob(text) for text in texts)
