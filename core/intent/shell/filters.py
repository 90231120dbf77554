"""Programs that produce or filter stdout: echo, cat, readers, decoders, dumps."""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from guardrails_core.intent import guard_switches, shell_registry
from guardrails_core.intent.shell.environment import env_file_retargeted, host_substituted
from guardrails_core.intent.shell.execution import _script, _stdin_program
from guardrails_core.intent.shell.files import (
    _emptied,
    _is_blank_source,
    _record_copy,
    _record_write,
    _special_file,
)
from guardrails_core.intent.shell.history import _erased
from guardrails_core.intent.shell.listings import ls_names
from guardrails_core.intent.shell.model_edits import note_materialization_switch
from guardrails_core.intent.shell.options import (
    _Call,
    _file_read,
    _is_scratch,
    _is_workspace,
    _options,
    _parse,
    _Parsed,
    _words,
)
from guardrails_core.intent.shell.rotation import cut, listed
from guardrails_core.intent.shell.secret_files import (
    holds_secrets,
    note_ignore_rules_edit,
    note_secret_source,
    note_written,
)
from guardrails_core.intent.shell.vcs import copied_data_key, is_data_file
from guardrails_core.intent.shell.words import (
    _concat,
    _decode_escapes,
    _Feed,
    _names,
    _Origin,
    _Word,
)
from guardrails_core.locations import MKTEMP_PATH
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
)

# ----- stdout producers and filters


def _echo(call: _Call) -> None:
    args = list(call.args)
    escapes = False
    while args and re.fullmatch(r"-[neE]+", args[0].value):
        escapes = escapes or "e" in args[0].value
        args.pop(0)
    text = _concat([_concat(args, " "), _Word.literal("\n")]) if args else _Word.literal("\n")
    if escapes:
        text = replace(
            text, value=_decode_escapes(text.value), display=_decode_escapes(text.display)
        )
    call.stdout = _Feed(_Origin.NONE, call.prog, text)


def _prints_nothing(call: _Call) -> None:
    """`:`, `true`, `false`: no output, so `: > f` leaves f empty."""
    call.stdout = _Feed(_Origin.NONE, call.prog, _Word.literal(""))


def _printf(call: _Call) -> None:
    args = list(call.args)
    if len(args) > 1 and args[0].value == "-v":  # assigns a variable, prints nothing
        name, text = args[1].value, _formatted(args[2:])
        known = text is not None and not text.dynamic and not text.origin and not text.glob
        if known and name not in call.analyzer.unstable and text is not None:
            call.analyzer.variables[name] = text.value  # `printf -v verb '%s%s' DR OP`
        else:
            call.analyzer.variables.pop(name, None)
        return
    text = _formatted(args)
    if text is None:
        call.stdout = _Feed(_Origin.DATA, "printf with a format built at run time")
        return
    call.stdout = _Feed(_Origin.NONE, "printf", text)


_CONVERSION = re.compile(r"(%[-+ #0-9.]*[a-zA-Z%])")


def _formatted(args: list[_Word]) -> _Word | None:
    """What printf FORMAT ARGS prints (each conversion taken as its argument's text, `%%` a
    percent sign), or None when the format is built at run time. A format used up with
    arguments left is used again."""
    if not args or args[0].dynamic:
        return None
    fmt, values = _decode_escapes(args[0].value), args[1:]
    parts = _CONVERSION.split(fmt)  # text, conversion, text, ...
    takes_values = any(part != "%%" for part in parts[1::2])
    pieces: list[_Word] = []
    while True:
        for index, piece in enumerate(parts):
            if index % 2 == 0 or piece == "%%":
                pieces.append(_Word.literal(piece[-1] if index % 2 else piece))
            else:
                pieces.append(values.pop(0) if values else _Word.literal(""))
        if not values or not takes_values:
            return _concat(pieces)


