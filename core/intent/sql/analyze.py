"""The entry point `analyze_sql`: tokenise once, split at top-level semicolons, classify each
statement."""

from __future__ import annotations

import contextlib
import gc
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token

from guardrails_core.intent.sql.attached_workspace import rebuilt_in_attached_workspace
from guardrails_core.intent.sql.audit_trail import audit_trail_changed
from guardrails_core.intent.sql.block_variables import remember_step_values
from guardrails_core.intent.sql.commands import _classify_by_keywords
from guardrails_core.intent.sql.compile_only import DIALECTS as COMPILE_ONLY_DIALECTS
from guardrails_core.intent.sql.compile_only import as_compiled_only, compile_only_switch
from guardrails_core.intent.sql.compound_assignment import read_compound_assignments
from guardrails_core.intent.sql.current_schema import switched_names, temporaries_searched_late
from guardrails_core.intent.sql.dialects import (
    MYSQL_FAMILY,
    I,
    UnknownDialectError,
    _dialect,
    _divergent_readings,
    _preprocess,
    batch_separators,
    read_window_calls,
    resolve_dialect,
)
from guardrails_core.intent.sql.external import writes_to_external_tables
from guardrails_core.intent.sql.glued import glued_statements
from guardrails_core.intent.sql.long_chains import Folded, NotRestored, fold
from guardrails_core.intent.sql.named_effects import named_effects, spared_messages
from guardrails_core.intent.sql.new_tables import (
    drops_own_schemas,
    drops_own_scratch,
    spare_new_tables,
)
from guardrails_core.intent.sql.parentheses import many_parentheses, without_redundant_parentheses
from guardrails_core.intent.sql.partition_overwrite import judge_partition_overwrites
from guardrails_core.intent.sql.reads import cross_catalog
from guardrails_core.intent.sql.restored_checks import restored_checks
from guardrails_core.intent.sql.routine_bodies import ROUTINE_DIALECTS, joined_routine_bodies
from guardrails_core.intent.sql.scratch_rows import record_scratch_rows
from guardrails_core.intent.sql.specials import _remember_variable, remember_texts
from guardrails_core.intent.sql.statement import (
    _Chunk,
    _lookalike_character,
    _Names,
    _odd_code_characters,
    _split_statements,
    _Statement,
)
from guardrails_core.intent.sql.swaps import (
    full_copies,
    renames_partial_copies,
    swaps_with_empty_tables,
)
from guardrails_core.intent.sql.temporaries import (
    ScratchRows,
    as_temporary_delete,
    as_temporary_drop,
    as_temporary_truncate,
    changes_name_resolution,
    created_routines,
    created_temporaries,
    deletes_from_temporaries,
    drops_temporaries,
    ends_temporaries,
    truncates_temporaries,
)
from guardrails_core.intent.sql.tree import _classify_tree
from guardrails_core.model import (
    CommandKind,
    Finding,
    StatementEffect,
)

# --------------------------------------------------------------------------- entry point


def analyze_sql(
    text: str,
    dialect: str | None,
    *,
    depth: int = 0,
    default_schema: str | None = None,
    default_catalog: str | None = None,
    variables: Mapping[str, exp.Expr] | None = None,
) -> list[StatementEffect]:
    """One StatementEffect per statement of `text` (`variables` in scope). Never raises."""
    try:
        canonical = resolve_dialect(dialect)
    except UnknownDialectError as error:
        return [_whole_text_unparseable(text, dialect, str(error))]
    control = _CONTROL_BYTES.search(text)
    if control is not None:
        # libpq and most drivers stop at NUL and some ignore other control bytes: the database
        # would not run the text analysed here, so it is refused rather than guessed at.
        return [
            _whole_text_unparseable(
                text,
                canonical,
                f"contains the control character {control.group()!r} at offset {control.start()}: "
                "drivers truncate or drop it, so what runs is not what was analysed; remove it",
            )
        ]
    names = _Names(_dialect(canonical), default_schema, default_catalog, variables or {})
    try:
        if len(text) < _LARGE_TEXT:  # most statements: no context manager to enter
            return _analyze_at_depth(text, canonical, depth, names)
        with _collection_paused():
            return _analyze_at_depth(text, canonical, depth, names)
    except Exception as error:  # the analyzer must fail closed, never crash the guard
        return [_whole_text_unparseable(text, canonical, f"analyzer error: {error!r}")]


