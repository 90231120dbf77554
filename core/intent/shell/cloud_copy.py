"""Object-store and cloud copy programs (aws s3, gsutil, gcloud storage, azcopy, rclone):
what they copy, sync or delete, and where it goes."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from guardrails_core.intent import retention, shell_registry
from guardrails_core.intent.shell.files import _delete, _record_folder_write, _record_write
from guardrails_core.intent.shell.network import _export, _transfer
from guardrails_core.intent.shell.options import (
    _azure_location,
    _Call,
    _Location,
    _options,
    _parse,
    _Parsed,
    _prefix_location,
    _rclone_location,
    _scp_location,
    _words,
)
from guardrails_core.intent.shell.words import _Feed, _names, _Origin, _Word
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
)

_AWS_GLOBAL = _words(
    "--profile --region --endpoint-url --output --query --cli-read-timeout "
    "--cli-connect-timeout --ca-bundle --color"
)
_AWS_S3_VALUES = _words(
    "--exclude --include --acl --storage-class --sse --sse-kms-key-id --content-type "
    "--expires --metadata-directive --grants --cache-control --profile --region "
    "--endpoint-url --expected-size --metadata --page-size --source-region "
    "--content-encoding --content-disposition --website-redirect"
)
_S3 = _prefix_location(("s3://",))
_GS = _prefix_location(("gs://",))


def _cloud_copy(
    call: _Call,
    verb: str,
    args: Sequence[_Word],
    locate: Callable[[_Word], _Location | None],
    values: frozenset[str],
    tool: str,
) -> None:
    """cp/mv/sync/rm of the cloud CLIs (aws s3, gsutil, gcloud storage, azcopy, rclone)."""
    parsed = _parse(args, values)
    operands = parsed.operands
    recursive = parsed.has("--recursive", "-r", "-R", "-a", "--all-versions")
    if verb in _CLOUD_COPY:
        _transfer(call, operands, locate, f"{tool} {verb}")
        _public_copies(call, parsed, operands, f"{tool} {verb}")
        whole = recursive or verb in ("sync", "rsync", "copy", "bisync")
        if whole and len(operands) >= 2 and locate(operands[-1]) is None:  # into a local folder
            _record_folder_write(call.effect, operands[-1], f"{tool} {verb}")
        sweeping = [
            name
            for name, value in parsed.options
            if name in _CLOUD_SYNC_DELETES and (value is None or value.value.lower() != "false")
        ]
        if verb in ("sync", "rsync") and (sweeping or tool == "rclone") and len(operands) >= 2:
            _delete(
                call,
                operands[-1:],
                f"{tool} {verb} {' '.join(sweeping)} removes files"
                f" missing from the source in {operands[-1].display}",
                bulk=True,
                kind=ObjectKind.URL if locate(operands[-1]) else ObjectKind.FILE,
            )
        if verb in ("mv", "move", "moveto") and len(operands) >= 2:
            _delete(
                call,
                operands[:-1],
                f"{tool} {verb} removes the source {_names(operands[:-1])}",
                bulk=recursive,
                kind=ObjectKind.URL if locate(operands[0]) else ObjectKind.FILE,
            )
    elif verb in _CLOUD_DELETE:
        bulk = recursive or parsed.has("--force") or (tool == "rclone" and verb != "deletefile")
        if tool == "rclone" and verb == "delete" and _rotates(parsed):
            bulk = False
        _delete(
            call,
            operands,
            f"{tool} {verb} deletes {_names(operands)}",
            bulk=bulk,
            kind=ObjectKind.URL,
        )
    elif verb == "cat":
        for operand in operands:
            call.obj(ObjectKind.URL, ObjectAction.READ, operand.display)
        call.add(Intent.READ, f"{tool} cat reads {_names(operands)}")
        call.stdout = _Feed(_Origin.DOWNLOAD, f"{tool} cat {_names(operands)}")
    elif verb == "rcat" and operands:
        _export(call, [(ObjectKind.URL, operands[0].display)], [_Word.literal("-")], f"{tool} rcat")


def _public_copies(call: _Call, parsed: _Parsed, operands: Sequence[_Word], how: str) -> None:
    """`aws s3 sync SRC DEST --acl public-read`: a canned ACL that lets anyone read the copies
    (a public-grant, as `aws s3api put-bucket-acl` is)."""
    acls = parsed.values("--acl", "--predefined-acl", "--canned-acl")
    opened = [acl for acl in acls if not acl.dynamic and shell_registry.opens_to_public(acl.value)]
    if opened and operands:
        where = operands[-1].display
        what = f"{how} --acl {opened[0].display} lets anyone read the copies in {where}"
        call.add(Intent.EXPORT, what)
        call.add(Intent.PRIVILEGE, what)
        call.obj(ObjectKind.URL, ObjectAction.EXPORT_TARGET, operands[-1].display)


def _rotates(parsed: _Parsed) -> bool:
    """`rclone delete --min-age 30d --include '*.dump'`: only files of named kinds older than
    days, as `find -name '*.dump' -mtime +30 -delete` (age alone sweeps most of a folder)."""
    ages = parsed.values("--min-age")
    kinds = parsed.values("--include")
    widened = parsed.values("--filter", "--filter-from", "--include-from", "--files-from")
    return (
        bool(ages and kinds)
        and not widened
        and all(not word.dynamic and retention.keeps_for(word.value, "seconds") for word in ages)
        and all(not word.dynamic and word.value.rsplit("/", 1)[-1].strip("*") for word in kinds)
    )


_CLOUD_COPY = _words("cp copy copyto mv move moveto sync rsync bisync get")
_CLOUD_DELETE = _words("rm rb remove delete deletefile purge rmdirs")
_CLOUD_SYNC_DELETES = _words(
    "--delete -d --delete-unmatched-destination-objects --delete-destination"
)


_S3API_DATA_DELETES = frozenset(("delete-object", "delete-objects", "delete-bucket"))


def _aws(call: _Call) -> None:
    operands = _parse(call.args, _AWS_GLOBAL, first_operand_ends=True).operands
    if len(operands) < 2:
        return
    service, verb = operands[0].value, operands[1].value
    if (service, verb) in _AWS_OUTFILES:  # `aws lambda invoke --function-name f out.json`
        _outfile(call, operands[2:], f"aws {service} {verb}")
    elif service == "s3":
        _cloud_copy(call, verb, operands[2:], _S3, _AWS_S3_VALUES, "aws s3")
    elif service == "s3api":
        parsed = _parse(operands[2:], _S3API_VALUES)
        bucket = "".join(w.display for w in parsed.values("--bucket"))
        key = "".join(w.display for w in parsed.values("--key"))
        target = [_Word.literal(f"s3://{bucket}/{key}".rstrip("/"))]
        # a key (or version) read from a listing stands for every object it lists
        listed = any(w.glob for w in (*parsed.values("--key"), *parsed.values("--version-id")))
        if verb in _S3API_LISTINGS:
            call.stdout = _s3api_listing(call, parsed, bucket, verb)
        if verb == "put-object" and parsed.values("--body"):
            _export(
                call,
                [(ObjectKind.URL, target[0].display)],
                parsed.values("--body"),
                "aws s3api put-object",
            )
        elif verb == "get-object":
            _s3api_download(call, operands[2:], target[0])
        elif verb in _S3API_DATA_DELETES:  # delete-bucket-policy etc. are the registry's
            _delete(
                call,
                target,
                f"aws s3api {verb} deletes {target[0].display}",
                bulk=listed or verb in ("delete-objects", "delete-bucket"),
                kind=ObjectKind.URL,
            )


_S3API_VALUES = _words("--bucket --key --body --delete --query --prefix --version-id")
_S3API_LISTINGS = frozenset(("list-object-versions", "list-objects", "list-objects-v2"))
# a --query filter on IsLatest alone keeps every current (or every previous) version: no narrowing
_EVERY_VERSION_OF_A_KIND = re.compile(r"^\w+\[\?\s*IsLatest\s*==\s*`(true|false)`\s*\]")


def _s3api_listing(call: _Call, parsed: _Parsed, bucket: str, verb: str) -> _Feed | None:
    """`aws s3api list-object-versions --bucket b [--prefix p]`: each line it prints names an
    object (or version) under s3://b/p, so a loop over it acts on every one of them
    (shell/listings.py). A --query that filters by anything but IsLatest narrows the names:
    none is known then."""
    query = "".join(w.value for w in parsed.values("--query"))
    if "[?" in query and not _EVERY_VERSION_OF_A_KIND.match(query):
        return call.stdout
    prefix = "".join(w.display for w in parsed.values("--prefix"))
    names = _Word(f"{prefix}*", f"{prefix}* (names from aws s3api {verb})", glob=True)
    return _Feed(_Origin.DATA, f"aws s3api {verb} s3://{bucket}/{prefix}", names=names)


# options of the aws CLI that take no value (every other --option of s3api takes one)
_AWS_FLAGS = _words("--debug --no-verify-ssl --no-paginate --no-sign-request --no-cli-pager")


def _s3api_download(call: _Call, args: Sequence[_Word], source: _Word) -> None:
    """`aws s3api get-object --bucket b --key k OUTFILE`: the object is written to OUTFILE."""
    call.obj(ObjectKind.URL, ObjectAction.READ, source.display)
    call.add(Intent.READ, f"aws s3api get-object downloads {source.display}")
    _outfile(call, args, "aws s3api get-object")


# commands whose one operand is the local file the answer is written to
_AWS_OUTFILES = frozenset(
    (("lambda", "invoke"), ("s3api", "get-object-torrent"), ("glacier", "get-job-output"))
)


def _outfile(call: _Call, args: Sequence[_Word], how: str) -> None:
    """The operands left when the options and their values are: the file the answer is
    written to (running it later runs what was downloaded)."""
    skip = False
    for word in args:
        if skip:
            skip = False
        elif word.value.startswith("--"):
            skip = "=" not in word.value and word.value not in _AWS_FLAGS
        else:
            _record_write(call.effect, word, how)
            call.analyzer.note_produced(word, _Feed(_Origin.DOWNLOAD, how))


def _gsutil(call: _Call) -> None:
    parsed = _parse(call.args, _words("-o -h -u -i -p"), first_operand_ends=True)
    if parsed.operands:
        verb = parsed.operands[0].value
        _cloud_copy(call, verb, parsed.operands[1:], _GS, _words("-x -p -z -j -s"), "gsutil")


def _gcloud(call: _Call) -> None:
    values = _words("--project --account --configuration --format --verbosity")
    operands = _parse(call.args, values, first_operand_ends=True).operands
    if len(operands) >= 2 and operands[0].value == "storage":
        _cloud_copy(
            call, operands[1].value, operands[2:], _GS, values | {"--exclude"}, "gcloud storage"
        )
    elif [word.value for word in operands[:3]] == ["composer", "environments", "run"]:
        # `... run ENV --location L dags delete -- ID --yes`: the Airflow CLI, run remotely
        before_dashdash = _parse(operands[3:], values | _words("--location"))
        _airflow_cli(call, before_dashdash.operands[1:])
    elif [word.value for word in operands[:2]] == ["compute", "scp"]:  # as scp: VM:PATH
        parsed = _parse(operands[2:], values | _words("--zone --ssh-key-file --scp-flag --port"))
        tool = "gcloud compute scp"
        _transfer(call, parsed.operands, _scp_location, tool)
        into = parsed.operands[-1] if len(parsed.operands) >= 2 else None
        if into is not None and parsed.has("--recurse") and _scp_location(into) is None:
            _record_folder_write(call.effect, into, tool)  # a folder copied into a local one


def _astro(call: _Call) -> None:
    """`astro dev run dags delete ID`: the Airflow CLI, run in the local project's scheduler."""
    operands = _parse(call.args, first_operand_ends=True).operands
    if [word.value for word in operands[:2]] == ["dev", "run"]:
        _airflow_cli(call, call.args[call.args.index(operands[1]) + 1 :])


