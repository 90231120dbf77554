"""The shell program registry: what a known program's subcommand will do, read from data.

``rules/programs.yaml`` holds one row per program (or family of names). This module only matches
a command line against those rows; the shell analyzer turns the result into intents and objects.
Matching works on plain strings so that it can be tested without the shell parser.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from guardrails_core.intent import retention
from guardrails_core.intent.option_spans import (
    Operand,
    RulePrefixes,
    Span,
    Values,
)
from guardrails_core.intent.saved_plans import SavedPlan
from guardrails_core.locations import lexical_path, strictly_inside

if TYPE_CHECKING:
    from guardrails_core.intent.credential_rows import ArgvCredential

from guardrails_core.intent.program_args import (
    CAMEL,
    PART_SPLIT,
    carries,
    command_start,
    command_words,
    given,
    is_safe,
    lists,
    option_in_force,
    option_parts,
    unpinned,
    word_parts,
)

RULES = Path(__file__).parent / "rules" / "programs.yaml"
#: More rows of the same table, by topic (the rest of RULES is read from RULES alone).
MORE_PROGRAMS = (Path(__file__).parent / "rules" / "programs_tools.yaml",)

#: Effects in the order the shared vocabulary is tried; the first that a part names wins.
EFFECTS = (
    "destroy",
    "host-destroy",
    "unseen-destroy",
    "unseen-delete",
    "unseen-empty",
    "unmigrate",
    "drop-database",
    "delete",
    "expire",
    "privilege",
    "unprotect",
    "purge-backups",
    "public-grant",
    "public-server",
    "tunnel",
    "secret",
    "harvest",
    "named-secrets",
    "secret-store",
    "export",
    "replace",
    "overwrite",
    "rollback",
    "mass-write",
    "host",
    "host-schedule",
    "untrusted-code",
    "host-file",
    "host-root",
    "audit-off",
    "dynamic",
    "unknown",
    "read",
    "write",
    "lookup",
)
_BUCKET_PATH = re.compile(r"^(?:s3|s3a|gs|gcs)://([^/]+)/(.*)$")
_IN_RUNTIME_FOLDER = re.compile(r"^__shell_expansion__/[^/]+$")
_HOME = re.compile(r"^(?:~[\w.-]*/|/root/|/home/[^/]+/|/Users/[^/]+/|__shell_expansion__/)")
_OFF = frozenset(("false", "disabled", "disable", "off", "no", "none", "0", "private", "deny"))
_PRINTS_CREDENTIALS = frozenset(("secret", "harvest"))
_INFO = frozenset(("--version", "-V", "-v", "--help", "-h", "version", "help", "-help", "-version"))


@dataclass(frozen=True, slots=True)
class When:
    words: tuple[str, ...] = ()  # parts that must all appear in the subcommand
    options: tuple[str, ...] = ()  # any one of these must be given
    span: Span | None = None  # a date range that must be given, and short
    values: Values | None = None  # options that must be given with one of these values
    operand: Operand | None = None  # the operand after a subcommand word
    prefixes: RulePrefixes | None = None  # a JSON configuration whose rules are all confined
    without: tuple[str, ...] = ()  # none of these may be given (`upgrade` without `--sql`)
    keeps: bool = False  # the retention it sets keeps data (several copies, days of it)
    # at most this many operands, options' values aside (`ip addr` alone shows, `kubectx` alone
    # lists): only a program's rules are given the count; other rows never hold with it
    most: int | None = None

    def holds(self, parts: frozenset[str], args: Sequence[str], count: int | None = None) -> bool:
        if not all(word in parts for word in self.words):
            return False
        if self.most is not None and (count is None or count > self.most):
            return False
        if any(given(option, args) for option in self.without):
            return False
        if self.keeps and not retention.keeps(args):
            return False
        checks = (self.span, self.values, self.operand, self.prefixes)
        if any(check is not None and not check.holds(args) for check in checks):
            return False
        return not self.options or any(given(option, args) for option in self.options)


@dataclass(frozen=True, slots=True)
class Rule:
    when: When
    effect: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class Carrier:
    """Options of a subcommand whose value is SQL (``dialect``) or code (``language``)."""

    when: When
    options: tuple[str, ...]
    dialect: str | None = None
    language: str | None = None
    template: str | None = None  # the statement the value completes ({} is the value)
    folder: bool = False  # a folder it writes files into (writes)
    attached: bool = False  # the value is written onto the option (`7z x -oDIR`)
    empties: bool = False  # the folder is emptied first (`pytest --basetemp DIR`)
    before: bool = False  # the value is the operand before the word (`bcp "QUERY" queryout F`)
    defaults: tuple[str, ...] = ()  # files read when no option names one (make's Makefile)


@dataclass(frozen=True, slots=True)
class Program:
    names: tuple[str, ...]
    object: str = "resource"
    words: int = 4
    verbs: bool = True  # whether the shared verb vocabulary applies
    safe: tuple[tuple[str, ...], ...] = ()
    rules: tuple[Rule, ...] = ()
    sql: tuple[Carrier, ...] = ()
    code: tuple[Carrier, ...] = ()
    command: tuple[When, ...] = ()
    value_options: frozenset[str] = frozenset()
    stdin: tuple[Carrier, ...] = ()  # subcommands that read SQL from stdin (dbshell, dbconsole)
    positionals: int = 0  # operands between the subcommand and the command it runs (logsave)
    remote: bool = False  # talks to a remote service: local data in an argument leaves
    file_values: bool = False  # an option's value `file://PATH` is that file's contents (aws)
    builtins: frozenset[str] = frozenset()  # its own subcommands; any other word is a bin it runs
    archives: bool = False  # reads the files and folders it is given whole (tar, zip)
    pins: frozenset[str] = frozenset()  # options whose value only pins versions (--constraint)
    # migration tools: commands that write a migration from the models (`alembic revision
    # --autogenerate`) and commands that apply migrations (`alembic upgrade`)
    generates: tuple[When, ...] = ()
    applies: tuple[When, ...] = ()
    # builds the project's models from its files (`dbt run`): edited above, nobody reviewed them
    builds: tuple[Rule, ...] = ()  # the first that holds decides (effect write: a dev target)
    writes: tuple[Carrier, ...] = ()  # options whose value is a local file it writes
    images: tuple[Carrier, ...] = ()  # options whose value is a container image it runs
    runs: str = ""  # the program the command's words are given to (`access-guardrails dbt -- run`)
    migrations: bool = False  # a migration runner: a destructive verb unapplies migrations
    scratch_roots: tuple[str, ...] = ()  # its own file system's temporary folders (hdfs /tmp/)
    env_options: tuple[str, ...] = ()  # variables it reads as options (program_args.env_args)
    # its own dry-run options (`rsync -n`, also in a cluster: `rsync -an`)
    dry_run: tuple[When, ...] = ()
    saved_plan: SavedPlan | None = None  # `terraform plan -out=F`, then `terraform apply F`


def _under_root(path: str, roots: Sequence[str]) -> bool:
    """A literal path strictly inside one of the roots (no glob: a pattern may reach the root)."""
    return "*" not in path and strictly_inside(path, roots)


#: What a destructive verb of a migration runner does to the schema its migrations built.
_MIGRATION_EFFECTS = {"destroy": "unmigrate", "replace": "rollback"}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the registry says of one command line."""

    effect: str
    message: str
    subcommand: tuple[str, ...]
    target: str | None
    sql: tuple[Carrier, ...] = ()
    code: tuple[Carrier, ...] = ()
    command: bool = False
    stdin: tuple[Carrier, ...] = ()
    command_at: int = 0  # how many of the subcommand words come before the command it runs
    generates: bool = False  # writes a migration from the models
    applies: bool = False  # applies the migrations written so far
    builds: bool = False  # builds the project's models from its files
    writes: tuple[Carrier, ...] = ()
    images: tuple[Carrier, ...] = ()


