"""Every file of a lake, local or on object storage, with its bytes: for tests that look for
personal data in files rather than in rows."""

from __future__ import annotations

from collections.abc import Iterator

from deltalake.fs import DeltaStorageHandler
from pyarrow.fs import FileSelector, FileType, PyFileSystem

from storage.lake import Lake


def lake_files(lake: Lake, prefix: str = "") -> Iterator[tuple[str, bytes]]:
    """(path relative to the lake root, contents) of every file under `prefix`, sorted."""
    files = PyFileSystem(DeltaStorageHandler(lake.root_uri, lake.storage_options))
    infos = files.get_file_info(FileSelector(prefix, recursive=True, allow_not_found=True))
    for info in sorted(infos, key=lambda item: item.path):
        if info.type == FileType.File:
            with files.open_input_stream(info.path) as stream:
                yield info.path, stream.read()
