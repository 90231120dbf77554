"""The hash chain itself: canonical encoding, keyed and unkeyed digests, states of decisions."""

from __future__ import annotations

import hashlib
import hmac
import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guardrails_core.audit import ChainKey, Outcome, canonical_json, initial_state
from guardrails_core.audit.chain import seal
from guardrails_core.model import Mode, Verdict
from tests.audit_fixtures import make_decision

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert (
        canonical_json({"b": 1, "a": {"d": [1, 2], "c": "é"}}) == '{"a":{"c":"é","d":[1,2]},"b":1}'
    )


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": math.nan})


@given(
    st.dictionaries(st.text(), json_values, max_size=6), st.integers(0, 64), st.integers(1, 2**40)
)
def test_seal_splices_exactly_the_canonical_encoding(
    record: dict[str, object], chain: int, seq: int
) -> None:
    text, _ = seal(canonical_json(record), chain, seq, "0" * 64, ChainKey())
    assert text == canonical_json({"chain": chain, "record": record, "seq": seq})
    assert json.loads(text) == {"chain": chain, "record": record, "seq": seq}


def test_unkeyed_digest_is_sha256_of_previous_hash_and_payload() -> None:
    prev, payload = "ab" * 32, '{"chain":0,"record":{},"seq":1}'
    assert ChainKey().digest(prev, payload) == hashlib.sha256((prev + payload).encode()).hexdigest()


def test_keyed_digest_is_hmac_and_differs() -> None:
    prev, payload = "ab" * 32, '{"chain":0,"record":{},"seq":1}'
    key = ChainKey(b"secret")
    assert (
        key.digest(prev, payload)
        == hmac.new(b"secret", (prev + payload).encode(), hashlib.sha256).hexdigest()
    )
    assert key.digest(prev, payload) != ChainKey().digest(prev, payload)
    assert key.digest(prev, payload) != ChainKey(b"other").digest(prev, payload)


def test_key_id_names_the_key_without_revealing_it() -> None:
    assert ChainKey().key_id is None
    assert ChainKey(b"secret").key_id == ChainKey(b"secret").key_id
    assert ChainKey(b"secret").key_id != ChainKey(b"secreT").key_id
    assert "secret" not in (ChainKey(b"secret").key_id or "")


def test_genesis_differs_per_store_chain_and_key() -> None:
    key = ChainKey()
    assert key.genesis("s1", 0) != key.genesis("s1", 1)
    assert key.genesis("s1", 0) != key.genesis("s2", 0)
    assert key.genesis("s1", 0) != ChainKey(b"k").genesis("s1", 0)


# (verdict, mode) -> the state the decision is recorded with before its command runs
INITIAL_STATES = [
    (Verdict.ALLOW, Mode.ENFORCE, Outcome.PENDING),
    (Verdict.REVIEW, Mode.ENFORCE, Outcome.AWAITING_APPROVAL),
    (Verdict.DENY, Mode.ENFORCE, Outcome.BLOCKED),
    (Verdict.ALLOW, Mode.AUDIT, Outcome.PENDING),
    (Verdict.REVIEW, Mode.AUDIT, Outcome.PENDING),
    (Verdict.DENY, Mode.AUDIT, Outcome.PENDING),
]


@pytest.mark.parametrize(("verdict", "mode", "state"), INITIAL_STATES)
def test_initial_state(verdict: Verdict, mode: Mode, state: Outcome) -> None:
    assert initial_state(make_decision(verdict=verdict, mode=mode)) is state
    assert state.is_initial
