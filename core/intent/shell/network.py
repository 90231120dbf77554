"""Uploads and downloads: handlers for programs that move data across the network."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from guardrails_core.intent import registry_effects, shell_registry
from guardrails_core.intent.run_parameters import switched_run
from guardrails_core.intent.shell.files import (
    _delete,
    _record_copy,
    _record_folder_write,
    _record_write,
    _special_file,
)
from guardrails_core.intent.shell.options import (
    _SCP_REMOTE,
    _Call,
    _is_workspace,
    _Location,
    _options,
    _parse,
    _Parsed,
    _scp_location,
    _url_basename,
    _url_host,
    _words,
)
from guardrails_core.intent.shell.own_network import OWN_HOST, stays_inside
from guardrails_core.intent.shell.run_endpoints import judge_run_triggers
from guardrails_core.intent.shell.words import (
    EXPANSION_PLACEHOLDER,
    _concat,
    _Feed,
    _names,
    _Origin,
    _Word,
)
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
)

# ----- uploads and downloads


def _export(
    call: _Call,
    destinations: Sequence[_Location],
    payload: Sequence[_Word],
    tool: str,
    *,
    sent_remote: Sequence[str] = (),
    to: str | None = None,
) -> None:
    """Record data leaving: ``payload`` local files ("-" is stdin) sent to ``destinations``."""
    sent: list[str] = list(sent_remote)
    for word in payload:
        if word.value == "-":
            sent.append(call.stdin())
        else:
            call.obj(ObjectKind.FILE, ObjectAction.READ, word.display)
            _special_file(call.effect, word, tool, writes=False)  # a credentials file: privilege
            sent.append(word.display)
    inside = stays_inside(call, destinations, payload)
    for kind, name in destinations:
        call.obj(kind, ObjectAction.WRITE if inside else ObjectAction.EXPORT_TARGET, name)
    where = to or ", ".join(name for _, name in destinations) or "a remote destination"
    if inside:
        call.add(Intent.WRITE, f"{tool} copies {', '.join(sent)} to {where}, {OWN_HOST}")
    else:
        call.add(Intent.EXPORT, f"{tool} uploads {', '.join(sent) or 'data'} to {where}")


def _transfer(
    call: _Call,
    operands: Sequence[_Word],
    locate: Callable[[_Word], _Location | None],
    tool: str,
) -> _Location | None:
    """``tool SOURCE... DEST``: an export when DEST is remote, a download when a source is.

    A destination that starts with an expansion could be anywhere: it counts as remote.
    """
    if len(operands) < 2:
        return None
    *sources, dest = operands
    where = locate(dest) or ((ObjectKind.URL, dest.display) if dest.unknown_location else None)
    if where is not None:
        local = [s for s in sources if locate(s) is None]
        remote = [found for s in sources if (found := locate(s)) is not None]
        for kind, name in remote:
            call.obj(kind, ObjectAction.READ, name)
        _export(
            call, [where], local, tool, sent_remote=[name for _, name in remote], to=dest.display
        )
        return where
    remote_sources = [s for s in sources if locate(s) is not None]
    if remote_sources:
        for source in remote_sources:
            kind, name = locate(source) or (ObjectKind.URL, source.display)
            call.obj(kind, ObjectAction.READ, name)
        call.add(Intent.READ, f"{tool} downloads {_names(remote_sources)}")
    else:
        for source in sources:
            call.obj(ObjectKind.FILE, ObjectAction.READ, source.display)
        call.add(Intent.READ, f"{tool} reads {_names(sources)}")
    fetched = _Feed(_Origin.DOWNLOAD, f"{tool} {_names(sources)}")
    if dest.value == "-":
        call.stdout = fetched
        return None
    _record_copy(call.effect, sources, dest, tool, recursive=False)
    for source in sources:
        content = fetched if locate(source) else call.analyzer.produced_by(source)
        if content is not None:  # into DEST itself, or into DEST/ when it is a directory
            call.analyzer.note_produced(dest, content)
            name = (
                _url_basename(source.value) if locate(source) else posixpath.basename(source.value)
            )
            call.analyzer.note_produced(
                replace(dest, value=posixpath.join(dest.value, name)), content
            )
    return None


_CURL_VALUES = _words(
    "-A -b -c -C -d -D -e -E -F -H -K -m -o -P -Q -r -t -T -u -U -w -x -X -y -Y -z "
    "--data --data-ascii --data-binary --data-raw --data-urlencode --json --form "
    "--form-string --upload-file --request --header --output --user --user-agent "
    "--referer --cookie --cookie-jar --proxy --max-time --connect-timeout --write-out "
    "--config --cert --key --cacert --capath --range --retry --retry-delay "
    "--retry-max-time --continue-at --proxy-user --url --limit-rate --resolve "
    "--output-dir --dump-header --trace --trace-ascii --stderr --interface "
    "--max-filesize --oauth2-bearer --aws-sigv4 --variable --connect-to"
)
_CURL_DATA = _words("-d --data --data-ascii --data-binary --json")
_CURL_FORM = _options("-F", "--form")
_CURL_FORM_FILE = re.compile(r"^[^=]*=[@<]")


_CURL_CARRIERS = _words("-H --header -A --user-agent -e --referer -b --cookie -u --user")


def _leaks(words: Sequence[_Word], origins: _Origin) -> list[_Word]:
    """Request parts built from local data (``-d "$(cat f)"``, ``?q=$(cat /etc/passwd)``)."""
    return [  # the origin kept: a credential read into the request is never plain data
        replace(_Word.literal(f"the output of {word.source or word.display}"), origin=word.origin)
        for word in words
        if word.origin & origins
    ]


# a query or form field and its value: `?chat_id=1&text=...` in a URL, `text=...` in a body
_FIELD = re.compile(r"(?:^|[?&;])([\w.\[\]-]+)=([^&;#]*)")
_VARIABLE = re.compile(r"\$\{?([A-Za-z_]\w*)")
# field names that authenticate a request besides those of credential variables (`?key=`)
_AUTH_FIELDS = frozenset(("key", "auth", "sig", "signature", "pass", "pwd", "access_token"))


def _sent_credentials(call: _Call, words: Sequence[_Word]) -> list[str]:
    """A credential in a request field whose name does not say it is one (``?text={}`` fed a
    password by xargs, ``-d "msg=$DB_PASSWORD"``) is sent as data: privilege, and data out. In
    a field named for one (``?api_key=``), the user part, a path or a header it authenticates
    the request, as a credential is used. What it names."""
    sent = []
    for word in words:
        if word.origin & (_Origin.FILE | _Origin.DUMP):
            continue  # sent whole already (_leaks)
        carried = word.origin & (_Origin.SECRET | _Origin.CREDENTIALS)
        for name, value in _FIELD.findall(word.value):
            if name.lower() in _AUTH_FIELDS or shell_registry.names_credential(name):
                continue
            written = re.search(rf"[?&;]?{re.escape(name)}=([^&;#]*)", word.display)
            variables = _VARIABLE.findall(written.group(1)) if written else []
            named = next(filter(shell_registry.names_credential, variables), None)
            if named or (carried and EXPANSION_PLACEHOLDER in value):
                what = f"${named}" if named else word.source or "a credential"
                call.add(Intent.PRIVILEGE, f"{call.prog} sends {what} in the field {name!r}")
                sent.append(f"{what} (in {name}=)")
                break
    return sent


def _carrying(urls: Sequence[_Word]) -> list[_Word]:
    """URLs that can carry data: one that is wholly a substitution (`curl -O "$(cat url.txt)"`,
    `xargs -n1 curl -O`) is read from a list of addresses: it names what to fetch."""
    return [url for url in urls if url.value.strip() != EXPANSION_PLACEHOLDER]


def _curl(call: _Call) -> None:
    parsed = _parse(call.args, _CURL_VALUES)
    urls = parsed.operands + parsed.values("--url")
    payload: list[_Word] = []
    for value in parsed.values("-T", "--upload-file"):
        payload.append(_Word.literal("-") if value.value in ("-", ".") else value)
    for value in parsed.values(*_CURL_DATA):
        if value.value.startswith("@"):
            payload.append(value.tail(1))
    for value in parsed.values("--data-urlencode"):
        if re.match(r"^[^=]*@", value.value):
            payload.append(value.after("@"))
    for value in parsed.values(*_CURL_FORM):
        if _CURL_FORM_FILE.match(value.value):
            path = re.split(r"[@<]", value.value, maxsplit=1)[1].split(";")[0]
            payload.append(_Word.literal(path))
    bodies = parsed.values(*_CURL_DATA, "--data-raw", "--data-urlencode", *_CURL_FORM)
    payload.extend(_leaks(bodies, _Origin.FILE | _Origin.DUMP | _Origin.DATA))
    method = next((m.value.upper() for m in parsed.values("-X", "--request")), "")
    if method == "DELETE":
        call.add(Intent.DELETE, f"curl -X DELETE asks {_names(urls)} to delete what it names")
        call.add(Intent.MASS_MUTATION, f"an HTTP DELETE of {_names(urls)} removes it whole")
        for url in urls:
            call.obj(ObjectKind.URL, ObjectAction.DELETE, url.display)
    if any(_BULK_HTTP_DELETE.search(url.value) for url in urls):
        call.add(Intent.MASS_MUTATION, f"{_names(urls)} deletes every document its query matches")
    _sql_in_payloads(call, [*bodies, *urls])
    switched_run(call, bodies)  # a DAG run posted with {"full_refresh": true}
    judge_run_triggers(call, urls, posts=method == "POST" or (not method and bool(bodies)))
    payload.extend(
        _leaks([*_carrying(urls), *parsed.values(*_CURL_CARRIERS)], _Origin.FILE | _Origin.DUMP)
    )
    sent = _sent_credentials(call, [*_carrying(urls), *bodies])
    if payload or sent:
        destinations = [(ObjectKind.URL, url.display) for url in urls]
        _export(call, destinations, payload, "curl", sent_remote=sent)
    else:
        for url in urls:
            call.obj(ObjectKind.URL, ObjectAction.READ, url.display)
        call.add(Intent.READ, f"curl fetches {_names(urls)}")
    outputs = parsed.values("-o", "--output")
    fetched = _Feed(_Origin.DOWNLOAD, f"curl {_names(urls)}")
    folder = parsed.values("--output-dir")[-1:]
    for output in outputs:
        if output.value != "-":
            written = _inside(folder, output)
            _record_write(call.effect, written, "curl -o")
            call.analyzer.note_produced(written, fetched)
    if parsed.has("-O", "--remote-name", "--remote-name-all"):
        for url in urls:
            written = _inside(folder, _Word.literal(_url_basename(url.value)))
            if folder:  # `curl -O --output-dir ~/.ssh URL`: the folder makes the write matter
                _record_write(call.effect, written, "curl -O --output-dir")
            call.analyzer.note_produced(written, fetched)
    saved = parsed.has("-O", "--remote-name", "--remote-name-all") or any(
        o.value != "-" for o in outputs
    )
    call.stdout = None if saved else fetched
    _live_credential(call, urls)


def _live_credential(call: _Call, urls: Sequence[_Word]) -> None:
    """An instance metadata service's credential (rules/programs.yaml credentials.urls)."""
    issuing = [url for url in urls if shell_registry.issues_credential(url.value)]
    if issuing and call.stdout is not None:
        registry_effects.prints_secret(
            call, f"{call.prog} fetches a live credential from {issuing[0].display}"
        )


