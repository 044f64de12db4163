"""Signing material for Apple Wallet passes.

Two sources:

* a real Pass Type ID certificate, its private key and Apple's WWDR intermediate, given as PEM
  paths (``APPLE_PASS_CERT``, ``APPLE_PASS_KEY``, ``APPLE_PASS_KEY_PASSWORD``,
  ``APPLE_WWDR_CERT``);
* otherwise a *development* chain generated once into a directory, so passes build and their
  signatures verify locally. Such passes never install on a real device: the chain is not
  Apple's, and every certificate in it says "DEVELOPMENT" in its subject.

Pure Python: no Django import. Callers hand in paths and plain settings values.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

try:  # POSIX only; on other systems the atomic renames alone keep files whole.
    import fcntl
except ImportError:  # pragma: no cover - not exercised on Linux CI
    fcntl = None  # type: ignore[assignment]

DEV_PASS_TYPE_ID = "pass.dev.stampwise"  # noqa: S105 - an identifier, not a secret
DEV_TEAM_ID = "DEVTEAM000"
DEV_ORGANIZATION = "Stampwise DEVELOPMENT (not signed by Apple)"
DEV_WWDR_COMMON_NAME = "Stampwise DEVELOPMENT WWDR CA"

DEV_WWDR_FILENAME = "dev-wwdr.pem"
DEV_CERT_FILENAME = "dev-pass-cert.pem"
DEV_KEY_FILENAME = "dev-pass-key.pem"
_LOCK_FILENAME = ".dev-chain.lock"

# Apple's Pass Type ID certificates carry the pass type identifier in the UID attribute and
# the team identifier in OU; the development chain copies that layout so the same code reads
# both.
_UID = NameOID.USER_ID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class SigningMaterialError(Exception):
    """The configured certificate, key or WWDR file is missing or unreadable."""


@dataclass(frozen=True)
class SigningMaterial:
    """Everything needed to sign a pass manifest (and to authenticate to APNs by certificate).

    ``cert_path``/``key_path``/``key_password`` are kept because TLS client authentication
    (APNs certificate auth) loads them from files.
    """

    cert: x509.Certificate
    key: PrivateKey = field(repr=False)
    wwdr: x509.Certificate
    cert_path: Path
    key_path: Path
    wwdr_path: Path
    key_password: bytes | None = field(default=None, repr=False)
    is_development: bool = False

    @property
    def pass_type_identifier(self) -> str | None:
        """The pass type id the certificate was issued for (its UID attribute), if present."""
        return _first_attribute(self.cert.subject, _UID)

    @property
    def team_identifier(self) -> str | None:
        """The Apple team id (the certificate subject's OU), if present."""
        return _first_attribute(self.cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME)


@dataclass(frozen=True)
class DevChainPaths:
    wwdr_path: Path
    cert_path: Path
    key_path: Path


def _first_attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attributes = name.get_attributes_for_oid(oid)
    if not attributes:
        return None
    value = attributes[0].value
    return value if isinstance(value, str) else value.decode()


def _password_bytes(password: str | bytes | None) -> bytes | None:
    if password is None or password == "" or password == b"":
        return None
    return password.encode() if isinstance(password, str) else password


def load_signing_material(
    cert_path: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    key_password: str | bytes | None,
    wwdr_path: str | os.PathLike[str],
) -> SigningMaterial:
    """Load PEM certificate, key and WWDR certificate; cached once per process per paths.

    Raises:
        SigningMaterialError: a file is missing, unreadable, or the key does not match the
            certificate.
    """
    return _load_cached(
        str(Path(cert_path).resolve()),
        str(Path(key_path).resolve()),
        _password_bytes(key_password),
        str(Path(wwdr_path).resolve()),
        False,
    )


@functools.lru_cache(maxsize=16)
def _load_cached(
    cert_path: str, key_path: str, key_password: bytes | None, wwdr_path: str, is_development: bool
) -> SigningMaterial:
    try:
        cert = x509.load_pem_x509_certificate(Path(cert_path).read_bytes())
        wwdr = x509.load_pem_x509_certificate(Path(wwdr_path).read_bytes())
        key = serialization.load_pem_private_key(Path(key_path).read_bytes(), key_password)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningMaterialError(f"cannot load pass signing material: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise SigningMaterialError("pass signing key must be an RSA or EC private key")
    # A mismatched key yields signatures that only fail on the device; fail loudly here.
    if key.public_key() != cert.public_key():
        raise SigningMaterialError("pass signing key does not match the pass certificate")
    return SigningMaterial(
        cert=cert,
        key=key,
        wwdr=wwdr,
        cert_path=Path(cert_path),
        key_path=Path(key_path),
        wwdr_path=Path(wwdr_path),
        key_password=key_password,
        is_development=is_development,
    )


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``directory`` (blocks other processes generating)."""
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(directory / _LOCK_FILENAME, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    # Write to a sibling temp file and rename, so a reader never sees half a PEM.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def generate_dev_chain(
    directory: str | os.PathLike[str],
    *,
    pass_type_id: str = DEV_PASS_TYPE_ID,
    team_id: str = DEV_TEAM_ID,
) -> tuple[Path, Path, Path]:
    """Create (once) a development WWDR CA and a pass certificate signed by it.

    Returns ``(wwdr_path, cert_path, key_path)``. Idempotent: when all three files exist they
    are returned untouched. Safe across processes: generation happens under an exclusive
    ``flock`` on a lock file in ``directory`` and every file is written atomically.

    Raises:
        OSError: the directory cannot be created or written.
    """
    target = Path(directory)
    paths = DevChainPaths(
        wwdr_path=target / DEV_WWDR_FILENAME,
        cert_path=target / DEV_CERT_FILENAME,
        key_path=target / DEV_KEY_FILENAME,
    )
    result = (paths.wwdr_path, paths.cert_path, paths.key_path)
    if all(p.exists() for p in result):
        return result
    target.mkdir(parents=True, exist_ok=True)
    with _directory_lock(target):
        # Another process may have finished while we waited for the lock.
        if all(p.exists() for p in result):
            return result
        wwdr_pem, cert_pem, key_pem = _make_dev_chain_pems(pass_type_id, team_id)
        # The key goes first and the certificate last: the existence check above looks for
        # all three, so a crash midway leaves an incomplete set that is regenerated.
        _atomic_write(paths.key_path, key_pem, mode=0o600)
        _atomic_write(paths.wwdr_path, wwdr_pem)
        _atomic_write(paths.cert_path, cert_pem)
    return result


def _make_dev_chain_pems(pass_type_id: str, team_id: str) -> tuple[bytes, bytes, bytes]:
    now = _utcnow()
    not_before = now - dt.timedelta(days=1)
    not_after = now + dt.timedelta(days=3650)

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, DEV_WWDR_COMMON_NAME),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "DEVELOPMENT ONLY"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANIZATION),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        ]
    )
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    pass_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pass_name = x509.Name(
        [
            x509.NameAttribute(_UID, pass_type_id),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Pass Type ID: {pass_type_id}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, team_id),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANIZATION),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        ]
    )
    pass_cert = (
        x509.CertificateBuilder()
        .subject_name(pass_name)
        .issuer_name(ca_name)
        .public_key(pass_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        # clientAuth lets the same certificate authenticate to a (local) APNs stand-in, as a
        # real Pass Type ID certificate does with Apple's APNs.
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    return (
        ca_cert.public_bytes(serialization.Encoding.PEM),
        pass_cert.public_bytes(serialization.Encoding.PEM),
        pass_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def load_dev_signing_material(directory: str | os.PathLike[str]) -> SigningMaterial:
    """Generate the development chain under ``directory`` if needed and load it (cached)."""
    wwdr_path, cert_path, key_path = generate_dev_chain(directory)
    return _load_cached(
        str(cert_path.resolve()), str(key_path.resolve()), None, str(wwdr_path.resolve()), True
    )


def _setting(settings_like: Any, name: str) -> Any:
    if isinstance(settings_like, Mapping):
        return settings_like.get(name)
    return getattr(settings_like, name, None)


def apple_certificate_configured(settings_like: Any) -> bool:
    """True when a real certificate, key and WWDR path are all configured."""
    return all(
        _setting(settings_like, name)
        for name in ("APPLE_PASS_CERT", "APPLE_PASS_KEY", "APPLE_WWDR_CERT")
    )


def get_signing_material(settings_like: Any, *, dev_dir: str | os.PathLike[str]) -> SigningMaterial:
    """Pick the configured Apple certificate, else the development chain under ``dev_dir``.

    ``settings_like`` is any object with the settings as attributes (Django's ``settings``)
    or a mapping (``os.environ``). A partial configuration (say a certificate without its
    key) is an error rather than a silent fall-back to the development chain, since that
    would ship passes that cannot install.

    Raises:
        SigningMaterialError: the Apple configuration is partial or unreadable.
    """
    names = ("APPLE_PASS_CERT", "APPLE_PASS_KEY", "APPLE_WWDR_CERT")
    present = [name for name in names if _setting(settings_like, name)]
    if not present:
        return load_dev_signing_material(dev_dir)
    if len(present) != len(names):
        missing = ", ".join(name for name in names if name not in present)
        raise SigningMaterialError(f"incomplete Apple pass certificate configuration: {missing}")
    return load_signing_material(
        _setting(settings_like, "APPLE_PASS_CERT"),
        _setting(settings_like, "APPLE_PASS_KEY"),
        _setting(settings_like, "APPLE_PASS_KEY_PASSWORD"),
        _setting(settings_like, "APPLE_WWDR_CERT"),
    )


def clear_signing_material_cache() -> None:
    """Forget loaded material (after a certificate rotation, or between tests)."""
    _load_cached.cache_clear()
