"""The dispatch table: which handler analyses which program."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection

from guardrails_core.intent.program_loader import registry
from guardrails_core.intent.shell.clients import _SQL_CLIENTS, _bq, _clickhouse, _sql_client
from guardrails_core.intent.shell.cloud_copy import (
    _astro,
    _aws,
    _az,
    _azcopy,
    _gcloud,
    _gsutil,
    _hdfs,
    _mc,
    _rclone,
    _s3cmd,
)
from guardrails_core.intent.shell.dumps import _DUMPERS, _RESTORERS, _dump, _restore
from guardrails_core.intent.shell.execution import (
    _INTERPRETERS,
    _alias,
    _eval,
    _inert,
    _interpreter,
    _shell,
    _source,
)
from guardrails_core.intent.shell.files import (
    _DEVICE_TOOLS,
    _chmod,
    _chown,
    _dd,
    _device_tool,
    _host_control,
    _plain_delete,
    _privilege_tool,
    _rm,
    _shred,
    _truncate,
)
from guardrails_core.intent.shell.filters import (
    _COMPRESSORS,
    _DECODERS,
    _READERS,
    _cat,
    _compressor,
    _copy,
    _create,
    _decoder,
    _echo,
    _mktemp,
    _passthrough,
    _printf,
    _prints_nothing,
    _reader,
    _tee,
)
from guardrails_core.intent.shell.find import _find
from guardrails_core.intent.shell.history import _history_off
from guardrails_core.intent.shell.network import (
    _curl,
    _ftp_family,
    _httpie,
    _mail,
    _netcat,
    _openssl,
    _rsync,
    _scp,
    _socat,
    _telnet,
    _wget,
)
from guardrails_core.intent.shell.options import _Handler, _words
from guardrails_core.intent.shell.schedules import _crontab
from guardrails_core.intent.shell.vcs import _git
from guardrails_core.intent.shell.wrappers import (
    _WRAPPERS,
    NOTEBOOK_SHELLS,
    _docker,
    _environment,
    _kubectl,
    _notebook_shell,
    _parallel,
    _ssh,
    _su,
    _trap,
    _watch,
    _which,
    _wrapped,
    _xargs,
)

_SHELLS = _words("sh bash zsh dash ksh mksh ash fish rbash")
_PRIVILEGE_TOOLS = _words(
    "usermod useradd userdel adduser deluser groupadd groupdel groupmod gpasswd passwd "
    "chpasswd chage visudo setcap addgroup delgroup"
)
_HOST_CONTROL = _words(
    "shutdown reboot halt poweroff init telinit insmod rmmod modprobe mount umount "
    "swapoff iptables ip6tables nft ufw systemctl service"
)
_INERT = _words(
    "cd pwd sleep date exit return shopt read test [ wait shift "
    "break continue unalias type hash umask ulimit getopts let seq yes "
    "whoami id hostname uname basename dirname mktemp jobs fg bg disown "
    "help pushd popd dirs sync nproc clear tput logger local declare typeset readonly "
    "export unset df free uptime ps compgen"
)


def _handlers() -> dict[str, _Handler]:
    table: dict[str, _Handler] = {
        "rm": _rm,
        "rimraf": _rm,
        "rmdir": _plain_delete,
        "unlink": _plain_delete,
        "shred": _shred,
        "truncate": _truncate,
        "find": _find,
        "git": _git,
        "dd": _dd,
        "chmod": _chmod,
        "chown": _chown,
        "chgrp": _chown,
        "scp": _scp,
        "rsync": _rsync,
        "sftp": _ftp_family,
        "ftp": _ftp_family,
        "lftp": _ftp_family,
        "nc": _netcat,
        "ncat": _netcat,
        "netcat": _netcat,
        "telnet": _telnet,
        "socat": _socat,
        "mail": _mail,
        "mailx": _mail,
        "mutt": _mail,
        "sendmail": _mail,
        "openssl": _openssl,
        "msmtp": _mail,
        "aws": _aws,
        "gsutil": _gsutil,
        "gcloud": _gcloud,
        "astro": _astro,
        "azcopy": _azcopy,
        "az": _az,
        "rclone": _rclone,
        "hdfs": _hdfs,
        "hadoop": _hdfs,
        "s3cmd": _s3cmd,
        "mc": _mc,
        "echo": _echo,
        ":": _prints_nothing,
        "true": _prints_nothing,
        "false": _prints_nothing,
        "printf": _printf,
        "cat": _cat,
        "tee": _tee,
        "pv": _passthrough,
        "mktemp": _mktemp,
        "buffer": _passthrough,
        "mbuffer": _passthrough,
        "cp": _copy,
        "mv": _copy,
        "install": _copy,
        "ln": _copy,
        "mkdir": _create,
        "touch": _create,
        "eval": _eval,
        "alias": _alias,
        "source": _source,
        ".": _source,
        "bq": _bq,
        "clickhouse": _clickhouse,
        "xargs": _xargs,
        "crontab": _crontab,
        "printenv": _environment,
        "which": _which,
        "history": _history_off,
        "set": _history_off,
        "trap": _trap,
        "parallel": _parallel,
        "watch": _watch,
        "ssh": _ssh,
        "docker": _docker,
        "docker-compose": _docker,
        "podman": _docker,
        "nerdctl": _docker,
        "finch": _docker,
        "su": _su,
        "runuser": _su,
        "curl": _curl,
        "wget": _wget,
        "http": _httpie,
        "https": _httpie,
        "xh": _httpie,
        "kubectl": _kubectl,
        "oc": _kubectl,
        "!": _notebook_shell,
        **dict.fromkeys(NOTEBOOK_SHELLS, _notebook_shell),
    }
    groups: list[tuple[Collection[str], _Handler]] = [
        (_COMPRESSORS, _compressor),
        (_DECODERS, _decoder),
        (_READERS, _reader),
        (_DEVICE_TOOLS, _device_tool),
        (_PRIVILEGE_TOOLS, _privilege_tool),
        (_HOST_CONTROL, _host_control),
        (_SHELLS, _shell),
        (_INTERPRETERS, _interpreter),
        (_SQL_CLIENTS, _sql_client),
        (_DUMPERS, _dump),
        (_RESTORERS, _restore),
        (_WRAPPERS, _wrapped),
        (_INERT, _inert),
    ]
    for programs, handler in groups:
        for program in programs:
            table.setdefault(program, handler)
    return table


_HANDLERS = _handlers()
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


# Folders a program name pattern is matched in: where the system's programs are installed.
_PROGRAM_FOLDERS = ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin")
_MOST_CANDIDATES = 8


def program_candidates(pattern: str) -> list[str]:
    """The known programs a program name pattern matches (`/???/r?` is /bin/rm, among others),
    as full paths, when there are a few; none when the pattern matches no known program or
    too many to read each."""
    folder, _, base = pattern.rpartition("/")
    folders = [f for f in _PROGRAM_FOLDERS if fnmatch.fnmatchcase(f, folder)] if folder else [""]
    names = [
        name
        for name in sorted({*_HANDLERS, *registry().programs})
        if fnmatch.fnmatchcase(name, base)
    ]
    if not folders or not names or len(names) > _MOST_CANDIDATES:
        return []
    return [f"{folders[0]}/{name}" if folder else name for name in names]
