"""The crontab read back and reinstalled: ``crontab -l | grep -v pg_basebackup | crontab -``
starts like a listing, but the filtered lines become the new crontab: the jobs filtered out
(a nightly backup, a retention sweep) are removed from the host's schedule. Any other input
stays the registry's ``dynamic`` (jobs whose commands run later, unseen)."""

from __future__ import annotations

from dataclasses import replace

from guardrails_core.intent.shell.options import _Call, _parse, _words
from guardrails_core.model import Intent, ObjectAction, ObjectKind

_CRONTAB_VALUES = _words("-u -c")


def _crontab(call: _Call) -> None:
    parsed = _parse(call.args, _CRONTAB_VALUES)
    if parsed.has("-l") and call.stdout is not None:
        call.stdout = replace(call.stdout, state_of="crontab")
        return
    feed = call.feed
    from_stdin = [word.value for word in parsed.operands] in ([], ["-"])
    if not from_stdin or feed is None or feed.state_of != "crontab" or parsed.has("-r", "-e"):
        return
    if feed.filtered:
        call.obj(ObjectKind.OTHER, ObjectAction.DELETE, "crontab")
        call.add(
            Intent.DELETE,
            f"crontab - installs {feed.description}: the jobs filtered out are removed",
        )
        call.add(Intent.HOST_ACCESS, "crontab - rewrites the host's scheduled jobs")
