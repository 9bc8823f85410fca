"""Every client command explains itself."""

from __future__ import annotations

import pytest

from tests.integration.client.conftest import Cli

COMMANDS = [
    ["login"],
    ["logout"],
    ["tasks"],
    ["tasks", "submit"],
    ["tasks", "get"],
    ["tasks", "list"],
    ["tasks", "cancel"],
    ["tasks", "watch"],
    ["schedules"],
    *(
        ["schedules", command]
        for command in ("create", "list", "get", "pause", "resume", "trigger", "delete")
    ),
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_client_command_has_help(command: list[str], cli: Cli) -> None:
    result = cli.run(*command, "--help")

    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
