"""Crockford base32 codes: 10 characters (50 bits), shown XXXXX-XXXXX, typed forgivingly."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10
_TRANSLATE = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def generate_code(length: int = CODE_LENGTH) -> str:
    """A random code of `length` Crockford characters (5 bits each), unformatted."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize_code(raw: str) -> str:
    """Upper-case, no spaces or hyphens, O->0 and I/L->1 (Crockford's reading rules).

    Only generated codes follow the alphabet; imported POS codes keep their other characters.
    """
    return raw.strip().upper().translate(_TRANSLATE).replace("\t", "")


def is_generated_format(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


def format_code(code: str) -> str:
    """XXXXX-XXXXX for generated codes; other (imported) codes are shown as they are."""
    if is_generated_format(code):
        return f"{code[:5]}-{code[5:]}"
    return code
