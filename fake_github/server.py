"""Run the fake GitHub on loopback in a background thread.

Example::

    keys = make_app_keypair()
    state = FakeGitHubState.for_app(keys)
    installation = state.create_installation("acme")
    repo = state.create_repo("acme", "monorepo")
    with FakeGitHubServer(state) as server:
        gh = GitHub(AppAuthStrategy(keys.app_id, keys.private_key_pem), base_url=server.url)
        igh = gh.with_auth(gh.auth.as_installation(installation.id))
        igh.rest.repos.get("acme", "monorepo")
        server.faults.server_error(1)        # the next call answers 500
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from .app import create_fake_github
from .faults import Faults
from .state import AppKeyPair, FakeGitHubState, make_app_keypair

__all__ = ["AppKeyPair", "FakeGitHubServer", "make_app_keypair"]


class FakeGitHubServer:
    """The fake GitHub served by uvicorn on 127.0.0.1 and a free port, in a thread."""

    def __init__(
        self,
        state: FakeGitHubState,
        faults: Faults | None = None,
        *,
        host: str = "127.0.0.1",
        startup_timeout: float = 10.0,
    ) -> None:
        self.state = state
        self.faults = faults if faults is not None else Faults()
        self.app = create_fake_github(state, self.faults)
        self._host = host
        self._startup_timeout = startup_timeout
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """The base URL for githubkit, e.g. "http://127.0.0.1:41234/"."""
        if not self.port:
            raise RuntimeError("the fake GitHub server is not running")
        return f"http://{self._host}:{self.port}/"

    def start(self) -> FakeGitHubServer:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, 0))
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            host=self._host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-github", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the fake GitHub server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
        self.port = 0

    def __enter__(self) -> FakeGitHubServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
