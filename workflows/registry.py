"""The set of workflow templates the service can run: every `*.bindings.json` in a folder."""

from __future__ import annotations

from pathlib import Path

from workflows.manifest import WorkflowTemplate, load_template

PACKAGE_DIR = Path(__file__).resolve().parent
MANIFEST_SUFFIX = ".bindings.json"


class UnknownWorkflow(LookupError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"No workflow named {name!r}; known: {', '.join(known)}.")


class TemplateRegistry:
    def __init__(self, templates: list[WorkflowTemplate]) -> None:
        if not templates:
            raise ValueError("a registry needs at least one template")
        self._templates = {template.name: template for template in templates}
        self.default_name = templates[0].name

    def get(self, name: str) -> WorkflowTemplate:
        try:
            return self._templates[name]
        except KeyError:
            raise UnknownWorkflow(name, self.names()) from None

    def get_default(self) -> WorkflowTemplate:
        return self._templates[self.default_name]

    def names(self) -> list[str]:
        return sorted(self._templates)

    def required_node_types(self) -> frozenset[str]:
        return frozenset().union(*(t.node_types for t in self._templates.values()))


def load_templates(directory: Path | None = None) -> TemplateRegistry:
    folder = directory or PACKAGE_DIR
    manifests = sorted(folder.glob(f"*{MANIFEST_SUFFIX}"))
    return TemplateRegistry([load_template(path) for path in manifests])
