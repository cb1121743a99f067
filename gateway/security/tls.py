"""TLS for SSL and SASL_SSL listeners: Python's ssl (OpenSSL, in C) with the broker's certificate.

- `--ssl-cert/--ssl-key` name the server certificate; without them a development CA and a server
  certificate for the listeners' hosts (plus localhost and 127.0.0.1) are generated under
  `<data-dir>/tls/` (ca.pem, ca-key.pem, server.pem, server-key.pem) with the `cryptography` package,
  reused on restart (the server certificate is re-issued by the same CA when a host is missing).
  Clients trust `<data-dir>/tls/ca.pem` (`ssl.ca.location`).
- `--ssl-client-auth none|requested|required` (Kafka's ssl.client.auth) applies to SSL listeners;
  SASL_SSL listeners do not ask for a certificate unless `listener.name.<name>.ssl.client.auth` says
  so, as in Kafka. Client certificates must chain to `--ssl-ca` (the generated CA by default).
- The principal of an SSL connection with a client certificate is `User:` + the certificate subject's
  distinguished name (RFC 2253, ssl.principal.mapping.rules=DEFAULT); without one, User:ANONYMOUS.
`cryptography` is imported only to generate certificates or to read a client certificate's subject.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

import structlog

log = structlog.get_logger("ottla.tls")
_CLIENT_AUTH = {"none": ssl.CERT_NONE, "requested": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
_VALID_DAYS = 3650


@dataclass(frozen=True)
class TlsFiles:
    cert: str
    key: str
    ca: str | None  # what client certificates must chain to
    generated: bool


def client_auth_of(config, listener) -> str:
    """The listener's ssl.client.auth: listener.name.<name>.ssl.client.auth, else the broker's on SSL."""
    props = dict(config.properties)
    specific = props.get(f"listener.name.{listener.name.lower()}.ssl.client.auth")
    if specific:
        return specific.strip().lower()
    return config.ssl_client_auth if listener.security_protocol == "SSL" else "none"


def tls_files(config) -> TlsFiles:
    if config.ssl_cert:
        if not config.ssl_key:
            raise ValueError("--ssl-cert needs --ssl-key")
        return TlsFiles(config.ssl_cert, config.ssl_key, config.ssl_ca, False)
    hosts = sorted({l.host for l in config.listeners if l.tls} | {l.advertised_host for l in config.listeners
                                                                  if l.tls})
    directory = Path(config.data_dir) / "tls"
    cert, key, ca = ensure_generated(directory, hosts)
    return TlsFiles(cert, key, config.ssl_ca or ca, True)


def server_context(files: TlsFiles, client_auth: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # Kafka's ssl.enabled.protocols: TLSv1.2,TLSv1.3
    context.load_cert_chain(files.cert, files.key)
    mode = _CLIENT_AUTH[client_auth]
    if mode != ssl.CERT_NONE:
        if not files.ca:
            raise ValueError(f"ssl.client.auth={client_auth} needs --ssl-ca")
        context.load_verify_locations(files.ca)
    context.verify_mode = mode
    return context


def principal_of(transport) -> str | None:
    """User:<subject DN> of the client's certificate, or None without one."""
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    from cryptography import x509

    return "User:" + x509.load_der_x509_certificate(der).subject.rfc4514_string()


# the development CA ------------------------------------------------------------------------------

def _write_private(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _names(hosts: list[str]) -> list[str]:
    names = {"localhost", "127.0.0.1", socket.gethostname()}
    names.update(h for h in hosts if h and h not in ("0.0.0.0", "::"))
    return sorted(names)


def _key_pem(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _issue(subject_cn: str, issuer_cert, issuer_key, *, ca: bool = False, names: list[str] = (),
           client: bool = False):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer_cert.subject if issuer_cert is not None else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=_VALID_DAYS))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False),
                                        critical=True)
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if names:
        alt = []
        for name in names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt.append(x509.DNSName(name))
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = builder.sign(issuer_key if issuer_key is not None else key, hashes.SHA256())
    return cert, key


def _load_ca(directory: Path):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    ca_cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((directory / "ca-key.pem").read_bytes(), None)
    return ca_cert, ca_key


def _covers(cert_path: Path, names: list[str]) -> bool:
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    have = {str(v) for v in alt.get_values_for_type(x509.IPAddress)} | set(alt.get_values_for_type(x509.DNSName))
    expires = cert.not_valid_after_utc
    return set(names) <= have and expires > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)


def ensure_generated(directory: Path, hosts: list[str]) -> tuple[str, str, str]:
    """(server cert, server key, CA cert) under `directory`, generated when missing, else reused."""
    from cryptography.hazmat.primitives import serialization

    directory.mkdir(parents=True, exist_ok=True)
    ca_path, ca_key_path = directory / "ca.pem", directory / "ca-key.pem"
    cert_path, key_path = directory / "server.pem", directory / "server-key.pem"
    if not (ca_path.exists() and ca_key_path.exists()):
        ca_cert, ca_key = _issue("Ottla development CA", None, None, ca=True)
        _write_private(ca_key_path, _key_pem(ca_key))
        _write_private(ca_path, ca_cert.public_bytes(serialization.Encoding.PEM))
        cert_path.unlink(missing_ok=True)
        log.info("tls_ca_generated", path=str(ca_path))
    names = _names(hosts)
    if not (key_path.exists() and _covers(cert_path, names)):
        ca_cert, ca_key = _load_ca(directory)
        cert, key = _issue("localhost", ca_cert, ca_key, names=names)
        _write_private(key_path, _key_pem(key))
        _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        log.info("tls_server_certificate_generated", path=str(cert_path), names=names)
    return str(cert_path), str(key_path), str(ca_path)


def issue_client_certificate(directory: str | Path, common_name: str, out_prefix: str | Path) -> tuple[str, str]:
    """A client certificate (CN=common_name) signed by the generated CA in `directory`, for mTLS:
    (cert path, key path) as `<out_prefix>.pem` and `<out_prefix>-key.pem`."""
    from cryptography.hazmat.primitives import serialization

    ca_cert, ca_key = _load_ca(Path(directory))
    cert, key = _issue(common_name, ca_cert, ca_key, client=True)
    cert_path, key_path = Path(f"{out_prefix}.pem"), Path(f"{out_prefix}-key.pem")
    _write_private(key_path, _key_pem(key))
    _write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return str(cert_path), str(key_path)