def _airflow_cli(call: _Call, args: list[_Word]) -> None:
    """A wrapper's arguments that are an `airflow` command line: judged as that command."""
    if args:
        call.analyzer.run_inner(
            call, [_Word.literal("airflow"), *args], feed=call.feed, transparent=False
        )


# `hdfs dfs -get SRC... LOCAL`: the file system's files written into a local file or folder
# (copies into the file system stay in the cluster: the registry's)
_HDFS_DOWNLOADS = _words("-get -copyToLocal -moveToLocal -getmerge")


def _hdfs(call: _Call) -> None:
    command = next((w for w in call.args if w.value in _HDFS_DOWNLOADS), None)
    if command is None:
        return
    rest = call.args[call.args.index(command) + 1 :]
    operands = _parse(rest, _words("-t -q")).operands
    if len(operands) < 2:
        return
    local = operands[-1]
    tool = f"{call.prog} {command.value}"
    _transfer(call, operands, lambda w: None if w is local else (ObjectKind.URL, w.display), tool)


def _azcopy(call: _Call) -> None:
    operands = _parse(call.args, first_operand_ends=True).operands
    if operands:
        verb = {"cp": "copy", "rm": "remove"}.get(operands[0].value, operands[0].value)
        _cloud_copy(
            call,
            verb,
            operands[1:],
            _azure_location,
            _options("--include-pattern", "--exclude-pattern", "--log-level"),
            "azcopy",
        )


