"""The `taskhub` command's container, for the commands that serve nothing themselves:
migrations, user administration, the readiness check and the development stack."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.sqlalchemy.backup import BackupError, create_backup, restore_backup
from adapters.sqlalchemy.migrate import downgrade_database, upgrade_database
from entrypoints.container import CoreContainer

__all__ = ["BackupError", "CliContainer"]


class CliContainer(containers.DeclarativeContainer):
    core = providers.Container(CoreContainer)

    # The configured database, migrated to the revision given.
    upgrade_database = providers.Callable(upgrade_database, core.settings.provided.database_url)
    downgrade_database = providers.Callable(downgrade_database, core.settings.provided.database_url)
    # Backups of the configured database, and their restore (adapters/sqlalchemy/backup.py).
    create_backup = providers.Callable(create_backup, core.settings.provided.database_url)
    restore_backup = providers.Callable(restore_backup, core.settings.provided.database_url)
