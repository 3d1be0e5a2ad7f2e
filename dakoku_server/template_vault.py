"""Fingerprint templates at rest on the server: sealed with AES-256-GCM, keys in a directory, never in the database.

Each stored sub-template is two blobs, both from :class:`dakoku_core.fingerprint.crypto.TemplateCipher`'s keys and
framing (``DKFE`` | version | key id | nonce | ciphertext + tag):

- the template (``FingerprintTemplate.to_bytes()``), sealed by ``TemplateCipher`` itself with the binding
  ``TemplateBinding(employee_key, finger, <company code>)`` (the company, not the department: an employee who
  moves keeps their templates);
- its MCC cylinder code (``TemplateCipher.seal_code``, :mod:`dakoku_core.fingerprint.code_codec`), so a cold worker
  decrypts instead of re-encoding. Its associated data is the template's plus a purpose, ``"cylinder-code"``: a
  code blob never opens as a template, nor a template as a code, nor either under another employee, finger or
  company.

Keys come from :class:`~dakoku_core.fingerprint.crypto.FileKeyProvider` on ``kiosk-server --template-keys DIR``;
a SQLite database defaults to ``<directory of the .sqlite file>/template-keys`` (:func:`resolve_keys_dir`).
"""
from __future__ import annotations

import threading
from pathlib import Path

from dakoku_core.fingerprint.crypto import FileKeyProvider, KeyProvider, TemplateBinding, TemplateCipher
from dakoku_core.fingerprint.mcc import CylinderCode
from dakoku_core.fingerprint.template import FingerprintTemplate
from dakoku_server.private_files import close_up_dir, private_dir, private_file

KEYS_DIR_NAME = "template-keys"


def default_keys_dir(db_url: str) -> str | None:
    """``<directory of the SQLite file>/template-keys`` for a ``sqlite:///file`` URL, else None."""
    if not db_url.startswith("sqlite") or "://" not in db_url:
        return None
    path = db_url.split("://", 1)[1][1:].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return str(Path(path).resolve().parent / KEYS_DIR_NAME)


def resolve_keys_dir(db_url: str, explicit: str | None) -> str | None:
    """The template keys directory: ``explicit`` if given, else the SQLite default, else None (unset)."""
    return str(Path(explicit).resolve()) if explicit else default_keys_dir(db_url)


def binding(company_code: str, employee_key: str, finger: int) -> TemplateBinding:
    return TemplateBinding(employee_key, int(finger), company_code)


class TemplateVault:
    """Seals and opens sub-templates and their cylinder codes under one key provider."""

    def __init__(self, keys: KeyProvider):
        self.keys = keys
        self.cipher = TemplateCipher(keys)

    def seal_template(self, template: FingerprintTemplate, bound: TemplateBinding) -> bytes:
        return self.cipher.seal(template, bound)

    def open_template(self, blob: bytes, bound: TemplateBinding) -> FingerprintTemplate:
        return self.cipher.open(bytes(blob), bound)

    def seal_code(self, code: CylinderCode, bound: TemplateBinding) -> bytes:
        return self.cipher.seal_code(code, bound)

    def open_code(self, blob: bytes, bound: TemplateBinding) -> CylinderCode:
        return self.cipher.open_code(bytes(blob), bound)


_VAULTS: dict[str, TemplateVault] = {}
_VAULTS_LOCK = threading.Lock()


def vault_at(keys_dir: str) -> TemplateVault:
    """The process's vault for ``keys_dir`` (created with a first key when missing)."""
    with _VAULTS_LOCK:
        vault = _VAULTS.get(keys_dir)
        if vault is None:
            private_dir(keys_dir)
            vault = _VAULTS[keys_dir] = TemplateVault(FileKeyProvider(keys_dir))
            close_up(keys_dir)
        return vault


def close_up(keys_dir: str) -> None:
    """The keys folder 0700 and every file in it 0600, whatever the umask they were made under."""
    close_up_dir(keys_dir)
    for entry in Path(keys_dir).iterdir():
        if entry.is_file():
            private_file(entry)
