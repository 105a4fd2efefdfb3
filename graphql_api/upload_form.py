"""Reading a multipart request's parts with uploads kept in memory up to the image limit.

Starlette's form parser moves a file past 1 MB into a temporary file on disk, then hands every
later chunk to a worker thread to write there. Intake reads each accepted upload whole into
memory anyway, so for a file it would accept that is work done for nothing: writing it out,
one thread hop per chunk, and reading it back. A part larger than the image limit still goes to
disk, as before (the service refuses it after reading the first bytes past the limit).
"""

from __future__ import annotations

from contextlib import aclosing

from cross_web import FormData, StarletteRequestAdapter
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

# Starlette's own limits for `Request.form()`, kept.
MAX_FILES = 1000
MAX_FIELDS = 1000
MAX_FIELD_BYTES = 1024 * 1024


class UploadRequestAdapter(StarletteRequestAdapter):
    """Strawberry's Starlette request adapter, which can also read a multipart form keeping its
    files in memory."""

    def __init__(self, request: Request) -> None:
        super().__init__(request)
        self._starlette_request = request

    async def form_keeping_files(self, in_memory_bytes: int) -> FormData:
        """The multipart form, each file of up to `in_memory_bytes` kept in memory."""
        request = self._starlette_request
        try:
            async with aclosing(request.stream()) as stream:
                parser = MultiPartParser(
                    request.headers,
                    stream,
                    max_files=MAX_FILES,
                    max_fields=MAX_FIELDS,
                    max_part_size=MAX_FIELD_BYTES,
                )
                parser.spool_max_size = in_memory_bytes
                form = await parser.parse()
        except MultiPartException as exc:
            # As Starlette's `Request.form()` answers it: a 400 with the parser's reason.
            raise HTTPException(status_code=400, detail=exc.message) from exc
        return FormData(files=form, form=form)
