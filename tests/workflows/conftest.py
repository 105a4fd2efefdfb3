from __future__ import annotations

import pytest

from tests.workflows.support import KONTEXT
from workflows.registry import TemplateRegistry, load_templates
from workflows.template import WorkflowTemplate


@pytest.fixture(scope="module")
def registry() -> TemplateRegistry:
    return load_templates()


@pytest.fixture(scope="module")
def kontext(registry: TemplateRegistry) -> WorkflowTemplate:
    return registry.get(KONTEXT)
