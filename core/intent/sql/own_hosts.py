"""Where a SQL call or statement connects to, from a URL or a libpq connection string written in
full: a host of the organisation's own network (the `own_network` table of rules/programs.yaml,
shared with the shell analyser), or a public web server fetched with nothing of the data in the
request. Instance metadata services are neither: they hand out live credentials."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from guardrails_core.intent.shell_registry import in_own_network, issues_credential
from guardrails_core.intent.this_machine import is_this_machine

OWN_HOST = "a host of the organisation's own network"
_WEB_SCHEMES = frozenset(("http", "https"))
# Cloud instance metadata and link-local addresses answer with the machine's own credentials
# and identity: never a plain read, whatever network table they fall in.
_METADATA_HOSTS = frozenset(
    ("metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal")
)
# the built-in superusers of PostgreSQL and its managed services
_SUPERUSERS = frozenset(
    ("postgres", "root", "rdsadmin", "azure_superuser", "cloudsqladmin", "supabase_admin")
)
_CONNINFO_PAIR = re.compile(r"\s*(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|[^\s']*)")
_CONNINFO = re.compile(rf"(?:{_CONNINFO_PAIR.pattern})+\s*")
_CONNINFO_URI = re.compile(r"(?i)^postgres(?:ql)?://")


def url_host(location: str) -> str | None:
    """The host a plain web URL (http, https, hdfs) is fetched from; None for anything else,
    and for a URL with a user, a password or `..` in its path."""
    try:
        parts = urlsplit(location.strip())
        host = parts.hostname
    except ValueError:
        return None
    if not host or parts.username is not None or ".." in parts.path.split("/"):
        return None
    return host


def own_network_url(location: str, schemes: frozenset[str] = _WEB_SCHEMES) -> bool:
    """`http://localhost:8080/health`, `hdfs://nn1.dc1.acme.internal:8020/tmp/x`: a URL of one
    of `schemes` whose host is of the organisation's own network (not a metadata service)."""
    host = url_host(location)
    scheme = location.strip().partition(":")[0].lower()
    return host is not None and scheme in schemes and _own_host(host, location)


def public_web_url(location: str) -> bool:
    """`https://raw.githubusercontent.com/.../codes.csv`: an https URL of a public server by
    name, with no credential in it; not a metadata, link-local or private address."""
    host = url_host(location)
    if host is None or not location.strip().lower().startswith("https://"):
        return False
    if host in _METADATA_HOSTS or issues_credential(location) or in_own_network(host):
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return "." in host
    return False  # an address written as a number: which machine it is, is not known here


def loopback_conninfo(conninfo: str) -> bool:
    """`host=localhost port=5433 dbname=analytics user=readonly` (or a postgresql:// URI):
    every host it names is this machine (a local replica, another port of the same server).
    Another server, even of the own network, is another database with its own data and
    credentials: not judged by where it is. A text with no host at all is a connection NAME
    (dblink's named connections), not judged here."""
    text = conninfo.strip()
    if _CONNINFO_URI.match(text):
        host = url_host(text)
        return host is not None and is_this_machine(host)
    if not _CONNINFO.fullmatch(text):
        return False  # not key=value pairs only: not a connection string read here
    pairs = _CONNINFO_PAIR.findall(text)
    values = {key.lower(): value.strip("'") for key, value in pairs}
    if values.get("user", "").lower() in _SUPERUSERS:
        return False  # connecting back as the server's superuser is an escalation, not a read
    hosts = [
        host
        for key in ("host", "hostaddr")
        for host in values.get(key, "").split(",")
        if key in values
    ]
    return bool(hosts) and all(is_this_machine(host) for host in hosts)


def _own_host(host: str, location: str) -> bool:
    host = host.lower().rstrip(".")
    if host in _METADATA_HOSTS or (location and issues_credential(location)):
        return False
    return in_own_network(host)


# Distributed file systems whose URL names the cluster (the name node) the files stay on.
_CLUSTER_SCHEMES = frozenset(("hdfs", "viewfs"))
_SCRATCH_FOLDER = re.compile(r"/tmp/[^/*?]+(?:/[^/*?]+)*/?")


def own_scratch_directory(location: str) -> bool:
    """`hdfs://nn1.dc1.acme.internal:8020/tmp/data_eng/region_counts_20261205`: a folder under
    /tmp of a cluster of the own network (not /tmp itself): the data stays on that cluster, in
    a place for scratch results."""
    if not own_network_url(location, _CLUSTER_SCHEMES):
        return False
    path = urlsplit(location.strip()).path
    return bool(_SCRATCH_FOLDER.fullmatch(path)) and ".." not in path.split("/")
