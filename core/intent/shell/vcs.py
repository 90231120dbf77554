"""git: settings that make it run code, pushes that rewrite history or send data elsewhere."""

from __future__ import annotations

import fnmatch
import posixpath
import re

from guardrails_core.intent import registry_effects
from guardrails_core.intent.program_loader import registry
from guardrails_core.intent.shell.credentials import _holds_credential
from guardrails_core.intent.shell.execution import _script
from guardrails_core.intent.shell.files import _delete
from guardrails_core.intent.shell.options import _Call, _options, _parse, _words
from guardrails_core.intent.shell.secret_files import (
    IGNORE_RULES_REWRITTEN,
    holds_secrets,
    names_secret_file,
    reads_credential,
    secret_copies,
)
from guardrails_core.intent.shell.words import _clip, _names, _Word
from guardrails_core.model import Intent, ObjectAction, ObjectKind

# git settings whose value is a command git runs (or a folder of hooks it runs).
_GIT_COMMAND_KEYS = re.compile(
    r"^(?:core\.(?:pager|sshcommand|fsmonitor|editor|askpass|gitproxy)|sequence\.editor|"
    r"diff\.external|diff\.\w+\.(?:command|textconv)|credential\.helper|gpg\.program|"
    r"pager\.\w+|filter\.[\w.-]+\.(?:clean|smudge|process)|uploadpack\.packobjectshook|"
    r"merge\.\w+\.driver|alias\.[\w.-]+)$"
)
_GIT_CODE_FOLDERS = re.compile(r"^(?:core\.hookspath|protocol\.ext\.allow|init\.templatedir)$")
# git settings that send its traffic (and the credentials in it) to another host.
_GIT_REDIRECTS = re.compile(r"^(?:url\..+\.(?:push)?insteadof|(?:http|https)(?:\..+)?\.proxy)$")
# git settings that switch TLS certificate checks off when false (http.<url>.sslVerify too).
_GIT_TLS_CHECKS = re.compile(r"^http(?:\..+)?\.sslverify$")
_OFF = frozenset(("false", "no", "off", "0"))
_URL_HOST = re.compile(r"^(?:[a-z][\w+.-]*://)?(?:[^@/]*@)?([^/:]+)", re.IGNORECASE)


def _same_host(key: str, value: str) -> bool:
    """`url.git@github.com:.insteadOf https://github.com/`: the same host by another protocol."""
    if not key.lower().startswith("url."):
        return False
    base = key[4:].rsplit(".", 1)[0]
    new, old = _URL_HOST.match(base), _URL_HOST.match(value)
    return bool(new and old and new.group(1).lower() == old.group(1).lower())


def _git_setting(call: _Call, key: str, value: _Word, *, persistent: bool) -> None:
    lowered = key.lower()
    where = "in git's configuration" if persistent else "for this run"
    if _GIT_REDIRECTS.match(lowered) and not _same_host(key, value.value):
        call.add(Intent.PRIVILEGE, f"git {key} {where} sends git traffic to {value.display}")
        call.add(Intent.HOST_ACCESS, f"git {key}: fetched code and credentials go via another host")
        return
    if _GIT_TLS_CHECKS.match(lowered) and value.value.lower() in _OFF:
        call.add(Intent.PRIVILEGE, f"git {key}={value.display} {where} switches TLS checks off")
        return
    if _GIT_CODE_FOLDERS.match(lowered):
        call.add(Intent.HOST_ACCESS, f"git {key}={value.display} {where} lets git run other code")
        return
    if not _GIT_COMMAND_KEYS.match(lowered):
        return
    command = value.value
    if lowered.startswith("alias.") and not command.startswith("!"):
        return  # an alias of other git subcommands
    if persistent or value.dynamic:
        call.add(Intent.DYNAMIC, f"git {key} {where} runs {_clip(value.display)}")
    if persistent:
        call.add(Intent.HOST_ACCESS, f"git {key} is stored: it runs later, unseen")
    # For one run (`git -c core.pager=cat log`) the command is in the text: it is analysed as
    # what it is, as `sh -c '...'` would be, and is no more dynamic than that.
    _script(call, _Word.literal(command.lstrip("!")), f"git {key}")


# what makes these discard the uncommitted work of the whole tree (`--` only ends the options:
# `git checkout -- FILE` is `git restore FILE`, one file put back, as the agent asked)
_GIT_DISCARDS = {
    "reset": _options("--hard", "--merge", "--keep"),
    "checkout": _options(".", ":/", "-f", "--force"),
    "restore": _options(".", ":/", "--worktree", "-W"),
    "stash": _options("clear", "drop"),
}
# `git restore --staged` without --worktree puts the index back and leaves every file as it is:
# the changes stay in the working tree, only unstaged (the whole tree's `.` included)
_INDEX_ONLY = {"restore": (_options("--staged", "-S"), _options("--worktree", "-W"))}