def _cat(call: _Call) -> None:
    files = [w for w in _parse(call.args).operands if w.value != "-"]
    if not files:
        call.stdout = call.feed
        return
    _read_files(call, files)
    if all(_is_blank_source(file) for file in files):
        call.stdout = _Feed(_Origin.NONE, f"{call.prog} {_names(files)}", _Word.literal(""))
        return
    call.stdout = _as_written(call, files) or call.stdout


def _as_written(call: _Call, files: Sequence[_Word]) -> _Feed | None:
    """Files this script wrote above with their text visible print that text (`echo '{...}' >
    conf.json; ... --conf "$(cat conf.json)"`): what reads the output reads it as written."""
    written = [call.analyzer.produced_by(file) for file in files]
    texts = [feed.literal for feed in written if feed is not None and feed.literal is not None]
    if len(texts) != len(files):
        return None
    origin = _Origin.NONE
    for feed in written:
        origin |= feed.origin if feed is not None else _Origin.NONE
    return _Feed(origin, _names(files), _concat(texts))


# jq options that only lay out the JSON it prints: with the identity filter `.` it prints the
# values it read, unchanged (-s, -n, --arg ... change what is read or printed)
_JQ_LAYOUT = _words(
    "-c -r -j -a -M -C -S --compact-output --raw-output --join-output --ascii-output "
    "--monochrome-output --color-output --sort-keys --tab"
)


def _prints_as_read(call: _Call, program: Sequence[_Word]) -> bool:
    """`jq . conf.json`, `jq -c . < conf.json`: the document is printed as it was read."""
    options = [word.value for word in call.args if word.value.startswith("-")]
    identity = [word.value.strip() for word in program] == ["."]
    return call.prog == "jq" and identity and all(option in _JQ_LAYOUT for option in options)


# what makes a jq filter depend on more than its own text: variables, input, the environment
_JQ_OUTSIDE = re.compile(r"\$|\binputs?\b|\benv\b")


def _jq_constant(parsed: _Parsed, program: Sequence[_Word]) -> _Word | None:
    """`jq -n '{full_refresh: true}'`: with no input, a filter of constants prints its own
    value (the filter's text stands for the JSON jq writes of it)."""
    if not parsed.has("-n", "--null-input") or len(program) != 1:
        return None
    (text,) = program
    return None if text.dynamic or _JQ_OUTSIDE.search(text.value) else text


def _read_files(call: _Call, files: Sequence[_Word]) -> None:
    """The program prints these files (as they are, or encoded): their bytes go to stdout."""
    for file in files:
        call.obj(ObjectKind.FILE, ObjectAction.READ, file.display)
        _special_file(call.effect, file, call.prog, writes=False)
    call.add(Intent.READ, f"{call.prog} reads {_names(files)}")
    origin = _Origin.FILE
    for file in files:
        origin |= _file_read(file)
    call.stdout = _Feed(origin, _names(files), secrets_of=_secrets_in(call, files))


def _secrets_in(call: _Call, files: Sequence[_Word]) -> str | None:
    held = [what for what in (holds_secrets(call.analyzer, file) for file in files) if what]
    return ", ".join(held) or None


def _tee(call: _Call) -> None:
    parsed = _parse(call.args)
    appends = parsed.has("-a", "--append")
    text = call.feed.literal if call.feed is not None else None
    empty = text is not None and not text.dynamic and text.value == ""
    for target in parsed.operands:
        _record_write(call.effect, target, "tee")
        if empty and not appends:  # `: | tee f`: f is left empty
            _emptied(call.effect, target, "tee of no input")
        if call.feed is not None:
            call.analyzer.note_produced(target, call.feed)
            note_written(call.analyzer, target, call.feed, appends=appends)
    call.stdout = call.feed


def _mktemp(call: _Call) -> None:
    """A fresh temporary path: ``rm -rf "$(mktemp -d)"`` deletes nothing that held data."""
    if all(re.fullmatch(r"-[dqtu]+|[\w.-]*X{3,}[\w.-]*", word.value) for word in call.args):
        call.stdout = _Feed(_Origin.NONE, "mktemp", _Word.literal(f"{MKTEMP_PATH}\n"))