_HOST_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")


@cache
def _networks(ranges: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(text) for text in ranges)


@dataclass(frozen=True, slots=True)
class Registry:
    programs: dict[str, Program]
    vocabulary: dict[str, frozenset[str]]
    dry_run: tuple[str, ...] = field(default=())
    scratch_dirs: frozenset[str] = frozenset()
    scratch_files: tuple[str, ...] = ()
    scratch_home: tuple[str, ...] = ()

    files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    environment: dict[str, frozenset[str]] = field(default_factory=dict)
    inline_python: dict[str, Any] = field(default_factory=dict)
    public_values: frozenset[str] = frozenset()
    client_dialects: dict[str, tuple[str, tuple[tuple[re.Pattern[str], str], ...]]] = field(
        default_factory=dict
    )
    credential_readers: dict[str, tuple[When, ...]] = field(default_factory=dict)
    credential_masks: tuple[str, ...] = ()  # globs of lines a CI runner masks (::add-mask::)
    credential_urls: tuple[str, ...] = ()  # globs of URLs that answer with a live credential
    argv_credentials: dict[str, tuple[ArgvCredential, ...]] = field(default_factory=dict)
    # a trace flag given (when) with an option that sends a credential (the second When)
    credential_traces: dict[str, tuple[tuple[When, When], ...]] = field(default_factory=dict)
    # options whose value is kept where others read it: (when, options, where it is kept)
    credential_keepers: dict[str, tuple[tuple[When, tuple[str, ...], str], ...]] = field(
        default_factory=dict
    )
    insecure_tls: tuple[str, ...] = ()
    scratch_buckets: frozenset[str] = frozenset()
    scratch_roots: tuple[str, ...] = ()  # remote folders whose subfolders are scratch
    manifests: dict[str, Any] = field(default_factory=dict)
    client_commands: dict[str, Any] = field(default_factory=dict)  # psql \i, sqlite3 .output
    shell_setup: tuple[str, ...] = ()
    official_images: frozenset[str] = frozenset()  # their entrypoint is a known server
    inline_scripts: dict[str, Any] = field(default_factory=dict)  # node -e, ruby -e, php -r
    # searches (grep, rg) whose pattern has a credential's shape print the credentials found
    credential_searches: dict[str, Any] = field(default_factory=dict)
    own_network: dict[str, Any] = field(default_factory=dict)  # suffixes, names, ranges
    info_only: dict[str, Any] = field(default_factory=dict)  # --help, --version alone
    # one regex per file table, compiled once: file_classes runs for every path a command names
    file_matchers: tuple[tuple[str, re.Pattern[str]], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    # names of the credentials files a tool keeps in its own folder of the home folder (file
    # table tool_secrets): under a folder known only at run time, they may be that one
    tool_secret_names: frozenset[str] = field(
        init=False, repr=False, compare=False, default=frozenset()
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "file_matchers", _file_matchers(self.files))
        names = frozenset(self.files.get("tool_secrets", ()))
        object.__setattr__(self, "tool_secret_names", names)

    def sets_up_shell(self, program: str, args: Sequence[str]) -> bool:
        """``ssh-agent -s``, ``kubectl completion bash``: its output only sets up the shell."""
        line = " ".join([program, *(arg for arg in args if not arg.startswith("-"))])
        return any(fnmatch.fnmatchcase(line, pattern) for pattern in self.shell_setup)

    def switches_tls_off(self, args: Sequence[str]) -> str | None:
        """The option or setting among ``args`` that turns TLS certificate checks off."""
        return next((option for option in self.insecure_tls if given(option, args)), None)

    def reads_credential(self, program: str, args: Sequence[str]) -> bool:
        """Whether ``program args`` reads a credential from stdin without printing it."""
        parts = frozenset(arg.lower() for arg in args)
        return any(when.holds(parts, args) for when in self.credential_readers.get(program, ()))

    def masks_credential(self, line: str) -> bool:
        """``::add-mask::$PW``: a line the CI runner consumes, masking the value, never shows."""
        # `[` is literal here (##vso[...]): only * is a wildcard
        return any(
            fnmatch.fnmatchcase(line, glob.replace("[", "[[]")) for glob in self.credential_masks
        )

    def credential_option(self, program: str, args: Sequence[str]) -> str | None:
        """``mysql -pS3cr3t``: the option that puts a credential in the arguments."""
        rows = self.argv_credentials.get(program, ())
        return next((found for row in rows if (found := row.given(args))), None)

    def traces_credential(self, program: str, args: Sequence[str]) -> bool:
        """``curl -v -u user:$PW``: the trace prints the Authorization header it sends."""
        parts = frozenset(arg.lower() for arg in args)
        return any(
            trace.holds(parts, args) and sends.holds(parts, args)
            for trace, sends in self.credential_traces.get(program, ())
        )

    def kept_options(self, program: str, args: Sequence[str]) -> dict[str, str]:
        """``docker build --build-arg``: options whose value is kept (option: where)."""
        parts = frozenset(arg.lower() for arg in args)
        return {
            option: kept
            for when, options, kept in self.credential_keepers.get(program, ())
            if when.holds(parts, args)
            for option in options
        }

    def issues_credential(self, url: str) -> bool:
        return any(fnmatch.fnmatchcase(url, glob) for glob in self.credential_urls)

    def searches_credentials(self, program: str, args: Sequence[str]) -> str | None:
        """``grep -rhoE 'AKIA[0-9A-Z]{16}' .``: the pattern, when it has a credential's shape and
        the search prints what it matched (``-l``, ``-c``, ``-q`` print names or counts)."""
        if program == "git" and args[:1] == ["grep"]:
            program, args = "git grep", args[1:]
        table = self.credential_searches
        if program not in table.get("names", ()):
            return None
        if any(given(option, args) for option in table.get("quiet", ())):
            return None
        shapes = [re.compile(shape) for shape in table.get("shapes", ())]
        return next((arg for arg in args if any(shape.search(arg) for shape in shapes)), None)

    def file_classes(self, path: str) -> set[str]:
        """Which of the file tables (startup, privileged, secrets, data) a path is in, as
        written or with `.`, `..` and `//` resolved (`/tmp/../etc/passwd` is /etc/passwd)."""
        found: set[str] = set()
        forms = {path, lexical_path(path)}
        forms |= {form.rstrip("/") + "/" for form in forms}  # /var/lib/mysql is its own data
        for form in (home_form(form) for form in forms):  # once per form, not per table
            found.update(name for name, matcher in self.file_matchers if matcher.match(form))
        if _IN_RUNTIME_FOLDER.match(path) and path.rsplit("/", 1)[-1] in self.tool_secret_names:
            found.add("secrets")  # `$(dbt debug --config-dir)/profiles.yml` may be ~/.dbt's
        return found

    def in_own_network(self, host: str) -> bool:
        """A host name or address of the organisation's own network (``backup01.acme.internal``,
        ``10.0.3.4``): written out whole, nothing of it left to expansion."""
        host = host.strip("[]").lower().rstrip(".")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            if not _HOST_NAME.fullmatch(host):
                return False
            table = self.own_network
            return host in table.get("names", ()) or host.endswith(tuple(table.get("suffixes", ())))
        return any(
            address in network for network in _networks(tuple(self.own_network.get("ranges", ())))
        )

    def is_scratch(self, path: str) -> bool:
        """A relative build or cache path (./build, dist/x, *.pyc), a home cache folder, or a
        prefix inside a scratch bucket (s3://acme-tmp/runs/x/)."""
        bucket = _BUCKET_PATH.match(path)
        if bucket is not None:
            prefix = [part for part in bucket.group(2).split("/") if part not in ("", ".")]
            named = set(PART_SPLIT.split(bucket.group(1).lower())) & self.scratch_buckets
            return bool(named and prefix) and ".." not in prefix and "*" not in bucket.group(2)
        if _under_root(path, self.scratch_roots):
            return True
        if path.startswith(self.scratch_home):
            return ".." not in path.split("/")
        if path.startswith(("/", "~", "-")) or not path:
            return False
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if not parts or ".." in parts:
            return False
        if parts[0] in self.scratch_dirs:
            return True
        return any(fnmatch.fnmatchcase(parts[-1], pattern) for pattern in self.scratch_files)

    def lookup(self, program: str) -> Program | None:
        if program.startswith("@"):  # a scoped npm package (`npx @someone/migrate`): not `migrate`
            return None
        name = program.rsplit("/", 1)[-1].lower()
        if name.endswith(".sh"):
            name = name[:-3]
        if "/" not in program:
            # `uvx sqlfluff==3.0.7`, `npx prettier@3.3.2`: a pinned release is the same program
            # (a tag such as `@latest` is whatever was published last: not looked up)
            name = _VERSION_PIN.sub("", name)
        return self.programs.get(name)

    def judge(self, program: Program, args: Sequence[str]) -> Verdict:
        args = unpinned(args, program.pins)
        subcommand, rest = command_words(program, args)
        parts = word_parts(subcommand)
        target = rest[0] if rest else None
        label = " ".join(subcommand)

        runs = next((when for when in program.command if when.holds(parts, args)), None)

        def verdict(effect: str, message: str) -> Verdict:
            if effect == "expire" and retention.keeps(args):  # `--retention-in-days 30`
                effect, message = "write", f"{message or label}: keeps days of data (retention)"
            return Verdict(
                effect,
                message,
                subcommand,
                target,
                tuple(c for c in program.sql if carries(c, parts, args)),
                tuple(c for c in program.code if carries(c, parts, args)),
                runs is not None,
                tuple(c for c in program.stdin if c.when.holds(parts, args)),
                command_start(subcommand, runs),
                any(when.holds(parts, args) for when in program.generates),
                any(when.holds(parts, args) for when in program.applies),
                next((r.effect for r in program.builds if r.when.holds(parts, args)), None)
                == "dynamic",
                tuple(c for c in program.writes if c.when.holds(parts, args)),
                tuple(c for c in program.images if c.when.holds(parts, args)),
            )

        if (args and all(arg in _INFO for arg in args)) or "--help" in args or "-help" in args:
            return verdict("read", "prints its version or help")
        dry = self.is_dry_run(args) or any(when.holds(parts, args) for when in program.dry_run)
        if dry and not self._prints_credentials(program, args):
            return verdict("read", "a dry run: nothing is changed")
        for rule in program.rules:
            if rule.when.holds(parts, args, len(subcommand) + len(rest)):
                own = program.scratch_roots
                if rule.effect == "destroy" and own and self._scratch_operands(rest, own):
                    return verdict("delete", f"{rule.message or label} (scratch space)")
                return verdict(rule.effect, rule.message or f"{label} on the {program.object}")
        insecure = self.switches_tls_off(args)
        if insecure:
            return verdict("privilege", f"{label} switches TLS certificate checks off ({insecure})")
        if program.builtins and subcommand and subcommand[0] not in program.builtins:
            # `yarn prisma migrate reset`: the package's own binary runs, judged on its own
            return Verdict(
                "read", f"runs the package binary {subcommand[0]}", (), target, command=True
            )
        unguarded = self._unprotects(args) if program.verbs else None
        if unguarded:
            return verdict(
                "unprotect", f"{label} switches off a safeguard against loss ({unguarded})"
            )
        exposed = self._exposes(args) if program.verbs else None
        if exposed:
            # opening it to every address is an access grant as much as a way out for data
            return verdict("public-grant", f"{label} makes it reachable from anywhere ({exposed})")
        if is_safe(program, subcommand, args):
            return verdict("read", f"{label or 'it'} is known to be harmless")
        carried = verdict("write", "")
        if carried.sql or carried.code or carried.command:
            return verdict("read", f"{label} runs what it is given (analysed on its own)")
        if program.verbs:
            listing = lists(subcommand)
            names_only = parts & self.vocabulary.get("secret_names", frozenset())
            for effect in ("destroy", "expire", "privilege", "secret", "export", "replace"):
                if effect == "privilege" and self._reads(parts):
                    continue
                if effect == "secret" and names_only:
                    continue
                if listing and effect != "secret":
                    continue
                hit = parts & self.vocabulary.get(effect, frozenset())
                if (
                    hit
                    and effect == "secret"
                    and parts & self.vocabulary.get("create", frozenset())
                ):
                    effect = "secret-store"  # kubectl create secret: stores one, prints none
                if hit:
                    word = sorted(hit)[0]
                    if effect == "destroy" and self._scratch_operands(rest):
                        return verdict("delete", f"{label} ({word}) of scratch space")
                    if program.migrations:
                        effect = _MIGRATION_EFFECTS.get(effect, effect)
                    return verdict(effect, f"{label} ({word}) on the {program.object}")
            expiring = option_parts(args) & self.vocabulary.get("expire", frozenset())
            if expiring and not parts & self.vocabulary.get("create", frozenset()):
                word = sorted(expiring)[0]  # update --lifecycle-file=..., --expiration 1
                return verdict("expire", f"{label} sets an {word} on the {program.object}")
            if self._reads(parts) or listing:
                return verdict("read", f"{label} only looks")
            timed = (parts | option_parts(args)) & self.vocabulary.get("schedule", frozenset())
            if timed:  # scheduler jobs create, events put-rule --schedule-expression
                return verdict("dynamic", f"{label} sets up a {sorted(timed)[0]} that runs later")
            for effect in ("host", "write"):
                hit = parts & self.vocabulary.get(effect, frozenset())
                if hit:
                    return verdict(effect, f"{label} changes the {program.object}")
        what = f"the subcommand {label!r}" if label else "this use"
        return verdict("unknown", f"{what} of {program.names[0]} is in no registry")

    def _exposes(self, args: Sequence[str]) -> str | None:
        """An option that opens a resource to everyone (``--publicly-accessible``,
        ``--acl public-read``, ``--cidr 0.0.0.0/0``), unless its value turns that off."""
        names = self.vocabulary.get("public", frozenset())
        pair = next((p for p in self.public_values if " " in p and given(p, args)), None)
        if pair is not None:
            return pair
        for index, arg in enumerate(args):
            if arg.lower() in self.public_values:
                return arg
            if not arg.startswith("--") or arg.startswith("--no-"):
                continue
            name, _, value = arg[2:].partition("=")
            if value and {value.lower(), f"--{name} {value}".lower()} & self.public_values:
                return arg  # --authorized-networks=0.0.0.0/0, --visibility=public
            if not set(PART_SPLIT.split(name.lower())) & names:
                continue
            if not value and index + 1 < len(args) and not args[index + 1].startswith("-"):
                value = args[index + 1]
            if value.lower() not in _OFF:
                return arg
        return None

    def _unprotects(self, args: Sequence[str]) -> str | None:
        """``--no-deletion-protection``, ``deletion_protection=false``: the next delete works."""
        names = self.vocabulary.get("protection", frozenset())
        for index, arg in enumerate(args):
            name, equals, value = arg.lstrip("-").partition("=")
            name = CAMEL.sub("-", name).lower()  # PointInTimeRecoveryEnabled=false
            parts = set(PART_SPLIT.split(name.removeprefix("no-")))
            if not parts & names:
                continue
            if not equals and index + 1 < len(args) and arg.startswith("-"):
                value = args[index + 1]
            if arg.startswith("--no-") or value.lower() in _OFF:
                return arg
        return None

    def _scratch_operands(self, operands: Sequence[str], own: tuple[str, ...] = ()) -> bool:
        """`databricks fs rm -r dbfs:/tmp/ci/pr-1/`: every path it is given is scratch space.
        With ``own`` (a program's file system's temporary folders), only a path inside one is."""
        paths = [operand for operand in operands if not operand.startswith("-")]
        if own:
            return bool(paths) and all(_under_root(path, own) for path in paths)
        return bool(paths) and all(self.is_scratch(path) for path in paths)

    def prints_info_only(self, program: str, args: Sequence[str]) -> bool:
        """``pg_restore --help``: a known program asked only for its usage or version."""
        asked = self.info_only.get("options", ())
        name = program.rsplit("/", 1)[-1]
        if not args or name in self.info_only.get("except", ()):
            return False
        return all(arg in asked for arg in args)

    def is_dry_run(self, args: Sequence[str], program: Program | None = None) -> bool:
        """A dry run by the options every program shares (--dry-run) or by its own (-n)."""
        if program is not None and self._prints_credentials(program, args):
            return False  # what a dry run prints (the secret it would make) is still printed
        if option_in_force(self.dry_run, args):
            return True
        if program is None or not program.dry_run:
            return False
        parts = word_parts(command_words(program, unpinned(args, program.pins))[0])
        return any(when.holds(parts, args) for when in program.dry_run)

    def _prints_credentials(self, program: Program, args: Sequence[str]) -> bool:
        """A row that prints credentials holds (`kubectl create secret ... -o yaml`): a dry
        run changes nothing, yet prints them all the same."""
        subcommand, rest = command_words(program, unpinned(args, program.pins))
        parts = word_parts(subcommand)
        return any(
            rule.effect in _PRINTS_CREDENTIALS
            and rule.when.holds(parts, args, len(subcommand) + len(rest))
            for rule in program.rules
        )

    def _reads(self, parts: frozenset[str]) -> bool:
        reads = parts & self.vocabulary.get("read", frozenset())
        writes = parts & (
            self.vocabulary.get("write", frozenset())
            | self.vocabulary.get("destroy", frozenset())
            | self.vocabulary.get("replace", frozenset())
        )
        return bool(reads) and not writes


_VERSION_PIN = re.compile(r"(?<=.)(?:===?|@)v?\d[\w.*+!-]*$")


def _file_matchers(
    files: dict[str, tuple[str, ...]],
) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One regex per file table (``*/x`` also matches ``x`` at the start)."""
    matchers = []
    for name, patterns in files.items():
        globs = [*patterns, *(p[2:] for p in patterns if p.startswith("*/"))]
        matchers.append((name, re.compile("|".join(fnmatch.translate(g) for g in globs))))
    return tuple(matchers)


def home_form(path: str) -> str:
    """A path in a home folder written from ~ (/root/.ssh/x and $HOME/.ssh/x are ~/.ssh/x)."""
    return _HOME.sub("~/", path, count=1)
