"""The node types this emulator knows: those of the Kontext graphs and the model-free test graph."""

from __future__ import annotations

from comfy.emulator.catalogue import NodeCatalogue
from comfy.emulator.nodes_images import IMAGE_NODES
from comfy.emulator.nodes_models import MODEL_NODES
from comfy.emulator.nodes_sampling import SAMPLING_NODES


def standard_catalogue() -> NodeCatalogue:
    return NodeCatalogue.of((*MODEL_NODES, *SAMPLING_NODES, *IMAGE_NODES))