def _analyze_at_depth(
    text: str, dialect_name: str | None, depth: int, names: _Names
) -> list[StatementEffect]:
    """`_analyze`, on the deep-stack thread when parentheses nest deeper than Python's stack."""
    if text.count("(") > _DEEP_NESTING and _nested_deeper_than(text, _DEEP_NESTING):
        return _on_deep_stack(_analyze, text, dialect_name, depth, names)
    return _analyze(text, dialect_name, depth, names)


# Building the tree of a large text (50,000 nodes for a 10,000-term predicate) triggers dozens
# of cyclic collections that each traverse the growing, live tree and find no garbage: about a
# sixth of the analysis. They are paused while one is analysed; what it leaves is collected after.
_LARGE_TEXT = 8 * 1024
_PAUSE_LOCK = threading.Lock()
_pauses: list[int | bool] = [0, False]  # analyses under way, whether collection was enabled


@contextlib.contextmanager
def _collection_paused() -> Iterator[None]:
    """Cyclic garbage collection off while large texts are analysed (on again when the last
    concurrent one ends, and only if it was on when the first began)."""
    with _PAUSE_LOCK:
        if not _pauses[0]:
            _pauses[1] = gc.isenabled()
            gc.disable()
        _pauses[0] += 1
    try:
        yield
    finally:
        with _PAUSE_LOCK:
            _pauses[0] -= 1
            if not _pauses[0] and _pauses[1]:
                gc.enable()


# sqlglot's parser recurses once per nesting level (and ~30 frames per level): past this depth
# the analysis runs on a thread with a large stack instead of failing with RecursionError.
_DEEP_NESTING = 150
_DEEP_STACK_BYTES = 1 << 30
_DEEP_RECURSION = 400_000
_DEEP_LOCK = threading.Lock()


def _nested_deeper_than(text: str, limit: int) -> bool:
    """Whether parentheses nest more than `limit` deep (read no further than that)."""
    level = 0
    for char in text:
        if char == "(":
            level += 1
            if level > limit:
                return True
        elif char == ")":
            level -= 1
    return False


_DeepJob = tuple[Callable[..., list[StatementEffect]], tuple[Any, ...], "queue.SimpleQueue[Any]"]
_deep_worker: list[tuple[threading.Thread, queue.SimpleQueue[_DeepJob]]] = []


def _on_deep_stack(
    function: Callable[..., list[StatementEffect]], *args: Any
) -> list[StatementEffect]:
    """Run `function` on the thread whose stack holds thousands of nested parentheses.

    One long-lived thread, started on first use: a fresh thread would fault in the pages of
    its stack again on every deep input (~4 ms for 5,000 nested parentheses). The price: the
    pages it touched stay resident (RSS +10 MB after 5,000 nested parentheses, +4 MB before)."""
    if _deep_worker and threading.current_thread() is _deep_worker[0][0]:
        # Already there (SQL embedded in a deep statement, analysed within its analysis): the
        # stack is large and the limit raised. Queueing would wait on itself forever.
        return function(*args)
    answer: queue.SimpleQueue[Any] = queue.SimpleQueue()  # per call: never a stale answer
    with _DEEP_LOCK:  # the recursion limit is process-wide: one deep analysis at a time
        limit = sys.getrecursionlimit()
        try:
            sys.setrecursionlimit(max(limit, _DEEP_RECURSION))
            _deep_jobs().put((function, args, answer))
            result = answer.get()
        finally:
            sys.setrecursionlimit(limit)
    if isinstance(result, BaseException):
        raise result
    return result  # type: ignore[no-any-return]


def _deep_jobs() -> queue.SimpleQueue[_DeepJob]:
    """The deep-stack thread's job queue; a new thread when there is none (first use, or in a
    child process after fork, where the parent's threads do not run)."""
    if _deep_worker and _deep_worker[0][0].is_alive():
        return _deep_worker[0][1]
    jobs: queue.SimpleQueue[_DeepJob] = queue.SimpleQueue()
    previous = threading.stack_size(_DEEP_STACK_BYTES)
    try:
        worker = threading.Thread(
            target=_serve_deep_jobs, args=(jobs,), name="guardrails-deep-sql", daemon=True
        )
        worker.start()
    finally:
        threading.stack_size(previous)
    _deep_worker[:] = [(worker, jobs)]
    return jobs


def _serve_deep_jobs(jobs: queue.SimpleQueue[_DeepJob]) -> None:
    while True:
        function, args, answer = jobs.get()
        try:
            answer.put(function(*args))
        except BaseException as error:  # re-raised by _on_deep_stack, in the caller's thread
            answer.put(error)


