"""SQL -> statement effects: what each statement of a script will do, through sqlglot.

The script is tokenised once by the dialect's tokenizer, split into statements at top-level
semicolons (never by regex: strings, comments and dollar quotes are already single tokens), and
each statement is parsed and classified by one walk over its syntax tree. Whatever sqlglot cannot
parse is classified by its leading keywords, and anything still not understood is `unparseable`,
so that the policy can fail closed. `analyze_sql` never raises.

The package reads bottom-up: dialects -> statement (accumulation) -> functions -> dml, ddl,
access (handlers and the tree walk) -> specials, commands (keyword paths) -> recovery -> tree ->
analyze (the entry point). Patterns are data: rules/sql_effects.yaml, sql_commands.yaml,
sql_settings.yaml, sql_functions.yaml (function_rules.py), sql_scratch.yaml (temporaries.py),
value_ranges.yaml (predicates), and the tables in each module.
"""

from guardrails_core.intent.sql.analyze import analyze_sql
from guardrails_core.intent.sql.dialects import MAX_DEPTH, UnknownDialectError, resolve_dialect

__all__ = ["MAX_DEPTH", "UnknownDialectError", "analyze_sql", "resolve_dialect"]
