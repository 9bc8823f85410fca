"""Plain text: what every name, email, path and filter a client sends may contain.

Control characters (NUL, escapes, DEL, C1) are refused everywhere: PostgreSQL cannot store
NUL, and escape sequences echoed into a terminal let one user spoof another's screen. Lone
surrogates are not characters at all and cannot be encoded to UTF-8 for storage.
"""

from __future__ import annotations

import unicodedata

from domain.errors import ValidationError

# Line breaks and tabs, for the few fields that are prose (descriptions).
LINE_BREAKS = frozenset("\t\n\r")


def first_forbidden_character(text: str, *, allowed: frozenset[str] = frozenset()) -> str | None:
    """A description of the first control character or lone surrogate in `text`, else None."""
    for position, character in enumerate(text):
        category = unicodedata.category(character)
        if category in ("Cc", "Cs") and character not in allowed:
            kind = "a control character" if category == "Cc" else "a lone surrogate"
            return f"{kind} (U+{ord(character):04X}) at position {position}"
    return None


def check_plain_text(text: str, *, field: str, allowed: frozenset[str] = frozenset()) -> str:
    """`text` unchanged; raises ValidationError naming `field` if it holds a control
    character or a lone surrogate (other than those `allowed`)."""
    problem = first_forbidden_character(text, allowed=allowed)
    if problem is not None:
        raise ValidationError(f"{field} must not contain {problem}", field=field)
    return text
