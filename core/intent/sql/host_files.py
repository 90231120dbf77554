"""Files of the host a statement names (a load, a table function, an output file): the file
tables of rules/programs.yaml say which paths are the host's own and which hold credentials."""

from __future__ import annotations

import re

_REMEMBERED = 50_000  # answers kept before the table is emptied (a long-lived worker)


# File classes of rules/programs.yaml that are the host's, not data (`exports` and `activation`
# are the shell's: data files a script stages, a virtualenv it enters).
HOST_FILE_CLASSES = frozenset({"system", "secrets", "startup", "privileged", "data"})


def host_file(location: str) -> str:
    """ "credentials", "trust" (who may log in, what a server trusts) or "host" for a path in
    the file tables of rules/programs.yaml (secrets and environments; privileged; system,
    startup, server data): loading or writing it reaches the host, whatever statement names
    it. "" for any other path."""
    # A pipeline loads the same few landing files over and over: the answer for each is kept
    # (strings only, which the cyclic collector never has to look at).
    found = _HOST_FILES.get(location)
    if found is None:
        if len(_HOST_FILES) >= _REMEMBERED:
            _HOST_FILES.clear()
        found = _HOST_FILES[location] = _in_host_file_tables(location)
    return found


_HOST_FILES: dict[str, str] = {}

# a path written in an opaque command line (cmd.exe, PowerShell): C:\x\y, /etc/x, ~/.x
_COMMAND_PATH = re.compile(r"""(?:[A-Za-z]:\\|~/|/)[^\s"'`;|&<>()]+""")


# `\\host\share\x` (or //host/share/x): a Windows network path; `\\.\` and `\\?\` are local devices.
_UNC = re.compile(r"^(?:\\\\|//)([^\\/?.][^\\/]*)[\\/]")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def unc_host(location: str) -> str | None:
    """The other machine a Windows network path names, if it names one."""
    match = _UNC.match(location)
    if match is None or match.group(1).lower() in _LOCAL_HOSTS:
        return None
    return match.group(1)


def climbs_out(location: str) -> bool:
    """A relative path that steps into a folder and then climbs back out past where it started
    (`exports/../../../var/www/x.csv`): written to look like a file of the working folder, it
    names one outside it (an honest path up is written `../x`)."""
    parts = [part for part in re.split(r"[\\/]+", location) if part not in ("", ".")]
    if not parts or location.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", location):
        return False
    depth, descended = 0, False
    for part in parts:
        if part == "..":
            depth -= 1
            if depth < 0 and descended:
                return True
        else:
            depth, descended = depth + 1, True
    return False


def credential_paths(command: str) -> list[str]:
    """The credentials files an operating-system command line names (`powershell Get-Content
    C:\\inetpub\\wwwroot\\web.config`): its shell is not read, its literal paths are."""
    return [p for p in _COMMAND_PATH.findall(command) if host_file(p) == "credentials"]


def _in_host_file_tables(location: str) -> str:
    path = re.sub(r"(?i)^file:(?://)?", "", location)  # file:///etc/x, file:/root/.cfg
    if re.match(r"^[a-zA-Z]:[\\/]", path):
        path = path.replace("\\", "/").lower()
    # Here, not at import: the shell and Mongo registries cost a fresh SQL worker ~15 ms.
    from guardrails_core.intent import shell_registry

    classes = shell_registry.file_classes(path)
    if HOST_FILE_CLASSES.isdisjoint(classes):
        return ""
    if classes & {"secrets", "environ"}:
        return "credentials"
    return "trust" if "privileged" in classes else "host"
