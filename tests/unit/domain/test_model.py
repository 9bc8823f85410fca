"""The Model entity of the registry: registration rules and its lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from domain.errors import InvalidTransitionError, ValidationError
from domain.model import (
    MAX_DESCRIPTION_LENGTH,
    MAX_MODEL_NAME_LENGTH,
    MODEL_TRANSITIONS,
    Model,
    ModelStatus,
    ModelType,
)
from tests.factories import T0, make_model, make_user

T1 = T0 + timedelta(minutes=1)
T2 = T0 + timedelta(minutes=2)
SHA = "a" * 64


def _validating() -> Model:
    model = make_model()
    model.start_validation(at=T0)
    return model


def _validated() -> Model:
    model = _validating()
    model.mark_validated(size=1024, sha256=SHA, at=T0)
    return model


def _invalid() -> Model:
    model = _validating()
    model.mark_invalid(reason="not an onnx file", at=T0)
    return model


def _deploying() -> Model:
    model = _validated()
    model.start_deployment(at=T0)
    return model


def _deployed() -> Model:
    model = _deploying()
    model.mark_deployed(location="s3://models/churn", at=T0)
    return model


def _deployment_failed() -> Model:
    model = _deploying()
    model.mark_deployment_failed(reason="no capacity", at=T0)
    return model


IN_STATUS: dict[ModelStatus, Callable[[], Model]] = {
    ModelStatus.REGISTERED: make_model,
    ModelStatus.VALIDATING: _validating,
    ModelStatus.VALIDATED: _validated,
    ModelStatus.INVALID: _invalid,
    ModelStatus.DEPLOYING: _deploying,
    ModelStatus.DEPLOYED: _deployed,
    ModelStatus.DEPLOYMENT_FAILED: _deployment_failed,
}


# --- register --------------------------------------------------------------------------------


def test_registered_model_starts_unchecked() -> None:
    user = make_user()

    model = Model.register(
        name="  churn  ",
        model_type=ModelType.SKLEARN,
        artifact_location="  /models/churn.pkl ",
        user_id=user.id,
        at=T0,
        description="  predicts churn ",
    )

    assert model.status is ModelStatus.REGISTERED
    assert model.name == "churn"
    assert model.description == "predicts churn"
    assert model.artifact_location == "/models/churn.pkl"
    assert model.model_type is ModelType.SKLEARN
    assert model.user_id == user.id
    assert model.created_at == T0
    assert model.updated_at == T0
    assert model.artifact_size is None
    assert model.artifact_sha256 is None
    assert model.deployed_location is None
    assert model.status_reason is None


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_model_name_is_rejected(name: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_model(name=name)

    assert excinfo.value.field == "name"


def test_model_name_longer_than_the_limit_is_rejected() -> None:
    with pytest.raises(ValidationError) as excinfo:
        make_model(name="m" * (MAX_MODEL_NAME_LENGTH + 1))

    assert excinfo.value.field == "name"


def test_blank_description_is_allowed() -> None:
    model = Model.register(
        name="churn",
        model_type=ModelType.ONNX,
        artifact_location="/m.onnx",
        user_id=make_user().id,
        at=T0,
        description="   ",
    )

    assert model.description == ""


def test_description_longer_than_the_limit_is_rejected() -> None:
    with pytest.raises(ValidationError) as excinfo:
        Model.register(
            name="churn",
            model_type=ModelType.ONNX,
            artifact_location="/m.onnx",
            user_id=make_user().id,
            at=T0,
            description="d" * (MAX_DESCRIPTION_LENGTH + 1),
        )

    assert excinfo.value.field == "description"


@pytest.mark.parametrize("location", ["", "  ", "/" + "x" * 1000])
def test_blank_or_overlong_artifact_location_is_rejected(location: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Model.register(
            name="churn",
            model_type=ModelType.ONNX,
            artifact_location=location,
            user_id=make_user().id,
            at=T0,
        )

    assert excinfo.value.field == "artifact_location"


# --- the happy lifecycle ---------------------------------------------------------------------


def test_start_validation_moves_to_validating_and_clears_the_old_reason() -> None:
    model = _invalid()

    model.start_validation(at=T1)

    assert model.status is ModelStatus.VALIDATING
    assert model.status_reason is None
    assert model.updated_at == T1


def test_mark_validated_records_size_and_checksum() -> None:
    model = _validating()

    model.mark_validated(size=2048, sha256=SHA, at=T1)

    assert model.status is ModelStatus.VALIDATED
    assert model.artifact_size == 2048
    assert model.artifact_sha256 == SHA
    assert model.updated_at == T1


def test_mark_invalid_records_the_reason() -> None:
    model = _validating()

    model.mark_invalid(reason="corrupt header", at=T1)

    assert model.status is ModelStatus.INVALID
    assert model.status_reason == "corrupt header"
    assert model.updated_at == T1


def test_start_deployment_moves_a_validated_model_to_deploying() -> None:
    model = _validated()

    model.start_deployment(at=T1)

    assert model.status is ModelStatus.DEPLOYING
    assert model.status_reason is None
    assert model.updated_at == T1


def test_mark_deployed_records_where_the_model_runs() -> None:
    model = _deploying()

    model.mark_deployed(location="s3://models/churn", at=T1)

    assert model.status is ModelStatus.DEPLOYED
    assert model.deployed_location == "s3://models/churn"
    assert model.updated_at == T1


def test_mark_deployment_failed_records_the_reason() -> None:
    model = _deploying()

    model.mark_deployment_failed(reason="no capacity", at=T1)

    assert model.status is ModelStatus.DEPLOYMENT_FAILED
    assert model.status_reason == "no capacity"
    assert model.updated_at == T1


def test_failed_deployment_can_be_tried_again() -> None:
    model = _deployment_failed()

    model.start_deployment(at=T1)

    assert model.status is ModelStatus.DEPLOYING
    assert model.status_reason is None


def test_deployed_model_can_be_redeployed() -> None:
    model = _deployed()

    model.start_deployment(at=T1)

    assert model.status is ModelStatus.DEPLOYING


# --- illegal moves ---------------------------------------------------------------------------


def _moves(model: Model) -> dict[str, Callable[[], None]]:
    return {
        "start_validation": lambda: model.start_validation(at=T2),
        "mark_validated": lambda: model.mark_validated(size=1, sha256=SHA, at=T2),
        "mark_invalid": lambda: model.mark_invalid(reason="r", at=T2),
        "start_deployment": lambda: model.start_deployment(at=T2),
        "mark_deployed": lambda: model.mark_deployed(location="loc", at=T2),
        "mark_deployment_failed": lambda: model.mark_deployment_failed(reason="r", at=T2),
    }


_TARGET = {
    "start_validation": ModelStatus.VALIDATING,
    "mark_validated": ModelStatus.VALIDATED,
    "mark_invalid": ModelStatus.INVALID,
    "start_deployment": ModelStatus.DEPLOYING,
    "mark_deployed": ModelStatus.DEPLOYED,
    "mark_deployment_failed": ModelStatus.DEPLOYMENT_FAILED,
}

ILLEGAL_MOVES = [
    (status, move)
    for status in ModelStatus
    for move, target in _TARGET.items()
    if target not in MODEL_TRANSITIONS[status]
]


@pytest.mark.parametrize(("status", "move"), ILLEGAL_MOVES)
def test_lifecycle_move_not_in_the_table_is_an_invalid_transition(
    status: ModelStatus, move: str
) -> None:
    model = IN_STATUS[status]()
    before = dict(vars(model))

    with pytest.raises(InvalidTransitionError) as excinfo:
        _moves(model)[move]()

    assert excinfo.value.entity == "model"
    assert excinfo.value.from_ == status.value
    assert excinfo.value.to == _TARGET[move].value
    assert vars(model) == before


def test_the_illegal_move_list_covers_the_obvious_mistakes() -> None:
    expected = {
        (ModelStatus.REGISTERED, "mark_validated"),
        (ModelStatus.REGISTERED, "start_deployment"),
        (ModelStatus.INVALID, "start_deployment"),
        (ModelStatus.VALIDATED, "mark_deployed"),
        (ModelStatus.DEPLOYING, "start_validation"),
        (ModelStatus.VALIDATING, "start_deployment"),
    }

    assert expected <= set(ILLEGAL_MOVES)


def test_every_model_status_is_in_the_transition_table() -> None:
    assert set(MODEL_TRANSITIONS) == set(ModelStatus)
    assert set().union(*MODEL_TRANSITIONS.values()) <= set(ModelStatus)


# --- replace_artifact ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        ModelStatus.VALIDATED,
        ModelStatus.INVALID,
        ModelStatus.DEPLOYED,
        ModelStatus.DEPLOYMENT_FAILED,
    ],
)
def test_new_artifact_resets_every_check_and_needs_validating_again(status: ModelStatus) -> None:
    model = IN_STATUS[status]()

    model.replace_artifact("  /models/churn-v2.onnx ", at=T1)

    assert model.status is ModelStatus.REGISTERED
    assert model.artifact_location == "/models/churn-v2.onnx"
    assert model.artifact_size is None
    assert model.artifact_sha256 is None
    assert model.deployed_location is None
    assert model.status_reason is None
    assert model.updated_at == T1


def test_artifact_cannot_be_replaced_while_deploying() -> None:
    model = _deploying()

    with pytest.raises(InvalidTransitionError) as excinfo:
        model.replace_artifact("/models/other.onnx", at=T1)

    assert (excinfo.value.from_, excinfo.value.to) == ("deploying", "registered")
    assert model.status is ModelStatus.DEPLOYING
    assert model.artifact_location == "/models/churn.onnx"
    assert model.artifact_sha256 == SHA


def test_artifact_cannot_be_replaced_while_validating() -> None:
    model = _validating()

    with pytest.raises(InvalidTransitionError) as excinfo:
        model.replace_artifact("/models/other.onnx", at=T1)

    assert (excinfo.value.from_, excinfo.value.to) == ("validating", "registered")
    assert model.status is ModelStatus.VALIDATING
    assert model.artifact_location == "/models/churn.onnx"


def test_artifact_of_a_freshly_registered_model_can_be_replaced() -> None:
    model = make_model()

    model.replace_artifact("/models/fixed-path.onnx", at=T1)

    assert model.status is ModelStatus.REGISTERED
    assert model.artifact_location == "/models/fixed-path.onnx"
    assert model.updated_at == T1


def test_invalid_new_artifact_location_leaves_the_model_unchanged() -> None:
    model = _validated()

    with pytest.raises(ValidationError) as excinfo:
        model.replace_artifact("   ", at=T1)

    assert excinfo.value.field == "artifact_location"
    assert model.status is ModelStatus.VALIDATED
    assert model.artifact_location == "/models/churn.onnx"
    assert model.artifact_sha256 == SHA


# --- abandon_request -------------------------------------------------------------------------


def test_abandoning_a_validation_returns_the_model_to_registered() -> None:
    model = _validating()

    model.abandon_request(at=T1)

    assert model.status is ModelStatus.REGISTERED
    assert model.updated_at == T1


def test_abandoning_a_deployment_returns_the_model_to_validated() -> None:
    model = _deploying()

    model.abandon_request(at=T1)

    assert model.status is ModelStatus.VALIDATED
    assert model.artifact_sha256 == SHA
    assert model.updated_at == T1


@pytest.mark.parametrize(
    "status",
    [
        ModelStatus.REGISTERED,
        ModelStatus.VALIDATED,
        ModelStatus.INVALID,
        ModelStatus.DEPLOYED,
        ModelStatus.DEPLOYMENT_FAILED,
    ],
)
def test_abandoning_when_nothing_is_in_flight_changes_nothing(status: ModelStatus) -> None:
    model = IN_STATUS[status]()
    before = dict(vars(model))

    model.abandon_request(at=T2)

    assert vars(model) == before


# --- describe --------------------------------------------------------------------------------


def test_describe_changes_name_and_description() -> None:
    model = make_model(name="churn")

    model.describe(name="  churn v2 ", description=" better ", at=T1)

    assert model.name == "churn v2"
    assert model.description == "better"
    assert model.updated_at == T1


def test_describe_leaves_fields_that_are_not_given() -> None:
    model = make_model(name="churn")

    model.describe(description="only this", at=T1)

    assert model.name == "churn"
    assert model.description == "only this"


def test_describe_can_clear_the_description() -> None:
    model = make_model()
    model.describe(description="something", at=T0)

    model.describe(description="", at=T1)

    assert model.description == ""


def test_describe_with_a_blank_name_is_rejected() -> None:
    model = make_model(name="churn")

    with pytest.raises(ValidationError) as excinfo:
        model.describe(name="  ", at=T1)

    assert excinfo.value.field == "name"
    assert model.name == "churn"


def test_describe_with_an_invalid_description_leaves_the_name_unchanged() -> None:
    model = make_model(name="churn")

    with pytest.raises(ValidationError) as excinfo:
        model.describe(name="renamed", description="d" * (MAX_DESCRIPTION_LENGTH + 1), at=T1)

    assert excinfo.value.field == "description"
    assert model.name == "churn"
    assert model.updated_at == T0


def test_describe_works_in_any_status() -> None:
    model = _deploying()

    model.describe(name="renamed", at=T1)

    assert model.name == "renamed"
    assert model.status is ModelStatus.DEPLOYING


# --- is_busy and identity --------------------------------------------------------------------


@pytest.mark.parametrize("status", list(ModelStatus))
def test_only_validating_and_deploying_are_busy(status: ModelStatus) -> None:
    busy = status.is_busy

    assert busy is (status in {ModelStatus.VALIDATING, ModelStatus.DEPLOYING})


def test_models_are_equal_by_id() -> None:
    model = make_model(name="a")
    twin = make_model(name="a")
    same = _validated()
    same.id = model.id

    assert model != twin
    assert model == same
    assert hash(model) == hash(same)
