"""A TCP proxy that a test can cut: a service that goes away and comes back, on one port.

``TcpProxy(host, port).start()`` listens on a free port of 127.0.0.1 and forwards every
connection to ``host:port``, two threads per connection. :meth:`TcpProxy.cut` closes every
open connection (both ends, so the server ends its sessions and rolls back their
transactions) and closes the listening socket, so that new connections are refused at once,
as by a host whose service is down; :meth:`TcpProxy.restore` listens again on the same port.
:meth:`TcpProxy.hang` keeps every connection open but stops moving bytes (a network that
drops packets, a server frozen mid-failover) until :meth:`TcpProxy.resume`.
Standard library only.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

ACCEPT_POLL_SECONDS = 0.2  # how soon the accept loop notices a cut
CONNECT_TIMEOUT_SECONDS = 5.0
CHUNK = 65536


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``target_host:target_port`` until cut."""

    def __init__(self, target_host: str, target_port: int, *, host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.host = host
        self.port = 0  # chosen at the first start, kept by restore()
        self.accepted = 0  # connections accepted since start (to show the processes used it)
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._open: set[socket.socket] = set()  # both ends of every live connection
        self._flowing = threading.Event()  # cleared by hang(): bytes wait, nothing is lost
        self._flowing.set()

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> TcpProxy:
        """Listen (on a free port the first time) and forward what comes in."""
        with self._lock:
            if self._listener is not None:
                return self
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            # The port must be ours again after a cut, despite connections in TIME_WAIT.
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self.port))
            listener.listen(128)
            listener.settimeout(ACCEPT_POLL_SECONDS)
            self.port = listener.getsockname()[1]
            self._listener = listener
            self._accept_thread = threading.Thread(
                target=self._accept_loop, args=(listener,), name="tcp-proxy-accept", daemon=True
            )
            self._accept_thread.start()
        return self

    def cut(self) -> None:
        """Close every open connection and stop listening: new connections are refused."""
        with self._lock:
            listener, self._listener = self._listener, None
            thread, self._accept_thread = self._accept_thread, None
            sockets, self._open = self._open, set()
        if listener is not None:
            listener.close()  # connections waiting in the backlog are reset with it
        for sock in sockets:
            _close(sock)
        if thread is not None:
            thread.join(ACCEPT_POLL_SECONDS * 5)

    def hang(self) -> None:
        """Stop moving bytes (connections stay open, new ones are accepted)."""
        self._flowing.clear()

    def resume(self) -> None:
        """Move the bytes again, those held back first."""
        self._flowing.set()

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        self.start()

    def stop(self) -> None:
        """Cut, for good (the test is over)."""
        self.cut()

    @property
    def cut_off(self) -> bool:
        """True between :meth:`cut` and :meth:`restore`."""
        with self._lock:
            return self._listener is None

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- forwarding -----------------------------------------------------------------------

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                if self._listener is not listener:
                    return
                continue
            except OSError:  # closed by cut()
                return
            threading.Thread(
                target=self._connect, args=(listener, client), name="tcp-proxy-conn", daemon=True
            ).start()

    def _connect(self, listener: socket.socket, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=CONNECT_TIMEOUT_SECONDS)
        except OSError:
            _close(client)  # the service itself is down: so is the proxy's connection
            return
        upstream.settimeout(None)
        client.settimeout(None)
        with self._lock:
            if self._listener is not listener:  # cut while this one was being set up
                live = False
            else:
                live = True
                self.accepted += 1
                self._open.update((client, upstream))
        if not live:
            _close(client)
            _close(upstream)
            return
        threading.Thread(
            target=self._pump, args=(upstream, client), name="tcp-proxy-down", daemon=True
        ).start()
        self._pump(client, upstream)

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy ``source`` to ``sink`` until either end closes; then close both."""
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._open.discard(source)
            self._open.discard(sink)
        _close(source)
        _close(sink)


def _close(sock: socket.socket) -> None:
    # shutdown() first: it wakes the thread blocked in recv() on this socket, close() may not.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
