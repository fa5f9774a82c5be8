"""Tests of nst_helpers.download against a local HTTP server on 127.0.0.1 (no other address is contacted)."""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import threading
import time
from functools import partial
from pathlib import Path

import pytest
import torch
from PIL import Image

from nst_helpers import download
from nst_helpers.download import cache_dir, download_verified, fetch_bytes, sha256_of
from nst_helpers.errors import DownloadError, ImageError
from nst_helpers.images import load_image

CLASSICS = Path(__file__).resolve().parents[2] / "shared" / "classics"
SLOW_SECONDS = 2.0
TEST_TIMEOUT = 0.5
TEST_LIMIT = 1000


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, plus routes that misbehave the way real servers sometimes do."""

    requests: list[str]
    user_agents: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.user_agents.append(self.headers["User-Agent"])
        if self.path == "/slow":
            time.sleep(SLOW_SECONDS)  # the client has given up by now, so answer nothing
        elif self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Length", str(download.MAX_DOWNLOAD_BYTES + 1))
            self.end_headers()
        elif self.path == "/big-no-length":
            self.send_response(200)
            self.end_headers()  # no Content-Length: the body ends when the connection closes
            self.wfile.write(b"x" * TEST_LIMIT * 3)
            self.close_connection = True
        else:
            super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


class Server:
    """A running ThreadingHTTPServer: its base URL and the paths it was asked for."""

    def __init__(self, folder: Path, handler_class: type[Handler] = Handler) -> None:
        self.requests: list[str] = []
        self.user_agents: list[str] = []
        handler = type("RecordingHandler", (handler_class,), {"requests": self.requests,
                                                              "user_agents": self.user_agents})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture(autouse=True)
def no_proxy_for_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy configured in the environment must not see requests meant for the local test server."""
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture
def served(tmp_path: Path):
    folder = tmp_path / "served"
    folder.mkdir()
    server = Server(folder)
    yield server, folder
    server.stop()