# Database HTTP APIs whose endpoint deletes in bulk (Elasticsearch/OpenSearch delete-by-query).
_BULK_HTTP_DELETE = re.compile(r"/_delete_by_query\b|/_truncate\b|/_flush_all\b")
_SQL_START = re.compile(
    r"(?is)^\s*(?:select|insert|update|delete|drop|truncate|alter|create|grant|revoke|with|merge|"
    r"copy|unload|call|exec|execute|replace|rename|optimize|vacuum|attach|detach|kill|system)\b"
)
_SQL_FIELDS = re.compile(  # JSON, YAML flow ({sql: '...'}) or a query string
    r"(?i)(?<![\w-])[\"']?(?:statement|query|sql|command|stmt|q)[\"']?\s*:\s*"
    r"(?:\"((?:[^\"\\]|\\.)*)\"|'((?:[^']|'')*)')"
    r"|(?:^|[?&])(?:query|q|sql)=([^&]+)"
)


def _sql_in_payloads(call: _Call, words: Sequence[_Word], dialect: str | None = None) -> None:
    """SQL sent over HTTP (ClickHouse, InfluxQL, Databricks, Trino REST): analysed as SQL (of
    the engine's dialect when the API says which)."""
    from urllib.parse import unquote_plus

    for word in words:
        text = word.value
        candidates = [text] if _SQL_START.match(text) else []
        for match in _SQL_FIELDS.finditer(text):
            double, single, query = match.groups()
            found = unquote_plus(query) if query is not None else single
            candidates.append(double.replace('\\"', '"') if double is not None else found)
        for sql in candidates:
            # a query API of a known engine: its statement field is SQL, whatever its first word
            if _SQL_START.match(sql) or (dialect is not None and sql.strip()):
                call.effect.embedded.extend(call.analyzer.nested_sql(sql, dialect))


