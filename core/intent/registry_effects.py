"""What each effect word of the program registry (rules/programs.yaml) names on a shell call:
its intents and the object it acts on. shell_registry decides the verdict; this says what the
verdict's effect means."""

from __future__ import annotations

from typing import TYPE_CHECKING

from guardrails_core.intent.programs import Program, Verdict
from guardrails_core.model import Intent, ObjectAction, ObjectKind

if TYPE_CHECKING:
    from guardrails_core.intent.shell_registry import Call

_OBJECT_KINDS = {
    "database": ObjectKind.DATABASE,
    "schema": ObjectKind.SCHEMA,
    "table": ObjectKind.TABLE,
    "dataset or table": ObjectKind.TABLE,
    "model": ObjectKind.TABLE,
    "collection": ObjectKind.TABLE,
    "keyspace": ObjectKind.DATABASE,
    "bucket": ObjectKind.URL,
    "path": ObjectKind.FILE,
    "file": ObjectKind.FILE,
    "host": ObjectKind.HOST,
    "role": ObjectKind.ROLE,
    "program": ObjectKind.PROGRAM,
    "package": ObjectKind.PROGRAM,
}


# what a migration runner or framework does to its own database, when that is a test one
_RESETS = frozenset(("unmigrate", "rollback", "destroy", "drop-database"))
_DATABASE_KINDS = frozenset((ObjectKind.DATABASE, ObjectKind.SCHEMA, ObjectKind.TABLE))


