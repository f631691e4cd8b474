"""One running window per user and data folder.

The first ``cmfy-desk`` listens on a local socket (a Unix domain socket in the temporary folder,
a named pipe on Windows) whose name is derived from the user and the data folder. A later
``cmfy-desk FILE...`` with the same data folder connects to it, sends the absolute paths of its
files, and exits once the first instance confirmed. "Open with" and drops on a launcher arrive as
such command lines too.

The request is one line of UTF-8 JSON, ``{"files": ["/abs/path", ...]}``, and the reply is one
line, ``ok`` or ``error: <reason>``. Requests that arrive within ``BATCH_WINDOW_MS`` of each other
are emitted as one list, because a file manager may start one process per selected file.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import stat
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 1_000
# The first instance replies from its event loop, which start-up work (opening the database,
# starting the sandbox) can hold for a few seconds.
REPLY_TIMEOUT_MS = 10_000
BATCH_WINDOW_MS = 300
MAX_REQUEST_BYTES = 1024 * 1024


class HandoverError(RuntimeError):
    """An instance is listening on the name but did not accept the files."""


def server_name(data_dir: Path) -> str:
    """Return the local socket name of the instance that uses ``data_dir`` for this user."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        # getuser() fails when no environment variable names the user and, on Unix, when the
        # user id has no entry in the password database.
        user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
    identity = f"{user}\n{data_dir.expanduser().resolve()}"
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]
    return f"cmfy-desk-{digest}"


def send_to_running_instance(
    name: str,
    files: list[Path],
    *,
    connect_timeout_ms: int = CONNECT_TIMEOUT_MS,
    reply_timeout_ms: int = REPLY_TIMEOUT_MS,
) -> bool:
    """Send ``files`` (made absolute) to the instance listening on ``name`` and wait for its
    reply, blocking the calling thread.

    Returns False when no instance listens there (also when only a stale socket file is left),
    True when the running instance accepted the files. Raises HandoverError when an instance
    is connected but rejects the request or does not reply within ``reply_timeout_ms``.
    """
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(connect_timeout_ms):
        log.debug("No running instance at %s: %s", name, socket.errorString())
        return False

    request = json.dumps({"files": [str(path.absolute()) for path in files]}) + "\n"
    socket.write(request.encode("utf-8"))
    socket.flush()
    reply = b""
    while not reply.endswith(b"\n"):
        if not socket.waitForReadyRead(reply_timeout_ms):
            if socket.bytesAvailable():
                reply += bytes(socket.readAll().data())
                continue
            if socket.state() is QLocalSocket.LocalSocketState.UnconnectedState:
                raise HandoverError(
                    "The running Cmfy Desk closed the connection without accepting the files. "
                    "Try again, or close it."
                )
            socket.abort()
            raise HandoverError(
                f"Cmfy Desk is already running with this data folder, but it did not respond "
                f"within {reply_timeout_ms / 1000:g} s. Wait until it has started and try "
                f"again, or close it."
            )
        reply += bytes(socket.readAll().data())
    socket.disconnectFromServer()
    text = reply.decode("utf-8", errors="replace").strip()
    if text != "ok":
        raise HandoverError(f"The running Cmfy Desk rejected the files: {text}")
    return True


