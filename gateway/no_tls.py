"""A stand-in for the `ssl` module in a broker that serves no TLS: OpenSSL is then never loaded (4.1 MiB of idle
RSS: libssl, libcrypto, `_ssl` and what OpenSSL allocates as it initialises; ~4 ms of start-up CPU).

asyncio (base_events, selector_events, sslproto) and uvloop import `ssl` as they are imported and read a few of its
names then (uvloop keeps them as C globals: `ssl.SSLContext` for its isinstance checks, the error classes for its
except clauses), so a module that only ran at its first use would run at once. TLS in the broker is the SSL and
SASL_SSL listeners (gateway/security/tls.py), fixed at start-up (`listeners` is a read-only config), and the
broker makes no outgoing connections; so `ottla serve` (gateway/cli.py), once it has the Config and before asyncio
is imported, calls `install(config)`: with no TLS listener and no HTTP server (aiohttp builds SSL contexts as it
is imported) it puts this module in sys.modules as `ssl`. Its names are those asyncio and uvloop read as they are
imported: the error classes (an `except` of them catches nothing: no TLS, no TLS error), classes nothing is an
instance of, and functions that raise `TlsNotLoaded` if ever called; any other name is an AttributeError saying
why. With a TLS listener, with --http-port, or when ssl or asyncio is already imported (a test process, another
caller), nothing is changed: the real ssl is imported as before.
"""

from __future__ import annotations

import sys
import types

WHY = "ssl is not loaded: this broker serves no TLS (no SSL or SASL_SSL listener; gateway/no_tls.py)"


class TlsNotLoaded(RuntimeError):
    """Something asked a broker without TLS listeners for TLS."""


def _refuse(*_args, **_kwargs):
    raise TlsNotLoaded(WHY)


class _NoInstances:
    """Nothing is an instance: isinstance() is False, making one raises TlsNotLoaded."""

    def __new__(cls, *_args, **_kwargs):
        raise TlsNotLoaded(WHY)


class SSLError(OSError):
    pass


class SSLZeroReturnError(SSLError):
    pass


class SSLWantReadError(SSLError):
    pass


class SSLWantWriteError(SSLError):
    pass


class SSLSyscallError(SSLError):
    pass


class SSLEOFError(SSLError):
    pass


class SSLCertVerificationError(SSLError, ValueError):
    pass


class SSLContext(_NoInstances):
    pass


class SSLSocket(_NoInstances):
    pass


class SSLObject(_NoInstances):
    pass


class MemoryBIO(_NoInstances):
    pass


def _module() -> types.ModuleType:
    module = types.ModuleType("ssl", "Stand-in for ssl in a broker without TLS listeners (gateway/no_tls.py).")
    names = {
        "SSLError": SSLError, "SSLZeroReturnError": SSLZeroReturnError, "SSLWantReadError": SSLWantReadError,
        "SSLWantWriteError": SSLWantWriteError, "SSLSyscallError": SSLSyscallError, "SSLEOFError": SSLEOFError,
        "SSLCertVerificationError": SSLCertVerificationError, "CertificateError": SSLCertVerificationError,
        "SSLContext": SSLContext, "SSLSocket": SSLSocket, "SSLObject": SSLObject, "MemoryBIO": MemoryBIO,
        "create_default_context": _refuse, "wrap_socket": _refuse,
        # OpenSSL's SSL_get_error codes, as the real module has them (uvloop reads three as C ints)
        "SSL_ERROR_SSL": 1, "SSL_ERROR_WANT_READ": 2, "SSL_ERROR_WANT_WRITE": 3, "SSL_ERROR_WANT_X509_LOOKUP": 4,
        "SSL_ERROR_SYSCALL": 5, "SSL_ERROR_ZERO_RETURN": 6, "SSL_ERROR_WANT_CONNECT": 7, "SSL_ERROR_EOF": 8,
        "STANDIN": True,
    }
    module.__dict__.update(names)

    def __getattr__(name: str):
        raise AttributeError(f"{WHY}: no ssl.{name}")

    module.__getattr__ = __getattr__
    return module


def needs_tls(config) -> bool:
    """True if this broker uses ssl: a TLS listener, or the HTTP server (aiohttp reads ssl as it is imported)."""
    return any(listener.tls for listener in config.listeners) or config.http_port is not None


def install(config) -> bool:
    """Put the stand-in in sys.modules as `ssl` (True) unless the broker needs TLS or ssl/asyncio are loaded."""
    if needs_tls(config) or any(name in sys.modules for name in ("ssl", "_ssl", "asyncio", "uvloop")):
        return False
    sys.modules["ssl"] = _module()
    return True


def installed() -> bool:
    """True if `ssl` in this process is the stand-in."""
    return getattr(sys.modules.get("ssl"), "STANDIN", False) is True
