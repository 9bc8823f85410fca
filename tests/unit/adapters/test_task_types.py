"""The task-type registry's validation, and the built-in task types doing their real work."""

from __future__ import annotations

import hashlib
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.in_memory.task_context import RecordingTaskContext
from adapters.task_types.builtin import (
    BulkChecksumArguments,
    ChecksumArguments,
    CountdownArguments,
    builtin_registry,
    bulk_checksum,
    countdown,
    file_checksum,
)
from adapters.task_types.files import FileArea, OutsideFileAreaError, UnreadableFileError
from adapters.task_types.model_tasks import (
    DeployModelArguments,
    InvalidArtifactError,
    ValidateModelArguments,
    deploy_model,
    validate_model,
)
from application.errors import TaskCancelledError
from domain.errors import ValidationError
from domain.model import ModelType
from domain.task import Priority
from domain.user import UserId

ONNX_BYTES = b"\x08\x07\x12\x04test" + b"\x00" * 100


def test_every_builtin_type_is_listed_with_its_queue_and_argument_schema() -> None:
    specs = {spec.name: spec for spec in builtin_registry().all()}

    assert set(specs) >= {
        "noop",
        "countdown",
        "file_checksum",
        "bulk_checksum",
        "validate_model",
        "deploy_model",
    }
    assert specs["file_checksum"].default_priority is Priority.HIGH
    assert specs["bulk_checksum"].default_priority is Priority.LOW
    assert specs["deploy_model"].default_priority is Priority.HIGH
    assert "seconds" in specs["countdown"].arguments_schema["properties"]


def test_arguments_are_validated_and_normalised_to_json() -> None:
    args, kwargs = builtin_registry().validate_arguments("countdown", [], {"seconds": "1.5"})

    assert (args, kwargs) == ([], {"seconds": 1.5, "steps": 10})


def test_positional_arguments_fill_fields_in_order() -> None:
    _, kwargs = builtin_registry().validate_arguments("countdown", [2, 4], {})

    assert kwargs == {"seconds": 2.0, "steps": 4}


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        ([], {}, "kwargs.seconds"),
        ([], {"seconds": -1}, "kwargs.seconds"),
        ([], {"seconds": 1, "steps": 0}, "kwargs.steps"),
        ([], {"seconds": 1, "surprise": True}, "kwargs.surprise"),
        ([1, 2, 3], {}, "args"),
        ([1], {"seconds": 1}, "kwargs"),
    ],
)
def test_bad_arguments_name_the_offending_field(args: list, kwargs: dict, field: str) -> None:
    with pytest.raises(ValidationError) as error:
        builtin_registry().validate_arguments("countdown", args, kwargs)

    assert error.value.field == field


def test_every_invalid_argument_is_reported_under_its_own_field_without_repeating_it() -> None:
    kwargs = {"seconds": "soon", "steps": 0, "shell": "rm -rf /"}

    with pytest.raises(ValidationError) as error:
        builtin_registry().validate_arguments("countdown", [], kwargs)

    errors = dict(error.value.field_errors)
    assert list(errors) == ["kwargs.seconds", "kwargs.steps", "kwargs.shell"]
    assert errors["kwargs.steps"] == "Input should be greater than or equal to 1"
    assert all(not message.startswith(("seconds", "steps", "shell")) for message in errors.values())


def test_an_invalid_list_item_is_named_by_its_position() -> None:
    kwargs = {"paths": ["a", 2, "c", None]}

    with pytest.raises(ValidationError) as error:
        builtin_registry().validate_arguments("bulk_checksum", [], kwargs)

    assert [field for field, _ in error.value.field_errors] == ["kwargs.paths.1", "kwargs.paths.3"]
    assert error.value.field_errors[0][1] == "Input should be a valid string"


def test_unknown_task_types_are_refused_listing_those_a_client_may_submit() -> None:
    with pytest.raises(ValidationError) as error:
        builtin_registry().get("rm_rf")

    assert error.value.field == "task_type"
    assert "countdown, file_checksum, file_signature, gather, noop" in error.value.detail
    assert "validate_model" not in error.value.detail  # internal: never submitted by clients
    assert "noop" in error.value.context["task_types"]


def test_countdown_reports_progress_at_each_step() -> None:
    ctx = RecordingTaskContext()

    result = countdown(ctx, CountdownArguments(seconds=0.01, steps=4))

    assert result == {"slept": 0.01}
    assert ctx.percents == [25, 50, 75, 100]


def test_countdown_stops_when_cancelled() -> None:
    ctx = RecordingTaskContext(cancel_after=2)

    with pytest.raises(TaskCancelledError):
        countdown(ctx, CountdownArguments(seconds=0.01, steps=10))

    assert len(ctx.reports) == 2


def test_file_checksum_hashes_the_file(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"taskhub" * 1000)
    ctx = RecordingTaskContext()

    result = file_checksum(FileArea(tmp_path), ctx, ChecksumArguments(path=str(target)))

    assert result["hexdigest"] == hashlib.sha256(b"taskhub" * 1000).hexdigest()
    assert result["size"] == 7000
    assert ctx.percents[-1] == 100