def _s3cmd(call: _Call) -> None:
    """`s3cmd get s3://b/k FILE` downloads into FILE; uploads and the rest are the registry's."""
    values = _words(
        "-c --config --access_key --secret_key --access_token --region --host --exclude --include"
    )
    operands = _parse(call.args, values, first_operand_ends=True).operands
    if operands and operands[0].value == "get":
        _cloud_copy(call, "get", operands[1:], _S3, values, "s3cmd")


def _mc(call: _Call) -> None:
    """`mc get ALIAS/BUCKET/KEY FILE` downloads into FILE (mc cp's direction depends on the
    aliases configured, not visible here: the registry's)."""
    operands = _parse(call.args, _words("--config-dir -C"), first_operand_ends=True).operands
    if operands and operands[0].value == "get" and len(operands) == 3:
        source = operands[1]
        _cloud_copy(
            call,
            "get",
            operands[1:],
            lambda w: (ObjectKind.URL, w.display) if w is source else None,
            frozenset(),
            "mc",
        )


def _rclone(call: _Call) -> None:
    values = _words(
        "--config --exclude --include --filter --transfers --checkers --log-file "
        "--log-level --bwlimit --max-age --min-age"
    )
    operands = _parse(call.args, values, first_operand_ends=True).operands
    if operands:
        _cloud_copy(call, operands[0].value, operands[1:], _rclone_location, values, "rclone")