def _passthrough(call: _Call) -> None:
    call.stdout = call.feed


@dataclass(frozen=True, slots=True)
class _Reader:
    """A program that reads files: ``skip`` leading operands are not files (grep's pattern)."""

    skip: int = 0
    value_options: frozenset[str] = frozenset()
    pattern_options: frozenset[str] = frozenset()  # when given, no operand is skipped
    in_place: frozenset[str] = frozenset()  # options that make it rewrite its files (sed -i)
    outputs: frozenset[str] = frozenset()  # options whose value is a file it writes (sort -o)


_PAGERS = _words("less more most")
# print a file's name, size, times or type, never its bytes: a credential file listed is not read
_METADATA_ONLY = _words("ls stat du tree file")


def _pager_commands(call: _Call) -> None:
    """`less +'!cmd' f`: a `+` word holds pager commands run at start; `!` runs a shell."""
    for word in call.args:
        if not word.value.startswith("+"):
            continue
        commands = word.value.lstrip("+")
        if commands.startswith("!"):
            _script(call, replace(word, value=commands[1:], display=commands[1:]), "a pager's !")
        elif "!" in commands or word.dynamic:
            call.add(Intent.DYNAMIC, f"{call.prog} {word.display} runs pager commands at start")


def _reader(call: _Call) -> None:
    reader = _READERS[call.prog]
    parsed = _parse(call.args, reader.value_options | reader.pattern_options | reader.outputs)
    skip = 0 if parsed.has(*reader.pattern_options) else reader.skip
    program, files = parsed.operands[:skip], parsed.operands[skip:]
    if call.prog in ("awk", "gawk", "mawk", "nawk") and any(
        "system(" in p.value or re.search(r"\|\s*(getline|\")", p.value) for p in program
    ):
        call.add(Intent.DYNAMIC, f"the {call.prog} program runs shell commands")
        for text in (p.value for p in program):
            for match in _AWK_SYSTEM.finditer(text):  # system("rm -rf x"): a literal command
                command = re.sub(r"\\(.)", r"\1", match.group(1))
                if match.group(2) is None:  # system("bq rm -t ds." t): a value completes it
                    built = f"{command}$AWK_VALUE"
                    word = _Word(built, built, dynamic=True, expansions=("an awk value",))
                    _script(call, word, f"{call.prog} system()")
                else:
                    _script(call, _Word.literal(command), f"{call.prog} system()")
    if call.prog in ("awk", "gawk") and any("/inet" in p.value for p in program):
        call.add(Intent.EXPORT, f"the {call.prog} program opens a network connection (/inet)")
    if call.prog in ("awk", "gawk", "mawk", "nawk"):
        for text in (p.value for p in program):
            for match in _AWK_WRITE.finditer(text):  # print > "/etc/cron.d/x"
                _record_write(call.effect, _Word.literal(match.group(1)), f"{call.prog} print >")
            if "@load" in text or re.search(r"\b(?:unlink|rename|chdir|fork|execl)\s*\(", text):
                call.add(Intent.DYNAMIC, f"the {call.prog} program loads extensions or files")
    if call.prog == "sed":
        _sed_commands(call, program + parsed.values("-e", "--expression"), files)
    if call.prog in _PAGERS:
        _pager_commands(call)
    written = parsed.values(*reader.outputs)
    for output in written:
        _record_write(call.effect, output, f"{call.prog} -o")
    if parsed.has(*reader.in_place):
        scripts = program + parsed.values("-e", "--expression") if call.prog == "sed" else []
        # yq's expression is the assignment itself (`.dev.host = "x"`)
        edits = [p.value for p in program] if call.prog == "yq" else _sed_replacements(scripts)
        replaced = "\n".join(edits)
        quiet = parsed.has("-n", "--quiet", "--silent")
        emptied = call.prog == "sed" and _sed_keeps_no_line(quiet, scripts)
        for file in files:
            _record_write(call.effect, file, f"{call.prog} -i")
            env_file_retargeted(call.effect, file, replaced, f"{call.prog} -i")
            if call.prog == "sed":
                host_substituted(call.effect, file, edits, "sed -i")
            _erased(call.effect, file, f"{call.prog} -i")
            if guard_switches.policy_file_written(file.value, replaced) == "off":
                policy = f"{call.prog} -i makes {file.display} a policy that lets all run"
                call.add(Intent.PRIVILEGE, policy)
            if emptied:  # `sed -i '1,$d' f` leaves f as empty as `: > f` does
                _emptied(call.effect, file, f"sed -i {_names(scripts)}")
            note_ignore_rules_edit(call.analyzer, file)
        call.stdout = None
        return
    as_read = _prints_as_read(call, program) and not written
    if not files:
        call.stdout = call.feed.passed_through(call.prog) if call.feed and not written else None
        if as_read and call.feed is not None and call.feed.literal is not None:
            call.stdout = call.feed  # `jq . < conf.json`: the text the script wrote
        if call.prog == "jq" and not written and (printed := _jq_constant(parsed, program)):
            call.stdout = _Feed(_Origin.NONE, "jq -n", printed)
        if call.stdout is not None and call.prog in ("head", "tail"):  # rotation: a cut kept
            call.stdout = replace(call.stdout, listing=cut(call.prog, parsed, call.feed))
        if call.prog in ("ls", "du", "tree", "stat"):
            call.add(Intent.READ, f"{call.prog} lists the current directory")
        if call.prog == "ls" and not written:  # `ls | while read f`: every entry here
            here = ls_names(parsed, [_Word.literal(".")])
            call.stdout = _Feed(_Origin.FILE, "ls of the current folder", names=here)
        return
    for file in files:
        call.obj(ObjectKind.FILE, ObjectAction.READ, file.display)
        if call.prog not in _METADATA_ONLY:
            _special_file(call.effect, file, call.prog, writes=False)
    call.add(Intent.READ, f"{call.prog} reads {_names(files)}")
    listing = listed(parsed, files) if call.prog == "ls" else None
    stdout = _Feed(
        _Origin.FILE,
        f"{call.prog} {_names(files)}",
        listing=listing,
        names=ls_names(parsed, files) if call.prog == "ls" else None,
        secrets_of=None if call.prog in _METADATA_ONLY else _secrets_in(call, files),
    )
    call.stdout = None if written else stdout
    if as_read:  # `jq . conf.json`: the text the script wrote
        call.stdout = _as_written(call, files) or call.stdout


