"""Download files over HTTP(S) safely: size limits, timeouts, checksums and atomic writes.

This is the lowest layer of the package: it uses only the standard library. Every failure becomes a
:class:`~nst_helpers.errors.DownloadError` whose message names the URL and says what to do next.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from nst_helpers.errors import DownloadError

MAX_DOWNLOAD_BYTES = 50 * 2**20
CHUNK_BYTES = 2**16
USER_AGENT = "nst_helpers/1.0 (neural style transfer course)"
ALLOWED_SCHEMES = ("http", "https")


def cache_dir() -> Path:
    """Folder for downloaded files: ``$NST_CACHE_DIR`` if set, else ``~/.cache/nst_helpers``."""
    configured = os.environ.get("NST_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "nst_helpers"


def fetch_bytes(url: str, *, max_bytes: int = MAX_DOWNLOAD_BYTES, timeout: float = 20.0) -> bytes:
    """Return the body of ``url``, refusing anything larger than ``max_bytes``.

    The size is checked twice: against the Content-Length header before reading, and while reading,
    because a server may omit that header or lie in it.
    """
    _check_scheme(url)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            _refuse_declared_size(response, url, max_bytes)
            return _read_at_most(response, url, max_bytes)
    except DownloadError:  # a DownloadError is an OSError too: let ours through unchanged
        raise
    except (OSError, http.client.HTTPException) as error:
        raise _explain_failure(url, error, timeout) from error


def download_verified(
    url: str,
    sha256: str,
    dest: Path,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: float = 20.0,
) -> Path:
    """Make sure ``dest`` holds the file at ``url`` with SHA-256 ``sha256`` and return its path.

    A file already at ``dest`` with the right hash is used as is, without touching the network. Downloaded
    bytes are written to ``dest`` only after their hash matches, so a bad download never lands in the cache.
    """
    dest = Path(dest)
    expected = sha256.lower()
    if dest.is_file() and sha256_of(dest) == expected:
        return dest
    data = fetch_bytes(url, max_bytes=max_bytes, timeout=timeout)
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise DownloadError(
            f"{url} failed its checksum: expected SHA-256 {expected}, got {actual}; "
            "the file may have changed on the server or been damaged on the way, so it was not saved"
        )
    with atomic_write(dest) as file:
        file.write(data)
    return dest


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks so large files do not fill the memory."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def atomic_write(dest: Path, suffix: str = "") -> Iterator[IO[bytes]]:
    """Yield a temporary file next to ``dest`` that replaces ``dest`` only if the block finishes.

    An error or a KeyboardInterrupt inside the block removes the temporary file and leaves ``dest`` as it
    was, so nobody ever sees a half-written file. ``suffix`` helps libraries that look at file names.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Only reserve a unique name here; the file is reopened below, inside the block that cleans up.
    with tempfile.NamedTemporaryFile(delete=False, dir=dest.parent, prefix=f".{dest.name}.", suffix=suffix) as reserved:
        temporary = Path(reserved.name)
    try:
        with temporary.open("wb") as file:
            yield file
        # Temporary files are readable by their owner only; give the result the usual permissions instead.
        temporary.chmod(0o644)
        os.replace(temporary, dest)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _check_scheme(url: str) -> None:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise DownloadError(
            f"cannot download {url}: only http:// and https:// addresses are supported; "
            "for a file on this computer pass its path instead"
        )


def _refuse_declared_size(response: http.client.HTTPResponse, url: str, max_bytes: int) -> None:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_big(url, max_bytes)


def _read_at_most(response: http.client.HTTPResponse, url: str, max_bytes: int) -> bytes:
    chunks = []
    received = 0
    while chunk := response.read(CHUNK_BYTES):
        received += len(chunk)
        if received > max_bytes:
            raise _too_big(url, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_big(url: str, max_bytes: int) -> DownloadError:
    return DownloadError(
        f"{url} is larger than the limit of {_describe_size(max_bytes)}; download it yourself and pass the file path"
    )


def _describe_size(size: int) -> str:
    if size >= 2**20:
        return f"{size / 2**20:g} MB"
    return f"{size} bytes"


def _explain_failure(url: str, error: Exception, timeout: float) -> DownloadError:
    """Turn the many ways urllib can fail into one message that says what to do."""
    if isinstance(error, urllib.error.HTTPError):
        return DownloadError(f"{url} answered HTTP {error.code} {error.reason}; check the address")
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, TimeoutError):
        return DownloadError(
            f"{url} timed out after {timeout:g} s; try again later, or download it yourself and pass the file path"
        )
    if isinstance(error, urllib.error.URLError):
        return DownloadError(f"could not reach {url} ({reason}); check your network connection or use a local file")
    return DownloadError(f"the download of {url} broke off ({error!r}); try again or use a local file")