def _discards(verb: str, rest: list[_Word]) -> bool:
    written = {w.value for w in rest}
    if verb in _INDEX_ONLY:
        index, worktree = _INDEX_ONLY[verb]
        flags = _parse(rest, _options("-s", "--source"))
        if flags.has(*index) and not flags.has(*worktree):
            return False
    return verb in _GIT_DISCARDS and bool(written & _GIT_DISCARDS[verb])


def _git(call: _Call) -> None:
    parsed = _parse(call.args, _words("-C -c --git-dir --work-tree"), first_operand_ends=True)
    for setting in parsed.values("-c"):
        key, _, value = setting.value.partition("=")
        shown = setting.display.partition("=")[2]
        _git_setting(call, key, _Word(value, shown, dynamic=setting.dynamic), persistent=False)
    if not parsed.operands:
        return
    verb, rest = parsed.operands[0].value, parsed.operands[1:]
    if verb == "config":
        words = [w for w in rest if not w.value.startswith("-")]
        if len(words) >= 2:
            _git_setting(call, words[0].value, words[1], persistent=True)
            _stored_push(call, words[0].value, words[1].value)
        return
    if verb == "push":
        _push_destination(call, rest)
        options = {w.value.split("=", 1)[0] for w in rest if w.value.startswith("-")}
        rewrites = options & _REWRITING_PUSH or any(w.value.startswith(("+", ":")) for w in rest)
        rewrites = rewrites or _forced_by_config(call, rest)
        leased = _leased_own_branches(rest, options) if rewrites else []
        if leased:
            call.add(
                Intent.WRITE,
                f"git push --force-with-lease rewrites {', '.join(leased)} on the remote"
                " (only if nobody pushed since)",
            )
        elif rewrites:
            call.add(Intent.DELETE, "git push rewrites or deletes history on the remote")
            call.add(
                Intent.MASS_MUTATION, "git push --force/--delete/--mirror replaces remote history"
            )
        return
    for script in _parse(rest, _GIT_SCRIPT_OPTIONS.get(verb, frozenset())).values(
        *_GIT_SCRIPT_OPTIONS.get(verb, frozenset())
    ):
        _script(call, script, f"git {verb}")  # rebase --exec CMD, filter-branch --tree-filter
    if verb == "add":
        _stage(call, rest)
        return
    if verb in _MESSAGES:
        _recorded_credentials(call, verb, rest)
    if verb == "commit":
        _commit(call)
        return
    if verb == "credential" and rest and rest[0].value == "fill":
        registry_effects.prints_secret(call, "git credential fill prints the stored password")
        return
    if verb == "remote" and len(rest) >= 3 and rest[0].value in ("add", "set-url"):
        call.analyzer.note_fact(f"git remote {rest[-2].value}", rest[-1].value)
    if verb in ("remote", "submodule") and any(w.value in ("add", "set-url") for w in rest):
        call.add(Intent.UNKNOWN, f"git {verb} points the repository at another remote")
        return
    if _discards_unreachable(verb, rest):
        what = f"git {verb} {_clip(' '.join(w.display for w in rest))}"
        call.add(Intent.DELETE, f"{what} discards unreachable commits now")
        call.add(
            Intent.MASS_MUTATION,
            f"{what}: every reflog entry or unreachable object, the way back from a bad reset",
        )
        return
    if _discards(verb, rest):
        call.add(Intent.UNKNOWN, f"git {verb} discards uncommitted work")
        return
    if verb != "clean":
        return
    clean = _parse(parsed.operands[1:], _options("-e", "--exclude"))
    if clean.has("-n", "--dry-run"):
        return
    where = clean.operands or [_Word.literal(".")]
    written = " ".join(word.display for word in parsed.operands[1:])
    # -X (git refuses it with -x) removes only what the repository's ignore rules declare
    # disposable (build output, caches): tracked files and new untracked work both stay
    ignored_only = clean.has("-X") and not clean.has("-x")
    which = "ignored" if ignored_only else "untracked"
    _delete(
        call,
        where,
        f"git clean {written} deletes {which} files under {_names(where)}",
        bulk=not ignored_only,
    )


# `git reflog expire --expire=now`, `git gc --prune=now`: the reflog entries and unreachable
# objects that undo a reset, rebase or branch deletion are dropped at once, not after weeks.
_EXPIRY_OPTIONS = {
    "reflog": ("--expire", "--expire-unreachable"),
    "gc": ("--prune",),
    "prune": ("--expire",),
    "worktree": ("--expire",),
}
_AT_ONCE = frozenset(("now", "all"))


