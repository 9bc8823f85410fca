"""The SQL user repository, through Core: the token's read of its user is on every request."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from typing import Any, cast

from sqlalchemy import Connection, Row, Table, bindparam, insert, select, update

from adapters.sqlalchemy.compare_and_set import lost_race, write_changes
from adapters.sqlalchemy.driver_statements import DriverStatement
from adapters.sqlalchemy.errors import unique_violations_as_already_exists
from adapters.sqlalchemy.keyset import newest_first
from adapters.sqlalchemy.mapping import user_from_row, user_values
from adapters.sqlalchemy.tables import UserRow
from application.ports import Cursor, UserRepository
from domain.errors import AlreadyExistsError, NotFoundError
from domain.user import Email, User, UserId

_USERS = cast(Table, UserRow.__table__)
# A write based on a read older than a change of the account's standing (active, admin) or
# of its sessions (every password change and logout everywhere raises token_version) loses:
# it would bring ended sessions back, or undo a deactivation.
_GUARD = ("is_active", "is_admin", "token_version")
# Both run on the driver's cursor (driver_statements): every submission holds its owner.
_HOLD_BY_WRITING = DriverStatement(
    update(_USERS)
    .where(_USERS.c.id == bindparam("user_id"))
    .values(is_active=_USERS.c.is_active)
    .returning(*_USERS.c)
)
# FOR NO KEY UPDATE: waits for another transaction's lock on the user, but not for the
# KEY SHARE locks that inserting a task or a model takes on its owner (foreign key).
_HOLD_FOR_NO_KEY_UPDATE = DriverStatement(
    select(_USERS).where(_USERS.c.id == bindparam("user_id")).with_for_update(key_share=True)
)


class SqlAlchemyUserRepository(UserRepository):
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._loaded: dict[UserId, dict[str, Any]] = {}
        self._held: dict[UserId, User] = {}  # locked in this transaction, as read then

    def add(self, user: User) -> None:
        # Checked first so the common case leaves the transaction usable; the constraint
        # still catches two registrations racing.
        if self.find_by_email(user.email) is not None:
            raise AlreadyExistsError(
                f"a user with email {user.email} already exists", field="email"
            )
        values = user_values(user)
        with unique_violations_as_already_exists("user"):
            self._connection.execute(insert(_USERS), values)
        self._loaded[user.id] = values

    def get(self, user_id: UserId) -> User:
        row = self._connection.execute(select(_USERS).where(_USERS.c.id == user_id)).first()
        if row is None:
            raise NotFoundError(f"user {user_id} not found", user_id=str(user_id))
        return self._remember(row)

    def find_by_email(self, email: Email) -> User | None:
        statement = select(_USERS).where(_USERS.c.email == email.value)
        row = self._connection.execute(statement).first()
        return self._remember(row) if row is not None else None

    def update(self, user: User) -> None:
        loaded = self._loaded.get(user.id)
        if loaded is None:  # never read through this repository: nothing to compare with
            raise lost_race(self._connection, UserRow, user.id, "user")
        current = user_values(user)
        with unique_violations_as_already_exists("user"):
            written = write_changes(
                self._connection, UserRow, loaded=loaded, current=current, guard=_GUARD
            )
        if not written:
            raise lost_race(self._connection, UserRow, user.id, "user")
        self._loaded[user.id] = current
        if user.id in self._held:
            self._held[user.id] = replace(user)

    def lock(self, user_id: UserId) -> User:
        held = self._held.get(user_id)
        if held is None:
            # SQLite has one writer at a time: a write opens the transaction and takes the
            # database's write lock (waiting busy_timeout for it), so what the transaction
            # reads next is no older than the last commit. The column written is in no index.
            sqlite = self._connection.dialect.name == "sqlite"
            holding = _HOLD_BY_WRITING if sqlite else _HOLD_FOR_NO_KEY_UPDATE
            rows = holding.execute(self._connection, {"user_id": user_id})
            if not rows:
                raise NotFoundError(f"user {user_id} not found", user_id=str(user_id))
            held = self._held[user_id] = self._remember(rows[0])
        return replace(held)

    def find(self, *, after: Cursor | None, limit: int) -> list[User]:
        statement = newest_first(
            select(_USERS),
            created_at=_USERS.c.created_at,
            id_=_USERS.c.id,
            after=after,
            limit=limit,
        )
        return [self._remember(row) for row in self._connection.execute(statement)]

    def share_weights(self, user_ids: Collection[UserId]) -> dict[UserId, int]:
        if not user_ids:
            return {}
        statement = select(_USERS.c.id, _USERS.c.share_weight).where(
            _USERS.c.id.in_(list(user_ids))
        )
        return {UserId(id_): weight for id_, weight in self._connection.execute(statement)}

    def _remember(self, row: Row[Any]) -> User:
        user = user_from_row(row)
        self._loaded[user.id] = user_values(user)
        return user
