"""A throw-away PKI that signs requests the way Alexa does, built in memory at test time.

RSA keys are generated once per process (one per role); certificates are cheap and built once
per variant. Everything is valid for 30 days around the real current time, so the default clock
works; tests that need exact edges inject a clock at `ISSUED_AT`.

    signer = build_signer()
    verifier = RequestVerifier(skill_id=SKILL_ID, trust_roots=[signer.root], fetch_chain=CertHost().publish(signer))
    body = encode(alexa_envelope(ISSUED_AT))
    verifier.verify(signer.sign(body), body, json.loads(body))
"""
from __future__ import annotations

import base64
import enum
import functools
import json
import urllib.error
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ECHO_API_DOMAIN = "echo-api.amazon.com"
SKILL_ID = "amzn1.ask.skill.11111111-2222-4333-8444-555555555555"
# Personal data planted in every envelope, so tests can check it never leaks into logs or reasons.
USER_ID = "amzn1.ask.account.PRIVATE-USER-7f3a"
SLOT_VALUE = "private slot value 42"
CHAIN_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"
# Certificates are stamped relative to this instant (whole seconds, so edges are exact).
ISSUED_AT = datetime.now(timezone.utc).replace(microsecond=0)
LEAF_LIFETIME = timedelta(days=30)
CA_LIFETIME = timedelta(days=3650)


class Leaf(enum.Enum):
    """Which signing certificate the chain carries."""

    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    NO_SAN = "no subjectAltName"
    OTHER_SAN = "subjectAltName for another host"


@functools.cache
def rsa_key(role: str) -> rsa.RSAPrivateKey:
    """One 2048-bit key per role per process: generation is the slow part of the PKI."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class _Authority:
    cert: x509.Certificate
    key: rsa.RSAPrivateKey


@dataclass(frozen=True)
class AlexaSigner:
    """A chain as Alexa publishes it (leaf first, then intermediate) and the key that signs requests."""

    root: x509.Certificate  # the trust anchor to hand to the verifier
    leaf: x509.Certificate
    chain_pem: bytes
    signing_key: rsa.RSAPrivateKey
    url: str  # where its chain is published; distinct per variant

    def sign(self, body: bytes, *, url: str | None = None, key: rsa.RSAPrivateKey | None = None,
             algorithm: hashes.HashAlgorithm | None = None) -> dict[str, str]:
        """Alexa's two signature headers for `body`; `key`/`algorithm` override to forge bad ones."""
        signature = (key or self.signing_key).sign(body, padding.PKCS1v15(), algorithm or hashes.SHA256())
        return {"SignatureCertChainUrl": url or self.url,
                "Signature-256": base64.b64encode(signature).decode("ascii")}


@dataclass
class CertHost:
    """Stands in for S3 as the verifier's `fetch_chain`: serves published PEM by URL and counts downloads."""

    files: dict[str, bytes] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)

    def publish(self, *signers: AlexaSigner) -> "CertHost":
        self.files.update((signer.url, signer.chain_pem) for signer in signers)
        return self

    def __call__(self, url: str) -> bytes:
        self.downloads.append(url)
        try:
            return self.files[url]
        except KeyError:
            raise urllib.error.URLError("host unreachable") from None


def stranger_key() -> rsa.RSAPrivateKey:
    """A key no certificate vouches for."""
    return rsa_key("stranger")


def all_signers() -> list[AlexaSigner]:
    """Every variant, trusted or not; each publishes at its own URL, so one CertHost can serve them all."""
    return [build_signer(leaf, trusted=trusted) for leaf in Leaf for trusted in (True, False)]


@functools.cache
def build_signer(leaf: Leaf = Leaf.VALID, *, trusted: bool = True) -> AlexaSigner:
    """A signer whose chain ends in the shared test root, or (trusted=False) in a separate root nobody trusts.

    All variants sign with the same key, so their signatures are good: only their certificates differ.
    """
    prefix = "" if trusted else "untrusted "
    intermediate = _intermediate_ca(prefix)
    leaf_cert = _signing_cert(leaf, intermediate)
    chain_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf_cert, intermediate.cert))
    return AlexaSigner(root=_root_ca(prefix).cert, leaf=leaf_cert, chain_pem=chain_pem,
                       signing_key=rsa_key("signing"), url=_chain_url(leaf, trusted))


