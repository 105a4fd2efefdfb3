"""scripts/build-web on a small app of its own (no dependencies, so npm works offline)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
BASH = shutil.which("bash") or "/bin/bash"
BUILD = """import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
appendFileSync("../builds.log", "built\\n");
mkdirSync("dist/assets", { recursive: true });
writeFileSync("dist/index.html", "<!doctype html><title>app</title>");
"""
INSTALL = "node -e \"require('fs').appendFileSync('../installs.log', 'installed\\\\n')\""


def lockfile(version: str) -> str:
    package = {"name": "app", "version": version}
    return json.dumps(
        {**package, "lockfileVersion": 3, "requires": True, "packages": {"": package}}
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout with scripts/build-web, schema.graphql and a web/ app."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "build-web", tmp_path / "scripts" / "build-web")
    (tmp_path / "schema.graphql").write_text("type Query { a: Int }\n")
    web = tmp_path / "web"
    (web / "src").mkdir(parents=True)
    (web / "src" / "main.ts").write_text("export {};\n")
    (web / "build.mjs").write_text(BUILD)
    scripts = {"build": "node build.mjs", "postinstall": INSTALL}
    (web / "package.json").write_text(
        json.dumps({"name": "app", "version": "1.0.0", "type": "module", "scripts": scripts})
    )
    (web / "package-lock.json").write_text(lockfile("1.0.0"))
    return tmp_path


def run(checkout: Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path or os.environ["PATH"]}
    return subprocess.run(
        [BASH, str(checkout / "scripts" / "build-web")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


def count(checkout: Path, log: str) -> int:
    path = checkout / log
    return len(path.read_text().splitlines()) if path.exists() else 0


def age(path: Path, seconds: float) -> None:
    """Make `path` look `seconds` older than now."""
    then = path.stat().st_mtime - seconds
    os.utime(path, (then, then))


def test_builds_when_missing_then_only_when_a_source_is_newer(checkout: Path) -> None:
    first = run(checkout)
    assert first.returncode == 0, first.stderr
    assert (checkout / "web" / "dist" / "index.html").is_file()
    assert (count(checkout, "installs.log"), count(checkout, "builds.log")) == (1, 1)
    assert "building web/dist" in first.stdout

    (checkout / "web" / "test-output").mkdir()
    (checkout / "web" / "test-output" / "shot.png").write_bytes(b"not a source")
    unchanged = run(checkout)
    assert unchanged.returncode == 0 and unchanged.stdout == ""
    assert count(checkout, "builds.log") == 1

    for newer in ("web/src/main.ts", "schema.graphql"):
        age(checkout / "web" / "dist" / "index.html", 60)
        (checkout / newer).touch()
        assert run(checkout).returncode == 0
    assert (count(checkout, "installs.log"), count(checkout, "builds.log")) == (1, 3)


def test_installs_again_only_when_the_lockfile_changed_or_packages_are_missing(
    checkout: Path,
) -> None:
    assert run(checkout).returncode == 0
    age(checkout / "web" / "dist" / "index.html", 60)
    (checkout / "web" / "package-lock.json").write_text(lockfile("1.0.0") + "\n")
    assert run(checkout).returncode == 0
    assert (count(checkout, "installs.log"), count(checkout, "builds.log")) == (2, 2)
    shutil.rmtree(checkout / "web" / "node_modules")
    shutil.rmtree(checkout / "web" / "dist")
    assert run(checkout).returncode == 0
    assert (count(checkout, "installs.log"), count(checkout, "builds.log")) == (3, 3)


def test_a_failing_build_fails_with_the_end_of_its_output(checkout: Path) -> None:
    (checkout / "web" / "build.mjs").write_text("console.error('syntax is wrong'); process.exit(2)")
    failed = run(checkout)
    assert failed.returncode == 1
    assert "npm --prefix web run build' failed" in failed.stderr
    assert "syntax is wrong" in failed.stderr


def test_without_node_it_says_so_in_one_line_and_succeeds(checkout: Path, tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("dirname", "sed"):
        found = shutil.which(tool)
        assert found is not None
        (tools / tool).symlink_to(found)
    result = run(checkout, path=str(tools))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1 and "Node 20.19+" in result.stdout
    assert not (checkout / "web" / "dist").exists()


def test_a_checkout_without_the_app_has_nothing_to_build(checkout: Path) -> None:
    (checkout / "web" / "package.json").unlink()
    result = run(checkout)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