def _discards_unreachable(verb: str, rest: list[_Word]) -> bool:
    options = _EXPIRY_OPTIONS.get(verb)
    if options is None:
        return False
    values = [
        value
        for index, word in enumerate(rest)
        for option in options
        for value in (
            [word.value.partition("=")[2]]
            if word.value.startswith(option + "=")
            else [rest[index + 1].value]
            if word.value == option and index + 1 < len(rest)
            else []
        )
    ]
    if verb == "prune" and not values:  # with no --expire, every unreachable object goes
        return not any(w.value in ("-n", "--dry-run") for w in rest)
    return any(value.lower() in _AT_ONCE for value in values)


# `remote.origin.push +refs/heads/*:...` or `remote.origin.mirror true`: a later plain
# `git push origin` force-updates (or mirrors) with no --force on its line
_STORED_PUSH = re.compile(r"^remote\.(?P<remote>.+)\.(?P<key>push|mirror)$", re.IGNORECASE)


def _stored_push(call: _Call, key: str, value: str) -> None:
    match = _STORED_PUSH.match(key)
    forces = value.startswith("+") if match and match["key"].lower() == "push" else value == "true"
    if match and forces:
        call.analyzer.note_fact(f"git forced push to {match['remote']}", f"{key} {value}")


def _forced_by_config(call: _Call, rest: list[_Word]) -> bool:
    """A push to a remote this script configured to force (a refspec named here wins)."""
    operands = [w for w in rest if not w.value.startswith("-")]
    remote = operands[0].value if operands else "origin"
    return len(operands) <= 1 and call.analyzer.fact(f"git forced push to {remote}") is not None


_REWRITING_PUSH = _words("--force -f --force-with-lease --mirror --delete -d --prune")


def _leased_own_branches(rest: list[_Word], options: set[str]) -> list[str]:
    """`git push --force-with-lease origin feature/x`: the branches it rewrites, when each is
    named and none is a branch others build on (shared_branch); else nothing."""
    if options & _REWRITING_PUSH != {"--force-with-lease"} or options & _words("--all --tags"):
        return []
    operands = [w for w in rest if not w.value.startswith("-")]
    leases = [w.value.split("=", 1)[1] for w in rest if w.value.startswith("--force-with-lease=")]
    branches = [
        refspec.value.rsplit(":", 1)[-1].removeprefix("refs/heads/") for refspec in operands[1:]
    ] + [lease.split(":", 1)[0].removeprefix("refs/heads/") for lease in leases]
    shared = registry().vocabulary.get("shared_branch", frozenset())
    if not operands[1:] or any(
        word.dynamic or word.glob or word.value.startswith(("+", ":")) for word in operands
    ):
        return []
    if any(not name or any(fnmatch.fnmatchcase(name, p) for p in shared) for name in branches):
        return []
    return branches


# `git push https://host/x.git`, `git@host:x.git`: a repository named here, not a configured one.
_GIT_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:|/|\./|\.\./)")


# Options whose value git runs as a shell command, per subcommand.
_GIT_SCRIPT_OPTIONS = {
    "rebase": _words("--exec -x"),
    "filter-branch": _words(
        "--tree-filter --index-filter --env-filter --msg-filter --commit-filter "
        "--parent-filter --tag-name-filter"
    ),
    "bisect": _words("run"),
    "difftool": _words("-x --extcmd"),
}


def _stage(call: _Call, rest: list[_Word]) -> None:
    """``git add`` of data files (dumps, extracts; anything forced past .gitignore): a later
    push in this script publishes them."""
    parsed = _parse(rest, _words("--chmod --pathspec-from-file"))
    forced = parsed.has("-f", "--force")
    data = [path.display for path in parsed.operands if forced or _published(path.value)]
    # a data file this script copied here under a harmless name is still that data
    everything = parsed.has("-A", "--all") or any(p.value in (".", "*") for p in parsed.operands)
    for path in parsed.operands:
        copied = call.analyzer.fact(copied_data_key(path.value))
        if copied is not None:
            data.append(f"{path.display} (a copy of {copied})")
    if everything and call.analyzer.fact(copied_data_key("*")) is not None:
        data.append(f"the data copied here ({call.analyzer.fact(copied_data_key('*'))})")
    # a file this script wrote a credential into (`echo "$KEY" > key.p8`), added by name or
    # with everything: the commit keeps it in the history of every clone
    secrets = [
        path.display
        for path in parsed.operands
        if _holds_credential(call.analyzer.produced_by(path))
    ]
    if everything:
        secrets += [
            name
            for name, feed in call.analyzer.produced.items()
            if _holds_credential(feed) and not name.startswith(("/", ".."))
        ]
    if secrets:
        data.append(f"{', '.join(dict.fromkeys(secrets))} (holding a credential written above)")
        call.analyzer.note_fact("git staged credential", ", ".join(dict.fromkeys(secrets)))
    secret_files = _staged_secret_files(call, parsed.operands, everything=everything)
    if secrets or secret_files:
        staged = ", ".join([*secrets, *secret_files])
        call.analyzer.note_fact(_STAGED_SECRETS, staged)
        # staged, the secrets are one commit (`git commit -a`, a hook, the next agent) away
        # from the history every clone and push carries
        call.add(Intent.EXPORT, f"git add stages {staged} for the repository's history")
    data += [name for name in secret_files if name not in data]
    if data:
        call.analyzer.note_fact("git staged data", ", ".join(data))


