"""Deletes, devices, writes and privilege: handlers for programs that change files."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

from guardrails_core.intent import guard_switches, shell_registry
from guardrails_core.intent.shell.environment import env_file_retargeted
from guardrails_core.intent.shell.history import _erased
from guardrails_core.intent.shell.options import (
    _HARMLESS_DEVICES,
    _NETWORK_DEVICE,
    _PRIVILEGED_FILE,
    _SYSTEM_PREFIXES,
    _Call,
    _canonical,
    _is_device,
    _is_scratch,
    _is_workspace,
    _options,
    _parse,
    _words,
)
from guardrails_core.intent.shell.password_files import password_stored
from guardrails_core.intent.shell.startup_files import HARMLESS_STARTUP_LINE, is_client_startup
from guardrails_core.intent.shell.words import _concat, _Effect, _Feed, _names, _Origin, _Word
from guardrails_core.locations import lexical_path
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
)

# ----- deletes, devices, writes, privilege


_DROPPED_WHOLE = frozenset((ObjectKind.TABLE, ObjectKind.SCHEMA, ObjectKind.DATABASE))


def _delete(
    call: _Call,
    targets: Sequence[_Word],
    description: str,
    *,
    bulk: bool,
    kind: ObjectKind = ObjectKind.FILE,
) -> None:
    """Record a delete; recursive/bulk or wildcard deletes outside scratch space are mass."""
    if kind is ObjectKind.FILE:
        targets = [call.analyzer.resolve_link(target) for target in targets]
    call.add(Intent.DELETE, description)
    # A CLI that deletes a table or dataset by name drops it, whatever its verb is called.
    action = ObjectAction.DROP if kind in _DROPPED_WHOLE else ObjectAction.DELETE
    for target in targets:
        call.obj(kind, action, target.display)
        if kind is ObjectKind.FILE:
            _special_file(call.effect, target, call.prog, writes=True)
            _erased(call.effect, target, call.prog)
            if "host_software" in shell_registry.file_classes(target.value):
                host = "the host's own configuration or programs"
                call.add(Intent.HOST_ACCESS, f"{call.prog} deletes {target.display}, {host}")
    devices = [t for t in targets if not t.dynamic and _is_device(t.value)]
    if devices:
        _device_damage(
            call.effect, devices, f"{call.prog} destroys the contents of {_names(devices)}"
        )
    wildcard = kind is not ObjectKind.FILE  # cloud CLIs expand * themselves, even quoted
    wide = [
        t
        for t in targets
        if ((bulk and not t.retained) or t.glob or (wildcard and "*" in t.value))
        and not _is_scratch(t)
    ]
    if wide:
        where = " (not confined to /tmp/ or /var/tmp/)" if kind is ObjectKind.FILE else ""
        call.add(Intent.MASS_MUTATION, f"bulk delete of {_names(wide)}{where}")


# `"$DIR/"*`, `${DIR}/x`: a path that starts with a variable and a slash is under / when the
# variable is unset or empty (`${DIR:?}` stops the shell instead, `${DIR:-x}` has a default)
_ROOTED_IN_VARIABLE = re.compile(r'^"?\$\{?([A-Za-z_]\w*)\}?"?/')


def _device_damage(effect: _Effect, targets: Sequence[_Word], message: str) -> None:
    effect.add(Intent.DELETE, message)  # whatever the device held is gone
    effect.add(Intent.HOST_ACCESS, message)
    effect.add(Intent.MASS_MUTATION, message)
    for target in targets:
        effect.obj(ObjectKind.FILE, ObjectAction.WRITE, target.display)


def _record_write(effect: _Effect, target: _Word, how: str, content: _Word | None = None) -> None:
    """A file written by a redirect, tee, dd of=, curl -o ...: devices and auth files are worse."""
    path = lexical_path(target.value)  # `/dev/fd/../../etc/passwd` is /etc/passwd
    if not target.dynamic and (path in _HARMLESS_DEVICES or path.startswith("/dev/fd/")):
        return
    if target.display.startswith((">(", "<(")):
        return  # a process substitution: the command inside is analysed on its own
    network = _NETWORK_DEVICE.match(target.value)  # bash compares the text, not the path
    if network:
        effect.obj(ObjectKind.HOST, ObjectAction.EXPORT_TARGET, network.group(1))
        effect.add(Intent.EXPORT, f"{how} sends data to {network.group(1)} through {path}")
        return
    if _is_device(path):
        _device_damage(effect, [target], f"{how} writes raw data to the device {target.display}")
        return
    effect.obj(ObjectKind.FILE, ObjectAction.WRITE, target.display)
    effect.add(Intent.WRITE, f"{how} writes {target.display}")
    if _PRIVILEGED_FILE.search(path):
        controls = f"{how} writes {target.display}, which controls logins or sudo"
        effect.add(Intent.PRIVILEGE, controls)
        effect.add(Intent.HOST_ACCESS, f"{controls}: who may log in to this host or become root")
    _special_file(effect, target, how, writes=True, content=content)
    if content is not None and not content.dynamic:
        env_file_retargeted(effect, target, content.value, how)
    elif content is not None:
        # the password itself may come from a variable (`host:5432:db:user:$PW`): the line for
        # that host is written all the same
        password_stored(effect, target, content.value, how)


def _record_folder_write(effect: _Effect, folder: _Word, how: str) -> None:
    """Files of names not visible here written into a folder (an archive extracted, a bulk
    download): in a folder that holds startup or trust files (~, ~/.ssh, /etc) one may be
    replaced."""
    _record_write(effect, folder, how)
    held = set() if folder.dynamic else shell_registry.folder_holds(folder.value)
    if "startup" in held:
        effect.add(
            Intent.HOST_ACCESS,
            f"{how} writes files into {folder.display}, where startup files run as code later",
        )
    if "privileged" in held:
        effect.add(
            Intent.PRIVILEGE,
            f"{how} writes files into {folder.display}, where files decide who is trusted",
        )


def _record_copy(
    effect: _Effect, sources: Sequence[_Word], dest: _Word, how: str, *, recursive: bool
) -> None:
    """DEST written by a copy: a folder copied recursively is written whole; a file copied
    into a folder of startup or trust files (`cp authorized_keys ~/.ssh/`) under its name."""
    if recursive:
        _record_folder_write(effect, dest, how)
        return
    _record_write(effect, dest, how)
    if not dest.dynamic and shell_registry.folder_holds(dest.value):
        separator = "" if dest.value.endswith("/") else "/"
        for source in sources:
            base = posixpath.basename(source.value.rstrip("/")).rsplit(":", 1)[-1]  # host:.x
            name = _Word.literal(base)
            _record_write(effect, _concat([dest, name], separator), how)


# Devices that read as nothing (or as zeros, random bytes): copied over a file, they erase it.
_BLANK_SOURCES = frozenset(("/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"))


def _is_blank_source(word: _Word) -> bool:
    return not word.dynamic and lexical_path(word.value) in _BLANK_SOURCES


def _emptied(effect: _Effect, target: _Word, how: str) -> None:
    """A file overwritten with nothing (`: > f`, `cp /dev/null f`, `truncate -s 0 f`): what it
    held is gone, as a TRUNCATE empties a table. Scratch space and the working folder are the
    script's own (a delete, not a mass one); a path known only at run time is left to its write
    (often a temp file)."""
    _erased(effect, target, how)
    path = lexical_path(target.value)
    if not target.dynamic and (
        path in _HARMLESS_DEVICES or _is_device(path) or _NETWORK_DEVICE.match(target.value)
    ):
        return
    effect.add(Intent.DELETE, f"{how} empties {target.display}: what it held is deleted")
    if target.dynamic or _is_scratch(target) or _is_workspace(target):
        return
    if shell_registry.is_scratch(path.rsplit("/", 1)[-1]):
        return  # a log or temp file (*.log, *.tmp) holds no data, wherever it lives
    effect.add(Intent.MASS_MUTATION, f"{how} empties {target.display}: whatever it held is gone")


# in an SQL client's own start-up file only (in a shell's, `.mode` would be a program)
_CLIENT_DISPLAY_LINE = re.compile(
    r"^\s*\.(?:headers?|mode|nullvalue|timer|width|separator|changes|bail|maxrows|maxwidth)\b.*$"
)


def _harmless_startup(content: _Word | None, target: _Word) -> bool:
    if content is None or content.dynamic:
        return False
    client = not target.dynamic and is_client_startup(target.value)
    for line in content.value.splitlines():
        if client and _CLIENT_DISPLAY_LINE.match(line):
            continue
        match = HARMLESS_STARTUP_LINE.match(line)
        if match is None:
            return False
        name = match.group("name")
        if name and (
            name in shell_registry.environment("code")
            or name in shell_registry.environment("loader")
            or name in shell_registry.environment("search_path")
        ):
            return False
    return True


def _special_file(
    effect: _Effect, target: _Word, how: str, *, writes: bool, content: _Word | None = None
) -> None:
    """Startup, trust, credential and database files mean more than their bytes (data table)."""
    classes = shell_registry.file_classes(target.value)
    if target.dynamic:  # `$PGDATA/...`, `$PSQLRC`: a file or folder the environment names
        classes |= shell_registry.file_classes(target.display) & {"data", "startup"}
    name = target.display
    recipes_seen = "startup_makefiles" in classes and content is not None and not content.dynamic
    if (
        writes
        and "startup" in classes
        and not recipes_seen
        and not _harmless_startup(content, target)
    ):
        effect.add(Intent.HOST_ACCESS, f"{how} writes {name}, which runs as code later")
    if writes and "privileged" in classes:
        effect.add(Intent.PRIVILEGE, f"{how} writes {name}, which decides who is trusted")
    if writes and "name_resolution" in classes:
        effect.add(
            Intent.HOST_ACCESS,
            f"{how} writes {name}, which decides the host a name or a package index resolves to",
        )
    if writes and "data" in classes:
        effect.add(Intent.MASS_MUTATION, f"{how} changes {name}, a database server's own file")
        effect.add(Intent.HOST_ACCESS, f"{how} changes {name}, a database server's own file")
    if writes:
        _guard_file_changed(effect, target, how, content)
    if not writes and "secrets" in classes:
        effect.add(Intent.PRIVILEGE, f"{how} reads {name}, which holds credentials")
    if not writes and "data" in classes:  # the server's files read on its host, not by SQL
        effect.add(Intent.HOST_ACCESS, f"{how} reads {name}, a database server's own file")


def _guard_file_changed(
    effect: _Effect, target: _Word, how: str, content: _Word | None = None
) -> None:
    """access-guardrails' own files (rules/guard_switches.yaml) written or deleted (a chmod
    that locks the guard out of its audit store makes it deny: it fails closed);
    `"$GUARDRAILS_HOME/audit.sqlite3"` is one by the setting it names."""
    classes = shell_registry.file_classes(target.value)
    if target.dynamic:
        classes |= shell_registry.file_classes(target.display)
    if guard_switches.GUARD_FILES in classes:
        effect.add(
            Intent.PRIVILEGE,
            f"{how} changes {target.display}, which makes the guard judge or record",
        )
    text = None if content is None or content.dynamic else content.value
    path = target.display.strip("\"'") if target.dynamic else target.value  # "$GUARDRAILS_POLICY"
    policy = guard_switches.policy_file_written(path, text)
    if policy == "off":
        effect.add(Intent.PRIVILEGE, f"{how} makes {target.display} a policy that lets all run")
    elif policy == "unseen":
        gate = "the gate's policy found there is then one not visible here"
        effect.add(Intent.UNKNOWN, f"{how} changes {target.display}: {gate}")


# `ExecStart=-/bin/sh -c '...'` (systemd units), `Exec=...` (autostart entries): the command
# after the prefixes that only change how a failure or privileges are handled
_UNIT_COMMAND = re.compile(r"^\s*Exec\w*\s*=\s*[-@+!:]*(.+)$", re.MULTILINE)


def _planted_commands(target: _Word, content: _Word | None) -> list[str]:
    """The commands a startup file written here with this text will run later: the whole
    text of a shell startup script (.bashrc, a git hook), the Exec lines of a unit."""
    if content is None or content.dynamic or target.dynamic:
        return []
    classes = shell_registry.file_classes(target.value)
    if "startup_scripts" in classes:
        return [content.value] if content.value.strip() else []
    if "startup_units" in classes:
        return [match.group(1) for match in _UNIT_COMMAND.finditer(content.value)]
    if "startup_makefiles" in classes:
        return [match.group(1) for match in _RECIPE_LINE.finditer(content.value)]
    return []


# a makefile's recipe line: a tab, then the command (@ silences it, - ignores its failure)
_RECIPE_LINE = re.compile(r"^\t[@+\-\s]*(\S.*)$", re.MULTILINE)


def _rm(call: _Call) -> None:
    parsed = _parse(call.args)
    # rimraf (the npm package) is rm -r of each path, and with --glob of what a pattern matches:
    # rm's paths are read as patterns already, quoted or not
    rimraf = call.prog == "rimraf"
    recursive = rimraf or parsed.unknown or parsed.has("-r", "-R", "--recursive")
    verb = "rimraf" if rimraf else "rm -r" if recursive else "rm"
    how = " recursively" if recursive else ""
    targets = parsed.operands
    _delete(call, targets, f"{verb} deletes {_names(targets)}{how}", bulk=recursive)
    for target in targets if recursive else ():  # as written (find -exec's {} is no path)
        written = call.analyzer.text[slice(*target.span)] if target.span else target.display
        unset = _ROOTED_IN_VARIABLE.match(written) if target.dynamic else None
        if unset:
            call.add(
                Intent.HOST_ACCESS,
                f"{verb} deletes {target.display}: with {unset.group(1)} unset or empty "
                "that is under / (the whole host)",
            )


def _plain_delete(call: _Call) -> None:
    targets = _parse(call.args).operands
    _delete(call, targets, f"{call.prog} deletes {_names(targets)}", bulk=False)


def _shred(call: _Call) -> None:
    targets = _parse(call.args, _words("-n --iterations -s --size")).operands
    _delete(call, targets, f"shred destroys the contents of {_names(targets)}", bulk=True)


def _truncate(call: _Call) -> None:
    parsed = _parse(call.args, _words("-s --size -r --reference"))
    sizes = [size.value for size in parsed.values("-s", "--size")]
    if sizes and all(size.lstrip("=") in ("0", "-0") for size in sizes):
        targets = parsed.operands
        _delete(call, targets, f"truncate -s 0 empties {_names(targets)}", bulk=False)
        for target in targets:
            _emptied(call.effect, target, "truncate -s 0")
        return
    for target in parsed.operands:
        _record_write(call.effect, target, "truncate")


def _dd(call: _Call) -> None:
    operands = {w.value.partition("=")[0]: w.after("=") for w in call.args if "=" in w.value}
    source, target = operands.get("if"), operands.get("of")
    if source is not None:
        call.obj(ObjectKind.FILE, ObjectAction.READ, source.display)
        call.add(Intent.READ, f"dd reads {source.display}")
        call.stdout = _Feed(_Origin.FILE, source.display)
    elif call.feed is not None:
        call.stdout = call.feed
    if target is not None:
        _record_write(call.effect, target, "dd of=")
        if source is not None and _is_blank_source(source):
            _emptied(call.effect, target, f"dd if={source.display}")
        call.stdout = None


@dataclass(frozen=True, slots=True)
class _DeviceTool:
    """A partitioning/formatting tool: destructive unless run in one of its read-only modes."""

    read_only: frozenset[str] = frozenset()  # options or operands that only inspect
    destructive: frozenset[str] | None = None  # when set, only these options destroy


def _device_tool(call: _Call) -> None:
    tool = _DEVICE_TOOLS[_canonical(call.prog)]
    parsed = _parse(call.args, _words("-t --type -L --label -b -o -O"))
    words = {name for name, _ in parsed.options} | {w.value for w in parsed.operands}
    harmless = (tool.destructive is not None and not words & tool.destructive) or bool(
        words & tool.read_only
    )
    targets = [w for w in parsed.operands if w.value.startswith("/dev/") or w.dynamic]
    disks = _names(targets) if targets else "the disks"
    if harmless:
        call.add(Intent.READ, f"{call.prog} inspects {disks}")
        return
    message = f"{call.prog} rewrites {disks}, destroying filesystems or partitions"
    _device_damage(call.effect, targets, message)


def _chmod(call: _Call) -> None:
    parsed = _parse(call.args, _options("--reference"))
    if not parsed.operands:
        return
    mode, *targets = parsed.operands
    for target in targets:
        call.obj(ObjectKind.FILE, ObjectAction.ALTER, target.display)
    call.add(Intent.WRITE, f"chmod {mode.display} changes permissions of {_names(targets)}")
    risky = _risky_mode(mode.value)
    if risky:
        call.add(Intent.PRIVILEGE, f"chmod {mode.display} " + risky.format(_names(targets)))
        served = [t for t in targets if "data" in shell_registry.file_classes(t.value)]
        if served:  # as writing them would be: any local user can now change the server's files
            opened = f"chmod {mode.display} opens {_names(served)}, a database server's own files"
            call.add(Intent.HOST_ACCESS, opened)
    private = [t for t in targets if shell_registry.file_classes(t.value) & {"secrets", "data"}]
    if private and _world_readable(mode.value):  # chmod 644 ~/.pgpass, o+r on a data folder
        call.add(Intent.PRIVILEGE, f"chmod {mode.display} lets anyone read {_names(private)}")


def _world_readable(mode: str) -> bool:
    if mode.isdigit():
        return bool(int(mode.zfill(4)[-1]) & 4)
    return any(
        match is not None
        and match.group(2) != "-"
        and ("o" in match.group(1) or "a" in match.group(1) or not match.group(1))
        and "r" in match.group(3)
        for match in (re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", c) for c in mode.split(","))
    )


def _risky_mode(mode: str) -> str | None:
    """What is dangerous about a chmod mode, if anything: world-writable or set-id bits."""
    if mode.isdigit():
        digits = mode.zfill(4)[-4:]
        if int(digits[-1]) & 2:
            return _WORLD_WRITABLE
        return _SET_ID if int(digits[0]) & 6 else None
    for clause in mode.split(","):
        match = re.fullmatch(r"([ugoa]*)([-+=])([rwxXst]*)", clause)
        if not match or match.group(2) == "-":
            continue
        who, _, perms = match.groups()
        if "s" in perms:
            return _SET_ID
        if "w" in perms and ("o" in who or "a" in who):
            return _WORLD_WRITABLE
    return None


_WORLD_WRITABLE = "makes {} world-writable"
_SET_ID = "sets set-user/group-id bits on {}"


def _chown(call: _Call) -> None:
    parsed = _parse(call.args, _options("--reference", "--from"))
    if not parsed.operands:
        return
    owner, *targets = parsed.operands
    for target in targets:
        call.obj(ObjectKind.FILE, ObjectAction.ALTER, target.display)
        _special_file(call.effect, target, call.prog, writes=True)
    call.add(Intent.WRITE, f"{call.prog} {owner.display} changes ownership of {_names(targets)}")
    recursive = parsed.has("-R", "--recursive")
    risky = [
        target
        for target in targets
        if (recursive and (target.dynamic or _is_top_level(lexical_path(target.value))))
        or (not target.dynamic and lexical_path(target.value).startswith(_SYSTEM_PREFIXES))
    ]
    if risky:
        how = " recursively" if recursive else ""
        call.add(Intent.PRIVILEGE, f"{call.prog} hands {_names(risky)} to {owner.display}{how}")


def _is_top_level(path: str) -> bool:
    """``/`` itself or a directory right under it (/data, /etc)."""
    return path.startswith("/") and path.rstrip("/").count("/") <= 1


def _privilege_tool(call: _Call) -> None:
    call.add(Intent.PRIVILEGE, f"{call.prog} changes users, passwords, groups or sudo rights")


def _host_control(call: _Call) -> None:
    if call.prog in ("systemctl", "service"):
        verbs = {w.value for w in _parse(call.args).operands}
        if not verbs or verbs & _SYSTEMCTL_READ_ONLY:
            return
    call.add(Intent.HOST_ACCESS, f"{call.prog} changes the state of the host")


_DEVICE_TOOLS: dict[str, _DeviceTool] = {
    "mkfs": _DeviceTool(),
    "mke2fs": _DeviceTool(),
    "mkswap": _DeviceTool(),
    "blkdiscard": _DeviceTool(),
    "wipefs": _DeviceTool(destructive=_words("-a --all -o --offset")),
    "fdisk": _DeviceTool(read_only=_options("-l", "--list")),
    "sfdisk": _DeviceTool(read_only=_words("-l --list -d --dump -s --show-size")),
    "sgdisk": _DeviceTool(read_only=_words("-p --print -i --info -v --verify")),
    "cfdisk": _DeviceTool(),
    "parted": _DeviceTool(read_only=_words("-l --list print p")),
}
_SYSTEMCTL_READ_ONLY = _words(
    "status show cat list-units list-unit-files is-active is-enabled is-failed list-timers"
)