def _chain_url(leaf: Leaf, trusted: bool) -> str:
    if leaf is Leaf.VALID and trusted:
        return CHAIN_URL
    return f"https://s3.amazonaws.com/echo.api/test-{leaf.name.lower()}{'' if trusted else '-untrusted'}.pem"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hip Helper Test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not ca, key_encipherment=not ca, key_cert_sign=ca, crl_sign=ca,
                         content_commitment=False, data_encipherment=False, key_agreement=False,
                         encipher_only=False, decipher_only=False)


def _builder(subject: str, key: rsa.RSAPrivateKey, issuer: x509.Name,
             not_before: datetime, not_after: datetime) -> x509.CertificateBuilder:
    return (x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))


def _issued_by(builder: x509.CertificateBuilder, issuer: _Authority) -> x509.CertificateBuilder:
    ski = issuer.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    return builder.add_extension(aki, critical=False)


def _ca_extensions(builder: x509.CertificateBuilder, path_length: int | None) -> x509.CertificateBuilder:
    return (builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(_key_usage(ca=True), critical=True))


@functools.cache
def _root_ca(prefix: str) -> _Authority:
    key = rsa_key(prefix + "root")
    subject = prefix + "Test Root CA"
    builder = _builder(subject, key, _name(subject), ISSUED_AT - CA_LIFETIME, ISSUED_AT + CA_LIFETIME)
    return _Authority(_ca_extensions(builder, None).sign(key, hashes.SHA256()), key)


@functools.cache
def _intermediate_ca(prefix: str) -> _Authority:
    root = _root_ca(prefix)
    key = rsa_key(prefix + "intermediate")
    builder = _builder(prefix + "Test Server CA", key, root.cert.subject,
                       ISSUED_AT - CA_LIFETIME, ISSUED_AT + CA_LIFETIME)
    builder = _issued_by(_ca_extensions(builder, 0), root)
    return _Authority(builder.sign(root.key, hashes.SHA256()), key)


def _leaf_window(leaf: Leaf) -> tuple[datetime, datetime]:
    if leaf is Leaf.EXPIRED:
        return ISSUED_AT - 2 * LEAF_LIFETIME, ISSUED_AT - LEAF_LIFETIME
    if leaf is Leaf.NOT_YET_VALID:
        return ISSUED_AT + LEAF_LIFETIME, ISSUED_AT + 2 * LEAF_LIFETIME
    return ISSUED_AT - LEAF_LIFETIME, ISSUED_AT + LEAF_LIFETIME


def _signing_cert(leaf: Leaf, issuer: _Authority) -> x509.Certificate:
    key = rsa_key("signing")
    builder = _builder(ECHO_API_DOMAIN, key, issuer.cert.subject, *_leaf_window(leaf))
    builder = (_issued_by(builder, issuer)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_key_usage(ca=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
    if leaf is not Leaf.NO_SAN:
        host = "not-echo-api.example.com" if leaf is Leaf.OTHER_SAN else ECHO_API_DOMAIN
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
    return builder.sign(issuer.key, hashes.SHA256())


def iso(moment: datetime) -> str:
    """Alexa's timestamp format: UTC with a Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def alexa_envelope(timestamp: datetime | str, *, skill_id: str = SKILL_ID,
                   request_type: str = "IntentRequest") -> dict:
    """A minimal request envelope carrying `USER_ID` and `SLOT_VALUE`."""
    application = {"applicationId": skill_id}
    user = {"userId": USER_ID}
    return {
        "version": "1.0",
        "session": {"new": True, "sessionId": "amzn1.echo-api.session.test", "application": dict(application),
                    "attributes": {}, "user": dict(user)},
        "context": {"System": {"application": application, "user": user,
                               "device": {"deviceId": "amzn1.ask.device.test", "supportedInterfaces": {}}}},
        "request": {"type": request_type, "requestId": "amzn1.echo-api.request.test", "locale": "en-US",
                    "timestamp": timestamp if isinstance(timestamp, str) else iso(timestamp),
                    "intent": {"name": "AMAZON.HelpIntent", "confirmationStatus": "NONE",
                               "slots": {"note": {"name": "note", "value": SLOT_VALUE}}}},
    }


def encode(envelope: dict) -> bytes:
    return json.dumps(envelope).encode("utf-8")
