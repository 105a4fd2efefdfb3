from __future__ import annotations

import zlib
from collections.abc import Iterator

import pytest

from comfy.emulator.config import EmulatorConfig
from tests.attack.attacks import known_rows
from tests.attack.environments import fresh_settings, new_owner
from tests.attack.guard import ConnectionGuard, Watch
from tests.attack.owners import AliceWorld, Owner, make_alice_world
from tests.attack.service import ServiceThread


@pytest.fixture(scope="session")
def connection_guard() -> ConnectionGuard:
    guard = ConnectionGuard()
    guard.install()
    return guard


def assert_stayed_local(watch: Watch) -> None:
    assert not watch.refused, f"connections beyond loopback were attempted: {watch.refused}"
    assert not watch.lookups, f"host names were looked up: {watch.lookups}"


@pytest.fixture(scope="module", autouse=True)
def loopback_only_for_the_module(connection_guard: ConnectionGuard) -> Iterator[Watch]:
    """Module-wide services start, and run in the background, under the guard too."""
    with connection_guard.armed() as watch:
        yield watch
    assert_stayed_local(watch)


@pytest.fixture(autouse=True)
def loopback_only(connection_guard: ConnectionGuard) -> Iterator[Watch]:
    """Every attack test runs with connections limited to loopback and no name lookups."""
    with connection_guard.armed() as watch:
        yield watch
    assert_stayed_local(watch)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceThread]:
    """The service for one test module, on an empty database of its own, admission limits out
    of the way (fuzzing submits a lot). Checks compare footprints, so tests can share it."""
    with ServiceThread(fresh_settings(tmp_path_factory.mktemp("service"))) as running:
        yield running


@pytest.fixture(scope="module")
def known(service: ServiceThread) -> dict[str, str]:
    """Real ids for the strategies' placeholders."""
    return known_rows(service)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceThread]:
    """A service that requires keys and runs tasks on the emulator, for one test module."""
    settings = fresh_settings(tmp_path_factory.mktemp("owners"), auth="on")
    with ServiceThread(
        settings, emulator=EmulatorConfig(step_seconds=0.01, preview_method="latent2rgb")
    ) as service:
        yield service


@pytest.fixture(scope="module")
def alice(secured: ServiceThread) -> Owner:
    return new_owner(secured, "alice")


@pytest.fixture(scope="module")
def world(secured: ServiceThread, alice: Owner) -> AliceWorld:
    return secured.run(make_alice_world(alice), timeout=90)


@pytest.fixture
def bob(secured: ServiceThread, request: pytest.FixtureRequest) -> Owner:
    """A fresh second owner per test, so no test sees another's leftovers."""
    return new_owner(secured, f"bob-{zlib.crc32(request.node.name.encode())}")
