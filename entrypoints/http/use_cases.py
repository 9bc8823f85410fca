"""The use cases routes receive: one typed dependency each, from the API's container.

A route names the alias (`submit: SubmitTaskUseCase`); mypy checks that the provider builds
the type the alias declares, and tests/unit/http/test_injected_use_cases.py that every alias
resolves to it."""

from __future__ import annotations

from typing import Annotated

from application.argument_limits import ArgumentLimits
from application.ports import TaskTypeCatalog
from application.use_cases.authenticate import Authenticate
from application.use_cases.cancel_task import CancelTask
from application.use_cases.cancel_workflow import CancelWorkflow
from application.use_cases.change_password import ChangePassword
from application.use_cases.check_readiness import CheckReadiness
from application.use_cases.create_schedule import CreateSchedule
from application.use_cases.delete_model import DeleteModel
from application.use_cases.delete_schedule import DeleteSchedule
from application.use_cases.delete_task import DeleteTask
from application.use_cases.delete_webhook_endpoint import DeleteWebhookEndpoint
from application.use_cases.delete_workflow import DeleteWorkflow
from application.use_cases.describe_queues import DescribeQueues
from application.use_cases.describe_recent_runs import DescribeRecentRuns
from application.use_cases.end_sessions import EndSessions
from application.use_cases.explain_wait import ExplainWait
from application.use_cases.get_model import GetModel
from application.use_cases.get_quota import GetQuota
from application.use_cases.get_schedule import GetSchedule
from application.use_cases.get_task import GetTask
from application.use_cases.get_task_result import GetTaskResult
from application.use_cases.get_workflow import GetWorkflow
from application.use_cases.issue_callback_secret import IssueCallbackSecret
from application.use_cases.issue_stream_token import IssueStreamToken
from application.use_cases.list_models import ListModels
from application.use_cases.list_schedule_fires import ListScheduleFires
from application.use_cases.list_schedules import ListSchedules
from application.use_cases.list_task_attempts import ListTaskAttempts
from application.use_cases.list_task_logs import ListTaskLogs
from application.use_cases.list_tasks import ListTasks
from application.use_cases.list_users import ListUsers
from application.use_cases.list_webhook_deliveries import ListWebhookDeliveries
from application.use_cases.list_webhook_endpoints import ListWebhookEndpoints
from application.use_cases.list_workflows import ListWorkflows
from application.use_cases.pause_schedule import PauseSchedule, ResumeSchedule
from application.use_cases.read_task_events import ReadTaskEvents
from application.use_cases.redeliver_webhook import RedeliverWebhook
from application.use_cases.register_model import RegisterModel
from application.use_cases.register_user import RegisterUser
from application.use_cases.register_webhook_endpoint import RegisterWebhookEndpoint
from application.use_cases.request_model_deployment import RequestModelDeployment
from application.use_cases.request_model_validation import RequestModelValidation
from application.use_cases.rerun_task import RerunTask
from application.use_cases.retry_workflow import RetryWorkflow
from application.use_cases.rotate_webhook_secret import RotateWebhookSecret
from application.use_cases.sign_up import SignUp
from application.use_cases.submit_task import SubmitTask
from application.use_cases.submit_task_batch import SubmitTaskBatch
from application.use_cases.submit_workflow import SubmitWorkflow
from application.use_cases.trigger_schedule import TriggerSchedule
from application.use_cases.update_model import UpdateModel
from application.use_cases.update_schedule import UpdateSchedule
from application.use_cases.update_task import UpdateTask
from application.use_cases.update_user import UpdateUser
from entrypoints.container import CoreContainer
from entrypoints.http.dependencies import Provided

