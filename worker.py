"""The worker: wiring only. Reads settings, checks the policy, registers, runs."""

import argparse
import asyncio
import os
import sys
from datetime import timedelta

import structlog
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities.cases import CaseRegistry
from activities.email import EmailChannel, SmtpRelay
from activities.govuk_notify import GovukNotifyChannel, NotifyService
from activities.mase import PanelCases, build_panel_documents, link_panel_documents
from activities.notify import Channel, Notifier, OutboxFile
from activities.webhook import WebhookChannel
from domain.directory import AddressKind, Directory, DirectoryError, roles_needed
from domain.govuk_notify import NotifyTemplateError
from domain.policy import PolicyBook, PolicyError
from edge.client import (
    MetricsError,
    connect,
    is_unreachable,
    metrics_address,
    unreachable_reason,
    warn_if_plaintext,
    worker_runtime,
)
from edge.codec import CodecKeyError
from edge.config_files import load_directory, load_notify_templates, load_policy_book
from edge.logs import configure_logging
from edge.loopback import deployment_problem, warn_if_unlinked
from edge.namespace import RetentionError, ensure_case_retention
from edge.schedules import ensure_panel_schedule
from edge.search_attributes import ensure_search_attributes
from edge.settings import Settings, SettingsRefused, read_settings
from workflows import configuration
from workflows.mase_panel import MasePanelWorkflow
from workflows.referral import ReferralWorkflow
from workflows.sandbox import workflow_runner

log = structlog.get_logger("cse.worker")


def usage() -> argparse.ArgumentParser:
    """`python worker.py --help`: what the worker does and where its settings come from."""
    return argparse.ArgumentParser(
        prog="worker.py",
        description="The worker of the CSE referral pathway: checks its settings and policy "
        "folder, registers the case search attributes and the panel schedule on Temporal, "
        "then runs every case of its task queue until stopped. It takes no arguments.",
        epilog="Settings come from the environment: CSE_ variables, TEMPORAL_ADDRESS and "
        'TEMPORAL_NAMESPACE (README "Settings"). Exit 2: not started, with one line on '
        "stderr naming the setting, file or Temporal problem.",
    )


def load_directory_for(settings: Settings, book: PolicyBook) -> Directory | None:
    """The directory of CSE_DIRECTORY_FILE, covering every role the policy book may notify."""
    if settings.directory_file is None:
        return None
    return load_directory(settings.directory_file, roles_needed(book))


def build_channels(settings: Settings, directory: Directory | None) -> list[Channel]:
    """The outbox file always; with a directory, email (if CSE_SMTP_HOST), its webhooks, and
    GOV.UK Notify (if CSE_GOVUK_NOTIFY_API_KEY) for its phone numbers and maybe its email."""
    channels: list[Channel] = [OutboxFile(settings.outbox_file)]
    if directory is None:
        return channels
    notify_mails = settings.govuk_notify_api_key is not None and settings.govuk_notify_email
    if settings.smtp_host and settings.notify_from:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        relay = SmtpRelay(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.notify_from,
            username=settings.smtp_username,
            password=password,
            starttls=settings.smtp_starttls,
        )
        channels.append(EmailChannel(directory, relay))
    elif directory.uses(AddressKind.email) and not notify_mails:
        log.warning("email off: CSE_SMTP_HOST is not set; email addresses receive nothing")
    if directory.uses(AddressKind.webhook):
        if settings.webhook_secret is None:
            where = f"directory file {settings.directory_file}"
            raise DirectoryError(f"{where}: has webhook addresses but CSE_WEBHOOK_SECRET is unset")
        channels.append(WebhookChannel(directory, settings.webhook_secret.get_secret_value()))
    if settings.govuk_notify_api_key is not None:
        channels.append(govuk_notify_channel(settings, directory))
    elif directory.uses(AddressKind.sms):
        log.warning("text messages off: CSE_GOVUK_NOTIFY_API_KEY is not set")
    return channels


def govuk_notify_channel(settings: Settings, directory: Directory) -> GovukNotifyChannel:
    """Text messages, and email unless CSE_GOVUK_NOTIFY_EMAIL=false, through GOV.UK Notify."""
    key, path = settings.govuk_notify_api_key, settings.govuk_notify_templates
    if key is None or path is None:
        raise NotifyTemplateError("GOV.UK Notify needs CSE_GOVUK_NOTIFY_TEMPLATES and its key")
    kinds = [AddressKind.email] if settings.govuk_notify_email else []
    kinds.append(AddressKind.sms)
    templates = load_notify_templates(path, [k for k in kinds if directory.uses(k)])
    service = NotifyService.from_api_key(key.get_secret_value(), settings.govuk_notify_base_url)
    return GovukNotifyChannel(directory, service, templates, kinds)