def test_bulk_checksum_reports_missing_files_without_failing(tmp_path: Path) -> None:
    present = tmp_path / "a.txt"
    present.write_text("a")
    ctx = RecordingTaskContext()

    result = bulk_checksum(
        FileArea(tmp_path),
        ctx,
        BulkChecksumArguments(paths=[str(present), str(tmp_path / "missing.txt")], algorithm="md5"),
    )

    assert result["digests"] == {str(present): hashlib.md5(b"a").hexdigest()}  # noqa: S324
    assert list(result["errors"]) == [str(tmp_path / "missing.txt")]
    assert ctx.percents == [50, 100]


@pytest.mark.parametrize(
    ("model_type", "content", "expected_format"),
    [
        (ModelType.ONNX, ONNX_BYTES, "onnx-protobuf"),
        (ModelType.SKLEARN, b"\x80\x04\x95" + b"x" * 20, "pickle"),
        (ModelType.PYTORCH, b"PK\x03\x04" + b"x" * 20, "torch-zip"),
        (ModelType.CUSTOM, b"anything", "opaque"),
    ],
)
def test_validate_model_records_size_digest_and_format(
    tmp_path: Path, model_type: ModelType, content: bytes, expected_format: str
) -> None:
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(content)

    result = validate_model(
        FileArea(tmp_path),
        RecordingTaskContext(),
        ValidateModelArguments(
            model_id=uuid4(), artifact_location=str(artifact), model_type=model_type
        ),
    )

    assert result["size"] == len(content)
    assert result["sha256"] == hashlib.sha256(content).hexdigest()
    assert result["format"] == expected_format


def test_validate_model_refuses_a_missing_or_mistyped_artifact(tmp_path: Path) -> None:
    wrong = tmp_path / "model.onnx"
    wrong.write_bytes(b"PK\x03\x04 this is a zip, not onnx")

    with pytest.raises(InvalidArtifactError, match="does not exist"):
        validate_model(
            FileArea(tmp_path),
            RecordingTaskContext(),
            ValidateModelArguments(
                model_id=uuid4(), artifact_location=str(tmp_path / "nope"), model_type="onnx"
            ),
        )
    with pytest.raises(InvalidArtifactError, match="does not look like"):
        validate_model(
            FileArea(tmp_path),
            RecordingTaskContext(),
            ValidateModelArguments(
                model_id=uuid4(), artifact_location=str(wrong), model_type="onnx"
            ),
        )


def test_deploy_model_copies_the_artifact_and_verifies_it(tmp_path: Path) -> None:
    artifact = tmp_path / "model.onnx"
    artifact.write_bytes(ONNX_BYTES)
    model_id = uuid4()

    result = deploy_model(
        FileArea(tmp_path),
        RecordingTaskContext(),
        DeployModelArguments(
            model_id=model_id,
            artifact_location=str(artifact),
            artifact_sha256=hashlib.sha256(ONNX_BYTES).hexdigest(),
            deployment_dir=str(tmp_path / "deployed"),
        ),
    )

    deployed = Path(result["deployed_location"])
    assert deployed == tmp_path / "deployed" / str(model_id) / "model.onnx"
    assert deployed.read_bytes() == ONNX_BYTES


def test_deploy_model_refuses_an_artifact_changed_since_validation(tmp_path: Path) -> None:
    artifact = tmp_path / "model.onnx"
    artifact.write_bytes(ONNX_BYTES)

    with pytest.raises(InvalidArtifactError, match="changed"):
        deploy_model(
            FileArea(tmp_path),
            RecordingTaskContext(),
            DeployModelArguments(
                model_id=uuid4(),
                artifact_location=str(artifact),
                artifact_sha256="0" * 64,
                deployment_dir=str(tmp_path / "deployed"),
            ),
        )

    assert list((tmp_path / "deployed").rglob("*.onnx*")) == []


def test_file_tasks_refuse_paths_outside_the_files_area(tmp_path: Path) -> None:
    area = tmp_path / "area"
    area.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    (area / "sneaky").symlink_to(secret)

    for name in (str(secret), "../secret.txt", "sneaky"):
        with pytest.raises(OutsideFileAreaError):
            file_checksum(FileArea(area), RecordingTaskContext(), ChecksumArguments(path=name))


def test_validating_an_artifact_outside_the_files_area_marks_it_invalid(tmp_path: Path) -> None:
    with pytest.raises(InvalidArtifactError, match="outside the files area"):
        validate_model(
            FileArea(tmp_path / "area"),
            RecordingTaskContext(),
            ValidateModelArguments(
                model_id=uuid4(), artifact_location="/etc/passwd", model_type="custom"
            ),
        )


def test_model_tasks_are_internal_and_hidden_from_clients() -> None:
    specs = {spec.name: spec for spec in builtin_registry().all()}

    assert specs["validate_model"].internal
    assert specs["deploy_model"].internal
    assert not specs["countdown"].internal