# `az storage ... download`: the subcommand's words, then the options that name the local file
# or folder it writes (a blob's -f is its file, a file system's -f is the file system's name)
_AZ_DOWNLOADS: dict[tuple[str, ...], frozenset[str]] = {
    ("blob", "download"): _options("-f", "--file"),
    ("blob", "download-batch"): _options("-d", "--destination"),
    ("file", "download"): _options("--dest"),
    ("file", "download-batch"): _options("-d", "--destination"),
    ("fs", "file", "download"): _options("-d", "--destination"),
    ("fs", "directory", "download"): _options("-d", "--destination-path"),
    ("azcopy", "blob", "download"): _options("-d", "--destination"),
}


def _az(call: _Call) -> None:
    """A storage download writes into a local file or folder (judged as any write there);
    uploads, links and keys are the registry's."""
    words: list[str] = []
    for word in call.args:
        if word.value.startswith("-") or len(words) == 4:
            break
        words.append(word.value)
    if words[:1] != ["storage"]:
        return
    destinations = next(
        (options for verb, options in _AZ_DOWNLOADS.items() if tuple(words[1:]) == verb), None
    )
    if destinations is None:
        return
    parsed = _parse(call.args, destinations, clusters=False)
    tool = f"az {' '.join(words)}"
    call.add(Intent.READ, f"{tool} downloads from Azure storage")
    written = parsed.values(*destinations)
    record = _record_folder_write if "batch" in tool or "directory" in tool else _record_write
    for destination in written:
        record(call.effect, destination, tool)
    if not written:
        call.stdout = _Feed(_Origin.DOWNLOAD, tool)