_WGET_VALUES = _words(
    "-O --output-document -o --output-file -a --append-output -i --input-file -P "
    "--directory-prefix -U --user-agent --header --post-data --post-file --body-data "
    "--body-file --method -t --tries -T --timeout -w --wait --user --password -e "
    "--execute -B --base"
)


def _wget(call: _Call) -> None:
    parsed = _parse(call.args, _WGET_VALUES)
    urls = parsed.operands
    carriers = parsed.values("--post-data", "--body-data", "--header")
    payload = parsed.values("--post-file", "--body-file")
    payload += _leaks([*_carrying(urls), *carriers], _Origin.FILE | _Origin.DUMP)
    bodies = parsed.values("--post-data", "--body-data")
    sent = _sent_credentials(call, [*_carrying(urls), *bodies])
    if payload or sent:
        destinations = [(ObjectKind.URL, url.display) for url in urls]
        _export(call, destinations, payload, "wget", sent_remote=sent)
    else:
        for url in urls:
            call.obj(ObjectKind.URL, ObjectAction.READ, url.display)
        call.add(Intent.READ, f"wget fetches {_names(urls)}")
    call.stdout = None
    fetched = _Feed(_Origin.DOWNLOAD, f"wget {_names(urls)}")
    outputs = parsed.values("-O", "--output-document")
    for output in outputs:
        if output.value == "-":
            call.stdout = fetched
        else:
            _record_write(call.effect, output, "wget -O")
            call.analyzer.note_produced(output, fetched)
    if not outputs:
        folder = parsed.values("-P", "--directory-prefix")[-1:]
        for url in urls:
            saved = _inside(folder, _Word.literal(_url_basename(url.value)))
            if folder:  # `wget -P ~/.ssh URL`: the folder makes the write matter
                _record_write(call.effect, saved, "wget -P")
            call.analyzer.note_produced(saved, fetched)
    _live_credential(call, urls)


