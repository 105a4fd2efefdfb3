"""`kontext` refuses to start, with one clear message, when `import comfy` finds ComfyUI's package."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.support import clean_environment, kontext


def comfyui_package(root: Path, *, with_init: bool) -> Path:
    """A stand-in for ComfyUI's `comfy` package (a regular one, or a folder without __init__)."""
    package = root / "comfy"
    package.mkdir(parents=True)
    (package / "cli_args.py").write_text("args = None\n")
    if with_init:
        (package / "__init__.py").write_text('__version__ = "0.3.11"\n')
    return root


@pytest.mark.parametrize("with_init", [True, False], ids=["package", "namespace"])
def test_refuses_comfyui_comfy_package(tmp_path: Path, with_init: bool) -> None:
    first = comfyui_package(tmp_path / "comfyui", with_init=with_init)
    env = clean_environment(tmp_path, PYTHONPATH=str(first))

    result = kontext("serve", cwd=tmp_path, env=env, check=False)

    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("kontext cannot start: `import comfy` finds ")
    assert str(first / "comfy") in lines[0]
    assert "ComfyUI's own package" in lines[0]
    assert "own virtual environment" in lines[0]


def test_starts_with_its_own_comfy_package(tmp_path: Path) -> None:
    env = clean_environment(tmp_path, PYTHONPATH=str(tmp_path / "nothing-here"))

    result = kontext("export-schema", "--check", cwd=tmp_path, env=env, check=False)

    # no schema.graphql in this folder: the command ran and said so, nothing about `comfy`
    assert result.returncode == 1
    assert "out of date" in result.stderr
    assert "comfy" not in result.stderr
