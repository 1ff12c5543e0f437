"""DKIM signatures with dkimpy (canonicalisation, hashing, the header), the RSA step done by OpenSSL.

dkimpy computes RSA in pure Python: about 6 ms a signature on our machines, which would cap a DKIM-signed
mass send near 150 messages a second per core. Its `gen_header` is repeated here with one change: the
signature comes from `cryptography` (0.3 ms). dkimpy's own `verify` checks the result in the tests.
"""

from __future__ import annotations

import base64
from typing import Any

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

# RFC 8058 asks that both List-Unsubscribe headers be signed.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"list-id",
)


class DkimKeyError(ValueError):
    """The configured DKIM key cannot be read."""


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.strip().encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeError) as error:
        raise DkimKeyError("the DKIM private key is not an unencrypted PEM key") from error
    if not isinstance(key, rsa.RSAPrivateKey):
        raise DkimKeyError("the DKIM private key must be an RSA key")
    return key


def public_key_record(key: rsa.RSAPrivateKey) -> str:
    """The DNS TXT record that publishes the key: `v=DKIM1; k=rsa; p=…`."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode('ascii')}"


class _OpenSslDkim(dkim.DKIM):  # type: ignore[misc]
    """dkimpy's signer whose RSA step is OpenSSL's."""

    rsa_key: rsa.RSAPrivateKey

    def gen_header(
        self,
        fields: list[tuple[bytes, bytes]],
        include_headers: tuple[bytes, ...],
        canon_policy: Any,
        header_name: bytes,
        pk: Any,
        standardize: bool = False,
    ) -> bytes:
        header_value = b"; ".join(b"=".join(x) for x in fields)
        header_value = dkim.fold(header_value, namelen=len(header_name), linesep=b"\r\n")
        header_value = dkim.RE_BTAG.sub(b"\\1", header_value)
        hasher = self.hasher()
        canonical = canon_policy.canonicalize_headers(self.headers)
        self.signed_headers = dkim.hash_headers(
            hasher, canon_policy, canonical, include_headers, (header_name, b" " + header_value), dict(fields)
        )
        signature = self.rsa_key.sign(hasher.digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        index = next(i for i, (tag, _) in enumerate(fields) if tag == b"b")
        fields[index] = (b"b", base64.b64encode(signature))
        value = b"; ".join(b"=".join(x) for x in fields) + self.linesep
        folded: bytes = dkim.fold(value, namelen=len(header_name), linesep=self.linesep)
        return folded


class DkimSigner:
    """Signs whole messages for one domain and selector; made once per batch (the key is parsed once)."""

    def __init__(self, domain: str, selector: str, private_key_pem: str) -> None:
        self.domain = domain.encode("idna")
        self.selector = selector.encode("ascii")
        self.pem = private_key_pem.strip().encode("ascii")
        self.key = load_private_key(private_key_pem)

    def sign(self, message: bytes) -> bytes:
        """The message with its DKIM-Signature header in front."""
        signer = _OpenSslDkim(message, signature_algorithm=b"rsa-sha256", linesep=b"\r\n")
        signer.rsa_key = self.key
        present = {name.lower() for name, _ in signer.headers}
        include = [name for name in SIGNED_HEADERS if name in present]
        header: bytes = signer.sign(
            self.selector,
            self.domain,
            self.pem,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=include,
        )
        return header + message