_CONTROL_BYTES = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _whole_text_unparseable(text: str, dialect: str | None, message: str) -> StatementEffect:
    return StatementEffect(
        index=0,
        kind=CommandKind.SQL,
        dialect=dialect,
        text=text.strip(),
        span=(0, len(text)),
        operation="UNKNOWN",
        intents=(I.UNPARSEABLE,),
        findings=(Finding(intent=I.UNPARSEABLE, message=message),),
    )


def _analyze(
    text: str, dialect_name: str | None, depth: int, names: _Names
) -> list[StatementEffect]:
    try:
        return _analyze_text(text, dialect_name, depth, names, folding=True)
    except NotRestored:
        return _analyze_text(text, dialect_name, depth, names, folding=False)


def _analyze_text(
    text: str, dialect_name: str | None, depth: int, names: _Names, *, folding: bool
) -> list[StatementEffect]:
    source, ambiguous = _preprocess(text, dialect_name)
    folded = fold(source, names.dialect, dialect_name) if folding else None
    try:
        tokens = read_compound_assignments(
            read_window_calls(names.tokenize(folded.source if folded else source), dialect_name),
            dialect_name,
        )
    except SqlglotError as error:
        if folded is not None:
            raise NotRestored("the folded text does not tokenise") from error
        return [_whole_text_unparseable(text, dialect_name, f"cannot tokenise: {error}")]
    if folded is not None:
        if not folded.placed(tokens):
            raise NotRestored("a placeholder is not read as a name")
        source = folded.source
    if dialect_name is None:
        ambiguous = [*ambiguous, *_divergent_readings(source, tokens, names.dialect)]
    effects: list[StatementEffect] = []
    prepared: dict[str, list[StatementEffect]] = {}
    temporaries: list[tuple[str, str]] = []
    texts: dict[str, str] = {}
    constants: dict[str, exp.Expr] = dict(names.variables)
    routines: set[str] = set()
    scratch: dict[str, ScratchRows] = {}
    odd_characters = _odd_code_characters(source, tokens)
    lexing_changed: str | None = None
    compiled_only = False  # T-SQL SET NOEXEC ON: later statements are compiled, never run
    parser = names.parser()
    chunks = _split_statements(tokens, source)
    if dialect_name in ROUTINE_DIALECTS:
        batches = batch_separators(text, dialect_name)
        chunks = joined_routine_bodies(chunks, tokens, source, parser, dialect_name, batches)
    pieces = [
        piece for whole in chunks for piece in glued_statements(whole, source, parser, dialect_name)
    ]
    for position, chunk in enumerate(pieces):
        # What a statement leaves for the ones after it (variables, temporaries, routines, how
        # SQL is read) is not recorded for the last one: no statement reads it (most texts are
        # one statement).
        later = position < len(pieces) - 1
        statement = _Statement(names=names, dialect_name=dialect_name, depth=depth)
        statement.texts = texts
        statement.constants = constants
        statement.routines = routines
        statement.scratch = scratch
        odd = _first_in(odd_characters, chunk.start, chunk.end)
        # A divergence anywhere before a statement's end can move where that statement starts.
        unclear = _first_in(ambiguous, 0, chunk.end)
        if odd is not None:
            statement.operation = "UNKNOWN"
            statement.add(
                I.UNPARSEABLE,
                f"unusual character U+{ord(source[odd]):04X} between "
                "words: the database may split this statement differently",
            )
        elif unclear is not None:
            statement.operation = "UNKNOWN"
            statement.add(
                I.UNPARSEABLE,
                "comments, quotes or escapes here are read differently by different "
                "databases (name the SQL dialect to have it judged)",
            )
        elif chunk.problem:
            statement.operation = _leading_words(chunk.tokens, 1) or "UNKNOWN"
            statement.add(I.UNPARSEABLE, chunk.problem)
        elif lexing_changed is not None:
            statement.operation = _leading_words(chunk.tokens, 1) or "UNKNOWN"
            statement.add(
                I.UNPARSEABLE,
                f"an earlier statement changed how SQL is read ({lexing_changed}); what "
                "follows cannot be analysed reliably",
            )
        else:
            _classify_chunk(statement, chunk, source, prepared, folded)
            named_effects(statement, chunk, source)
            cross_catalog(statement)
            audit_trail_changed(statement)
            if later:
                lexing_changed = lexing_changed or _changes_lexing(source, chunk.start, chunk.end)
                if dialect_name in MYSQL_FAMILY:
                    _remember_variable(source[chunk.start : chunk.end], statement, prepared)
                remember_texts(statement, prepared)
                step = source[chunk.start : chunk.end]
                remember_step_values(statement.tree, step, constants, dialect_name)
        effect = statement.build(
            len(effects), text[chunk.start : chunk.end], (chunk.start, chunk.end)
        )
        if dialect_name in COMPILE_ONLY_DIALECTS:
            switch = compile_only_switch(effect.text)
            if switch is None and compiled_only:
                effect = as_compiled_only(effect)
            compiled_only = compiled_only if switch is None else switch
        if drops_temporaries(statement.tree, temporaries):
            effect = as_temporary_drop(effect)
        elif truncates_temporaries(statement.tree, temporaries):
            effect = as_temporary_truncate(effect)
        elif deletes_from_temporaries(statement.tree, temporaries):
            effect = as_temporary_delete(effect)
        if later:
            if changes_name_resolution(effect.text) or ends_temporaries(effect.text):
                temporaries.clear()
            temporaries.extend(created_temporaries(statement.tree))
            record_scratch_rows(statement, scratch)
            routines.update(created_routines(effect))
            names = switched_names(statement.tree, names, dialect_name) or names
            if temporaries_searched_late(effect.text, dialect_name):
                temporaries.clear()
        effects.append(effect)
    if folded is not None:
        folded.check_complete()
    effects = drops_own_schemas(drops_own_scratch(effects, set(), by_name=True))
    if len(effects) < 2:
        return spare_new_tables(effects, spared_messages())  # a scratch table's own expiry
    effects = judge_partition_overwrites(writes_to_external_tables(effects))
    effects = rebuilt_in_attached_workspace(effects)
    effects = full_copies(renames_partial_copies(swaps_with_empty_tables(effects)))
    effects = restored_checks(effects)
    return spare_new_tables(effects, spared_messages())


