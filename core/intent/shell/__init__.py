"""Shell -> statement effects: what each simple command of a shell script will do when it runs.

Parser: tree-sitter-bash: the full bash grammar (heredocs, case, functions, substitutions),
error recovery that marks unparseable regions (ERROR/MISSING) so we fail closed, and C speed
(~10 µs a command). bashlex is unmaintained since 2023 and rejects common constructs.

Every detection is data (the program tables, and rules/programs.yaml for programs known by their
subcommands) plus one small handler function. The package reads bottom-up: words -> options ->
execution -> files/network/clients/filters/wrappers (handlers) -> tables (dispatch) -> expand ->
walk (the tree walk and `analyze_shell`). Spans of embedded statements are relative to the text
their own analysis saw: the same script for wrapped commands (``sudo rm``), the inner script for
``sh -c``/``eval``/``ssh``, the SQL text for SQL.
"""

from guardrails_core.intent.shell.walk import analyze_shell
from guardrails_core.intent.shell.words import EXPANSION_PLACEHOLDER, MAX_DEPTH

__all__ = ["EXPANSION_PLACEHOLDER", "MAX_DEPTH", "analyze_shell"]
