"""Commands other programs carry in their own languages: vim ex commands (`vim -c ':!rm -rf x'`)
and the Redis commands of a Lua script (`redis-cli EVAL "redis.call('FLUSHALL')" 0`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from guardrails_core.model import Intent

if TYPE_CHECKING:
    from guardrails_core.intent.shell_registry import Bridge, Call

# vim ex commands: a shell escape (optionally after a range, :silent, :read or :write), a
# system() call, and the commands that only edit, move or quit.
_VIM_SHELL = re.compile(
    r"^:*\s*(?:sil(?:ent)?!?\s+)?(?:[\d,.$%]*\s*(?:r(?:ead)?|w(?:rite)?)?\s*!(.*)"
    r"|.*\bsystem(?:list)?\s*\(\s*[\"']([^\"']*))",
    re.DOTALL,
)
_VIM_EDITING = re.compile(
    r"^:*\s*(?:q|qa|q!|qa!|wq|wq!|x|x!|w|wa|set?\s[\w=+\-, ]*|syntax\s+\w+|"
    r"[\d,.$%]*s(?:ubstitute)?/[^|]*|[\d,.$%]*g/[^|!]*/d|normal!?\s[^|]*|[\d,.$%]*[dpnljaic]?|noh)\s*$"
)


# `redis.call('FLUSH' .. 'DB', KEYS[1])`: a command whose name is written out, in pieces or not
_LUA_CALL = re.compile(r"redis\.p?call\s*\(([^()]*)\)")
_LUA_STRING = re.compile(r"""\s*(?:'([^']*)'|"([^"]*)")\s*""")


def redis_lua(call: Call, value: Any, bridge: Bridge) -> None:
    """``redis-cli EVAL SCRIPT 0``: each call of the script whose command is literal strings
    (joined by ``..``) is judged as that command; the script itself stays dynamic (its rule)."""
    for match in _LUA_CALL.finditer(value.value):
        args = [_lua_literal(arg) for arg in match.group(1).split(",")]
        if args[0]:
            words = [type(value).literal(arg or "KEY") for arg in args]
            bridge.line(call, [call.name, *words])


# what a script may hold besides its calls and still do nothing else: names (return, local,
# KEYS, ARGV), numbers, indexes, assignments and separators; no call, string or block
_LUA_PLAIN = re.compile(r"[\s\w\[\].,;=]*")


def lua_commands(script: str) -> list[str] | None:
    """The commands of a script that does its redis.call commands and nothing else (each names
    its command in literal strings, and what is around them calls nothing); None otherwise."""
    names = [_lua_literal(arguments.split(",")[0]) for arguments in _LUA_CALL.findall(script)]
    if not names or not _LUA_PLAIN.fullmatch(_LUA_CALL.sub(" ", script)):
        return None
    return [name for name in names if name] if all(names) else None


def _lua_literal(expression: str) -> str | None:
    pieces = [_LUA_STRING.fullmatch(piece) for piece in expression.split("..")]
    if not all(pieces):
        return None
    return "".join(piece.group(1) or piece.group(2) or "" for piece in pieces if piece)


def vim_commands(call: Call, value: Any, label: str, bridge: Bridge) -> None:
    """``vim -c CMD``: ``:!cmd``, ``:r !cmd``, ``:w !cmd`` and ``system()`` run a shell;
    editing commands are harmless; anything else (``:py``, ``:lua``, ``-S file``) is dynamic."""
    text = value.value.strip()
    shell = _VIM_SHELL.match(text)
    if shell:
        command = shell.group(1) if shell.group(1) is not None else shell.group(2)
        bridge.script(call, type(value).literal(command.strip()), label)
    elif "|" in text:  # `%s/a/b/g|wq`: each command of the line judged alone
        for piece in text.split("|"):
            vim_commands(call, type(value).literal(piece), label, bridge)
    elif not _VIM_EDITING.match(text):
        call.add(Intent.DYNAMIC, f"{call.prog} runs editor commands ({value.display[:60]})")


# ex commands that delete every line of the buffer (`%d`, `1,$d`, `g/^/d`), that write it (to the
# file edited, or to a named one), and that quit without writing
_VIM_DELETE_ALL = re.compile(
    r"^:*\s*(?:(?:%|[01],\$)\s*d(?:e(?:l(?:e(?:te?)?)?)?)?!?"
    r"|%?g(?:lobal)?/(?:\^|\$|\.\*|\^\.\*\$?)/\s*d(?:elete)?)\s*$"
)
# ed's own spelling besides those: `,` alone addresses every line (in vim it is the current one)
_ED_DELETE_ALL = re.compile(r"^\s*,\s*d\s*$|" + _VIM_DELETE_ALL.pattern)
_VIM_WRITE = re.compile(
    r"^:*\s*(?:w|wr|wri|writ|write|wq|x|xi|xit|exi|exit|up|upd|upda|updat|update|wa|wall|wqa|wqall|xa|xall)"
    r"!?(?:\s+([^!>\s]\S*))?\s*$"
)
_VIM_QUIT = re.compile(r"^:*\s*(?:q|qu|qui|quit|qa|qall|quita|quitall|cq)!?\s*$")
# options whose value is not a file edited (`--cmd` runs before the file is read)
_VIM_CLUSTER_C = re.compile(r"^-[a-zA-Z]+c$")  # `ex -sc CMD`
_VIM_VALUED = frozenset(("--cmd", "-S", "-u", "-U", "-i", "-T", "-w", "-W", "-t", "-q", "--listen"))


