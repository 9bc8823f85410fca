"""The registry of task types: what the API validates against and what the worker runs."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, SecretBytes, SecretStr
from pydantic import ValidationError as PydanticValidationError

from application.errors import UnknownTaskTypeError
from application.ports import RESULT_VIEWS, TaskContext, TaskTypeCatalog, TaskTypeSpec
from domain.errors import InvalidFieldsError, ValidationError
from domain.flow import ConcurrencyRule, RateLimit
from domain.task import Priority


class TaskArguments(BaseModel):
    """Base of every task type's arguments: unknown keys are an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class TaskType:
    """A task type: its function, the model of its arguments, and its run defaults."""

    name: str
    function: Callable[[TaskContext, Any], Any]
    arguments: type[TaskArguments]
    description: str
    priority: Priority = Priority.NORMAL
    max_attempts: int = 3
    # Exceptions worth another attempt, with exponential backoff from `retry_backoff` seconds.
    retry_on: tuple[type[BaseException], ...] = ()
    retry_backoff: float = 2.0
    soft_time_limit: float | None = None
    time_limit: float | None = None
    # Created by the system itself (e.g. model tasks), never submitted by clients.
    internal: bool = False
    # At most so many tasks of one concurrency key at once (domain/flow.py).
    concurrency: ConcurrencyRule | None = None
    # The result is stored encrypted and shown only through GET /tasks/{id}/result.
    secret_result: bool = False
    # How its result is best read in the console: chart, table, labelled or tree (a hint:
    # a result of another shape is shown by its shape).
    result_view: str | None = None
    # At most so many tasks released per second, minute or hour across every worker:
    # "10/s", "100/m", "5/h" (domain/flow.py:RateLimit); the others wait held back.
    rate_limit: str | None = None
    spec: TaskTypeSpec = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.result_view is not None and self.result_view not in RESULT_VIEWS:
            raise ValueError(
                f"task type {self.name}: result_view must be one of {', '.join(RESULT_VIEWS)}"
            )
        object.__setattr__(
            self,
            "spec",
            TaskTypeSpec(
                name=self.name,
                description=self.description,
                default_priority=self.priority,
                max_attempts=self.max_attempts,
                soft_time_limit=self.soft_time_limit,
                time_limit=self.time_limit,
                arguments_schema=self.arguments.model_json_schema(),
                internal=self.internal,
                concurrency=self.concurrency,
                secret_fields=secret_fields_of(self.arguments),
                secret_result=self.secret_result,
                result_view=self.result_view,
                rate_limit=RateLimit.parse(self.rate_limit) if self.rate_limit else None,
            ),
        )

    def backoff(self, attempt: int) -> float:
        return float(self.retry_backoff * 2 ** max(attempt - 1, 0))


class TaskTypeRegistry(TaskTypeCatalog):
    def __init__(self, task_types: Iterable[TaskType] = ()) -> None:
        self._types: dict[str, TaskType] = {}
        for task_type in task_types:
            self.register(task_type)

    def register(self, task_type: TaskType) -> None:
        if task_type.name in self._types:
            raise ValueError(f"task type {task_type.name!r} is registered twice")
        self._types[task_type.name] = task_type

    def task_types(self) -> list[TaskType]:
        return sorted(self._types.values(), key=lambda t: t.name)

    def task_type(self, name: str) -> TaskType:
        try:
            return self._types[name]
        except KeyError:
            submittable = [t.name for t in self._types.values() if not t.internal]
            raise UnknownTaskTypeError(name, known=submittable) from None

    def all(self) -> list[TaskTypeSpec]:
        return [t.spec for t in self.task_types()]

    def get(self, name: str) -> TaskTypeSpec:
        return self.task_type(name).spec

    def validate_arguments(
        self, name: str, args: list[Any], kwargs: dict[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """Secret fields in clear, for the caller to seal before it stores them."""
        arguments = self.parse(name, args, kwargs)
        dumped = arguments.model_dump(mode="json")
        for secret in self.task_type(name).spec.secret_fields:
            dumped[secret] = _revealed(getattr(arguments, secret))
        return [], dumped

    def parse(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> TaskArguments:
        """The arguments as the task type's model; positional args fill fields in order."""
        model = self.task_type(name).arguments
        fields = list(model.model_fields)
        if len(args) > len(fields):
            raise ValidationError(
                f"{name} takes at most {len(fields)} positional arguments", field="args"
            )
        merged = dict(zip(fields, args, strict=False))
        clash = sorted(merged.keys() & kwargs.keys())
        if clash:
            raise InvalidFieldsError(
                [("kwargs", f"{key} given both by position and by name") for key in clash]
            )
        try:
            return model.model_validate({**merged, **kwargs})
        except PydanticValidationError as exc:
            # Every error, each under its own field; the message leaves the path to the field.
            raise InvalidFieldsError(
                [(_field_of(error["loc"]), error["msg"]) for error in exc.errors()]
            ) from None


def secret_fields_of(model: type[BaseModel]) -> frozenset[str]:
    """The fields of `model` typed SecretStr or SecretBytes (optional or not)."""
    return frozenset(
        name for name, info in model.model_fields.items() if _is_secret(info.annotation)
    )


def _is_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_secret(member) for member in get_args(annotation))
    return False


def _revealed(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, SecretBytes):
        return value.get_secret_value().decode("utf-8", errors="surrogateescape")
    return value


def _field_of(loc: tuple[int | str, ...]) -> str:
    """`kwargs.values.1` for the second item of `values`; `kwargs` for the model as a whole."""
    return ".".join(["kwargs", *(str(part) for part in loc)])
