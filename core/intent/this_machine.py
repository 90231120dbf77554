"""Whether a host, written out whole, is this machine: the one answer for the SQL analyser
(connection strings, dictionary sources) and the shell analyser (a client's `--host`)."""

from __future__ import annotations

import ipaddress

_THIS_MACHINE = frozenset((ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")))


def is_this_machine(host: str) -> bool:
    """`localhost` (in any case), `127.0.0.1`, `::1`, `[::1]`: the loopback address of each
    family, or the one name every resolver maps to it. Not `localhost.` nor `db.localhost`:
    a resolver, or a search domain's DNS zone, may answer those with any host. Nor the rest of
    127.0.0.0/8: a server bound to 127.0.0.2 alone is another one than the server's own."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host) in _THIS_MACHINE
    except ValueError:
        return False