# sed's `e` command and the `e` flag of `s///` run a shell command (GNU sed).
_SED_EXECUTE = re.compile(r"(?:^|[;\n{}])\s*(?:\d+|\$|/[^/]*/)?\s*e\s+([^;\n}]+)")
# A bare `e` (after an optional address or range) runs the pattern space: each input line.
_SED_EXECUTE_INPUT = re.compile(
    r"(?:^|[;\n{}])\s*(?:(?:\d+|\$|/[^/]*/)(?:\s*[,~]\s*(?:\d+|\$|/[^/]*/))?)?\s*!?\s*e\s*(?=$|[;\n}])"
)
# sed's `w FILE` command and `w FILE` flag of `s///` write the file; awk's print > "FILE".
_SED_WRITE = re.compile(r"(?:^|[;\n{}]|\d|\$|/[gpI\d]*)\s*[wW]\s+([^;\n}]+)")
_AWK_WRITE = re.compile(r">>?\s*\"([^\"]+)\"")
# system("literal") or system("literal" value...): group 2 is set when the literal is all of it
_AWK_SYSTEM = re.compile(r"\bsystem\s*\(\s*\"((?:[^\"\\]|\\.)*)\"(\s*\))?")
_SED_SUBSTITUTE_EXECUTE = re.compile(r"s(.)(?:(?!\1).)*\1((?:(?!\1).)*)\1[gpI\d]*e[gpI\d]*\b")


