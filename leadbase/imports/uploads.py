"""Taking a file in for an import, the same way for every face (``POST /api/v1/imports``,
``leadbase import``): the file is copied into the workspace's ``incoming`` folder (its
size and SHA-256 on the way), :func:`leadbase.imports.service.create_job` checks it,
queues the job and moves the file into the job's folder, and whatever is left in
``incoming`` when the caller is done is removed."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from leadbase.imports import service
from leadbase.kit.errors import AppError


class UploadTooLarge(AppError):
    status = 413
    code = "IMPORT_TOO_LARGE"
    title = "Payload too large"


@dataclass(frozen=True)
class Staged:
    """A file copied into ``incoming``, ready for ``create_job``."""

    upload: service.Upload
    digest: bytes  # SHA-256 of the content


def _store(src: BinaryIO, target: Path, limit: int | None) -> tuple[int, bytes]:
    """Copy ``src`` to ``target``; its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        while block := src.read(1024 * 1024):
            size += len(block)
            if limit is not None and size > limit:
                raise UploadTooLarge(f"The file is larger than {limit:,} bytes.")
            digest.update(block)
            out.write(block)
    return size, digest.digest()


@asynccontextmanager
async def staged(src: BinaryIO, *, name: str, data_dir: Path, tenant_id: uuid.UUID,
                 limit: int | None = None) -> AsyncIterator[Staged]:
    """``src`` copied into the workspace's ``incoming`` folder (413 past ``limit``
    bytes); removed on exit unless ``create_job`` took it."""
    incoming = service.imports_dir(data_dir, tenant_id) / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    path = incoming / uuid.uuid4().hex
    try:
        size, digest = await asyncio.to_thread(_store, src, path, limit)
        yield Staged(upload=service.Upload(path=path, name=Path(name).name,
                                           size=size), digest=digest)
    finally:
        path.unlink(missing_ok=True)
