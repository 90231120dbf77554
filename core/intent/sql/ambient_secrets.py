"""DuckDB secrets that hold no key: `CREATE SECRET (TYPE S3, PROVIDER credential_chain)` tells
later reads and writes to use the credentials the host already has (environment, instance role,
SSO profile), so it gives the session no right it did not have."""

from __future__ import annotations

from sqlglot.tokenizer_core import Token, TokenType

# Options that only choose among the host's own credentials. Not an ENDPOINT (requests signed
# with them would go to another server), a ROLE_ARN (another role), nor any key material.
_AMBIENT_OPTIONS = frozenset({"TYPE", "PROVIDER", "REGION", "SCOPE", "CHAIN", "PROFILE"})
_AMBIENT_PROVIDERS = frozenset({"CREDENTIAL_CHAIN"})


def ambient_secret(tokens: list[Token]) -> bool:
    """The secret's options (in its parentheses) are all ambient ones, and its provider is the
    host's credential chain."""
    opened = next((i for i, t in enumerate(tokens) if t.token_type is TokenType.L_PAREN), None)
    if opened is None or tokens[-1].token_type not in (TokenType.R_PAREN, TokenType.SEMICOLON):
        return False
    options: list[list[Token]] = [[]]
    for token in tokens[opened + 1 :]:
        if token.token_type is TokenType.R_PAREN:
            break
        if token.token_type is TokenType.L_PAREN:
            return False  # a nested value (a MAP of headers): not an ambient option
        if token.token_type is TokenType.COMMA:
            options.append([])
        else:
            options[-1].append(token)
    named = {option[0].text.upper(): option[1:] for option in options if option}
    provider = named.get("PROVIDER", [])
    return (
        len(named) == len(options)
        and set(named) <= _AMBIENT_OPTIONS
        and len(provider) == 1
        and provider[0].text.upper() in _AMBIENT_PROVIDERS
    )
