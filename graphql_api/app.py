"""The composition root: create_app() wires settings, resources and routes; the lifespan owns them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Route, WebSocketRoute

from comfy.emulator import EmulatorConfig, running_emulator
from graphql_api import graphiql
from graphql_api.access_log import AccessLog
from graphql_api.auth import ApiKeyGate
from graphql_api.banner import banner
from graphql_api.cors import PreflightRefusal
from graphql_api.files import serve_file
from graphql_api.health import healthz, readyz
from graphql_api.metrics import TaskMetrics, serve_metrics
from graphql_api.middleware import (
    BodySizeLimit,
    DatabaseBinding,
    MultipartPreflightGuard,
    ServerSend,
)
from graphql_api.schema import build_schema
from graphql_api.settings import Settings
from graphql_api.transport_errors import http_exception_as_json
from graphql_api.view import KontextGraphQL
from graphql_api.webapp import WebApp, api_prefixes
from graphql_api.webhook_payload import SchemaTaskPresenter
from storage.limits import ImageLimits
from storage.opening import open_storage
from tasks.background import BackgroundTasks
from tasks.events.broker import Broker, InProcessBroker
from tasks.events.pg_broker import PostgresBroker
from tasks.intake import ImageIntake, IntakeSettings
from tasks.janitor import StorageJanitor
from tasks.limits import Admission, SubmissionLimits
from tasks.presets import PresetBook
from tasks.runtime.assembly import ComfyRuntime, RuntimeSettings
from tasks.runtime.dispatcher import DispatchSettings
from tasks.runtime.leases import PostgresLeases
from tasks.runtime.run_times import RunTimes
from tasks.runtime.watchdog import WatchdogSettings
from tasks.service import Services, TaskService
from tasks.store.database import Database
from tasks.store.transitions import TaskChanges
from tasks.webhooks.retries import RetryPolicy
from tasks.webhooks.sender import SenderSettings, WebhookSender
from tasks.webhooks.targets import WebhookTargets
from workflows.registry import load_templates

logger = logging.getLogger(__name__)

FILES_ROUTE = "/files"

CORS_HEADERS = [
    "content-type",
    "accept",
    "authorization",
    "apollo-require-preflight",
    "x-apollo-operation-name",
]


def intake_settings(settings: Settings) -> IntakeSettings:
    return IntakeSettings(
        limits=ImageLimits(
            max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels
        ),
        url_timeout=settings.url_fetch_timeout,
        url_allowed_networks=settings.url_allowed_networks,
    )


def submission_limits(settings: Settings) -> SubmissionLimits:
    return SubmissionLimits(
        rate_per_minute=settings.submit_rate_per_minute,
        burst=settings.submit_burst,
        max_unfinished_per_owner=settings.max_unfinished_per_owner,
        max_queue_depth=settings.max_queue_depth,
    )


def choose_broker(
    database: Database, background: BackgroundTasks
) -> contextlib.AbstractAsyncContextManager[Broker]:
    if database.is_postgres:
        return PostgresBroker(database.url, background)
    return contextlib.nullcontext(InProcessBroker())


def runtime_settings(settings: Settings, urls: Sequence[str]) -> RuntimeSettings:
    return RuntimeSettings(
        urls=urls,
        emulated=settings.uses_emulator,
        client_id_prefix=settings.comfyui_client_id,
        max_attempts=settings.max_attempts,
        dispatch=DispatchSettings(
            models=settings.model_files, prefer_warm=settings.prefer_warm_backends
        ),
        watchdog=WatchdogSettings(silence_seconds=settings.silence_seconds),
    )


@contextlib.asynccontextmanager
async def comfyui_urls(settings: Settings) -> AsyncIterator[tuple[str, ...]]:
    """The configured ComfyUI servers, or the bundled emulator when none is configured."""
    if not settings.uses_emulator or not settings.dispatch:
        yield settings.comfyui_urls if settings.dispatch else ()
        return
    config = EmulatorConfig(
        step_seconds=settings.emulator_step_seconds, preview_method="latent2rgb"
    )
    async with running_emulator(config) as emulator:
        logger.warning(
            "No ComfyUI configured (KONTEXT_COMFYUI_URLS is empty): using the bundled EMULATOR "
            "at %s; its images are synthetic stand-ins, not Flux.1 Kontext output",
            emulator.url,
        )
        yield (emulator.url,)


def announce(settings: Settings, urls: Sequence[str]) -> None:
    """The start-up banner on stdout (only `kontext serve` asks for it)."""
    sys.stdout.write(banner(settings, urls) + "\n")
    sys.stdout.flush()


def webhook_sender(
    settings: Settings, database: Database, presenter: SchemaTaskPresenter, metrics: TaskMetrics
) -> WebhookSender:
    return WebhookSender(
        SenderSettings(
            server_secret=settings.webhook_secret or None,
            timeout_seconds=settings.webhook_timeout_seconds,
            retry=RetryPolicy(
                window_seconds=settings.webhook_retry_seconds,
                base_seconds=settings.webhook_backoff_seconds,
            ),
            allowed_networks=settings.url_allowed_networks,
            skip_locked=database.is_postgres,
        ),
        presenter=presenter,
        observe=metrics.observe_webhook,
    )


def public_base_url(settings: Settings) -> str:
    """Where links in webhook messages point: KONTEXT_PUBLIC_URL, else the listening address."""
    return settings.public_url or f"http://{settings.host}:{settings.port}"


YOUNG_COLLECTION_THRESHOLD = 10_000
"""Allocations between two collections of the youngest generation (Python's default is 700):
a request makes thousands of short-lived objects, most gone before a collection that waits
this long."""


def settle_heap() -> None:
    """What start-up built (modules, the schemas, the ORM, the services) lives as long as the
    process: move it out of the garbage collector's reach, so a full collection walks only
    what was made since (it walked every start-up object: ~70 ms a pass); and collect the
    youngest objects less often. In one `bench.api_overhead` run the service spent 1.6 s in
    the collector before, 0.76 s with the freeze, 0.33 s with both. Only for a process that
    serves this one app (`kontext serve`, which announces it): frozen objects are never freed."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, oldest)


def make_lifespan(settings: Settings, *, announced: bool = False) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with contextlib.AsyncExitStack() as stack:
            database = await stack.enter_async_context(Database(settings.database_url))
            if settings.migrate_on_start:
                await database.migrate()
            stack.enter_context(database.bound())
            # The one owner of background work (the broker's listener, the progress timer of
            # `changes`, the runtime's streams and sends, metrics, the janitor, the webhook
            # sender): each part starts its own in a scope of it and closes that scope itself;
            # what is left stops here, after everything that uses the database.
            background = BackgroundTasks()
            stack.push_async_callback(background.aclose)
            broker = await stack.enter_async_context(choose_broker(database, background))
            urls = await stack.enter_async_context(comfyui_urls(settings))
            storage = await stack.enter_async_context(
                open_storage(settings.storage_dir, settings.s3_settings(), served_route=FILES_ROUTE)
            )
            blobs = storage.blobs
            templates = await asyncio.to_thread(
                load_templates, extra_directory=settings.workflows_dir
            )
            changes = TaskChanges(broker, background)
            run_times = RunTimes()
            runtime = await stack.enter_async_context(
                ComfyRuntime(
                    runtime_settings(settings, urls),
                    templates=templates,
                    blobs=blobs,
                    changes=changes,
                    broker=broker,
                    run_times=run_times,
                    background=background,
                    leases=PostgresLeases(database.url) if database.is_postgres else None,
                )
            )
            webhooks = WebhookTargets(
                allowed_networks=settings.url_allowed_networks,
                server_secret=bool(settings.webhook_secret),
            )
            tasks = TaskService(
                templates=templates,
                intake=ImageIntake(blobs, intake_settings(settings)),
                changes=changes,
                outcomes=runtime.outcomes,
                canceller=runtime.canceller,
                admission=Admission(submission_limits(settings)),
                default_timeout=settings.task_timeout_seconds,
                webhooks=webhooks,
                backends=runtime.pool,
            )
            services = Services(
                tasks=tasks,
                templates=templates,
                blobs=blobs,
                broker=broker,
                backends=runtime.pool,
                run_times=run_times,
                presets=PresetBook(templates.get_default()),
                webhooks=webhooks,
            )
            metrics = TaskMetrics()
            services_work = background.scope()
            stack.push_async_callback(services_work.aclose)
            services_work.start(metrics.follow(broker), "metrics")
            services_work.start(StorageJanitor(blobs).run(), "storage-janitor")
            # Its own schema: the operator's query limits are for callers, not for this query.
            presenter = SchemaTaskPresenter(
                build_schema(), services, storage.links, public_base_url(settings)
            )
            sender = webhook_sender(settings, database, presenter, metrics)
            services_work.start(sender.run(broker, services_work), "webhook-sender")
            if announced:
                settle_heap()
                announce(settings, urls)
            yield {
                "services": services,
                "database": database,
                "settings": settings,
                "metrics": metrics,
                "storage": storage,
            }

    return lifespan


def web_app_route(settings: Settings, api_routes: Sequence[BaseRoute]) -> Route:
    """The built web app at `/` and the paths it routes itself; it comes after every API route."""
    app = WebApp(settings.web_dist, api_prefixes=api_prefixes(api_routes))
    return Route("/{path:path}", app, methods=["GET", "HEAD"])


def create_app(settings: Settings, *, announced: bool = False) -> Starlette:
    """The service; `announced` prints the start-up banner once it is ready (`kontext serve`)."""
    schema = build_schema(
        max_depth=settings.max_query_depth,
        max_tokens=settings.max_query_tokens,
        max_aliases=settings.max_query_aliases,
        introspection=settings.introspection,
    )
    graphql = KontextGraphQL(schema, settings)
    middleware = [
        Middleware(BodySizeLimit, max_bytes=settings.max_request_bytes),
        Middleware(DatabaseBinding),
        Middleware(ApiKeyGate, required=settings.auth_required),
        Middleware(MultipartPreflightGuard),
    ]
    if settings.cors_origins:
        middleware.insert(
            0,
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=CORS_HEADERS,
            ),
        )
    middleware.insert(0, Middleware(PreflightRefusal, allowed=settings.cors_origins))
    if settings.access_log:
        middleware.insert(0, Middleware(AccessLog))
    middleware.insert(0, Middleware(ServerSend))
    routes: list[BaseRoute] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route(graphiql.ROUTE + "/{name}", graphiql.serve_asset, methods=["GET", "HEAD"]),
        Route(FILES_ROUTE + "/{key:path}", serve_file, methods=["GET", "HEAD"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", serve_metrics),
    ]
    return Starlette(
        routes=[*routes, web_app_route(settings, routes)],
        middleware=middleware,
        exception_handlers={HTTPException: http_exception_as_json},
        lifespan=make_lifespan(settings, announced=announced),
    )