class InstanceServer(QObject):
    """Receives the requests of later instances.

    ``activationRequested`` is emitted once per request, so that the window comes to the
    front. ``filesReceived(list[Path])`` carries the files of all requests that arrived within
    ``BATCH_WINDOW_MS`` of each other, and is not emitted for requests without files.
    """

    activationRequested = Signal()
    filesReceived = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        if sys.platform == "win32":
            # The pipe accepts connections from this user only.
            self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        # On Unix, listen() with an access option set replaces an existing socket file, even
        # one a running instance listens on (seen with Qt 6.12). Without options it reports
        # AddressInUseError, and _listen() makes the socket file its owner's alone.
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytes] = {}
        self._pending: list[Path] = []
        self._batch_timer = QTimer(self)
        self._batch_timer.setSingleShot(True)
        self._batch_timer.setInterval(BATCH_WINDOW_MS)
        self._batch_timer.timeout.connect(self._emit_files)

    def listen(self) -> bool:
        """Start listening. A socket file that accepts no connection, left by an instance
        that crashed, is removed and replaced.

        Returns False when the name is taken by an instance that is running (a race with
        another start) or cannot be used, which the log explains.
        """
        if self._listen():
            return True
        if self._server.serverError() is not QAbstractSocket.SocketError.AddressInUseError:
            log.warning("Cannot listen at %s: %s", self.name, self._server.errorString())
            return False
        probe = QLocalSocket()
        probe.connectToServer(self.name)
        if probe.waitForConnected(CONNECT_TIMEOUT_MS):
            probe.abort()
            log.warning("Another instance listens at %s", self.name)
            return False
        log.info("Removing the stale socket %s left by an instance that ended", self.name)
        QLocalServer.removeServer(self.name)
        if self._listen():
            return True
        log.warning("Cannot listen at %s: %s", self.name, self._server.errorString())
        return False

    def _listen(self) -> bool:
        if not self._server.listen(self.name):
            return False
        path = self._server.fullServerName()
        if sys.platform != "win32":
            try:
                os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
            except OSError as exc:
                log.warning("Cannot restrict access to %s: %s", path, exc)
        log.info("Listening for other instances at %s", path)
        return True

    def is_listening(self) -> bool:
        return self._server.isListening()

    def close(self) -> None:
        """Stop listening and remove the socket file; pending files are dropped."""
        self._batch_timer.stop()
        self._server.close()
        for socket in list(self._buffers):
            socket.abort()
        self._buffers.clear()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda socket=socket: self._read(socket))
            socket.disconnected.connect(lambda socket=socket: self._forget(socket))
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        if socket not in self._buffers:
            return
        data = self._buffers[socket] + bytes(socket.readAll().data())
        if len(data) > MAX_REQUEST_BYTES:
            self._reply(socket, f"error: the request exceeds {MAX_REQUEST_BYTES} bytes")
            return
        self._buffers[socket] = data
        if b"\n" not in data:
            return
        line = data.split(b"\n", 1)[0]
        try:
            files = _parse_request(line)
        except ValueError as exc:
            log.warning("Rejected a request from another instance: %s", exc)
            self._reply(socket, f"error: {exc}")
            return
        self._reply(socket, "ok")
        log.info("Another instance sent %d files", len(files))
        self.activationRequested.emit()
        if files:
            self._pending.extend(files)
            self._batch_timer.start()

    def _reply(self, socket: QLocalSocket, text: str) -> None:
        self._buffers.pop(socket, None)
        socket.write((text + "\n").encode("utf-8"))
        socket.flush()
        socket.disconnectFromServer()

    def _forget(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()

    def _emit_files(self) -> None:
        files, self._pending = self._pending, []
        if files:
            self.filesReceived.emit(files)


def _parse_request(line: bytes) -> list[Path]:
    """Return the files of a request line; raise ValueError naming what is wrong."""
    try:
        request = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"the request is not UTF-8 JSON ({exc})") from exc
    if not isinstance(request, dict) or not isinstance(request.get("files"), list):
        raise ValueError('expected a JSON object {"files": [...]}')
    files: list[Path] = []
    for entry in request["files"]:
        if not isinstance(entry, str) or not Path(entry).is_absolute():
            raise ValueError(f"expected absolute file paths, got {entry!r}")
        files.append(Path(entry))
    return files


def claim_instance(name: str, files: list[Path]) -> InstanceServer | None:
    """Become the instance for ``name``, or hand ``files`` to the one running.

    Returns None when a running instance accepted the files; this process should then exit.
    Otherwise returns the server, listening unless the name could not be used (the log explains
    why), in which case the app runs on without receiving files from later instances.
    Raises HandoverError when a running instance did not accept the files.
    """
    if send_to_running_instance(name, files):
        return None
    server = InstanceServer(name)
    if server.listen():
        return server
    # Another start may have begun listening between the attempt to connect and listen().
    if send_to_running_instance(name, files):
        server.deleteLater()
        return None
    return server
