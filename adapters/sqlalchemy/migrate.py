"""Run taskhub's Alembic migrations from code, from any working directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """An Alembic configuration for `url`, no alembic.ini needed."""
    # Alembic (and Mako) load only when migrating, not in every process that imports this.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # An attribute, not the 'sqlalchemy.url' option: that one is interpolated by
    # configparser and a '%' in the URL (an escaped password or option) would break it.
    config.attributes["url"] = url
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade_database(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)