def png_bytes() -> bytes:
    image = Image.new("RGB", (2, 1))
    image.putpixel((0, 0), (255, 0, 0))
    image.putpixel((1, 0), (0, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: bind one, note it, close it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_fetch_bytes_returns_the_body(served) -> None:
    server, folder = served
    (folder / "hello.txt").write_bytes(b"hello")
    assert fetch_bytes(f"{server.url}/hello.txt") == b"hello"


def test_fetch_bytes_sends_a_user_agent(served) -> None:
    server, folder = served
    (folder / "hello.txt").write_bytes(b"hello")
    fetch_bytes(f"{server.url}/hello.txt")
    assert server.user_agents == [download.USER_AGENT]


def test_http_error_names_the_status_and_url(served) -> None:
    server, _ = served
    url = f"{server.url}/missing.png"
    with pytest.raises(DownloadError, match="404") as caught:
        fetch_bytes(url)
    assert url in str(caught.value)


def test_slow_server_times_out(served) -> None:
    server, _ = served
    started = time.monotonic()
    with pytest.raises(DownloadError, match=r"timed out after 0\.5 s"):
        fetch_bytes(f"{server.url}/slow", timeout=TEST_TIMEOUT)
    assert time.monotonic() - started < SLOW_SECONDS


def test_declared_size_over_the_limit_is_refused_before_reading(served) -> None:
    server, _ = served
    with pytest.raises(DownloadError, match=f"larger than the limit of {TEST_LIMIT} bytes"):
        fetch_bytes(f"{server.url}/big", max_bytes=TEST_LIMIT)


def test_undeclared_size_over_the_limit_is_refused_while_reading(served) -> None:
    server, _ = served
    with pytest.raises(DownloadError, match="larger than the limit"):
        fetch_bytes(f"{server.url}/big-no-length", max_bytes=TEST_LIMIT)


def test_a_file_exactly_at_the_limit_is_accepted(served) -> None:
    server, folder = served
    (folder / "exact.bin").write_bytes(b"x" * TEST_LIMIT)
    assert len(fetch_bytes(f"{server.url}/exact.bin", max_bytes=TEST_LIMIT)) == TEST_LIMIT


def test_default_limit_is_described_in_megabytes(served) -> None:
    server, _ = served
    with pytest.raises(DownloadError, match="larger than the limit of 50 MB; download it yourself"):
        fetch_bytes(f"{server.url}/big")


def test_unreachable_host_names_the_url() -> None:
    url = f"http://127.0.0.1:{closed_port()}/image.png"
    with pytest.raises(DownloadError, match="could not reach") as caught:
        fetch_bytes(url, timeout=TEST_TIMEOUT)
    assert url in str(caught.value)
    assert "network connection" in str(caught.value)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/image.png", "not a url"])
def test_only_http_and_https_are_allowed(url: str) -> None:
    with pytest.raises(DownloadError, match="only http:// and https://"):
        fetch_bytes(url)


def test_download_verified_writes_the_file(served, tmp_path: Path) -> None:
    server, folder = served
    data = png_bytes()
    (folder / "image.png").write_bytes(data)
    dest = tmp_path / "cache" / "nested" / "image.png"
    assert download_verified(f"{server.url}/image.png", sha256_hex(data), dest) == dest
    assert dest.read_bytes() == data
    assert sorted(p.name for p in dest.parent.iterdir()) == ["image.png"]


def test_download_verified_uses_a_matching_cached_file_without_the_network(served, tmp_path: Path) -> None:
    server, folder = served
    data = png_bytes()
    (folder / "image.png").write_bytes(data)
    dest = tmp_path / "image.png"
    download_verified(f"{server.url}/image.png", sha256_hex(data), dest)
    server.stop()
    assert download_verified(f"{server.url}/image.png", sha256_hex(data).upper(), dest) == dest
    assert server.requests == ["/image.png"]


def test_download_verified_replaces_a_cached_file_with_the_wrong_hash(served, tmp_path: Path) -> None:
    server, folder = served
    data = png_bytes()
    (folder / "image.png").write_bytes(data)
    dest = tmp_path / "image.png"
    dest.write_bytes(b"stale")
    download_verified(f"{server.url}/image.png", sha256_hex(data), dest)
    assert dest.read_bytes() == data
    assert server.requests == ["/image.png"]


def test_checksum_mismatch_leaves_nothing_behind(served, tmp_path: Path) -> None:
    server, folder = served
    data = png_bytes()
    (folder / "image.png").write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    url = f"{server.url}/image.png"
    wrong = "0" * 64
    with pytest.raises(DownloadError, match="checksum") as caught:
        download_verified(url, wrong, out / "image.png")
    message = str(caught.value)
    assert url in message
    assert wrong in message
    assert sha256_hex(data) in message
    assert list(out.iterdir()) == []


def test_download_errors_propagate_from_download_verified(served, tmp_path: Path) -> None:
    server, _ = served
    dest = tmp_path / "image.png"
    with pytest.raises(DownloadError, match="404"):
        download_verified(f"{server.url}/missing.png", "0" * 64, dest)
    assert not dest.exists()


def test_sha256_of_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    data = bytes(range(256)) * 1000
    path.write_bytes(data)
    assert sha256_of(path) == sha256_hex(data)


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NST_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.delenv("NST_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "nst_helpers"


def test_atomic_write_cleans_up_after_an_error(tmp_path: Path) -> None:
    dest = tmp_path / "file.bin"
    dest.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), download.atomic_write(dest) as file:
        file.write(b"half")
        raise KeyboardInterrupt
    assert dest.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_load_image_from_a_url(served) -> None:
    server, folder = served
    (folder / "image.png").write_bytes(png_bytes())
    image = load_image(f"{server.url}/image.png")
    expected = torch.tensor([[[1.0, 0.0]], [[0.0, 0.0]], [[0.0, 1.0]]]).unsqueeze(0)
    assert torch.equal(image, expected)


def test_load_image_from_a_url_that_is_not_an_image(served) -> None:
    server, folder = served
    (folder / "page.png").write_text("<html>not an image</html>")
    url = f"{server.url}/page.png"
    with pytest.raises(ImageError, match="is not an image Pillow can read") as caught:
        load_image(url)
    assert url in str(caught.value)


def test_load_image_passes_download_errors_on(served) -> None:
    server, _ = served
    with pytest.raises(DownloadError, match="404"):
        load_image(f"{server.url}/missing.png")


@pytest.mark.skipif(not CLASSICS.is_dir(), reason=f"{CLASSICS} is absent (it is shared test material)")
def test_download_verified_with_the_classic_paintings(tmp_path: Path) -> None:
    expected = {}
    for line in (CLASSICS / "SHA256SUMS").read_text().splitlines():
        sha256, name = line.split()
        expected[name] = sha256
    server = Server(CLASSICS)
    try:
        for name, sha256 in expected.items():
            dest = download_verified(f"{server.url}/{name}", sha256, tmp_path / name)
            assert sha256_of(dest) == sha256
    finally:
        server.stop()
    assert sorted(server.requests) == sorted(f"/{name}" for name in expected)
