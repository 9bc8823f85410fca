"""Who may see Flower: basic-auth credentials strong enough to mean something, and its
/metrics page behind them like every other page (Flower itself leaves it open)."""

from __future__ import annotations

from typing import Any

MIN_FLOWER_PASSWORD_LENGTH = 16


def flower_credentials_problem(basic_auth: str) -> str | None:
    """Why TASKHUB_FLOWER_BASIC_AUTH is not acceptable, or None. Flower takes a
    comma-separated list of user:password; it would accept `admin:` and even `:`."""
    for entry in basic_auth.split(","):
        user, colon, password = entry.partition(":")
        if not colon or not user.strip():
            return "each entry must be user:password with a user name"
        if len(password) < MIN_FLOWER_PASSWORD_LENGTH:
            return (
                f"the password of {user.strip()!r} is shorter than "
                f"{MIN_FLOWER_PASSWORD_LENGTH} characters"
            )
    return None


def guard_flower_metrics() -> None:
    """Make Flower's /metrics ask for the same login as its pages (it is the one page Flower
    serves without `@authenticated`). Only ever called in the Flower process."""
    import tornado.web
    from flower.views.monitor import Metrics  # type: ignore[import-untyped]

    if getattr(Metrics.get, "taskhub_guarded", False):
        return
    guarded: Any = tornado.web.authenticated(Metrics.get)
    guarded.taskhub_guarded = True
    Metrics.get = guarded
