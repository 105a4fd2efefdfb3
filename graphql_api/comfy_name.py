"""Whether the importable `comfy` package is this service's ComfyUI client or ComfyUI's own package.

Both are called `comfy`. Installed into ComfyUI's environment (or started from ComfyUI's folder),
this service would import ComfyUI's package and fail somewhere deep with a missing module; the
`kontext` command checks first and says what is wrong instead.
"""

from __future__ import annotations

import importlib

MARKER = "KONTEXT_CLIENT"
"""The attribute only this service's `comfy/__init__.py` defines."""


def foreign_comfy() -> str | None:
    """Why `comfy` cannot be used (a sentence for the user), or None when it is ours."""
    try:
        package = importlib.import_module("comfy")
    except ImportError as exc:
        return f"the `comfy` package cannot be imported ({exc}); reinstall kontext-graphql."
    if getattr(package, MARKER, False) is True:
        return None
    where = getattr(package, "__file__", None) or ", ".join(getattr(package, "__path__", []))
    return (
        f"`import comfy` finds {where}, which is not this service's `comfy` package: most likely "
        "ComfyUI's own package, which has the same name. Install kontext-graphql in its own "
        "virtual environment (as the Dockerfile does) and start it outside ComfyUI's folder."
    )