# --- errors name files relative to the files area --------------------------------------------


def test_a_missing_file_fails_naming_it_relative_to_the_files_area(tmp_path: Path) -> None:
    area = tmp_path / "srv-files"
    (area / "data").mkdir(parents=True)

    with pytest.raises(UnreadableFileError) as error:
        file_checksum(FileArea(area), RecordingTaskContext(), ChecksumArguments(path="data/x.bin"))

    assert error.value.detail == "data/x.bin: no such file or directory"
    assert str(tmp_path) not in str(error.value)


def test_a_path_outside_the_files_area_is_refused_without_saying_where_the_area_is(
    tmp_path: Path,
) -> None:
    area = tmp_path / "srv-files"
    area.mkdir()

    with pytest.raises(OutsideFileAreaError) as error:
        file_checksum(FileArea(area), RecordingTaskContext(), ChecksumArguments(path="../x"))

    assert str(area) not in str(error.value)
    assert error.value.detail == "../x is outside the files area"


def test_one_bad_path_in_a_bulk_checksum_is_reported_against_that_file_only(
    tmp_path: Path,
) -> None:
    area = tmp_path / "srv-files"
    area.mkdir()
    (area / "good.txt").write_bytes(b"hello")
    paths = ["good.txt", "nul\x00byte", "../outside.txt", "missing.txt"]

    result = bulk_checksum(
        FileArea(area), RecordingTaskContext(), BulkChecksumArguments(paths=paths)
    )

    assert result["digests"] == {"good.txt": hashlib.sha256(b"hello").hexdigest()}
    assert set(result["errors"]) == {"nul\x00byte", "../outside.txt", "missing.txt"}
    assert result["errors"]["missing.txt"] == (
        "UnreadableFileError: missing.txt: no such file or directory"
    )
    assert not [e for e in result["errors"].values() if str(tmp_path) in e]


def test_validating_a_missing_artifact_names_it_without_the_server_path(tmp_path: Path) -> None:
    area = tmp_path / "srv-files"
    area.mkdir()

    with pytest.raises(InvalidArtifactError) as error:
        validate_model(
            FileArea(area),
            RecordingTaskContext(),
            ValidateModelArguments(
                model_id=uuid4(), artifact_location="../../etc/shadow", model_type="custom"
            ),
        )

    assert str(area) not in str(error.value)


# --- each user has a folder of their own; an admin's task sees the whole area ----------------


def as_user(user_id: UUID) -> RecordingTaskContext:
    return RecordingTaskContext(owner_id=UserId(user_id), owner_is_admin=False)


@pytest.fixture
def two_users_files(tmp_path: Path) -> tuple[Path, UUID, UUID]:
    area, alice, bob = tmp_path / "files", uuid4(), uuid4()
    for user, text in ((alice, b"alice's data"), (bob, b"bob's secret")):
        (area / str(user)).mkdir(parents=True)
        (area / str(user) / "data.bin").write_bytes(text)
    return area, alice, bob


def test_a_users_task_reads_names_relative_to_their_own_folder(
    two_users_files: tuple[Path, UUID, UUID],
) -> None:
    area, alice, _ = two_users_files

    result = file_checksum(FileArea(area), as_user(alice), ChecksumArguments(path="data.bin"))

    assert result["hexdigest"] == hashlib.sha256(b"alice's data").hexdigest()


def test_a_users_task_cannot_read_another_users_file_by_any_name(
    two_users_files: tuple[Path, UUID, UUID],
) -> None:
    area, alice, bob = two_users_files
    names = [f"../{bob}/data.bin", str(area / str(bob) / "data.bin")]

    for name in names:
        with pytest.raises(OutsideFileAreaError):
            file_checksum(FileArea(area), as_user(alice), ChecksumArguments(path=name))
    result = bulk_checksum(FileArea(area), as_user(alice), BulkChecksumArguments(paths=names))
    assert (result["digests"], set(result["errors"])) == ({}, set(names))


def test_a_users_model_artifact_is_looked_up_in_their_folder_only(
    two_users_files: tuple[Path, UUID, UUID],
) -> None:
    area, alice, bob = two_users_files

    with pytest.raises(InvalidArtifactError, match="outside the files area"):
        validate_model(
            FileArea(area),
            as_user(alice),
            ValidateModelArguments(
                model_id=uuid4(), artifact_location=f"../{bob}/data.bin", model_type="custom"
            ),
        )


def test_an_admins_task_reads_any_users_file(two_users_files: tuple[Path, UUID, UUID]) -> None:
    area, _, bob = two_users_files
    admin = RecordingTaskContext(owner_id=UserId(uuid4()), owner_is_admin=True)

    result = file_checksum(FileArea(area), admin, ChecksumArguments(path=f"{bob}/data.bin"))

    assert result["hexdigest"] == hashlib.sha256(b"bob's secret").hexdigest()
