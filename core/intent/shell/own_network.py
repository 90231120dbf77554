"""Data copied to a host of the organisation's own network has not left it.

A transfer tool (scp, rsync, sftp, ssh, curl, ...) whose every destination is named, in full,
as a host of that network (``shell_registry.in_own_network``) writes there: no export. Unless
what it sends is a credential, a folder that holds them, or not visible here; or an option
sends the connection to another host than the one named (a proxy, an ssh config or HostName).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from guardrails_core.intent import shell_registry
from guardrails_core.intent.shell.credentials import _holds_credential
from guardrails_core.intent.shell.options import _Call, _file_read, _Location
from guardrails_core.intent.shell.words import _Origin, _Word
from guardrails_core.model import ObjectKind

OWN_HOST = "a host of the organisation's own network"
# An argument that sends the connection elsewhere than the host named, per tool: an ssh
# config file (-F) or setting (HostName, ProxyCommand), also inside rsync -e; a proxy, a
# resolver override or a config file of curl, wget, HTTPie, lftp. Tools not listed here
# (nc, socat, mail, cloud copies) are not judged by where the host is.
_SSH_REROUTE = re.compile(r"(?i)(?:^|\s)-\w*F|host\s*name|proxy\s*command")
_REROUTES = {
    "ssh": _SSH_REROUTE,
    "scp": _SSH_REROUTE,
    "sftp": _SSH_REROUTE,
    "rsync": _SSH_REROUTE,
    "curl": re.compile(r"^-[a-zA-Z]*[xK]|^--(?:proxy|preproxy|socks\w*|resolve|connect-to|config)"),
    "wget": re.compile(r"^-[a-zA-Z]*e|^--(?:execute|config)|proxy"),
    "http": re.compile(r"^--proxy"),
    "https": re.compile(r"^--proxy"),
    "xh": re.compile(r"^--proxy"),
    "lftp": re.compile(r"(?i)proxy"),
    "ftp": re.compile(r"(?i)proxy"),
}
# URL schemes whose host part is the host the data goes to (not a bucket or a remote's name)
_HOST_SCHEMES = frozenset(("http", "https", "ftp", "ftps", "sftp", "scp", "ssh", "rsync"))


def stays_inside(call: _Call, destinations: Sequence[_Location], payload: Sequence[_Word]) -> bool:
    """Whether ``payload`` (local files, "-" for stdin) sent to ``destinations`` stays in the
    organisation's own network."""
    reroute = _REROUTES.get(call.prog)
    if reroute is None or not destinations:
        return False
    if any(reroute.search(word.value) for word in call.args):
        return False
    return all(_own_host(kind, name) for kind, name in destinations) and all(
        _plain_data(call, word) for word in payload
    )


def _own_host(kind: ObjectKind, name: str) -> bool:
    if kind is ObjectKind.HOST:
        return shell_registry.in_own_network(name.rpartition("@")[2])
    if kind is not ObjectKind.URL:
        return False
    try:
        parts = urlsplit(name)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in _HOST_SCHEMES and shell_registry.in_own_network(host or "")


def _plain_data(call: _Call, word: _Word) -> bool:
    """Data, not credentials: stdin that carries none, or a file or folder named in full that
    is not a credentials file and holds none."""
    if word.value == "-":
        feed = call.feed
        return (
            feed is not None
            and not feed.origin & _Origin.CREDENTIALS
            and not _holds_credential(feed)
        )
    if word.origin & (_Origin.CREDENTIALS | _Origin.SECRET):
        return False  # -d "$(cat ~/.aws/credentials)"
    return not _file_read(word) & _Origin.CREDENTIALS