def record_effect(call: Call, program: Program, verdict: Verdict) -> None:
    """The intents and the object a registry verdict's effect names on the call."""
    kind = _OBJECT_KINDS.get(program.object, ObjectKind.OTHER)
    name = verdict.target or " ".join(verdict.subcommand) or call.prog
    what = f"{call.prog} {verdict.message}".strip()
    effect = verdict.effect
    if effect in ("destroy", "unseen-destroy"):
        call.add(Intent.DELETE, what)
        call.add(Intent.MASS_MUTATION, f"{what}: it and everything in it are deleted")
        call.obj(kind, ObjectAction.DROP, name)
        if effect == "unseen-destroy":  # deletes by its name; what it deletes is not visible
            call.add(Intent.UNKNOWN, f"{what}: its code is not visible here")
    elif effect == "host-destroy":  # the host's own state (its scheduled jobs, its log history)
        call.add(Intent.DELETE, what)
        call.add(Intent.MASS_MUTATION, f"{what}: it and everything in it are deleted")
        call.add(Intent.HOST_ACCESS, f"{what}: the host's own state is changed")
        call.obj(kind, ObjectAction.DROP, name)
    elif effect in _RESETS and kind in _DATABASE_KINDS and call.effect.local_test_database:
        # the down migrations (a flush, a drop) empty this host's test database: the suite's own
        call.add(Intent.WRITE, f"{what} (the test database {call.effect.local_test_database})")
        call.obj(ObjectKind.SCHEMA, ObjectAction.WRITE, name)
    elif effect in ("unmigrate", "rollback"):  # the down migrations drop what the up ones built
        call.add(Intent.SCHEMA_CHANGE, what)
        call.add(Intent.DELETE, f"{what}: tables and columns are dropped with their data")
        every = effect == "unmigrate"
        call.add(Intent.MASS_MUTATION if every else Intent.WRITE, what)
        call.obj(ObjectKind.SCHEMA, ObjectAction.DROP if every else ObjectAction.REPLACE, name)
    elif effect == "drop-database":
        call.add(Intent.DELETE, what)
        call.obj(ObjectKind.DATABASE, ObjectAction.DROP, name)
    elif effect in ("delete", "unseen-delete", "unseen-empty"):
        call.add(Intent.DELETE, what)
        if effect != "delete":  # deletes by its name; the statements it runs are not visible
            call.add(Intent.DYNAMIC, f"{what}: its statements are not visible here")
        if effect == "unseen-empty":  # named for truncating: every row of what it is given
            call.add(Intent.MASS_MUTATION, f"{what}: every row of the tables it names")
        whole = effect != "unseen-empty" and kind in (
            ObjectKind.TABLE,
            ObjectKind.SCHEMA,
            ObjectKind.DATABASE,
        )
        call.obj(kind, ObjectAction.DROP if whole else ObjectAction.DELETE, name)
        if any(word.dynamic or word.glob for word in call.args):
            call.add(Intent.MASS_MUTATION, f"{what}: which ones is only known at run time")
    elif effect == "expire":  # as SQL names a TTL or an expiration: deletes, later, in bulk
        call.add(Intent.DELETE, what)
        call.add(Intent.MASS_MUTATION, what)
        call.obj(kind, ObjectAction.ALTER, name)
    elif effect in ("unprotect", "purge-backups"):
        if effect == "purge-backups":
            call.add(Intent.DELETE, f"{what}: the backups kept until now are deleted")
        call.add(Intent.MASS_MUTATION, f"{what}: what is deleted later cannot be recovered")
        call.add(Intent.PRIVILEGE, f"{what}: a safeguard is switched off")
        call.obj(kind, ObjectAction.ALTER, name)
    elif effect == "privilege":
        call.add(Intent.PRIVILEGE, what)
        call.obj(ObjectKind.ROLE, ObjectAction.GRANT, name)
    elif effect in ("export", "public-grant", "tunnel", "public-server"):
        call.add(Intent.EXPORT, what)
        call.obj(kind, ObjectAction.EXPORT_TARGET, name)
        if effect == "public-grant":
            call.add(Intent.PRIVILEGE, f"{what}: a policy or ACL grants others access")
        elif effect == "public-server":
            call.add(Intent.PRIVILEGE, f"{what}: others run what it may run")
        if effect in ("tunnel", "public-server"):
            call.add(Intent.HOST_ACCESS, f"{what}: another host reaches this one's services")
    elif effect == "replace":  # as SQL's CREATE OR REPLACE: what was there is gone
        call.add(Intent.WRITE, what)
        call.add(Intent.DELETE, f"{what}: what it held is replaced")
        replaced = kind if kind in (ObjectKind.DATABASE, ObjectKind.SCHEMA) else ObjectKind.TABLE
        call.obj(replaced, ObjectAction.REPLACE, name)
    elif effect == "overwrite":  # drops what is there and writes the copy in its place
        call.add(Intent.DELETE, what)
        call.add(Intent.WRITE, what)
        call.obj(ObjectKind.TABLE if kind is ObjectKind.OTHER else kind, ObjectAction.DROP, name)
    elif effect == "mass-write":
        call.add(Intent.WRITE, what)
        call.add(Intent.MASS_MUTATION, what)
        call.obj(kind, ObjectAction.WRITE, name)
    elif effect in ("host", "host-file", "host-root", "audit-off"):
        call.add(Intent.HOST_ACCESS, what)
        if effect in ("host-file", "host-root"):  # a file written, or a shell given, as the host
            done = "written" if effect == "host-file" else "run as root"
            call.add(Intent.PRIVILEGE, f"{what}: {done} with the server's own rights")
        elif effect == "audit-off":
            call.add(Intent.PRIVILEGE, f"{what}: what is done from now on goes unrecorded")
    elif effect == "host-schedule":  # as a file written under /etc/cron.d: planted on the host
        call.add(Intent.HOST_ACCESS, what)
        call.add(Intent.DYNAMIC, f"{what}: they run later, outside this run")
    elif effect == "untrusted-code":  # code no one vouches for, run on this host
        call.add(Intent.HOST_ACCESS, what)
        call.add(Intent.UNKNOWN, f"{what}: what it runs is not known")
    elif effect == "dynamic":
        call.add(Intent.DYNAMIC, what)
    elif effect in ("secret", "named-secrets"):
        prints_secret(call, what, named=effect == "named-secrets")
    elif effect == "harvest":  # a task reads the credential it needs, not every one there is
        prints_secret(call, what)
        call.add(Intent.PRIVILEGE, f"{what}: every credential there at once, wherever it goes")
    elif effect == "secret-store":
        call.add(Intent.UNKNOWN, f"{what}: a stored credential is set")
    elif effect == "unknown":
        call.add(Intent.UNKNOWN, what)
    elif effect == "lookup":
        built = [word for word in call.args if word.dynamic]
        if built:
            call.add(
                Intent.EXPORT, f"{call.prog} looks up a name built at run time: data leaves in it"
            )
            call.obj(ObjectKind.HOST, ObjectAction.EXPORT_TARGET, built[0].display)
    elif effect == "write":
        call.add(Intent.WRITE, what)
        call.obj(kind, ObjectAction.WRITE, name)
    # read: nothing worth a finding


def prints_secret(call: Call, what: str, *, named: bool = False) -> None:
    """Its output is a credential. Not privilege: `PGPASSWORD=$(vault kv get ...)` is how
    pipelines authenticate. Unknown is reviewed for AI agents and recorded for people and
    services; where its output goes (the task log or the network: privilege; a stdin consumer)
    is judged by the walk."""
    call.add(Intent.READ, f"{what}: reads a credential")
    call.add(Intent.UNKNOWN, f"{what}: a credential is printed")
    call.prints_credential(named=named)
