"""The hall's PDF signature (电子证照): its key and certificate, a demo CA, PAdES signing and validation (pyHanko).

A hall signs its electronic certificates with the key and certificate named in `[certificates]` of the config;
in demo mode without that table a self-signed demo CA and a signing certificate it issued are made once under
`<var_dir>/pki/` (keys mode 0600) and reused. Signatures are PAdES baseline B-B (ETSI.CAdES.detached, SHA-256):
no time-stamp, since a hall's network reaches no TSA in the demo; a TSA would be one more `sign_pdf` argument.
The document is made PDF/A-2b-shaped before signing, in the same incremental update: XMP with the PDF/A
identification (pyHanko keeps the XMP and the Info dictionary in step), and an sRGB output intent.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import ImageCms
from pyhanko.keys import load_cert_from_pemder, load_certs_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import NS, ExpandedName, XmpStructure, XmpValue
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

DEMO_DIR = "pki"
FIELD = "HallSignature"


class SigningError(Exception):
    """The signing key or certificate cannot be used (named with the file to fix)."""


@dataclass(frozen=True)
class SignerFiles:
    """Where the signing key and certificates are: PEM (or DER) files."""

    key_file: Path
    cert_file: Path
    chain_files: tuple[Path, ...] = ()
    key_password: str | None = None


@dataclass(frozen=True)
class HallSigner:
    """A loaded signer: pyHanko's signer and the roots its signatures validate against."""

    signer: signers.SimpleSigner
    trust_roots: tuple[asn1_x509.Certificate, ...]
    subject: str


@dataclass(frozen=True)
class Validation:
    """What pyHanko's validator says of a signed PDF's (last) signature."""

    intact: bool  # the signed bytes are unchanged
    valid: bool  # the signature is mathematically valid
    trusted: bool  # the signer's chain reaches a trust root
    signer: str
    covers_whole_file: bool  # no bytes were appended after the signature

    @property
    def ok(self) -> bool:
        """Intact, valid, trusted and nothing added after signing."""
        return self.intact and self.valid and self.trusted and self.covers_whole_file


def _fit(value: str, limit: int = 64) -> str:
    """The value cut to X.509's upper bound of a name attribute (64, counted in UTF-8 bytes by cryptography):
    the demo hall's name and the signing suffix are 65."""
    while len(value.encode()) > limit:
        value = value[:-1]
    return value


def _name(org: str, cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(org)),
            x509.NameAttribute(NameOID.COMMON_NAME, _fit(cn)),
        ]
    )


def _usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not sign,
        crl_sign=not sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def demo_pki(var_dir: Path, organisation: str = "演示政务服务中心") -> SignerFiles:
    """The demo CA and a signing certificate it issued, under `<var_dir>/pki/` (made once, then reused)."""
    folder = var_dir / DEMO_DIR
    files = SignerFiles(folder / "signer.key", folder / "signer.crt", (folder / "demo-ca.crt",))
    if files.key_file.is_file() and files.cert_file.is_file() and files.chain_files[0].is_file():
        return files
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(organisation, "演示电子证照根证书 Demo licence CA (not for production)")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(organisation, f"{organisation} 电子证照签章 (demo)"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    plain = serialization.NoEncryption()
    _write_private(files.key_file, key.private_bytes(pem, serialization.PrivateFormat.PKCS8, plain))
    _write_private(folder / "demo-ca.key", ca_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, plain))
    files.cert_file.write_bytes(cert.public_bytes(pem))
    files.chain_files[0].write_bytes(ca.public_bytes(pem))
    return files


def load_signer(files: SignerFiles) -> HallSigner:
    """The signer of these files; SigningError naming the file that cannot be read."""
    for path in (files.key_file, files.cert_file, *files.chain_files):
        if not path.is_file():
            raise SigningError(f"{path}: no such file")
    password = files.key_password.encode() if files.key_password else None
    try:
        chain = list(load_certs_from_pemder([str(p) for p in files.chain_files]))
        signer = signers.SimpleSigner.load(
            str(files.key_file), str(files.cert_file), key_passphrase=password, other_certs=chain
        )
    except (OSError, ValueError, TypeError, PdfError) as exc:
        raise SigningError(f"{files.key_file} / {files.cert_file}: {exc}") from None
    if signer is None:  # pyHanko logs and returns None when the key or certificate does not load
        raise SigningError(f"{files.key_file} / {files.cert_file}: the key or certificate cannot be read")
    own = load_cert_from_pemder(str(files.cert_file))
    roots = tuple(c for c in chain if c.self_signed) or (own,)
    return HallSigner(signer, roots, own.subject.human_friendly)


def _pdfa_parts(w: IncrementalPdfFileWriter, title: str, author: str, created: datetime) -> None:
    """PDF/A-2b identification (XMP) and an sRGB output intent, in the writer's update."""
    meta = w.document_meta
    meta.title, meta.author, meta.creator, meta.created = title, author, "one-window-hall", created
    pdfaid = NS["pdfaid"]
    meta.xmp_extra = [
        XmpStructure.of(
            (ExpandedName(pdfaid, "part"), XmpValue("2")), (ExpandedName(pdfaid, "conformance"), XmpValue("B"))
        )
    ]
    icc = generic.StreamObject(
        {generic.NameObject("/N"): generic.NumberObject(3)},
        stream_data=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    icc.compress()
    intent = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/OutputIntent"),
            generic.NameObject("/S"): generic.NameObject("/GTS_PDFA1"),
            generic.NameObject("/OutputConditionIdentifier"): generic.TextStringObject("sRGB IEC61966-2.1"),
            generic.NameObject("/DestOutputProfile"): w.add_object(icc),
        }
    )
    w.root["/OutputIntents"] = generic.ArrayObject([w.add_object(intent)])
    w.update_root()


def sign_pdf(pdf: bytes, signer: HallSigner, *, title: str, organ: str, reason: str) -> bytes:
    """The PDF made PDF/A-2b-shaped and signed (PAdES B-B), in one incremental update."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    _pdfa_parts(w, title, organ, datetime.now(UTC))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=organ,
        name=organ,
    )
    out = signers.sign_pdf(w, meta, signer=signer.signer)
    return bytes(out.getvalue())


def validate(pdf: bytes, trust_roots: tuple[asn1_x509.Certificate, ...]) -> Validation:
    """pyHanko's validation of the PDF's last signature against `trust_roots` (never raises on a bad file)."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        sigs = reader.embedded_signatures
        if not sigs:
            return Validation(False, False, False, "", False)
        sig = sigs[-1]
        context = ValidationContext(trust_roots=list(trust_roots), other_certs=SimpleCertificateStore())
        status = validate_pdf_signature(sig, context)
        whole = sig.coverage is not None and sig.coverage.name == "ENTIRE_FILE"
        subject = status.signing_cert.subject.human_friendly if status.signing_cert else ""
        return Validation(bool(status.intact), bool(status.valid), bool(status.trusted), subject, whole)
    except (PdfError, ValueError, KeyError, IndexError):
        return Validation(False, False, False, "", False)
