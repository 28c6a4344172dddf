"""A local certificate authority, so stand-ins speak HTTPS like the real services.

The unmodified Snowflake connector (through SnowflakeHook) and simple-salesforce only talk HTTPS.
We issue a server certificate for the stand-ins' host names from a throw-away CA and point
``REQUESTS_CA_BUNDLE`` at a bundle holding the public CAs plus ours, so clients verify TLS exactly as in
production.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import certifi
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

CA_CERT = "ca.pem"
SERVER_CERT = "server.pem"  # private key + certificate chain
CA_BUNDLE = "ca-bundle.pem"  # certifi's public roots + the local CA
# Every name a client uses for an HTTPS stand-in: localhost on one machine (``make up``), and the compose
# service names of the Snowflake stand-in and the Salesforce emulator (dev/localcloud/compose.py).
SERVER_NAMES = ("localhost", "127.0.0.1", "::1", "snowflake", "salesforce")
# The local Salesforce org's connected app for the OAuth 2.0 JWT bearer flow: the pipeline's connection signs its
# assertion with the private key; the app holds the certificate, as a Salesforce connected app or external client
# app does once its certificate is uploaded (README, Point it at real accounts).
SALESFORCE_APP_KEY = "salesforce-app-key.pem"
SALESFORCE_APP_CERT = "salesforce-app-cert.pem"
SALESFORCE_APP_CONSUMER_KEY = "localcloud-connected-app"


def ensure_certificates(cert_dir: Path) -> Path:
    """Create the CA, the server certificate and the bundle once; return the bundle path."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    bundle = cert_dir / CA_BUNDLE
    server = cert_dir / SERVER_CERT
    ensure_salesforce_app_key(cert_dir)
    if bundle.exists() and server.exists():
        return bundle
    ca = trustme.CA(organization_name="operational-pipeline local cloud")
    ca.cert_pem.write_to_path(str(cert_dir / CA_CERT))
    ca.issue_cert(*SERVER_NAMES).private_key_and_cert_chain_pem.write_to_path(str(server))
    bundle.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + ca.cert_pem.bytes())
    server.chmod(0o600)
    return bundle


def ensure_salesforce_app_key(cert_dir: Path) -> tuple[Path, Path]:
    """Create the connected app's RSA key and self-signed certificate once; return (key, certificate) paths."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = cert_dir / SALESFORCE_APP_KEY, cert_dir / SALESFORCE_APP_CERT
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "operational-pipeline local connected app")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path
