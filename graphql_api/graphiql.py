"""GraphiQL on /graphql, served entirely by the service: its browser files come from the npm
packages pinned by graphiql/package-lock.json (copied into graphiql_assets/ by
scripts/build-graphiql), the page and its start script from graphiql_page/. Nothing loads from
another origin, and the page's Content-Security-Policy says so to the browser."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from graphql_api.transport_errors import transport_error

ROUTE = "/graphiql"
HERE = Path(__file__).parent
BUILT = HERE / "graphiql_assets"
OURS = HERE / "graphiql_page"

# name served under /graphiql/ -> (folder, content type); nothing else is served there.
FILES = {
    "react.production.min.js": (BUILT, "text/javascript"),
    "react-dom.production.min.js": (BUILT, "text/javascript"),
    "graphql-ws.min.js": (BUILT, "text/javascript"),
    "graphiql.min.js": (BUILT, "text/javascript"),
    "graphiql.min.css": (BUILT, "text/css"),
    "start.js": (OURS, "text/javascript"),
}
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphql-ws.min.js",
    "graphiql.min.js",
    "start.js",
)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        # GraphiQL's editors set inline styles; its fonts and icons are data: URLs.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",
    )
)

# A 32x20 PNG of examples/car.jpg, so the example runs as it opens.
TINY_CAR_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAACAAAAAUCAIAAABj86gYAAADSUlEQVR42q2US2xbRRSG///MXPv6kToPm7QRTlIa"
    "FcRLLHhKKICoKiQ2dMW6K8QaIdEFILEoGx4r2MGCDVCEqBAIqUIVLKhAgqKCsqDQl50USJw4D799Zw4Lx47rtDxk"
    "rkZXc+eemW/+858ZvvhxCf/HowoFhTowbhOBDr+6VxrxMWnVo4TQXwNIxYZeHZK2W4enPh8PV86WHji7en8/wyaH"
    "BrTV3D22MD1yHho8mDtTqN9ei9I9hk0GwwIctKljUAu0q25fYGMpUe4oiA9vQVSKDn6//tSeYOVK7a7AxuL9KUr8"
    "OwUkyV2V47VXIcvRncsRRVwq9t9NFmG94bcqjoAx9F5VQcHEqO0SFIiuO9cm/glgDcqb0XsnS7lcaC2LS43MHpsZ"
    "saW11vSkOXJovNXSv6n0Gyro5ISEc/joi9VHH87ed88ohZ+d+vO2ufSB2WSz5d99v/jDz5VH7h1ptlRvQLHpuBnM"
    "LGBE6w1XrfvA8sSpcmo0nLk5WbzaCCy3KlFprZUIDaCH5rMffLK4d9zM5cMwLqq8zkYvLV4cGDIGxT/0+Dsby2Un"
    "xEbFJxPSy3XkIITItjfNlofy1lkeOzqWGxfvdyl49eTzuwDtS7/N/3LxsSAgaIWuWot6+tm9eUCSlkSjGc1NVheu"
    "fPn16W+t2EHAZn19V8206812EARoXmisnYuP3WGS+6luwCHANUvfqLp49qFPz2S+K8Sm9pe9H6x6K5RBACVMVlyt"
    "0L7wUn4ytvTrCT3wikkdVI0AbJ8G2vrlt8eir0RY2loIb3kuCDeMEVJUgU7zUIWl6TMXUIVXm917biXxYzyXeuHY"
    "y2+8fvz3xoe5mXnfaquHOsLRt93W6umnnzkahuFrb76VzU+FKz9tLIfqqA6dNzzUg0eefUId1EEjqkNnCXrUNiuX"
    "zy9Oz8wUCoX89FQ6nfCuuzUAYKG4FIvHjJFqtTabz3tvFDtVxK5dPPz4k8C1DnZPb61RXS+XM5nRVCqtvn96R6uu"
    "rpZUdWIiJxSookfv6w2mqNf3XhPxVHJfWlW90x06O02FnJy6CYRSKR4CitIABjSgURrSqAVAURhQ0P2t7ARZ0Cht"
    "r7/9iU5AJ15AAUTZAUs3OV25fwFtsngIUSaYTgAAAABJRU5ErkJggg=="
)

EXAMPLE_DOCUMENT = """\
# Kontext GraphQL
# 1. Run "Generate" (the ▶ button): it queues an edit of
#    the small picture in the variables below.
# 2. Paste the task id it answers into the variables' "id".
# 3. Run "Progress" to follow the task live (websocket).
# Where keys are required, add under Headers:
#   {"Authorization": "Bearer kx_..."}

mutation Generate($input: GenerateImageInput!) {
  generateImage(input: $input) {
    message
    task { id status parameters { seed steps } }
  }
}

subscription Progress($id: ID!) {
  taskProgress(id: $id) {
    sequence kind status step totalSteps progress previewUrl
    result { imageUrl width height }
    error { code message }
  }
}
"""

EXAMPLE_VARIABLES = {
    "input": {
        "referenceImage": {"base64": TINY_CAR_PNG},
        "description": "change the car to red, keep the background",
        "parameters": {"steps": 8},
    },
    "id": "paste the task id here",
}


def assets_built() -> bool:
    return all((folder / name).is_file() for name, (folder, _type) in FILES.items())


def page(endpoint: str) -> str:
    config = json.dumps(
        {
            "endpoint": endpoint,
            "query": EXAMPLE_DOCUMENT,
            "variables": json.dumps(EXAMPLE_VARIABLES, indent=2),
        }
    ).replace("</", "<\\/")
    scripts = "\n".join(f'    <script src="{ROUTE}/{name}"></script>' for name in SCRIPTS)
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>Kontext GraphQL · GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{ROUTE}/graphiql.min.css">
  </head>
  <body style="margin: 0; height: 100vh; overflow: hidden">
    <div id="graphiql" style="height: 100vh">Loading GraphiQL…</div>
    <script type="application/json" id="kontext-graphiql">{config}</script>
{scripts}
  </body>
</html>
"""


NOT_BUILT = """<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Kontext GraphQL · GraphiQL</title></head>
  <body>
    <h1>GraphiQL's files are not built</h1>
    <p>Run <code>scripts/build-graphiql</code> (needs Node 20 and npm) and reload; the API at
    this URL works without it.</p>
  </body>
</html>
"""


def render(endpoint: str = "/graphql") -> HTMLResponse:
    """The GraphiQL page (or how to build its files), with a policy that keeps it same-origin."""
    html = page(endpoint) if assets_built() else NOT_BUILT
    return HTMLResponse(html, headers={"content-security-policy": CONTENT_SECURITY_POLICY})


async def serve_asset(request: Request) -> Response:
    name = request.path_params["name"]
    entry = FILES.get(name)
    if entry is None or not (entry[0] / name).is_file():
        return transport_error(404, "No such GraphiQL file.")
    folder, content_type = entry
    return FileResponse(
        folder / name,
        media_type=content_type,
        # The built files change only with graphiql/package-lock.json: revalidate by ETag.
        headers={"cache-control": "no-cache"},
    )
