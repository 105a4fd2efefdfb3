"""The set of workflow templates the service can run: every `*.bindings.json` in one folder.

Adding a template is adding two files beside the others: `<name>.bindings.json` and its graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from workflows.errors import ManifestError, UnknownWorkflow
from workflows.manifest import MANIFEST_SUFFIX, load_template
from workflows.template import RequiredModel, WorkflowTemplate

__all__ = [
    "MANIFEST_SUFFIX",
    "PACKAGE_DIR",
    "TemplateRegistry",
    "UnknownWorkflow",
    "load_templates",
]

PACKAGE_DIR = Path(__file__).resolve().parent


class TemplateRegistry:
    """Templates by name. `default_name` is the given default, else the first name in order."""

    def __init__(self, templates: Iterable[WorkflowTemplate], default: str | None = None) -> None:
        self._templates: dict[str, WorkflowTemplate] = {}
        for template in templates:
            if template.name in self._templates:
                raise ManifestError(template.name, ["two templates have this name"])
            self._templates[template.name] = template
        if not self._templates:
            raise ManifestError("registry", ["no workflow templates"])
        self.default_name = default if default is not None else self.names()[0]
        self.get(self.default_name)

    def get(self, name: str) -> WorkflowTemplate:
        try:
            return self._templates[name]
        except KeyError:
            raise UnknownWorkflow(name, self.names()) from None

    def get_default(self) -> WorkflowTemplate:
        return self._templates[self.default_name]

    def names(self) -> list[str]:
        return sorted(self._templates)

    def __iter__(self) -> Iterator[WorkflowTemplate]:
        return (self._templates[name] for name in self.names())

    def __len__(self) -> int:
        return len(self._templates)

    def __contains__(self, name: object) -> bool:
        return name in self._templates

    def required_node_types(self) -> frozenset[str]:
        """Every node type some template needs: what a ComfyUI backend must offer."""
        return frozenset().union(*(t.required_node_types for t in self._templates.values()))

    def required_models(self, chosen: Mapping[str, str]) -> frozenset[RequiredModel]:
        """Every model file some template loads, with the configured names (`KONTEXT_MODEL_*`)."""
        return frozenset().union(*(t.required_models(chosen) for t in self._templates.values()))


def _manifests(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise ManifestError(str(folder), ["is not a folder"])
    manifests = sorted(folder.glob(f"*{MANIFEST_SUFFIX}"))
    if not manifests:
        raise ManifestError(str(folder), [f"no *{MANIFEST_SUFFIX} files"])
    return manifests


def _load_all(manifests: Iterable[Path]) -> Iterator[WorkflowTemplate]:
    sources: dict[str, Path] = {}
    for path in manifests:
        template = load_template(path)
        if template.name in sources:
            earlier = sources[template.name]
            raise ManifestError(str(path), [f"name {template.name!r} is taken by {earlier}"])
        sources[template.name] = path
        yield template


def load_templates(
    directory: Path | None = None,
    default: str | None = None,
    *,
    extra_directory: Path | None = None,
) -> TemplateRegistry:
    """Load and check every template in `directory` (this package's folder when None) and,
    when given, in `extra_directory` (KONTEXT_WORKFLOWS_DIR) beside them.

    Blocking file reads: call it once at start-up, off the event loop (asyncio.to_thread).
    """
    manifests = _manifests(PACKAGE_DIR if directory is None else directory)
    if extra_directory is not None:
        manifests += _manifests(extra_directory)
    return TemplateRegistry(list(_load_all(manifests)), default=default)
