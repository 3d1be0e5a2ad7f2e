"""A local CA and a server certificate for a site with no PKI (cryptography's x509 builder).

``create_local_ca(directory, hosts)`` writes ``ca.pem`` / ``ca.key`` (the CA; keep ca.key offline) and
``server.pem`` / ``server.key`` (what ``kiosk-server serve --tls-dir`` uses). Keys are ECDSA P-256, written
0600 in a 0700 folder whatever the umask;
the server certificate carries every host as a subjectAltName (IP addresses as IP entries).
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dakoku_server.private_files import close_up_dir, private_dir, write_private


@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path


def files_in(directory: str | os.PathLike) -> TlsFiles:
    d = Path(directory)
    return TlsFiles(d / "ca.pem", d / "ca.key", d / "server.pem", d / "server.key")


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    """A private key, 0600 whatever the umask (and an existing file is closed up before it is rewritten)."""
    write_private(path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Dakoku local"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _san(hosts: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for host in hosts:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            entries.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(entries)


def _ca_certificate(key: ec.EllipticCurvePrivateKey, now: datetime, days: int) -> x509.Certificate:
    name = _name("Dakoku local CA")
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))


def _server_certificate(ca: x509.Certificate, ca_key, key, hosts: list[str], now: datetime,
                        days: int) -> x509.Certificate:
    return (x509.CertificateBuilder().subject_name(_name(hosts[0])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_san(hosts), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))


def create_local_ca(directory: str | os.PathLike, hosts: list[str], *, ca_days: int = 3650,
                    server_days: int = 825) -> TlsFiles:
    """Create the CA (unless ``ca.pem``/``ca.key`` exist: then reuse it) and a fresh server certificate."""
    if not hosts:
        raise ValueError("at least one host name or IP address is needed")
    files = files_in(directory)
    private_dir(files.ca_cert.parent)
    close_up_dir(files.ca_cert.parent)            # holds the CA key: 0700 even if it existed
    now = datetime.now(timezone.utc)
    if files.ca_cert.exists() and files.ca_key.exists():
        ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    else:
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca = _ca_certificate(ca_key, now, ca_days)
        _write_key(files.ca_key, ca_key)
        files.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    key = ec.generate_private_key(ec.SECP256R1())
    _write_key(files.server_key, key)
    cert = _server_certificate(ca, ca_key, key, hosts, now, server_days)
    files.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files
