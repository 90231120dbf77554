"""Signed checkpoints of the chain heads, kept outside the database (``GUARDRAILS_AUDIT_ANCHOR``).

Every append adds one line to an append-only file: the store id, its chain count and the new
head of the chain appended to, signed with the audit key (HMAC-SHA256; SHA-256 without a key).
Someone who can rewrite the database cannot rewrite what the anchor already saw, so
``audit verify --anchor`` catches a tail deleted and the head reset, an older copy restored,
everything deleted back to genesis, chains dropped with the count lowered, and a store dropped
and re-created. Keep the file where the database's administrators cannot write (another host's
mount, ``chattr +a``); keyed, a forged line fails its signature.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .chain import ChainKey, canonical_json
from .errors import AuditUnavailable
from .records import ProblemKind, VerifyProblem

ANCHOR_VERSION = 1
_SIGNATURE_LABEL = "access-guardrails/audit/anchor/v1"


@dataclass(frozen=True)
class Checkpoint:
    """One anchor line: store ``store`` had ``chains`` chains and these (chain, seq, hash) heads."""

    store: str
    chains: int
    heads: tuple[tuple[int, int, str], ...]
    line: int


def checkpoint_line(
    key: ChainKey, store_id: str, chains: int, heads: Iterable[tuple[int, int, str]]
) -> str:
    """The signed JSON line of one checkpoint."""
    body = {
        "v": ANCHOR_VERSION,
        "store": store_id,
        "chains": chains,
        "key_id": key.key_id,
        "heads": [list(head) for head in heads],
    }
    return canonical_json({**body, "sig": _signature(key, body)}) + "\n"


def _signature(key: ChainKey, body: dict[str, object]) -> str:
    return key.digest(_SIGNATURE_LABEL, canonical_json(body))


def append_checkpoint(path: Path, line: str) -> None:
    """Append one line with one ``write`` (O_APPEND: concurrent writers never interleave)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)


def read_anchor(path: Path, key: ChainKey) -> tuple[list[Checkpoint], list[VerifyProblem]]:
    """The anchor's checkpoints whose signature holds, and a problem for every line that fails."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        return [], [_problem(f"cannot read the anchor {path}: {error.strerror or error}")]
    checkpoints: list[Checkpoint] = []
    problems: list[VerifyProblem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            body = {name: entry[name] for name in ("v", "store", "chains", "key_id", "heads")}
            heads = tuple((int(c), int(s), str(h)) for c, s, h in entry["heads"])
            signature = entry["sig"]
        except (ValueError, TypeError, KeyError):
            problems.append(_problem(f"{path}:{number}: not an anchor checkpoint"))
            continue
        if body["key_id"] != key.key_id or signature != _signature(key, body):
            problems.append(
                _problem(
                    f"{path}:{number}: the checkpoint's signature does not hold (forged, edited, "
                    "or written with another audit key)"
                )
            )
            continue
        checkpoints.append(Checkpoint(str(body["store"]), int(body["chains"]), heads, number))
    return checkpoints, problems


def anchored_store(path: Path) -> str | None:
    """The store id the anchor's last line names, unverified (to refuse re-creating a store)."""
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        return None
    if not lines:
        return None
    try:
        return str(json.loads(lines[-1])["store"])
    except (ValueError, TypeError, KeyError):
        return "(unreadable checkpoint)"


def check_anchor(
    checkpoints: list[Checkpoint],
    *,
    path: Path,
    store_id: str,
    chains: int,
    hash_at: Callable[[int, int], str | None],
) -> list[VerifyProblem]:
    """What the database lost or changed since the anchor saw it.

    ``hash_at(chain, seq)`` is the stored hash of that record (the genesis hash at seq 0), None
    when there is no such record.
    """
    if not checkpoints:
        return [_problem(f"the anchor {path} holds no valid checkpoint")]
    others = sorted({point.store for point in checkpoints if point.store != store_id})
    if others:
        return [
            _problem(
                f"the anchor saw store {others[0]}, this database holds store {store_id}: the "
                "store was dropped and re-created (or this is another store's anchor)"
            )
        ]
    problems: list[VerifyProblem] = []
    anchored_chains = max(point.chains for point in checkpoints)
    if chains < anchored_chains:
        problems.append(
            _problem(
                f"the anchor saw {anchored_chains} chains, the store says {chains}: chains were "
                "dropped and the chain count lowered"
            )
        )
    latest: dict[int, tuple[int, str, int]] = {}
    for point in checkpoints:
        for chain, seq, digest in point.heads:
            if chain not in latest or seq > latest[chain][0]:
                latest[chain] = (seq, digest, point.line)
    for chain in sorted(latest):
        seq, digest, line = latest[chain]
        stored = hash_at(chain, seq)
        if stored is None:
            problems.append(
                _problem(
                    f"the anchor ({path.name}:{line}) saw chain {chain} at seq {seq}; the store "
                    "has no such record: records were deleted and the head reset, or an older "
                    "copy of the store was restored",
                    chain=chain,
                    seq=seq,
                    kind=ProblemKind.MISSING,
                )
            )
        elif stored != digest:
            problems.append(
                _problem(
                    f"record seq {seq} of chain {chain} is not the one the anchor "
                    f"({path.name}:{line}) saw: the chain was rewritten",
                    chain=chain,
                    seq=seq,
                    kind=ProblemKind.MODIFIED,
                )
            )
    return problems


def _problem(
    message: str,
    *,
    chain: int | None = None,
    seq: int | None = None,
    kind: ProblemKind = ProblemKind.ANCHOR,
) -> VerifyProblem:
    return VerifyProblem(kind=kind, message=message, chain=chain, seq=seq)


def refuse_recreation(anchor: Path, display_url: str) -> None:
    """A database without a store whose anchor saw one: the store was dropped. Never
    create a new one silently, it would verify on its own."""
    seen = anchored_store(anchor)
    if seen is not None:
        raise AuditUnavailable(
            url=display_url,
            action="open the audit store",
            reason=f"the database has no audit store, but the anchor {anchor} has "
            f"checkpoints of store {seen}: the store was dropped",
            hint="Restore the store from a backup and run `access-guardrails audit verify "
            "--anchor`; to start a new trail on purpose, move the old anchor aside first "
            "(keep it as evidence).",
        )