def _first_in(positions: list[int], start: int, end: int) -> int | None:
    """The first position in [start, end), if any (most texts have no positions at all)."""
    if not positions:
        return None
    return next((p for p in positions if start <= p < end), None)


_LEXING_MODES = re.compile(
    r"\b(SQL_MODE\b.*\b(NO_BACKSLASH_ESCAPES|ANSI_QUOTES|ANSI)\b|STANDARD_CONFORMING_STRINGS|"
    r"BACKSLASH_QUOTE|QUOTED_IDENTIFIER)",
    flags=re.IGNORECASE | re.DOTALL,
)


_SET = re.compile(r"\s*SET\b", flags=re.IGNORECASE)


def _changes_lexing(source: str, start: int, end: int) -> str | None:
    """A SET that changes how the server tokenises later statements (quotes, escapes), in
    source[start:end] (matched in place: most statements are not a SET, and are not copied)."""
    if not _SET.match(source, start, end):
        return None
    match = _LEXING_MODES.search(source[start:end])
    return match.group(0)[:60] if match else None


def _classify_chunk(
    statement: _Statement,
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
    folded: Folded | None = None,
) -> None:
    ascii_only = source.isascii()
    for token in () if ascii_only else chunk.tokens:
        char = _lookalike_character(token)
        if char is not None:
            statement.operation = "UNKNOWN"
            statement.add(
                I.UNPARSEABLE,
                f"look-alike character {char!r} (U+{ord(char):04X}) in {token.text!r}: "
                "not read as SQL",
            )
            return
    parser = statement.names.parser()
    tokens = chunk.tokens
    if many_parentheses(folded.original if folded else source, chunk.start, chunk.end):
        tokens = without_redundant_parentheses(tokens)
    try:
        parsed = parser.parse(tokens, source)
        tree = parsed[0] if parsed else None
    except SqlglotError as error:
        if folded is not None:
            raise NotRestored("a folded statement does not parse") from error
        # Here, not at import: only statements sqlglot cannot parse need the rewrites.
        from guardrails_core.intent.sql.recovery import _recover_from_parse_error

        if not _recover_from_parse_error(statement, chunk, source, prepared):
            statement.operation = _leading_words(chunk.tokens, 1) or "UNKNOWN"
            statement.add(
                I.UNPARSEABLE,
                f"does not parse as {_dialect_label(statement)}: {_first_line(str(error))}",
            )
            _classify_by_keywords(statement, chunk, source, prepared, parse_failed=True)
        return
    if tree is None:
        return
    if folded is not None:
        folded.restore(tree, chunk.start, chunk.end)
    statement.tree = tree
    _classify_tree(statement, tree, chunk, source, prepared)


def _dialect_label(statement: _Statement) -> str:
    return f"{statement.dialect_name} SQL" if statement.dialect_name else "SQL"


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else message


def _leading_words(tokens: list[Token], count: int) -> str:
    return " ".join(token.text.upper() for token in tokens[:count])
