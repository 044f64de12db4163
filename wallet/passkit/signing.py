"""The ``signature`` file of a pass: a detached PKCS #7 signature of ``manifest.json``.

Apple: "Create a PKCS #7 detached signature for the manifest that uses the private key of the
pass identifier signing certificate", with the WWDR intermediate included (its absence is one
of the common reasons Wallet rejects a pass). cryptography's builder adds the signed
attributes contentType, messageDigest, signingTime and S/MIME capabilities by default; Wallet
wants signingTime, so no option that drops attributes is passed.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from wallet.passkit.certs import SigningMaterial

_OPTIONS = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]


def sign_manifest(manifest_bytes: bytes, material: SigningMaterial) -> bytes:
    """Return the DER-encoded detached PKCS #7 signature of ``manifest_bytes``.

    ``Binary`` keeps the bytes as they are (no MIME canonicalisation of line endings), which
    matters because Wallet hashes the manifest file byte for byte.
    """
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(manifest_bytes)
        .add_signer(material.cert, material.key, hashes.SHA256())
        .add_certificate(material.wwdr)
        .sign(serialization.Encoding.DER, _OPTIONS)
    )