def _inside(folder: Sequence[_Word], name: _Word) -> _Word:
    """The file a downloader saves ``name`` as, in the folder given (if one)."""
    if not folder or name.value.startswith("/"):
        return name
    return _concat([folder[0], name], "" if folder[0].value.endswith("/") else "/")


_HTTPIE_VALUES = _words(
    "-o --output -a --auth -A --auth-type --session --session-read-only --verify --cert "
    "--cert-key --proxy -p --print --pretty -s --style --timeout --max-redirects "
    "--default-scheme --format-options --response-charset --response-mime-type"
)


def _httpie(call: _Call) -> None:
    parsed = _parse(call.args, _HTTPIE_VALUES)
    urls = [w for w in parsed.operands if "://" in w.value or "." in w.value][:1]
    files = [w.after("@") for w in call.args if re.match(r"^[\w-]+=?@", w.value)]
    # the URL and the request items (field=value, param==value, Header:value)
    request = [*_carrying(urls), *(w for w in parsed.operands if w not in urls)]
    files += _leaks(request, _Origin.FILE | _Origin.DUMP)
    sent = _sent_credentials(call, request)
    if files or sent or (call.feed is not None and call.feed.literal is None):
        _export(
            call,
            [(ObjectKind.URL, u.display) for u in urls],
            files or ([] if sent else [_Word.literal("-")]),
            call.prog,
            sent_remote=sent,
        )
    else:
        call.add(Intent.READ, f"{call.prog} fetches {_names(urls)}")
    fetched = _Feed(_Origin.DOWNLOAD, f"{call.prog} {_names(urls)}")
    call.stdout = fetched
    for output in parsed.values("-o", "--output"):  # `http -d -o FILE URL`: saved there
        _record_write(call.effect, output, f"{call.prog} -o")
        call.analyzer.note_produced(output, fetched)
        call.stdout = None
    _live_credential(call, urls)


_SCP_VALUES = _words("-P -i -o -F -c -l -J -S -D -X")
_RSYNC_VALUES = _words(
    "-e --rsh -f --filter --exclude --include --exclude-from --include-from --files-from "
    "--port -T --temp-dir --log-file --password-file --bwlimit --chmod --chown -B "
    "--block-size --timeout --compare-dest --copy-dest --link-dest --backup-dir --suffix "
    "--rsync-path --out-format --max-size --min-size -M --remote-option --partial-dir"
)


def _scp(call: _Call) -> None:
    parsed = _parse(call.args, _SCP_VALUES)
    _transfer(call, parsed.operands, _scp_location, "scp")
    _whole_folder(call, parsed, "scp", "-r")


