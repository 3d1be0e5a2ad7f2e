"""Templates at rest: AES-256-GCM per template, bound to employee, finger and department; keys kept elsewhere.

Sealed blob::

    b"DKFE" | version u8 (=1) | key id length u8 | key id (ascii) | nonce (12) | ciphertext + tag (16)

The associated data binds the blob to (employee key, finger, department, key id): a template copied onto another
employee's row, finger or department does not decrypt (ISO/IEC 24745 secure binding). The key comes from a
:class:`KeyProvider`, never from the database that stores the blobs; a new key id makes templates renewable
(:meth:`TemplateCipher.reseal`).
"""
from __future__ import annotations

import json
import os
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dakoku_core.fingerprint.code_codec import CodeFormatError, decode_code, encode_code
from dakoku_core.fingerprint.mcc import CylinderCode
from dakoku_core.fingerprint.template import FingerprintTemplate

MAGIC = b"DKFE"
VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12


class TemplateSealError(ValueError):
    """A sealed template is malformed, bound to something else, tampered with, or its key is unknown."""


class KeyProvider(Protocol):
    def current(self) -> tuple[str, bytes]:
        """The key id and 32-byte key that new templates are sealed with."""

    def key(self, key_id: str) -> bytes:
        """A key by id (old ones stay readable until resealed); KeyError if unknown."""


@dataclass(frozen=True)
class TemplateBinding:
    employee_key: str
    finger: int
    department_code: str


class StaticKeyProvider:
    """Keys held in memory (tests, demos, or keys fetched from an OS keyring by the composition root)."""

    def __init__(self, keys: dict[str, bytes], current_id: str):
        if any(len(k) != KEY_BYTES for k in keys.values()) or current_id not in keys:
            raise ValueError("keys must be 32 bytes and include the current id")
        self._keys, self._current = dict(keys), current_id

    @classmethod
    def generate(cls, key_id: str = "k1") -> "StaticKeyProvider":
        return cls({key_id: secrets.token_bytes(KEY_BYTES)}, key_id)

    def current(self) -> tuple[str, bytes]:
        return self._current, self._keys[self._current]

    def key(self, key_id: str) -> bytes:
        return self._keys[key_id]


class FileKeyProvider:
    """Keys as 0600 files ``<id>.key`` in a directory of their own (not beside the database); ``current`` names
    the one in use. The directory is created with a first key when missing."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        if not (self.directory / "current").is_file():
            self.rotate()

    def rotate(self) -> str:
        """Create a new key and make it current; returns its id."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        key_id = f"k{secrets.token_hex(4)}"
        path = self.directory / f"{key_id}.key"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(KEY_BYTES))
        tmp = self.directory / "current.tmp"
        tmp.write_text(key_id)
        tmp.replace(self.directory / "current")
        return key_id

    def current(self) -> tuple[str, bytes]:
        key_id = (self.directory / "current").read_text().strip()
        return key_id, self.key(key_id)

    def key(self, key_id: str) -> bytes:
        if not key_id.isalnum():
            raise KeyError(key_id)
        path = self.directory / f"{key_id}.key"
        if not path.is_file():
            raise KeyError(key_id)
        data = path.read_bytes()
        if len(data) != KEY_BYTES:
            raise KeyError(key_id)
        return data


CODE_PURPOSE = "cylinder-code"


def _associated_data(binding: TemplateBinding, key_id: str, purpose: str | None = None) -> bytes:
    """The binding as associated data; a ``purpose`` (a template's cylinder code) is appended, so a code blob never
    opens as a template nor a template as a code."""
    fields = ["dakoku-fingerprint-template", VERSION, binding.employee_key, int(binding.finger),
              binding.department_code, key_id] + ([purpose] if purpose else [])
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class TemplateCipher:
    def __init__(self, keys: KeyProvider):
        self.keys = keys

    def seal(self, template: FingerprintTemplate, binding: TemplateBinding) -> bytes:
        return self._seal_bytes(template.to_bytes(), binding, None)

    def open(self, blob: bytes, binding: TemplateBinding) -> FingerprintTemplate:
        return FingerprintTemplate.from_bytes(self._open_bytes(blob, binding, None))

    def seal_code(self, code: CylinderCode, binding: TemplateBinding) -> bytes:
        """A template's MCC cylinder code, sealed like the template (same key, binding plus a purpose): loading a
        gallery then decrypts instead of re-encoding every template."""
        return self._seal_bytes(encode_code(code), binding, CODE_PURPOSE)

    def open_code(self, blob: bytes, binding: TemplateBinding) -> CylinderCode:
        try:
            return decode_code(self._open_bytes(blob, binding, CODE_PURPOSE))
        except CodeFormatError as exc:
            raise TemplateSealError("cylinder code is malformed") from exc

    def reseal(self, blob: bytes, binding: TemplateBinding) -> bytes:
        """Re-encrypt under the current key (after :meth:`FileKeyProvider.rotate`)."""
        return self.seal(self.open(blob, binding), binding)

    def _seal_bytes(self, plain: bytes, binding: TemplateBinding, purpose: str | None) -> bytes:
        key_id, key = self.keys.current()
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, plain, _associated_data(binding, key_id, purpose))
        kid = key_id.encode("ascii")
        return MAGIC + struct.pack("BB", VERSION, len(kid)) + kid + nonce + sealed

    def _open_bytes(self, blob: bytes, binding: TemplateBinding, purpose: str | None) -> bytes:
        key_id, nonce, sealed = self._split(bytes(blob))
        try:
            key = self.keys.key(key_id)
        except KeyError as exc:
            raise TemplateSealError(f"unknown key id {key_id!r}") from exc
        try:
            return AESGCM(key).decrypt(nonce, sealed, _associated_data(binding, key_id, purpose))
        except InvalidTag as exc:
            raise TemplateSealError("sealed blob does not open with this binding, purpose or key") from exc

    @staticmethod
    def _split(blob: bytes) -> tuple[str, bytes, bytes]:
        if len(blob) < 6 or blob[:4] != MAGIC:
            raise TemplateSealError("not a sealed template")
        version, kid_len = struct.unpack_from("BB", blob, 4)
        if version != VERSION:
            raise TemplateSealError(f"sealed template version {version} is not supported")
        start = 6 + kid_len
        if len(blob) < start + NONCE_BYTES + 16:
            raise TemplateSealError("sealed template is truncated")
        key_id = blob[6:start].decode("ascii", errors="replace")
        return key_id, blob[start:start + NONCE_BYTES], blob[start + NONCE_BYTES:]
