"""The composition root: create_app() wires settings, resources and routes; the lifespan owns them."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from graphql_api.files import serve_file
from graphql_api.middleware import DatabaseBinding, MultipartPreflightGuard
from graphql_api.schema import build_schema
from graphql_api.settings import Settings
from graphql_api.view import KontextGraphQL
from storage.blobs import LocalBlobStore
from storage.images import ImageLimits
from tasks.broker import InProcessBroker
from tasks.database import Database
from tasks.intake import ImageIntake, IntakeSettings
from tasks.service import TaskService
from tasks.services import Services
from tasks.transitions import TaskChanges
from workflows.registry import load_templates

logger = logging.getLogger(__name__)

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


def build_services(settings: Settings) -> Services:
    blobs = LocalBlobStore(settings.storage_dir)
    broker = InProcessBroker()
    templates = load_templates()
    tasks = TaskService(
        templates=templates,
        intake=ImageIntake(blobs, intake_settings(settings)),
        changes=TaskChanges(broker),
    )
    return Services(tasks=tasks, templates=templates, blobs=blobs, broker=broker)


def make_lifespan(settings: Settings) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with Database(settings.database_url) as database:
            if settings.migrate_on_start:
                await database.migrate()
            with database.bound():
                services = build_services(settings)
                yield {"services": services, "database": database, "settings": settings}

    return lifespan


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings) -> Starlette:
    schema = build_schema(
        max_depth=settings.max_query_depth,
        max_tokens=settings.max_query_tokens,
        max_aliases=settings.max_query_aliases,
    )
    graphql = KontextGraphQL(schema, settings)
    middleware = [Middleware(DatabaseBinding), Middleware(MultipartPreflightGuard)]
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
    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/files/{key:path}", serve_file, methods=["GET", "HEAD"]),
            Route("/healthz", healthz),
        ],
        middleware=middleware,
        lifespan=make_lifespan(settings),
    )
