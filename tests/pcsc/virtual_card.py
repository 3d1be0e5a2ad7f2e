"""A scripted contactless card speaking vpcd's wire protocol (the card is the TCP client).

Insert = connect to the reader slot's port; remove = close. Every message is a 2-byte big-endian length
and a payload; a 1-byte payload is a control byte (00 off, 01 on, 02 reset, 04 send ATR), anything
longer is a command APDU answered with a response APDU. TCP_QUICKACK is set before every recv, or
each exchange waits ~40 ms for a delayed ACK (vpcd writes length and payload separately).
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field

FELICA_ATR = bytes.fromhex("3B8F8001804F0CA0000003061100 3B 00000000 42".replace(" ", ""))
MIFARE_1K_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
ULTRALIGHT_ATR = bytes.fromhex("3B8F8001804F0CA0000003060300030000000068")
CONTACT_ATR = bytes.fromhex("3B6800000073C84013009000")   # some contact card: type 'other'
GET_UID = bytes.fromhex("FFCA000000")
OK = b"\x90\x00"

_CTRL_ATR = 0x04


@dataclass
class CardScript:
    """How the card answers GET DATA (UID) and any other APDU."""

    uid: bytes = b""
    status_word: bytes = OK          # e.g. 6A81: unsupported
    delay: float = 0.0               # seconds before answering an APDU
    drop_on_apdu: bool = False       # pulled away mid-transmit: close instead of answering
    mute: bool = False               # never answer an APDU (transmit blocks until removed)
    uid_sequence: list[bytes] = field(default_factory=list)   # rotating IDs (phones): one per read


class VirtualCard:
    def __init__(self, atr: bytes, script: CardScript, host: str = "127.0.0.1"):
        self.atr = atr
        self.script = script
        self.host = host
        self.apdus: list[bytes] = []
        self.inserted_monotonic: float | None = None
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._reads = 0

    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def insert(self, port: int) -> None:
        if self._sock is not None:
            raise RuntimeError("card already inserted")
        sock = socket.create_connection((self.host, port), timeout=5)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self.inserted_monotonic = time.monotonic()
        self._thread = threading.Thread(target=self._serve, args=(sock,), name="virtual-card", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # --- protocol -----------------------------------------------------------------------------
    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                payload = self._receive(sock)
                if payload is None:
                    return
                if len(payload) == 1:
                    if payload[0] == _CTRL_ATR:
                        self._send(sock, self.atr)
                    continue
                self.apdus.append(payload)
                answer = self._answer(payload)
                if answer is None:
                    self._drop(sock)
                    return
                self._send(sock, answer)
        except OSError:
            return

    def _answer(self, apdu: bytes) -> bytes | None:
        script = self.script
        if script.drop_on_apdu:
            return None
        if script.mute:
            while self._sock is not None:
                time.sleep(0.01)
            return None
        if script.delay:
            time.sleep(script.delay)
        if apdu == GET_UID:
            if script.status_word != OK:
                return script.status_word
            uid = script.uid
            if script.uid_sequence:
                uid = script.uid_sequence[self._reads % len(script.uid_sequence)]
            self._reads += 1
            return uid + OK
        return b"\x6D\x00"   # instruction not supported

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            if self._sock is sock:
                self._sock = None
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    @staticmethod
    def _receive(sock: socket.socket) -> bytes | None:
        header = _recv_exact(sock, 2)
        if header is None:
            return None
        (length,) = struct.unpack(">H", header)
        return _recv_exact(sock, length) if length else b""

    @staticmethod
    def _send(sock: socket.socket, payload: bytes) -> None:
        sock.sendall(struct.pack(">H", len(payload)) + payload)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            return None
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def felica(idm: str = "012E4CD8A1B2C3D4", **script) -> VirtualCard:
    return VirtualCard(FELICA_ATR, CardScript(uid=bytes.fromhex(idm), **script))


def mifare(uid: str = "04A1B2C3", **script) -> VirtualCard:
    return VirtualCard(MIFARE_1K_ATR, CardScript(uid=bytes.fromhex(uid), **script))


def ultralight(uid: str = "04112233445566", **script) -> VirtualCard:
    return VirtualCard(ULTRALIGHT_ATR, CardScript(uid=bytes.fromhex(uid), **script))