# `s/PATTERN/REPLACEMENT/flags` with any delimiter (after an optional address)
_SED_SUBSTITUTE = re.compile(
    r"(?:^|[;\n{}])\s*(?:\d+|\$|/[^/]*/)?\s*s([^\w\s\\])(?:\\.|(?!\1).)*\1((?:\\.|(?!\1).)*)\1"
)


# a sed script that deletes every line: `d` with no address or one that every line is in
# (`1,$`, `/^/`, `/.*/`); under -n, a script that prints nothing (empty)
_SED_DELETES_ALL = re.compile(r"\s*(?:1\s*,\s*\$|/(?:\^|\$|\^?\.\*\$?)/)?\s*d\s*;?\s*")


def _sed_keeps_no_line(quiet: bool, scripts: Sequence[_Word]) -> bool:
    """`sed -i` with these scripts writes its files back empty."""
    if not scripts or any(script.dynamic for script in scripts):
        return False
    text = ";".join(script.value for script in scripts)
    return _SED_DELETES_ALL.fullmatch(text) is not None or (quiet and not text.strip(" ;\n"))


def _sed_replacements(scripts: Sequence[_Word]) -> list[str]:
    """The text each `s///` of the scripts puts into the lines it rewrites."""
    return [
        re.sub(r"\\(.)", r"\1", match.group(2))
        for script in scripts
        for match in _SED_SUBSTITUTE.finditer(script.value)
    ]


def _sed_commands(call: _Call, scripts: Sequence[_Word], files: Sequence[_Word]) -> None:
    note_materialization_switch(call.analyzer, scripts, files)
    in_place = any(re.match(r"^(?:-[a-zA-Z]*i|--in-place)", word.value) for word in call.args)
    for file in files if in_place else ():
        if any(guard_switches.edits_guard_out(file.value, script.value) for script in scripts):
            call.add(Intent.PRIVILEGE, f"{call.prog} edits the guard out of {file.display}")
    if any(_SED_EXECUTE_INPUT.search(script.value) for script in scripts):
        if files:
            call.add(Intent.DYNAMIC, f"sed e runs each line of {_names(files)} as a shell command")
        else:
            _stdin_program(call, shell=True)
    for script in scripts:
        for match in _SED_WRITE.finditer(script.value):  # `w FILE`, `s/a/b/w FILE`
            _record_write(call.effect, _Word.literal(match.group(1).strip()), "sed w")
        for match in _SED_EXECUTE.finditer(script.value):
            _script(call, _Word.literal(match.group(1).strip()), "sed e")
        for match in _SED_SUBSTITUTE_EXECUTE.finditer(script.value):
            call.add(Intent.DYNAMIC, "sed s///e runs each replaced line as a shell command")
            _script(call, _Word.literal(match.group(2)), "sed s///e")


def _compressor(call: _Call) -> None:
    """gzip FILE replaces FILE; with -c (or no files) it is a filter on a stream."""
    parsed = _parse(call.args, _words("-S --suffix -T --threads -b -p"))
    if not parsed.operands:
        call.stdout = call.feed.passed_through(call.prog) if call.feed else None
    elif parsed.has("-c", "--stdout", "--to-stdout", "-t", "--test", "-l", "--list"):
        for file in parsed.operands:
            call.obj(ObjectKind.FILE, ObjectAction.READ, file.display)
        call.add(Intent.READ, f"{call.prog} reads {_names(parsed.operands)}")
        call.stdout = _Feed(_Origin.FILE, f"{call.prog} {_names(parsed.operands)}")
    else:
        for file in parsed.operands:
            _record_write(call.effect, file, call.prog)
        call.stdout = None


# A task's or a service's log file (airflow logs/dag/task/attempt=1.log, /var/log/x).
_LOG_FILE = re.compile(r"(?:^|/)logs?/|\.log$")