def vim_emptied(call: Call, emptied: Callable[[Any, Any, str], None]) -> None:
    """``vim -es -c '%d' -c wq FILE``, ``ex -sc '%d|x' FILE``: every line deleted, then written:
    the file is left as empty as ``sed -i '1,$d' FILE`` leaves it (a write with a name empties that
    file instead). A quit without writing ends the commands (the deletion is thrown away)."""
    commands, files = _vim_arguments(call)
    _emptied_by(call, commands, files, emptied, _VIM_DELETE_ALL)


def ex_script(call: Call, fed: Any, bridge: Bridge) -> None:
    """`ex -s FILE <<< $'%d\\nx'`, `printf '%%d\\nwq\\n' | vim -es FILE`: in ex mode the
    commands read from stdin are judged as -c commands are, run after them."""
    lines = fed.value.splitlines()
    for line in lines:
        vim_commands(call, type(fed).literal(line), f"{call.prog} {line[:40]}", bridge)
    commands, files = _vim_arguments(call)
    commands.extend(piece for line in lines for piece in line.split("|"))
    _emptied_by(call, commands, files, bridge.emptied, _VIM_DELETE_ALL)


def _vim_arguments(call: Call) -> tuple[list[str], list[Any]]:
    """The ex commands given by -c and +CMD, in order, and the files edited."""
    commands: list[str] = []
    files: list[Any] = []
    args = list(call.args)
    index = 0
    while index < len(args):
        text = args[index].value
        takes_value = text in _VIM_VALUED or text == "-c" or _VIM_CLUSTER_C.match(text)
        if takes_value and index + 1 < len(args) and text not in _VIM_VALUED:
            commands.extend(args[index + 1].value.split("|"))
        elif text.startswith("+") and len(text) > 1:
            commands.extend(text[1:].split("|"))
        elif not text.startswith("-"):
            files.append(args[index])
        index += 2 if takes_value else 1
    return commands, files


# ed's addresses (`.`, `$`, `12`, `/re/`, `?re?`, `'x`, `+2`, `-`) and separators (`,` `;` `%`)
# before a command; a command line is what follows them
_ED_ADDRESSES = re.compile(
    r"^(?:\s|[.$,;%^+\-]|\d+|/(?:[^/\\]|\\.)*(?:/|$)|\?(?:[^?\\]|\\.)*(?:\?|$)|'[a-z])*"
)
# commands that only edit, print, move or quit (a bare w/W/q/Q writes or leaves the file edited);
# `s` and `g`/`v` are read apart (their delimiters, their command lists)
_ED_EDITING = re.compile(r"^(?:[acdijlnpPuhHzQq=]|[mt][^!]*|k[a-z]|wq?|W|z\d*)\s*$")
_ED_INPUT = frozenset("aic")  # text lines follow, up to a line that is only `.`
_ED_SHELL = re.compile(r"^[rweEW]?\s*!(.*)$")  # `!cmd`, `r !cmd`, `w !cmd`, `e !cmd`
_ED_GLOBAL = re.compile(r"^[gGvV](.)(?:(?!\1)[^\\]|\\.)*\1(.*)$")


def ed_script(call: Call, fed: Any, bridge: Bridge) -> None:
    """ed's commands read from stdin (`printf ',d\\nw\\n' | ed -s FILE`, a here-doc, a file the
    script wrote): shell escapes run their command, editing commands are harmless, text after
    `a`/`i`/`c` is the file's new text, anything else is dynamic. Every line deleted (`,` is the
    whole buffer in ed, as `1,$` is) then written leaves the file empty."""
    commands: list[str] = []
    text_lines = False
    for line in fed.value.splitlines():
        if text_lines:
            text_lines = line != "."
            continue
        commands.append(line)
        command = _ED_ADDRESSES.sub("", line, count=1).strip()
        text_lines = command in _ED_INPUT
        _ed_command(call, command, line, type(fed), bridge)
    files = [arg for arg in call.args if not arg.value.startswith("-")]
    _emptied_by(call, commands, files, bridge.emptied, _ED_DELETE_ALL)


def _ed_command(call: Call, command: str, line: str, word: Any, bridge: Bridge) -> None:
    if (shell := _ED_SHELL.match(command)) is not None:
        bridge.script(call, word.literal(shell.group(1).strip()), f"{call.prog} {line[:40]}")
    elif (each := _ED_GLOBAL.match(command)) is not None:  # g/re/cmd: cmd on each matching line
        _ed_command(call, each.group(2).strip() or "p", line, word, bridge)
    elif command.startswith("s") and len(command) > 1 and not command[1].isalnum():
        return  # s/re/text/flags: a substitution in the buffer (ed's s runs nothing)
    elif command and not _ED_EDITING.match(command):
        call.add(Intent.DYNAMIC, f"{call.prog} runs editor commands ({line[:60]})")


def _emptied_by(
    call: Call,
    commands: list[str],
    files: list[Any],
    emptied: Callable[[Any, Any, str], None],
    delete_all: re.Pattern[str],
) -> None:
    deleted = False
    for command in commands:
        if _VIM_QUIT.match(command):
            return
        if delete_all.match(command):
            deleted = True
        elif deleted and (write := _VIM_WRITE.match(command)):
            how = f"{call.prog} {command.strip()} after deleting every line"
            if write.group(1):
                emptied(call, type(call.name).literal(write.group(1)), how)
            else:
                for file in files:
                    emptied(call, file, how)