def build_worker(
    client: Client,
    settings: Settings,
    book: PolicyBook,
    channels: list[Channel] | None = None,
    directory: Directory | None = None,
) -> Worker:
    """The worker for one task queue, with the policy book its cases start under and the
    directory whose authorities a referral may name."""
    configuration.install(settings.task_queue, book)
    notifier = Notifier(channels or build_channels(settings, None), settings.public_url)
    panel_cases = PanelCases(client, settings.task_queue)
    registry = CaseRegistry(
        client,
        book,
        teams=settings.teams,
        index_keys=settings.child_index_keys(),
        authorities=list(directory.known_authorities) if directory else (),
        own_authority=directory.authority if directory else None,
    )
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[ReferralWorkflow, MasePanelWorkflow],
        activities=[
            notifier.notify,
            registry.earlier_cases,  # runs started before the policy was kept in history
            registry.open_case,
            registry.index_child,  # an operator's index_child, for cases started before
            panel_cases.list_panel_cases,
            panel_cases.read_panel_cases,
            build_panel_documents,
            link_panel_documents,  # runs started before the documents stayed in the run
        ],
        workflow_runner=workflow_runner(),
        max_cached_workflows=settings.worker_cached_cases,
        max_concurrent_workflow_tasks=settings.worker_concurrent_workflow_tasks,
        max_concurrent_activities=settings.worker_concurrent_activities,
        max_concurrent_workflow_task_polls=settings.worker_workflow_task_polls,
        max_concurrent_activity_task_polls=settings.worker_activity_task_polls,
    )


def refused(problem: str) -> int:
    """The one line saying why the worker did not start (and the JSON log line); exit 2."""
    log.error("configuration refused", error=problem)
    print(f"worker not started: {problem}", file=sys.stderr)
    return 2


def outbox_problem(settings: Settings) -> str | None:
    """Why CSE_OUTBOX_FILE cannot be written, found now rather than by every notification."""
    path = settings.outbox_file
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        return f"CSE_OUTBOX_FILE {path}: {err.strerror}"
    if path.is_dir() or not os.access(path if path.exists() else path.parent, os.W_OK):
        return f"CSE_OUTBOX_FILE {path}: not a file this worker can write"
    return None


def temporal_problem(settings: Settings, err: RPCError) -> str:
    where = f"Temporal at {settings.temporal_address}"
    if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        return f"{where} did not answer: {err.message}"
    return f"{where} refused: {err.message}"


async def main() -> int:
    try:
        settings = read_settings()
    except SettingsRefused as err:
        print(f"worker not started: {err}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if problem := deployment_problem(settings) or outbox_problem(settings):
        return refused(problem)
    warn_if_unlinked(settings)
    try:
        book = load_policy_book(settings.policy_dir, settings.policy_ledger)
        directory = load_directory_for(settings, book)
        channels = build_channels(settings, directory)
        client = await connect(settings, worker_runtime(settings))
    except (PolicyError, DirectoryError, NotifyTemplateError, CodecKeyError, MetricsError) as err:
        return refused(str(err))
    except RuntimeError as err:
        if not is_unreachable(err):
            raise
        address = settings.temporal_address
        return refused(f"Temporal at {address} did not answer: {unreachable_reason(err)}")
    except OSError as err:  # a file or folder a setting names that cannot be used
        return refused(f"cannot use {err.filename or 'a file'}: {err.strerror or err}")
    warn_if_plaintext(settings)
    try:
        retention = await ensure_case_retention(
            client, settings.temporal_namespace, timedelta(days=settings.case_retention_days)
        )
        added = await ensure_search_attributes(client, settings.temporal_namespace)
        panel_schedule = await ensure_panel_schedule(client, settings)
    except RetentionError as err:
        return refused(str(err))
    except RPCError as err:
        return refused(temporal_problem(settings, err))
    worker = build_worker(client, settings, book, channels, directory)
    log.info(
        "worker started",
        task_queue=settings.task_queue,
        address=settings.temporal_address,
        search_attributes_added=added,
        closed_case_retention=retention,
        panel_schedule={settings.panel_schedule_id: panel_schedule},
        policy_versions=[p.version for p in book.versions],
        channels=[type(c).__name__ for c in channels],
        metrics=metrics_address(settings),
    )
    await worker.run()
    return 0


if __name__ == "__main__":
    usage().parse_args()
    code = asyncio.run(main())
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # the SDK's native threads can abort a normal interpreter shutdown