def _copy(call: _Call) -> None:
    """cp/mv/install/ln SOURCE... DEST (or -t DEST SOURCE...)."""
    parsed = _parse(
        call.args,
        _words("-t --target-directory -S --suffix -m --mode -o --owner -g --group"),
    )
    directory = parsed.values("-t", "--target-directory")
    sources = parsed.operands if directory else parsed.operands[:-1]
    dest = directory[-1] if directory else (parsed.operands[-1] if parsed.operands else None)
    action = ObjectAction.RENAME if call.prog == "mv" else ObjectAction.READ
    if action is ObjectAction.RENAME and all(
        _is_scratch(word) or _is_workspace(word) for word in [*sources, *([dest] if dest else [])]
    ):
        action = ObjectAction.WRITE  # moving files around the working folder renames no data object
    for source in sources:
        call.obj(ObjectKind.FILE, action, source.display)
    if sources and call.prog != "ln":
        call.add(
            Intent.READ if action is ObjectAction.READ else Intent.WRITE,
            f"{call.prog} {'moves' if call.prog == 'mv' else 'reads'} {_names(sources)}",
        )
    if dest is not None:
        recursive = parsed.has("-r", "-R", "--recursive", "-a", "--archive")
        _record_copy(call.effect, sources, dest, call.prog, recursive=recursive)
        if not _is_workspace(dest) and "secrets" not in shell_registry.file_classes(dest.value):
            # `ln -s ~/.aws/credentials logs/x.log`: the credentials, under a name others read
            for source in sources:
                _special_file(call.effect, source, call.prog, writes=False)
            secret = [w for w in sources if "secrets" in shell_registry.file_classes(w.value)]
            if secret and _LOG_FILE.search(dest.value):
                call.add(
                    Intent.EXPORT,
                    f"{call.prog} puts {secret[0].display} in {dest.display}: logs are shipped to"
                    " log storage and shown to everyone who reads them",
                )
                call.obj(ObjectKind.FILE, ObjectAction.EXPORT_TARGET, dest.display)
        if call.prog != "ln":
            note_secret_source(call.analyzer, sources, dest)
            note_ignore_rules_edit(call.analyzer, dest)
        copied = [source for source in sources if is_data_file(source.value)]
        if copied and call.prog != "ln":
            call.analyzer.note_fact(copied_data_key(dest.value), _names(copied))
            call.analyzer.note_fact(copied_data_key("*"), _names(copied))
        replaces = call.prog != "ln" or parsed.has("-f", "--force")  # ln without -f adds a name
        if sources and replaces and all(_is_blank_source(source) for source in sources):
            _emptied(call.effect, dest, f"{call.prog} {sources[0].display}")
        if call.prog in ("ln", "mv") and len(sources) == 1:
            call.analyzer.note_link(dest, call.analyzer.resolve_link(sources[0]))
        for source in sources:
            content = call.analyzer.produced_by(source)
            if content is not None:
                call.analyzer.note_produced(dest, content)
                base = posixpath.basename(source.value)
                call.analyzer.note_produced(
                    replace(dest, value=posixpath.join(dest.value, base)), content
                )


def _create(call: _Call) -> None:
    for target in _parse(call.args, _words("-m --mode -d --date -r -t")).operands:
        call.obj(ObjectKind.FILE, ObjectAction.CREATE, target.display)
        call.add(Intent.WRITE, f"{call.prog} creates {target.display}")


@dataclass(frozen=True, slots=True)
class _Decoder:
    """Turns an opaque encoding into bytes (base64 -d): running its output hides what runs."""

    decode_options: frozenset[str] = frozenset()  # empty: always decodes
    static: Callable[[str], str] | None = None  # decode a literal input here, when possible


def _b64decode(text: str) -> str:
    return base64.b64decode("".join(text.split()), validate=True).decode()


def _hexdecode(text: str) -> str:
    return bytes.fromhex("".join(text.split())).decode()


