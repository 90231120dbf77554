"""Analyzer and policy cost against plain `sqlglot.parse` of the same input, in the same run.

Prints, for a realistic corpus and a 1 MB script:
  - first-sight `check` (no caches) vs `sqlglot.parse`: total time and the ratio
  - p50 / p99 of `check` per statement, and p99 for statements under 10 KB
  - a repeated identical command (analysis and decision caches warm)
  - peak memory while checking the corpus
  - time against script size (64 KB ... 1 MB), to show it grows linearly

Run: `python benchmarks/analyzer.py` (add `--quick` for a shorter run). Numbers, not asserts.
`--pure-sqlglot` measures with sqlglot's Python parser where the compiled one (the `speed`
extra, sqlglotc) is installed: a default install has the Python parser, and both the analysis and
its baseline change with it.
Times are CPU time of this process (robust to other work on the machine), best of several
rounds, with parse and check alternating statement by statement.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pure_sqlglot import compiled, use_pure_sqlglot

# Before anything imports sqlglot: the choice of parser is made at its import.
if "--pure-sqlglot" in sys.argv:
    use_pure_sqlglot()

import sqlglot
from corpus import corpus, script

from guardrails_core import Decision, check
from guardrails_core.intent import resolve_dialect
from guardrails_core.intent.sql.analyze import _on_deep_stack
from guardrails_core.model import StatementEffect

NO_CACHE = {"analysis_cache": None, "decision_cache": None}


def per_statement(
    statements: list[tuple[str, str]], rounds: int
) -> tuple[list[float], list[float]]:
    """Best-of-rounds seconds per statement for parse and for check, measured alternately."""
    parse_best = [float("inf")] * len(statements)
    check_best = [float("inf")] * len(statements)
    clock = time.process_time  # CPU time of this process: robust to other load on the machine
    # sqlglot trees hold reference cycles (parent pointers), so whichever call runs next would
    # pay for collecting the previous one's garbage. Long-lived objects are frozen once and the
    # young garbage is collected (cheaply) before every timed call, on both sides.
    gc.freeze()
    for _ in range(rounds):
        for index, (dialect, sql) in enumerate(statements):
            gc.collect()
            start = clock()
            sqlglot.parse(sql, read=dialect)
            middle = clock()
            gc.collect()
            resumed = clock()
            check(sql, dialect=dialect, **NO_CACHE)
            end = clock()
            parse_best[index] = min(parse_best[index], middle - start)
            check_best[index] = min(check_best[index], end - resumed)
    gc.unfreeze()
    return parse_best, check_best


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def repeated_command(sql: str, dialect: str, calls: int) -> float:
    check(sql, dialect=dialect)
    start = time.perf_counter()
    for _ in range(calls):
        check(sql, dialect=dialect)
    return (time.perf_counter() - start) / calls


def script_scaling(sizes: list[int], rounds: int) -> list[tuple[int, float, float]]:
    rows = []
    for size in sizes:
        text = script(size)
        parse_time = check_time = float("inf")
        for _ in range(rounds):
            # Collect first, so neither side pays for the other's garbage.
            gc.collect()
            start = time.process_time()
            sqlglot.parse(text, read="postgres")
            middle = time.process_time()
            gc.collect()
            middle_after_gc = time.process_time()
            # The scaling run measures analysis, so the input bound is lifted to the script's size.
            check(text, dialect="postgres", max_input_bytes=len(text) + 1, **NO_CACHE)
            end = time.process_time()
            parse_time = min(parse_time, middle - start)
            check_time = min(check_time, end - middle_after_gc)
        rows.append((len(text), parse_time, check_time))
    return rows


def deep_inputs() -> list[tuple[str, str, str]]:
    """Generated pipeline SQL at the sizes the analyzer must take without RecursionError."""
    terms = " OR ".join(f"id = {i}" for i in range(10_000))
    nested = "(" * 5_000 + "id = 1" + ")" * 5_000
    joined = " OR ".join(f"o.id = {i}" for i in range(10_000))
    return [
        ("DELETE with 10,000 OR-ed terms", f"DELETE FROM t WHERE {terms}", "postgres"),
        (
            "the same beside a join (MySQL)",
            f"DELETE o, c FROM orders o JOIN customers c ON c.id = o.customer_id WHERE {joined}",
            "mysql",
        ),
        ("DELETE with 5,000 nested parentheses", f"DELETE FROM t WHERE {nested}", "postgres"),
    ]


def deep_check(text: str, dialect: str, rounds: int) -> tuple[float, float, Decision]:
    """The first call's CPU time (it also starts the deep-stack thread and faults in its stack)
    and the best of `rounds`, as for every other measurement here."""
    times = []
    for _ in range(rounds):
        gc.collect()
        start = time.process_time()
        decision = check(text, dialect=dialect, **NO_CACHE)
        times.append(time.process_time() - start)
    return times[0], min(times), decision


def _parse_rate(text: str, dialect: str, rounds: int) -> str:
    """sqlglot's own share of a deep input's cost, best of `rounds`. Its parser recurses once per
    nesting level: deeply nested text is parsed on the analyzer's deep-stack thread, as `check`
    does."""

    def parse() -> list[StatementEffect]:
        sqlglot.parse(text, read=dialect)
        return []

    deep = text.count("(") > 150
    spent = float("inf")
    for _ in range(rounds):
        gc.collect()
        start = time.process_time()
        _on_deep_stack(parse) if deep else parse()
        spent = min(spent, time.process_time() - start)
    where = " (on the deep-stack thread)" if deep else ""
    return f"{spent * 1e3:7.1f} ms  {spent * 1e6 / (len(text) / 1024):7.1f} us/KB{where}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller script")
    parser.add_argument(
        "--pure-sqlglot", action="store_true", help="sqlglot's Python parser, not the compiled one"
    )
    args = parser.parse_args()
    print(
        "sqlglot parser: "
        + ("compiled (sqlglotc, the `speed` extra)" if compiled() else "Python (a default install)")
    )
    rounds = 2 if args.quick else 5
    statements = corpus(2400)
    # Warm imports and dialect tables: the first 50 statements and one of every dialect (the
    # first 50 miss some, whose modules were then imported inside the first timed round and
    # left thousands of young objects for every collection before a timed call to walk).
    one_per_dialect = list({dialect: (dialect, sql) for dialect, sql in statements}.values())
    for dialect, sql in statements[:50] + one_per_dialect:
        resolve_dialect(dialect)
        check(sql, dialect=dialect, **NO_CACHE)
        sqlglot.parse(sql, read=dialect)
    gc.collect()

    parse_times, check_times = per_statement(statements, rounds)
    parse_total, check_total = sum(parse_times), sum(check_times)
    small = [t for t, (_, sql) in zip(check_times, statements, strict=True) if len(sql) < 10_240]
    print(
        f"corpus: {len(statements)} statements, {len(set(d for d, _ in statements))} dialects, "
        f"{sum(len(sql) for _, sql in statements) / 1024:.0f} KB"
    )
    print(
        f"  plain sqlglot.parse     total {parse_total * 1e3:8.1f} ms   "
        f"mean {statistics.mean(parse_times) * 1e6:7.1f} us"
    )
    print(
        f"  check, first sight      total {check_total * 1e3:8.1f} ms   "
        f"mean {statistics.mean(check_times) * 1e6:7.1f} us"
    )
    print(f"  ratio check / parse     {check_total / parse_total:.2f}x   (target <= 1.50x)")
    print(
        f"  check per statement     p50 {percentile(check_times, 0.5) * 1e6:7.1f} us   "
        f"p99 {percentile(check_times, 0.99) * 1e6:7.1f} us   "
        f"p99 (<10 KB) {percentile(small, 0.99) * 1e3:.3f} ms (target < 2 ms)"
    )

    short = [(dialect, sql) for dialect, sql in statements if len(sql) < 200]
    short_parse, short_check = per_statement(short, rounds)
    print(
        f"short statements (< 200 characters, like most pipeline SQL): {len(short)}\n"
        f"  plain sqlglot.parse     total {sum(short_parse) * 1e3:8.1f} ms   "
        f"mean {statistics.mean(short_parse) * 1e6:7.1f} us\n"
        f"  check, first sight      total {sum(short_check) * 1e3:8.1f} ms   "
        f"mean {statistics.mean(short_check) * 1e6:7.1f} us\n"
        f"  ratio check / parse     {sum(short_check) / sum(short_parse):.2f}x   (target <= 1.50x)"
    )

    for label, text, dialect in deep_inputs():
        first, spent, decision = deep_check(text, dialect, rounds)
        print(
            f"  {label:<36} {len(text) / 1024:6.1f} KB  {spent * 1e3:7.1f} ms  "
            f"{spent * 1e6 / (len(text) / 1024):7.1f} us/KB  -> {decision.decision.value}"
            f"  (target: analysed, < 2 ms/KB; first call {first * 1e3:.1f} ms)"
        )
        print(f"    of which plain sqlglot.parse would take   {_parse_rate(text, dialect, rounds)}")

    sql = statements[0][1]
    repeat = repeated_command(sql, statements[0][0], 20_000)
    print(f"  repeated identical command (cache hit)  {repeat * 1e6:.1f} us   (target < 20 us)")

    tracemalloc.start()
    for dialect, text in statements:
        check(text, dialect=dialect, **NO_CACHE)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  peak traced memory checking the corpus   {peak / 1024 / 1024:.1f} MiB")

    sizes = [64 * 1024, 128 * 1024, 256 * 1024, 512 * 1024, 1024 * 1024]
    if args.quick:
        sizes = sizes[:3]
    print("script size scaling (postgres):")
    rows = script_scaling(sizes, 2 if args.quick else 3)
    rates = [check_time / (size / 1024) for size, _, check_time in rows]
    typical = statistics.median(rates)
    for (size, parse_time, check_time), per_kb in zip(rows, rates, strict=True):
        print(
            f"  {size / 1024:7.0f} KB  parse {parse_time * 1e3:8.1f} ms  check "
            f"{check_time * 1e3:8.1f} ms  ratio {check_time / parse_time:.2f}x  "
            f"{per_kb * 1e6:6.1f} us/KB ({per_kb / typical:.2f}x the median rate)"
        )
    print(
        f"  linear: the per-KB rate stays within {max(rates) / min(rates):.2f}x from "
        f"{sizes[0] // 1024} KB to {sizes[-1] // 1024} KB"
    )


if __name__ == "__main__":
    main()