_STAGED_SECRETS = "git staged secrets"


def _staged_secret_files(call: _Call, paths: list[_Word], *, everything: bool) -> list[str]:
    """Files staged that hold secrets by name or by what this script copied into them; with
    everything staged, the copies and, once the ignore rules were rewritten, what they kept out."""
    found = [held for held in (holds_secrets(call.analyzer, path) for path in paths) if held]
    if not everything:
        return found
    copies = secret_copies(call.analyzer)
    if copies is not None:
        found.append(f"the copies of {copies}")
    unignored = call.analyzer.fact(IGNORE_RULES_REWRITTEN)
    if unignored is not None:
        found.append(f"the files {unignored} kept out (.env, keys), its rules rewritten above")
    return found


# what keeps its arguments (a message, an annotation) in the history every clone carries
_MESSAGES = frozenset(("commit", "tag", "notes", "stash"))


def _recorded_credentials(call: _Call, verb: str, rest: list[_Word]) -> None:
    """`git commit -m "rotate: $(cat .env.production)"`: a credential read into a message is
    kept in the history every clone and push carries, as a staged .env file is."""
    held = [word for word in rest if reads_credential(word)]
    files = _parse(rest, _words("-F --file -m --message -t --template")).values("-F", "--file")
    held += [path for path in files if names_secret_file(path.value)]  # git commit -F .env
    if not held:
        return
    sources = ", ".join(dict.fromkeys(_clip(word.source or word.display) for word in held))
    call.add(Intent.EXPORT, f"git {verb} records {sources} in the repository's history")
    call.add(Intent.PRIVILEGE, f"git {verb} records the credential {sources} reads")
    call.analyzer.note_fact("git staged credential", sources)
    call.analyzer.note_fact("git staged data", f"a {verb} message holding {sources}")


def _commit(call: _Call) -> None:
    """A commit of staged secrets keeps them in the history every clone and push carries."""
    staged = call.analyzer.fact(_STAGED_SECRETS)
    if staged is None:
        return
    call.add(Intent.EXPORT, f"git commit records {staged} in the repository's history")
    credential = call.analyzer.fact("git staged credential")
    if credential is not None:
        call.add(Intent.PRIVILEGE, f"git commit records the credential in {credential}")


def _published(path: str) -> bool:
    """Pushed, a data extract or a credentials file (.env, *.pem) leaves with the commit."""
    return is_data_file(path) or "secrets" in registry().file_classes(path)


def is_data_file(path: str) -> bool:
    """A dump, extract or export by its name or folder (the `exports` file table)."""
    return any(
        fnmatch.fnmatchcase(path, pattern) for pattern in registry().files.get("exports", ())
    )


def copied_data_key(path: str) -> str:
    """The fact key under which a copy of a data file is remembered (`*`: any such copy)."""
    return f"data copied to {path if path == '*' else posixpath.normpath(path)}"


def _push_destination(call: _Call, rest: list[_Word]) -> None:
    destination = next((w for w in rest if not w.value.startswith("-")), None)
    name = destination.value if destination is not None else "origin"
    added = call.analyzer.fact(f"git remote {name}")
    staged = call.analyzer.fact("git staged data")
    if added is None and not _GIT_URL.match(name) and staged is None:
        return
    where = added or name
    call.obj(ObjectKind.URL, ObjectAction.EXPORT_TARGET, where)
    if staged is not None:
        call.add(Intent.EXPORT, f"git push publishes {staged}, staged above, to {where}")
        if call.analyzer.fact("git staged credential") is not None:
            call.add(Intent.PRIVILEGE, f"git push sends a credential to {where}")
    else:
        call.add(
            Intent.EXPORT, f"git push sends the repository to {where}, not a configured remote"
        )