def _rsync(call: _Call) -> None:
    parsed = _parse(call.args, _RSYNC_VALUES)
    _transfer(call, parsed.operands, _scp_location, "rsync")
    _whole_folder(call, parsed, "rsync", "-r", "-a", "--recursive", "--archive")
    if len(parsed.operands) < 2:
        return
    for option, _ in parsed.options:
        if option.startswith("--del") or option == "--remove-source-files":
            sources = option == "--remove-source-files"
            removed = parsed.operands[:-1] if sources else parsed.operands[-1:]
            what = "the source files" if sources else "files missing from the source"
            deploy = not sources and _deploys(call, parsed.operands)
            if deploy:
                what = "stale copies (a folder of the workspace deployed onto its namesake)"
            _delete(
                call,
                removed,
                f"rsync {option} removes {what} from {_names(removed)}",
                bulk=not deploy,
            )


def _whole_folder(call: _Call, parsed: _Parsed, tool: str, *recursive: str) -> None:
    """A recursive copy into a local folder writes files of names not visible here there."""
    if parsed.has(*recursive) and len(parsed.operands) >= 2:
        dest = parsed.operands[-1]
        if _scp_location(dest) is None and not dest.unknown_location:
            _record_folder_write(call.effect, dest, tool)


def _deploys(call: _Call, operands: Sequence[_Word]) -> bool:
    """``rsync --delete dags/ /opt/airflow/dags/``: one folder of the working tree mirrored
    onto a folder of the same name, local or on a host of the organisation's own network
    (``worker-01.internal:/opt/airflow/dags/``); what is deleted there are files removed here."""
    if len(operands) != 2 or _scp_location(operands[0]):
        return False
    source, dest = operands
    if not _is_workspace(source) or dest.dynamic or dest.glob:
        return False
    remote = _scp_location(dest)
    path = dest.value
    if remote is not None:
        if remote[0] is not ObjectKind.HOST or not stays_inside(call, [remote], [source]):
            return False
        path = _SCP_REMOTE.sub("", path)
    if shell_registry.folder_holds(path, ("data",)):  # a database server's own files
        return False
    name = posixpath.basename(source.value.rstrip("/"))
    return name not in ("", ".", "..") and name == posixpath.basename(path.rstrip("/"))


def _ftp_commands(call: _Call, script: _Word | None, host: str | None, tool: str) -> None:
    """sftp/ftp/lftp command scripts: put/mput/mirror -R send local files to the server."""
    if host:
        call.obj(ObjectKind.HOST, ObjectAction.EXECUTE, host)
    if script is None:
        return
    sent: list[_Word] = []
    for line in re.split(r"[\n;]", script.value):
        words = line.split()
        if not words:
            continue
        verb = words[0].lower()
        if verb in _FTP_UPLOADS:
            sent.extend(_Word.literal(word) for word in words[1:2])
        elif verb == "mirror" and len(words) > 2 and words[1] in ("-R", "--reverse"):
            sent.append(_Word.literal(words[2]))
    if sent:
        _export(call, [(ObjectKind.HOST, host or "the server")], sent, tool)
    if script.dynamic:
        call.add(Intent.DYNAMIC, f"the {tool} commands are built at run time")


_FTP_UPLOADS = _words("put mput reput send append")


def _ftp_family(call: _Call) -> None:
    parsed = _parse(
        call.args,
        _words("-b -P -i -o -F -e -c -u -p -l -D -s -B -R -S -J"),
    )
    targets = [w for w in parsed.operands if not w.value.isdigit()]
    host = None
    if targets:
        location = _scp_location(targets[0])
        host = location[1] if location else _url_host(targets[0].value).rpartition("@")[2]
    if call.prog == "sftp" and len(targets) == 2 and _scp_location(targets[0]):
        _transfer(call, targets, _scp_location, "sftp")  # sftp HOST:SRC LOCAL: a download
    scripts = parsed.values("-e", "-c") if call.prog == "lftp" else []
    batch = parsed.values("-b") if call.prog == "sftp" else []
    if batch and batch[0].value != "-":
        call.obj(ObjectKind.FILE, ObjectAction.READ, batch[0].display)
        call.add(Intent.DYNAMIC, f"sftp runs commands from {batch[0].display}, not visible here")
    script = scripts[0] if scripts else (call.feed.literal if call.feed else None)
    if script is None and call.feed is not None:
        call.add(Intent.DYNAMIC, f"{call.prog} runs commands from {call.feed.description}")
    _ftp_commands(call, script, host, call.prog)


