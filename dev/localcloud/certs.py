"""A local certificate authority, so stand-ins speak HTTPS like the real services.

The unmodified Snowflake connector (through SnowflakeHook) and simple-salesforce only talk HTTPS.
We issue a server certificate for the stand-ins' host names from a throw-away CA and point
``REQUESTS_CA_BUNDLE`` at a bundle holding the public CAs plus ours, so clients verify TLS exactly as in
production.
"""

from __future__ import annotations

from pathlib import Path

import certifi
import trustme

CA_CERT = "ca.pem"
SERVER_CERT = "server.pem"  # private key + certificate chain
CA_BUNDLE = "ca-bundle.pem"  # certifi's public roots + the local CA
# Every name a client uses for an HTTPS stand-in: localhost on one machine (``make up``), and the compose
# service names of the Snowflake stand-in and the Salesforce emulator (dev/localcloud/compose.py).
SERVER_NAMES = ("localhost", "127.0.0.1", "::1", "snowflake", "salesforce")


def ensure_certificates(cert_dir: Path) -> Path:
    """Create the CA, the server certificate and the bundle once; return the bundle path."""
    cert_dir.mkdir(parents=True, exist_ok=True)
    bundle = cert_dir / CA_BUNDLE
    server = cert_dir / SERVER_CERT
    if bundle.exists() and server.exists():
        return bundle
    ca = trustme.CA(organization_name="operational-pipeline local cloud")
    ca.cert_pem.write_to_path(str(cert_dir / CA_CERT))
    ca.issue_cert(*SERVER_NAMES).private_key_and_cert_chain_pem.write_to_path(str(server))
    bundle.write_bytes(Path(certifi.where()).read_bytes() + b"\n" + ca.cert_pem.bytes())
    server.chmod(0o600)
    return bundle
