"""The download of an export plan as an HTTP response, shared by the canonical
``GET /leads/export``, the crm profile's export and the console's."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import StreamingResponse

from leadbase.auth.context import Context
from leadbase.exports import service
from leadbase.exports.formats import MEDIA_TYPES, Format
from leadbase.exports.service import ExportPlan
from leadbase.kit.http import read_ahead


async def download(request: Request, *, ctx: Context, plan: ExportPlan,
                   fmt: Format) -> StreamingResponse:
    """``plan`` as an attachment: CSV streamed as it is read, XLSX built in the workspace's
    scratch directory, then sent. Read before the response starts (the CSV's header and
    first rows, the whole XLSX): a failure answers an error, not a 200 whose body stops."""
    db = request.app.state.db
    headers = {"Content-Disposition": f'attachment; filename="{service.file_name(fmt)}"',
               "Cache-Control": "no-store"}
    if fmt == "csv":
        body = await read_ahead(service.stream_csv(db, plan), 2)
    else:
        scratch = service.exports_dir(request.app.state.settings.resolved_data_dir(),
                                      ctx.tenant_id) / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        body = await read_ahead(service.stream_xlsx(db, plan, scratch))
    return StreamingResponse(body, media_type=MEDIA_TYPES[fmt], headers=headers)
