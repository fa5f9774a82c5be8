"""Download files over HTTP(S) safely: size limits, timeouts, a total deadline, checksums and atomic writes.

This is the lowest layer of the package: it uses only the standard library. Every failure becomes a
:class:`~nst_helpers.errors.DownloadError` whose message names the URL and says what to do next.

- ``timeout`` bounds each wait for the server (connecting, each read); ``deadline`` bounds the whole download, so a
  server trickling one byte at a time cannot keep a reader waiting for ever.
- Only ``http://`` and ``https://`` are fetched, and redirects are followed only to those schemes (urllib alone
  would follow one to ``ftp://``).
- The size is capped twice: by the declared Content-Length before reading, and by the bytes received.
- :func:`download_verified` streams to a temporary file and keeps it only if its SHA-256 matches.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from urllib.parse import urljoin, urlsplit

from nst_helpers.errors import DownloadError

MAX_DOWNLOAD_BYTES = 50 * 2**20
DEADLINE_SECONDS = 120.0  # for a whole download of at most MAX_DOWNLOAD_BYTES: 0.4 MB/s at least
CHUNK_BYTES = 2**16
USER_AGENT = "nst_helpers/1.0 (neural style transfer course)"
ALLOWED_SCHEMES = ("http", "https")


def cache_dir() -> Path:
    """Folder for downloaded files: ``$NST_CACHE_DIR`` if set, else ``~/.cache/nst_helpers``."""
    configured = os.environ.get("NST_CACHE_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "nst_helpers"


def fetch_bytes(
    url: str, *, max_bytes: int = MAX_DOWNLOAD_BYTES, timeout: float = 20.0, deadline: float | None = None
) -> bytes:
    """Return the body of ``url``, refusing anything larger than ``max_bytes`` or slower than ``deadline`` seconds
    (default :data:`DEADLINE_SECONDS`, read at each call).

    The size is checked twice: against the Content-Length header before reading, and while reading,
    because a server may omit that header or lie in it.
    """
    body, started = io.BytesIO(), time.monotonic()
    with _open_url(url, max_bytes, timeout) as response:
        _stream(response, url, body.write, max_bytes=max_bytes, deadline=deadline or DEADLINE_SECONDS, started=started)
    return body.getvalue()


def download_verified(
    url: str,
    sha256: str,
    dest: Path,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: float = 20.0,
    deadline: float | None = None,
) -> Path:
    """Make sure ``dest`` holds the file at ``url`` with SHA-256 ``sha256`` and return its path.

    A file already at ``dest`` with the right hash is used as is, without touching the network. The download is
    streamed to a temporary file next to ``dest`` (a large file never sits in memory) that replaces ``dest`` only
    after its hash matches, so a bad download never lands in the cache.
    """
    dest = Path(dest)
    expected = sha256.lower()
    if dest.is_file() and sha256_of(dest) == expected:
        return dest
    digest, started = hashlib.sha256(), time.monotonic()
    with _open_url(url, max_bytes, timeout) as response, atomic_write(dest) as file:

        def keep(chunk: bytes) -> None:
            digest.update(chunk)
            file.write(chunk)

        _stream(response, url, keep, max_bytes=max_bytes, deadline=deadline or DEADLINE_SECONDS, started=started)
        actual = digest.hexdigest()
        if actual != expected:  # raised inside atomic_write: the temporary file is removed, dest stays as it was
            raise DownloadError(
                f"{url} failed its checksum: expected SHA-256 {expected}, got {actual}; "
                "the file may have changed on the server or been damaged on the way, so it was not saved"
            )
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


class HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to another http(s) address; urllib's own handler also follows ``ftp://``."""

    def http_error_302(self, req, fp, code, msg, headers):  # urllib's signature, for 301, 302, 303, 307 and 308
        location = headers.get("location") or headers.get("uri")
        target = urljoin(req.full_url, location) if location else ""
        if location and urlsplit(target).scheme.lower() not in ALLOWED_SCHEMES:
            raise DownloadError(
                f"{req.full_url} redirects to {target}, which is not an http:// or https:// address, so it was not "
                "followed; check the address, or download the file yourself and pass its path"
            )
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _opener() -> urllib.request.OpenerDirector:
    """An opener that speaks only HTTP(S): no ftp:// or file:// handler to redirect to, and safe redirects."""
    opener = urllib.request.OpenerDirector()
    handlers = [urllib.request.ProxyHandler(), urllib.request.UnknownHandler(), urllib.request.HTTPHandler(),
                urllib.request.HTTPDefaultErrorHandler(), HttpOnlyRedirects(), urllib.request.HTTPErrorProcessor()]
    if hasattr(urllib.request, "HTTPSHandler"):  # Python built without ssl has none
        handlers.append(urllib.request.HTTPSHandler())
    for handler in handlers:
        opener.add_handler(handler)
    return opener


@contextmanager
def _open_url(url: str, max_bytes: int, timeout: float) -> Iterator[http.client.HTTPResponse]:
    """The open response of ``url`` after the declared size is checked; every failure is a DownloadError."""
    _check_scheme(url)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with _opener().open(request, timeout=timeout) as response:
            _refuse_declared_size(response, url, max_bytes)
            yield response
    except DownloadError:  # a DownloadError is an OSError too: let ours through unchanged
        raise
    except (OSError, http.client.HTTPException) as error:
        raise _explain_failure(url, error, timeout) from error


def _refuse_declared_size(response: http.client.HTTPResponse, url: str, max_bytes: int) -> None:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_big(url, max_bytes)


def _stream(
    response: http.client.HTTPResponse, url: str, sink: Callable[[bytes], object], *, max_bytes: int,
    deadline: float, started: float,
) -> int:
    """Pass the body to ``sink`` chunk by chunk; stop at ``max_bytes`` or ``deadline`` seconds after ``started``.

    ``read1`` returns whatever has arrived, so the deadline is checked after every packet, however slowly they come:
    the download ends at most one ``timeout`` (the wait for one packet) after the deadline.
    """
    stop = started + deadline
    received = 0
    while chunk := response.read1(CHUNK_BYTES):
        received += len(chunk)
        if received > max_bytes:
            raise _too_big(url, max_bytes)
        if time.monotonic() > stop:
            raise DownloadError(
                f"{url} did not finish downloading within the deadline of {deadline:g} s (got {received} bytes, the "
                "server is sending very slowly); try again later, or download it yourself and pass the file path"
            )
        sink(chunk)
    if response.length:  # Content-Length promised more than came before the connection closed
        raise DownloadError(f"the download of {url} broke off after {received} bytes, {response.length} short of "
                            "its declared size; try again or use a local file")
    return received


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