AuthenticateUseCase = Annotated[Authenticate, Provided(Authenticate).by(CoreContainer.authenticate)]
CancelTaskUseCase = Annotated[CancelTask, Provided(CancelTask).by(CoreContainer.cancel_task)]
CancelWorkflowUseCase = Annotated[
    CancelWorkflow, Provided(CancelWorkflow).by(CoreContainer.cancel_workflow)
]
ChangePasswordUseCase = Annotated[
    ChangePassword, Provided(ChangePassword).by(CoreContainer.change_password)
]
CheckReadinessUseCase = Annotated[
    CheckReadiness, Provided(CheckReadiness).by(CoreContainer.check_readiness)
]
ConfiguredArgumentLimits = Annotated[
    ArgumentLimits, Provided(ArgumentLimits).by(CoreContainer.argument_limits)
]
CreateScheduleUseCase = Annotated[
    CreateSchedule, Provided(CreateSchedule).by(CoreContainer.create_schedule)
]
DeleteModelUseCase = Annotated[DeleteModel, Provided(DeleteModel).by(CoreContainer.delete_model)]
DeleteScheduleUseCase = Annotated[
    DeleteSchedule, Provided(DeleteSchedule).by(CoreContainer.delete_schedule)
]
DeleteTaskUseCase = Annotated[DeleteTask, Provided(DeleteTask).by(CoreContainer.delete_task)]
DeleteWorkflowUseCase = Annotated[
    DeleteWorkflow, Provided(DeleteWorkflow).by(CoreContainer.delete_workflow)
]
DescribeQueuesUseCase = Annotated[
    DescribeQueues, Provided(DescribeQueues).by(CoreContainer.describe_queues)
]
DescribeRecentRunsUseCase = Annotated[
    DescribeRecentRuns, Provided(DescribeRecentRuns).by(CoreContainer.describe_recent_runs)
]
EndSessionsUseCase = Annotated[EndSessions, Provided(EndSessions).by(CoreContainer.end_sessions)]
ExplainWaitUseCase = Annotated[ExplainWait, Provided(ExplainWait).by(CoreContainer.explain_wait)]
GetModelUseCase = Annotated[GetModel, Provided(GetModel).by(CoreContainer.get_model)]
GetQuotaUseCase = Annotated[GetQuota, Provided(GetQuota).by(CoreContainer.get_quota)]
GetScheduleUseCase = Annotated[GetSchedule, Provided(GetSchedule).by(CoreContainer.get_schedule)]
GetTaskUseCase = Annotated[GetTask, Provided(GetTask).by(CoreContainer.get_task)]
GetTaskResultUseCase = Annotated[
    GetTaskResult, Provided(GetTaskResult).by(CoreContainer.get_task_result)
]
GetWorkflowUseCase = Annotated[GetWorkflow, Provided(GetWorkflow).by(CoreContainer.get_workflow)]
InstalledTaskTypes = Annotated[
    TaskTypeCatalog, Provided(TaskTypeCatalog).by(CoreContainer.task_type_catalog)
]
IssueStreamTokenUseCase = Annotated[
    IssueStreamToken, Provided(IssueStreamToken).by(CoreContainer.issue_stream_token)
]
ListModelsUseCase = Annotated[ListModels, Provided(ListModels).by(CoreContainer.list_models)]
ListScheduleFiresUseCase = Annotated[
    ListScheduleFires, Provided(ListScheduleFires).by(CoreContainer.list_schedule_fires)
]
ListSchedulesUseCase = Annotated[
    ListSchedules, Provided(ListSchedules).by(CoreContainer.list_schedules)
]
ListTaskAttemptsUseCase = Annotated[
    ListTaskAttempts, Provided(ListTaskAttempts).by(CoreContainer.list_task_attempts)
]
ListTaskLogsUseCase = Annotated[
    ListTaskLogs, Provided(ListTaskLogs).by(CoreContainer.list_task_logs)
]
ListTasksUseCase = Annotated[ListTasks, Provided(ListTasks).by(CoreContainer.list_tasks)]
ListUsersUseCase = Annotated[ListUsers, Provided(ListUsers).by(CoreContainer.list_users)]
ListWorkflowsUseCase = Annotated[
    ListWorkflows, Provided(ListWorkflows).by(CoreContainer.list_workflows)
]
PauseScheduleUseCase = Annotated[
    PauseSchedule, Provided(PauseSchedule).by(CoreContainer.pause_schedule)
]
ReadTaskEventsUseCase = Annotated[
    ReadTaskEvents, Provided(ReadTaskEvents).by(CoreContainer.read_task_events)
]
RegisterModelUseCase = Annotated[
    RegisterModel, Provided(RegisterModel).by(CoreContainer.register_model)
]
RegisterUserUseCase = Annotated[
    RegisterUser, Provided(RegisterUser).by(CoreContainer.register_user)
]
RequestModelDeploymentUseCase = Annotated[
    RequestModelDeployment,
    Provided(RequestModelDeployment).by(CoreContainer.request_model_deployment),
]
RequestModelValidationUseCase = Annotated[
    RequestModelValidation,
    Provided(RequestModelValidation).by(CoreContainer.request_model_validation),
]
RerunTaskUseCase = Annotated[RerunTask, Provided(RerunTask).by(CoreContainer.rerun_task)]
ResumeScheduleUseCase = Annotated[
    ResumeSchedule, Provided(ResumeSchedule).by(CoreContainer.resume_schedule)
]
RetryWorkflowUseCase = Annotated[
    RetryWorkflow, Provided(RetryWorkflow).by(CoreContainer.retry_workflow)
]
SignUpUseCase = Annotated[SignUp, Provided(SignUp).by(CoreContainer.sign_up)]
SubmitTaskBatchUseCase = Annotated[
    SubmitTaskBatch, Provided(SubmitTaskBatch).by(CoreContainer.submit_task_batch)
]
SubmitTaskUseCase = Annotated[SubmitTask, Provided(SubmitTask).by(CoreContainer.submit_task)]
SubmitWorkflowUseCase = Annotated[
    SubmitWorkflow, Provided(SubmitWorkflow).by(CoreContainer.submit_workflow)
]
TriggerScheduleUseCase = Annotated[
    TriggerSchedule, Provided(TriggerSchedule).by(CoreContainer.trigger_schedule)
]
UpdateModelUseCase = Annotated[UpdateModel, Provided(UpdateModel).by(CoreContainer.update_model)]
UpdateScheduleUseCase = Annotated[
    UpdateSchedule, Provided(UpdateSchedule).by(CoreContainer.update_schedule)
]
UpdateTaskUseCase = Annotated[UpdateTask, Provided(UpdateTask).by(CoreContainer.update_task)]
UpdateUserUseCase = Annotated[UpdateUser, Provided(UpdateUser).by(CoreContainer.update_user)]
DeleteWebhookEndpointUseCase = Annotated[
    DeleteWebhookEndpoint, Provided(DeleteWebhookEndpoint).by(CoreContainer.delete_webhook_endpoint)
]
IssueCallbackSecretUseCase = Annotated[
    IssueCallbackSecret, Provided(IssueCallbackSecret).by(CoreContainer.issue_callback_secret)
]
ListWebhookDeliveriesUseCase = Annotated[
    ListWebhookDeliveries, Provided(ListWebhookDeliveries).by(CoreContainer.list_webhook_deliveries)
]
ListWebhookEndpointsUseCase = Annotated[
    ListWebhookEndpoints, Provided(ListWebhookEndpoints).by(CoreContainer.list_webhook_endpoints)
]
RedeliverWebhookUseCase = Annotated[
    RedeliverWebhook, Provided(RedeliverWebhook).by(CoreContainer.redeliver_webhook)
]
RegisterWebhookEndpointUseCase = Annotated[
    RegisterWebhookEndpoint,
    Provided(RegisterWebhookEndpoint).by(CoreContainer.register_webhook_endpoint),
]
RotateWebhookSecretUseCase = Annotated[
    RotateWebhookSecret, Provided(RotateWebhookSecret).by(CoreContainer.rotate_webhook_secret)
]
