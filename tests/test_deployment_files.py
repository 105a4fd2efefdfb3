"""Static checks of the Dockerfile and compose.yaml (no container engine runs here)."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser

from comfy.client_ids import unique_client_id
from graphql_api.settings import Settings, settings_table

ROOT = Path(__file__).parent.parent
SETTINGS = {env for env, _, _ in settings_table()}
# The web app's sources: in every checkout that has the app (web/package.json).
WEB_SOURCES = {"web", "web/package.json", "web/package-lock.json"}


def dockerfile() -> DockerfileParser:
    parser = DockerfileParser()
    parser.content = (ROOT / "Dockerfile").read_text()
    return parser


def test_dockerfile_copies_only_paths_that_exist_and_installs_like_the_readme() -> None:
    instructions = dockerfile().structure
    copies = [i["value"].split() for i in instructions if i["instruction"] == "COPY"]
    from_context = [c for c in copies if not c[0].startswith("--from")]
    assert len(from_context) >= 6
    has_app = (ROOT / "web" / "package.json").exists()
    for *sources, _target in from_context:
        for source in sources:
            assert (ROOT / source).exists() or (source in WEB_SOURCES and not has_app), source
    runs = " ".join(i["value"] for i in instructions if i["instruction"] == "RUN")
    assert "pip install --no-cache-dir ." in runs


def test_final_stage_runs_as_a_non_root_user_with_a_healthcheck() -> None:
    instructions = dockerfile().structure
    last_from = max(i for i, ins in enumerate(instructions) if ins["instruction"] == "FROM")
    final = instructions[last_from:]
    users = [i["value"] for i in final if i["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(i["instruction"] == "HEALTHCHECK" and "/healthz" in i["value"] for i in final)
    assert not any("gcc" in i["value"] or "build-essential" in i["value"] for i in final)
    env = {k for i in final if i["instruction"] == "ENV" for k in dockerfile().envs}
    assert env <= SETTINGS | {"PATH"}


def stages() -> dict[str, list[dict[str, str]]]:
    """The instructions of each stage, by its name (the last one as "final")."""
    found: dict[str, list[dict[str, str]]] = {}
    current: list[dict[str, str]] = []
    for instruction in dockerfile().structure:
        if instruction["instruction"] == "FROM":
            current = []
            words = instruction["value"].split()
            found[words[-1] if "AS" in (w.upper() for w in words) else words[0]] = current
            found["final"] = current
        current.append(instruction)
    return found


def test_the_web_app_is_built_in_a_node_stage_and_served_from_the_final_image() -> None:
    web = stages()["web"]
    assert web[0]["value"].startswith("node:20")
    runs = [i["value"] for i in web if i["instruction"] == "RUN"]
    assert any("npm ci" in run for run in runs) and any("npm run build" in run for run in runs)
    copies = [i["value"] for i in web if i["instruction"] == "COPY"]
    assert any(c.startswith("schema.graphql ") for c in copies), "codegen reads ../schema.graphql"
    final = stages()["final"]
    assert final[0]["value"].startswith("python:")
    shipped = [
        i["value"].split()[1:]
        for i in final
        if i["instruction"] == "COPY" and i["value"].startswith("--from=web")
    ]
    assert shipped == [["/src/web/dist", dockerfile().envs["KONTEXT_WEB_DIST"]]]
    assert not any("npm" in i["value"] or "node " in i["value"] for i in final[1:])


def test_local_installs_and_builds_stay_out_of_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {"**/node_modules", "web/dist", ".venv", "data"} <= set(ignored)


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint") or str(ROOT / ".venv" / "bin" / "hadolint")
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_has_both_profiles_with_two_api_replicas_each() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    by_profile: dict[str, list[str]] = {}
    for name, service in services.items():
        for profile in service.get("profiles", []):
            by_profile.setdefault(profile, []).append(name)
    assert sorted(by_profile) == ["emulator", "gpu"]
    for profile, names in by_profile.items():
        apis = [n for n in names if services[n].get("build") == "." and n.startswith("api")]
        assert len(apis) == 2, profile
        for name in apis:
            env = services[name]["environment"]
            assert set(env) <= SETTINGS, set(env) - SETTINGS
            assert env["KONTEXT_DATABASE_URL"].startswith("postgres://")
            backend = env["KONTEXT_COMFYUI_URLS"].split("//", 1)[1].split(":", 1)[0]
            assert backend in services and profile in services[backend]["profiles"]
    gpu = services["comfyui"]["deploy"]["resources"]["reservations"]["devices"][0]
    assert gpu["capabilities"] == ["gpu"]
    assert "emulator" in services["emulator"]["command"]
    assert Settings().port == 8000


def test_compose_replicas_never_share_a_comfyui_client_id() -> None:
    """ComfyUI keeps one socket per client id: each replica names its own prefix, and every
    process adds host, pid and a random part to it."""
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    for profile in ("gpu", "emulator"):
        apis = [
            service
            for name, service in services.items()
            if name.startswith("api") and profile in service.get("profiles", [])
        ]
        prefixes = [api["environment"].get("KONTEXT_COMFYUI_CLIENT_ID") for api in apis]
        assert None not in prefixes and len(set(prefixes)) == len(apis), prefixes
    assert unique_client_id("kontext-api-1") != unique_client_id("kontext-api-1")
    assert unique_client_id("kontext-api-1").startswith("kontext-api-1-")


def test_every_exec_in_the_compose_comments_names_a_service_of_its_profile() -> None:
    text = (ROOT / "compose.yaml").read_text()
    services = yaml.safe_load(text)["services"]
    commands = [line for line in text.splitlines() if line.startswith("#") and " exec " in line]
    profiles_told = set()
    for line in commands:
        words = line.lstrip("# ").split()
        profile = words[words.index("--profile") + 1]
        service = words[words.index("exec") + 1]
        assert profile in services[service]["profiles"], line
        profiles_told.add(profile)
    assert profiles_told == {"gpu", "emulator"}


def test_installs_are_quiet_and_the_licence_is_an_spdx_expression() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # A table here makes setuptools print a deprecation warning on every install.
    assert pyproject["project"]["license"] == "Apache-2.0"
    assert "setuptools>=77" in pyproject["build-system"]["requires"]
    bootstrap = (ROOT / "scripts" / "bootstrap").read_text()
    installs = [line for line in bootstrap.splitlines() if "pip install" in line]
    assert installs and all("-qq" in line for line in installs)