_NC_VALUES = _words(
    "-p -s -w -i -x -X -e -c -q -W -I -O -T -V --exec --sh-exec --lua-exec --source-port"
)


_NC_SHELLS = ("-e", "-c", "--exec", "--sh-exec", "--lua-exec")


def _netcat(call: _Call) -> None:
    _connect(call, _NC_SHELLS)


def _telnet(call: _Call) -> None:
    """What is fed to telnet is sent, as nc's; its -e is the escape character, not a program."""
    _connect(call, ())


def _connect(call: _Call, shell_options: tuple[str, ...]) -> None:
    parsed = _parse(call.args, _NC_VALUES)
    listening = parsed.has("-l", "--listen")
    hosts = [] if listening else [w for w in parsed.operands[:1] if not w.value.isdigit()]
    for host in hosts:
        call.obj(
            ObjectKind.HOST,
            ObjectAction.EXPORT_TARGET if call.feed else ObjectAction.READ,
            host.display,
        )
    where = _names(hosts) if hosts else "whoever connects"
    shells = parsed.values(*shell_options)
    if shells:
        message = f"{call.prog} hands {_names(shells)} to the network ({where}): a remote shell"
        call.add(Intent.HOST_ACCESS, message)
        call.add(Intent.DYNAMIC, message)
    if call.feed is not None:
        call.add(Intent.EXPORT, f"{call.prog} sends {call.stdin()} to {where}")
    call.stdout = _Feed(_Origin.DOWNLOAD, f"{call.prog} {where}")


def _socat(call: _Call) -> None:
    addresses = _parse(call.args, _words("-d -lf -t -T"), clusters=False).operands
    network = [
        a for a in addresses if re.match(r"(?i)^(tcp|udp|sctp|openssl|ssl)[46]?[-:]", a.value)
    ]
    local = [a for a in addresses if re.match(r"(?i)^(file|open|gopen|create|pipe):", a.value)]
    execs = [a for a in addresses if re.match(r"(?i)^(exec|system):", a.value)]
    hosts = [a.value.split(":")[1] for a in network if a.value.count(":") >= 2]
    for host in hosts:
        call.obj(ObjectKind.HOST, ObjectAction.EXPORT_TARGET, host)
    where = ", ".join(hosts) or "whoever connects"
    if network and execs:
        message = f"socat connects {_names(execs)} to the network ({where}): a remote shell"
        call.add(Intent.HOST_ACCESS, message)
        call.add(Intent.DYNAMIC, message)
    if network and (local or call.feed is not None):
        sent = [a.after(":") for a in local] or [_Word.literal("-")]
        _export(call, [(ObjectKind.HOST, h) for h in hosts], sent, "socat")
    listeners = [a for a in addresses if re.match(r"(?i)^(tcp|udp|sctp)[46]?-listen:", a.value)]
    if listeners and len(network) >= 2:
        call.add(Intent.EXPORT, f"socat relays {_names(listeners)} to {where}: a tunnel")
    call.stdout = _Feed(_Origin.DOWNLOAD, f"socat {where}")


def _openssl(call: _Call) -> None:
    """``openssl s_client -connect host:port < file`` sends the file; other commands encode."""
    if not call.args or call.args[0].value != "s_client":
        from guardrails_core.intent.shell.filters import _decoder

        _decoder(call)
        return
    parsed = _parse(call.args[1:], _words("-connect -servername -proxy -CAfile -cert -key"))
    hosts = [(ObjectKind.HOST, h.display) for h in parsed.values("-connect", "-proxy")]
    feed = call.feed
    if feed is not None and feed.literal is None and feed.origin:
        _export(call, hosts, [_Word.literal("-")], "openssl s_client")
    else:
        for kind, name in hosts:
            call.obj(kind, ObjectAction.READ, name)
        call.add(Intent.READ, "openssl s_client opens a TLS connection")


def _mail(call: _Call) -> None:
    parsed = _parse(call.args, _words("-a -A -s -c -b -r -S -F"))
    attachments = parsed.values("-a", "-A")
    feed = call.feed  # the body: a file or some program's output is data leaving too
    if feed is not None and feed.literal is None and feed.origin:
        attachments.append(_Word.literal("-"))
    if attachments:
        recipients = [(ObjectKind.URL, f"mailto:{r.display}") for r in parsed.operands]
        _export(call, recipients, attachments, call.prog)
