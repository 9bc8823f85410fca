"""Secret arguments and results: sealed before storage, opened only by the run, masked when
shown, re-sealed by a key rotation; the cipher's contract, for Fernet and its in-memory twin."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from pydantic import SecretBytes, SecretStr

from adapters.in_memory.catalog import StaticTaskTypeCatalog
from adapters.in_memory.cipher import InMemorySecretCipher
from adapters.in_memory.clock import FixedClock
from adapters.in_memory.sealed_values import InMemorySealedValueStore
from adapters.in_memory.unit_of_work import InMemoryUnitOfWork
from adapters.security.fernet_cipher import FernetSecretCipher, new_key
from adapters.task_types.registry import TaskArguments, TaskType, TaskTypeRegistry
from application.argument_limits import ArgumentLimits
from application.errors import SecretUnreadableError
from application.ports import SealedValues, SecretCipher, TaskContext, TaskTypeSpec
from application.publishing import TaskPublisher
from application.running.outcomes import Completed, Failed
from application.secret_values import (
    MASK,
    NO_ENCRYPTION_KEY,
    SEALED,
    SecretSealing,
    is_sealed,
    masked,
)
from application.submission import SubmissionRules, TaskSubmission
from application.use_cases.rotate_encryption_keys import RotateEncryptionKeys
from domain.errors import ValidationError
from domain.task import Task, TaskId, TaskStatus
from domain.user import User
from tests.factories import T0
from tests.unit.worker.runs import run_task_on

PASSWORD = "s3cr3t-object-store-key"


class UploadArguments(TaskArguments):
    bucket: str
    access_key: SecretStr
    token: SecretBytes | None = None


def upload(ctx: TaskContext, args: UploadArguments) -> dict[str, Any]:
    # What the function got: the secret in clear (the test checks it, nothing else would).
    return {"bucket": args.bucket, "key_length": len(args.access_key.get_secret_value())}


class IssueArguments(TaskArguments):
    name: str


def issue_token(ctx: TaskContext, args: IssueArguments) -> dict[str, str]:
    return {"name": args.name, "token": "tok-" + args.name}


REGISTRY = TaskTypeRegistry(
    [
        TaskType(name="upload", function=upload, arguments=UploadArguments, description="up"),
        TaskType(
            name="issue_token",
            function=issue_token,
            arguments=IssueArguments,
            description="issues a token",
            secret_result=True,
        ),
    ]
)


def ciphers() -> list[SecretCipher]:
    return [InMemorySecretCipher(["new", "old"]), FernetSecretCipher([new_key(), new_key()])]


# --- the cipher's contract -------------------------------------------------------------------


@pytest.mark.parametrize("cipher", ciphers(), ids=["in-memory", "fernet"])
def test_a_sealed_value_opens_to_itself_and_never_shows_in_its_token(cipher: SecretCipher) -> None:
    token = cipher.encrypt(PASSWORD)

    assert PASSWORD not in token
    assert cipher.decrypt(token) == PASSWORD


def test_an_old_key_still_opens_and_rotation_seals_under_the_newest() -> None:
    old, new = new_key(), new_key()
    token = FernetSecretCipher([old]).encrypt(PASSWORD)
    both = FernetSecretCipher([new, old])

    rotated = both.rotate(token)

    assert both.decrypt(token) == PASSWORD
    assert FernetSecretCipher([new]).decrypt(rotated) == PASSWORD
    with pytest.raises(SecretUnreadableError):
        FernetSecretCipher([old]).decrypt(rotated)


@pytest.mark.parametrize(
    ("sealing_cipher", "opening_cipher"),
    [
        (FernetSecretCipher([new_key()]), FernetSecretCipher([new_key()])),
        (InMemorySecretCipher(["lost"]), InMemorySecretCipher(["other"])),
        (InMemorySecretCipher(["lost"]), NO_ENCRYPTION_KEY),
    ],
    ids=["fernet-wrong-key", "in-memory-wrong-key", "no-key"],
)
def test_a_wrong_or_missing_key_is_an_unreadable_secret(
    sealing_cipher: SecretCipher, opening_cipher: SecretCipher
) -> None:
    token = sealing_cipher.encrypt(PASSWORD)

    with pytest.raises(SecretUnreadableError):
        opening_cipher.decrypt(token)


# --- the registry marks and reveals ----------------------------------------------------------


def test_the_registry_marks_secret_str_and_bytes_fields_secret_optional_or_not() -> None:
    spec = REGISTRY.get("upload")

    assert spec.secret_fields == frozenset({"access_key", "token"})
    assert REGISTRY.get("issue_token").secret_result is True


def test_validated_arguments_hold_the_secret_in_clear_for_the_caller_to_seal() -> None:
    _, kwargs = REGISTRY.validate_arguments(
        "upload", [], {"bucket": "b", "access_key": PASSWORD, "token": "t0k"}
    )

    assert kwargs == {"bucket": "b", "access_key": PASSWORD, "token": "t0k"}


def test_the_built_in_file_signature_takes_its_key_as_a_secret() -> None:
    from adapters.task_types.builtin import builtin_registry

    assert builtin_registry().get("file_signature").secret_fields == frozenset({"key"})


# --- submission seals ------------------------------------------------------------------------


def new_task(cipher: SecretCipher, kwargs: dict[str, Any], alice: User) -> Task:
    rules = SubmissionRules(REGISTRY, ArgumentLimits(), cipher)
    return rules.new_task(
        TaskSubmission(name="n", task_type="upload", kwargs=kwargs),
        owner_id=alice.id,
        at=T0,
        request_id=None,
    )


def test_a_submitted_secret_is_sealed_before_the_task_holds_it(alice: User) -> None:
    task = new_task(InMemorySecretCipher(), {"bucket": "b", "access_key": PASSWORD}, alice)

    assert task.kwargs["bucket"] == "b"
    assert is_sealed(task.kwargs["access_key"])
    assert PASSWORD not in json.dumps(task.kwargs)
    assert task.kwargs["token"] is None  # an optional secret left out stays absent


def test_without_a_key_a_secret_argument_is_refused_not_stored_in_clear(alice: User) -> None:
    with pytest.raises(ValidationError) as refused:
        new_task(NO_ENCRYPTION_KEY, {"bucket": "b", "access_key": PASSWORD}, alice)

    assert refused.value.field == "kwargs.access_key"
    assert "TASKHUB_ENCRYPTION_KEYS" in refused.value.detail


def test_a_sealed_value_reads_as_the_mask_however_deep() -> None:
    sealed = {SEALED: "token"}

    assert masked({"a": sealed, "b": [1, sealed], "c": "plain"}) == {
        "a": MASK,
        "b": [1, MASK],
        "c": "plain",
    }
    assert masked(sealed) == MASK


def test_a_catalog_without_secret_fields_leaves_arguments_alone() -> None:
    spec = TaskTypeSpec(name="plain", description="")
    sealing = SecretSealing(NO_ENCRYPTION_KEY)

    assert sealing.seal_arguments(spec, {"a": 1}) == {"a": 1}
    assert StaticTaskTypeCatalog([spec]).validate_arguments("plain", [], {"a": 1}) == (
        [],
        {"a": 1},
    )


# --- the run opens, and seals a secret result ------------------------------------------------


def stored_task(uow: InMemoryUnitOfWork, task: Task) -> Task:
    with uow:
        uow.tasks.add(task)
        uow.commit()
    return task


def reread(uow: InMemoryUnitOfWork, task: Task) -> Task:
    with uow:
        return uow.tasks.get(task.id)


def test_the_run_gets_the_secret_in_clear_and_its_result_holds_none_of_it(
    uow: InMemoryUnitOfWork, clock: FixedClock, publisher: TaskPublisher, alice: User
) -> None:
    cipher = InMemorySecretCipher()
    task = stored_task(uow, new_task(cipher, {"bucket": "b", "access_key": PASSWORD}, alice))

    outcome = run_task_on(uow, clock, REGISTRY, publisher=publisher, cipher=cipher).execute(task.id)

    assert outcome == Completed({"bucket": "b", "key_length": len(PASSWORD)})
    assert is_sealed(reread(uow, task).kwargs["access_key"])


def test_a_lost_key_fails_the_task_with_a_clear_error_and_nothing_else(
    uow: InMemoryUnitOfWork, clock: FixedClock, publisher: TaskPublisher, alice: User
) -> None:
    sealed_with_lost_key = new_task(
        InMemorySecretCipher(["lost"]), {"bucket": "b", "access_key": PASSWORD}, alice
    )
    task = stored_task(uow, sealed_with_lost_key)
    runner = run_task_on(
        uow, clock, REGISTRY, publisher=publisher, cipher=InMemorySecretCipher(["current"])
    )

    outcome = runner.execute(task.id)

    assert isinstance(outcome, Failed)
    assert outcome.error_type == "SecretUnreadableError"
    assert "access_key" in outcome.message
    assert "cannot be decrypted" in outcome.message
    row = reread(uow, task)
    assert row.status is TaskStatus.FAILED
    assert row.attempts == 1  # not retried: another attempt has no other key


def test_a_secret_result_is_stored_sealed_and_opened_only_on_request(
    uow: InMemoryUnitOfWork, clock: FixedClock, publisher: TaskPublisher, alice: User
) -> None:
    cipher = InMemorySecretCipher()
    task = stored_task(
        uow,
        SubmissionRules(REGISTRY, ArgumentLimits(), cipher).new_task(
            TaskSubmission(name="n", task_type="issue_token", kwargs={"name": "ci"}),
            owner_id=alice.id,
            at=T0,
            request_id=None,
        ),
    )

    run_task_on(uow, clock, REGISTRY, publisher=publisher, cipher=cipher).execute(task.id)

    result = reread(uow, task).result
    assert is_sealed(result)
    assert "tok-ci" not in json.dumps(result)
    assert masked(result) == MASK
    assert SecretSealing(cipher).open_result(result) == {"name": "ci", "token": "tok-ci"}


# --- rotation --------------------------------------------------------------------------------


def test_rotation_re_seals_every_task_in_batches_and_old_tasks_stay_runnable(
    uow: InMemoryUnitOfWork, clock: FixedClock, publisher: TaskPublisher, alice: User
) -> None:
    old = InMemorySecretCipher(["old"])
    tasks = [
        stored_task(uow, new_task(old, {"bucket": f"b{n}", "access_key": PASSWORD}, alice))
        for n in range(5)
    ]
    store = InMemorySealedValueStore(
        [SealedValues(TaskId(t.id), t.kwargs, t.result) for t in tasks]
        + [SealedValues(TaskId(alice.id), {"plain": 1}, None)]  # nothing sealed: left alone
    )
    both = InMemorySecretCipher(["new", "old"])

    count = RotateEncryptionKeys(store, both, batch_size=2).execute()

    assert count == 5
    assert store.batches_written == 3
    newest_only = InMemorySecretCipher(["new"])
    for value in store.values.values():
        if is_sealed(value.kwargs.get("access_key")):
            token = value.kwargs["access_key"][SEALED]
            assert newest_only.decrypt(token) == PASSWORD
    # A task sealed under the old key before the rotation still runs while both keys are set.
    outcome = run_task_on(uow, clock, REGISTRY, publisher=publisher, cipher=both).execute(
        tasks[0].id
    )
    assert isinstance(outcome, Completed)


def test_rotation_stops_at_a_value_no_key_opens_before_writing_its_batch() -> None:
    lost = InMemorySecretCipher(["lost"])
    value = SealedValues(
        TaskId(UUID(T0_ID)), {"access_key": {SEALED: lost.encrypt(PASSWORD)}}, None
    )
    store = InMemorySealedValueStore([value])

    with pytest.raises(SecretUnreadableError):
        RotateEncryptionKeys(store, InMemorySecretCipher(["new"])).execute()

    assert store.batches_written == 0


T0_ID = "00000000-0000-0000-0000-000000000001"