def _decoder(call: _Call) -> None:
    decoder = _DECODERS[call.prog]
    parsed = _parse(
        call.args,
        _words("-w --wrap -c -l -s -o -in -out"),
        clusters=call.prog not in ("openssl",),
    )
    words = {name for name, _ in parsed.options} | {w.value for w in parsed.operands}
    if decoder.decode_options and not words & decoder.decode_options:
        files = [w for w in parsed.operands if w.value != "-" and not w.value.startswith("-")]
        if files:  # `base64 -w0 customers.csv` encodes a file: its bytes, made unreadable
            _read_files(call, files)
            return
        call.stdout = call.feed.passed_through(call.prog) if call.feed else None
        return
    source = " ".join([call.prog, *(word.display for word in call.args)])
    literal = None
    feed_text = call.feed.literal if call.feed else None
    if decoder.static and feed_text is not None and not feed_text.dynamic:
        try:
            literal = _Word.literal(decoder.static(feed_text.value))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            literal = None
    decoded = _Feed(
        _Origin.DECODED | (call.feed.origin if call.feed else _Origin.NONE), source, literal
    )
    call.stdout = decoded
    # `base64 -d -o FILE`, `openssl enc -d -out FILE`, `xxd -r IN FILE`: decoded into a file
    outputs = parsed.values("-o", "-out")
    if call.prog == "xxd":
        outputs += parsed.operands[1:2]
    for output in outputs:
        if output.value != "-":
            _record_write(call.effect, output, f"{call.prog} decodes into")
            call.analyzer.note_produced(output, decoded)
            call.stdout = None


_DECODERS: dict[str, _Decoder] = {
    "base64": _Decoder(_options("-d", "--decode", "-D"), _b64decode),
    "base32": _Decoder(_options("-d", "--decode")),
    "basenc": _Decoder(_options("-d", "--decode")),
    "xxd": _Decoder(_options("-r", "--revert", "-revert"), _hexdecode),
    "openssl": _Decoder(_words("-d -base64 -a base64")),
    "uudecode": _Decoder(),
    "rev": _Decoder(static=lambda text: "\n".join(line[::-1] for line in text.split("\n"))),
}
_COMPRESSORS = _words("gzip gunzip bzip2 bunzip2 xz unxz zstd unzstd lz4 pigz unpigz")

_READERS: dict[str, _Reader] = {
    **dict.fromkeys(
        _words(
            "head tail less more wc stat file du md5sum sha1sum sha256sum sha512sum "
            "cksum uniq cut diff cmp tree strings od hexdump nl tac column paste "
            "fold readlink realpath zcat bzcat xzcat zstdcat iconv csvlook comm join"
        ),
        _Reader(value_options=_words("-n -c -k -t -d -f -o -w -s -S -T")),
    ),
    # ls's own options that take a value (-t sorts by time, -d lists folders as names)
    "ls": _Reader(
        value_options=_words(
            "-w --width -T --tabsize -I --ignore --hide --sort --format --time --time-style "
            "--color --block-size --quoting-style --indicator-style"
        )
    ),
    **dict.fromkeys(
        ("grep", "egrep", "fgrep", "rg", "zgrep"),
        _Reader(
            1,
            _words("-m -A -B -C --include --exclude -g --glob -t"),
            _words("-e -f --regexp --file"),
        ),
    ),
    **dict.fromkeys(
        ("awk", "gawk", "mawk", "nawk"),
        _Reader(1, _options("-F", "-v"), _options("-f"), _options("-i")),
    ),
    "sed": _Reader(
        1, frozenset(), _words("-e -f --expression --file"), _options("-i", "--in-place")
    ),
    "sort": _Reader(
        value_options=_words(
            "-k -t -S -T --key --field-separator --buffer-size --temporary-directory"
        ),
        outputs=_options("-o", "--output"),
    ),
    # graphviz: renders a graph file (`terraform graph | dot -Tsvg`), -o names the image
    **dict.fromkeys(
        _words("dot neato circo fdp sfdp twopi osage patchwork"),
        _Reader(value_options=_words("-T -K -G -N -E -l"), outputs=_options("-o")),
    ),
    "jq": _Reader(1, _words("--arg --argjson --slurpfile --rawfile --indent")),
    "yq": _Reader(1, frozenset(), frozenset(), _options("-i", "--inplace")),
    "tr": _Reader(2),
}
