"""The ComfyUI side of the service: backends, their event streams and trackers, and the dispatcher.

Built once by the application's lifespan, which hands it the owner of background work; what it
starts runs in a scope of that owner and stops when it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from comfy.client import ComfyClient
from comfy.client_ids import unique_client_id
from comfy.stream import ComfyEventStream
from storage.blobs import BlobStore
from tasks.background import BackgroundTasks
from tasks.events.broker import Broker
from tasks.runtime.backends import Backend, BackendPool, Requirements
from tasks.runtime.cancelling import RemoteCanceller
from tasks.runtime.dispatcher import Dispatcher, DispatchSettings
from tasks.runtime.finisher import PromptFinisher
from tasks.runtime.leases import Leases, SoleReplica
from tasks.runtime.leftovers import TaskLeftovers
from tasks.runtime.outcomes import TaskOutcomes
from tasks.runtime.outputs import OutputCollector
from tasks.runtime.previews import LatestPreviews, PreviewKeeper
from tasks.runtime.reconciler import Reconciler
from tasks.runtime.run_times import RunTimes
from tasks.runtime.stalls import StallSettings, StallWatch
from tasks.runtime.tracker import BackendTracker
from tasks.runtime.watchdog import Watchdog, WatchdogSettings
from tasks.store.claims import TaskClaimer
from tasks.store.transitions import TaskChanges
from workflows.registry import TemplateRegistry

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RuntimeSettings:
    urls: Sequence[str]
    emulated: bool = False
    client_id_prefix: str = "kontext-graphql"
    """This process's client id on ComfyUI is the prefix plus host, pid and a random part."""
    max_attempts: int = 3
    health_seconds: float = 5.0
    request_timeout: float = 30.0
    reconnect_base_delay: float = 0.5
    reconnect_max_delay: float = 10.0
    dispatch: DispatchSettings = field(default_factory=DispatchSettings)
    watchdog: WatchdogSettings = field(default_factory=WatchdogSettings)
    stalls: StallSettings = field(default_factory=StallSettings)


class ComfyRuntime:
    def __init__(
        self,
        settings: RuntimeSettings,
        *,
        templates: TemplateRegistry,
        blobs: BlobStore,
        changes: TaskChanges,
        broker: Broker,
        run_times: RunTimes,
        background: BackgroundTasks,
        leases: Leases | None = None,
    ) -> None:
        self.settings = settings
        self.client_id = unique_client_id(settings.client_id_prefix)
        self._leases: Leases = leases or SoleReplica()
        self._templates = templates
        self._blobs = blobs
        self._changes = changes
        self._broker = broker
        self._run_times = run_times
        self._stack = contextlib.AsyncExitStack()
        self._background = background.scope()
        self._trackers: list[BackendTracker] = []
        self.pool = BackendPool([])
        self.outcomes = TaskOutcomes(
            changes, TaskLeftovers(blobs), max_attempts=settings.max_attempts
        )
        self.canceller = RemoteCanceller(self.pool)
        self.dispatcher: Dispatcher | None = None

    async def __aenter__(self) -> ComfyRuntime:
        backends = [await self._open_backend(url) for url in self.settings.urls]
        self.pool = BackendPool(backends)
        self.canceller = RemoteCanceller(self.pool)
        finisher = PromptFinisher(
            outcomes=self.outcomes,
            collector=OutputCollector(self._blobs),
            templates=self._templates,
        )
        reconciler = Reconciler(outcomes=self.outcomes, finisher=finisher)
        self.dispatcher = Dispatcher(
            pool=self.pool,
            templates=self._templates,
            blobs=self._blobs,
            claimer=TaskClaimer(),
            outcomes=self.outcomes,
            settings=self.settings.dispatch,
            background=self._background,
        )
        for backend in backends:
            self._track(backend, finisher, reconciler)
        watchdog = Watchdog(
            pool=self.pool,
            outcomes=self.outcomes,
            canceller=self.canceller,
            reconciler=reconciler,
            leases=self._leases,
            settings=self.settings.watchdog,
        )
        self._background.start(watchdog.run(), "watchdog")
        self._background.start(self.dispatcher.run(), "dispatcher")
        self._background.start(self._health_loop(), "backend-health")
        self._background.start(self._wake_on_new_tasks(), "dispatch-wakeup")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._background.aclose()
        for tracker in self._trackers:
            await tracker.close()
        await self._changes.close()
        await self._stack.aclose()

    async def _open_backend(self, url: str) -> Backend:
        client = ComfyClient(url, client_id=self.client_id, timeout=self.settings.request_timeout)
        await self._stack.enter_async_context(client)
        backend = Backend(
            url=url.rstrip("/"),
            client=client,
            emulated=self.settings.emulated,
            requirements=Requirements.of(self._templates, self.settings.dispatch.models),
        )
        await backend.check()
        return backend

    def _track(self, backend: Backend, finisher: PromptFinisher, reconciler: Reconciler) -> None:
        assert self.dispatcher is not None
        tracker = BackendTracker(
            backend=backend,
            templates=self._templates,
            changes=self._changes,
            outcomes=self.outcomes,
            finisher=finisher,
            previews=LatestPreviews(PreviewKeeper(self._blobs, self._changes), self._background),
            reconciler=reconciler,
            run_times=self._run_times,
            on_idle=self.dispatcher.slot_freed,
            background=self._background,
        )
        self._trackers.append(tracker)
        stream = ComfyEventStream(
            backend.url,
            self.client_id,
            tracker,
            base_delay=self.settings.reconnect_base_delay,
            max_delay=self.settings.reconnect_max_delay,
        )
        stalls = StallWatch(
            backend, self.settings.stalls, on_stall=tracker.on_stalled, reconnect=stream.reconnect
        )
        self._background.start(
            self._track_while_leased(backend, tracker, stream, stalls), f"stream {backend.url}"
        )

    async def _track_while_leased(
        self,
        backend: Backend,
        tracker: BackendTracker,
        stream: ComfyEventStream,
        stalls: StallWatch,
    ) -> None:
        """Follow the backend's events only while this replica holds its lease."""
        while True:
            async with self._leases.hold(backend.name) as lost:
                try:
                    await self._background.first_of(
                        {
                            f"events of {backend.url}": stream.run(),
                            f"stall watch of {backend.url}": stalls.run(),
                            f"lease on {backend.url}": lost.wait(),
                        }
                    )
                finally:
                    tracker.on_untracked()
            logger.warning("lost the lease on backend %s; waiting to get it back", backend.url)

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.health_seconds)
            for backend in self.pool.all:
                if backend.problem is not None:
                    await backend.check()
                    if backend.ready and self.dispatcher is not None:
                        self.dispatcher.wake()

    async def _wake_on_new_tasks(self) -> None:
        assert self.dispatcher is not None
        async with self._broker.subscribe(lambda event: event.kind.value == "CREATED") as events:
            while True:
                await events.next()
                self.dispatcher.wake()
