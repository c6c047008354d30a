"""Full handshakes through Python's OpenSSL: chain trust as OpenSSL judges it, and the leaf.

Lenient on protocol and security level so that an old server still gets its chain judged;
expiry is ignored here (it is its own check): trust is about the chain only. ``extra_pem``
adds issuers found elsewhere (a chain completed from the asset's own AIA URL, see ``chain``)
as candidates for one verification, never to the scan's trust store.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import warnings

from carbet.engines.exposure.core import BudgetExceeded, ScanContext, close_quietly
from carbet.engines.exposure.tls.starttls import open_starttls

X509_V_FLAG_NO_CHECK_TIME = 0x200000  # expiry is its own check, trust is about the chain only


_VERIFY_CONTEXTS: dict[tuple[str | None, float], ssl.SSLContext] = {}


def _verify_context(ca_file: str | None, extra_pem: str = "") -> ssl.SSLContext:
    """OpenSSL chain verification against the store, lenient on protocol so old servers verify."""
    if extra_pem:
        completed = _new_verify_context(ca_file)
        # The extra issuers are path candidates, never anchors: OpenSSL must still reach a root
        # of the store through them (newer Pythons turn partial chains on by default).
        completed.verify_flags &= ~ssl.VERIFY_X509_PARTIAL_CHAIN
        completed.load_verify_locations(cadata=extra_pem)
        return completed
    stamp = os.path.getmtime(ca_file) if ca_file and os.path.exists(ca_file) else 0.0
    key = (ca_file, stamp)
    context = _VERIFY_CONTEXTS.get(key)
    if context is None:
        context = _new_verify_context(ca_file)
        _VERIFY_CONTEXTS[key] = context
    return context


def _new_verify_context(ca_file: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags = context.verify_flags | X509_V_FLAG_NO_CHECK_TIME
    with warnings.catch_warnings():  # naming old versions warns: reaching them is the point
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.options |= getattr(ssl, "OP_LEGACY_SERVER_CONNECT", 0)
    return context


async def _handshake_leaf(
    ctx: ScanContext,
    target: str,
    address: str,
    port: int,
    server_name: str | None,
    context: ssl.SSLContext,
    starttls: str | None = None,
) -> bytes | None:
    """One full handshake under the target's slot and timeouts; the leaf certificate (DER).
    With ``starttls``, the protocol's plaintext opening first, then TLS on the same stream."""
    async with ctx.slot(target):
        if starttls:
            _reader, writer = await open_starttls(
                ctx, target, address, port, starttls, server_name,
                timeout=ctx.config.connect_timeout,
            )  # fmt: skip
            try:
                await writer.start_tls(
                    context,
                    server_hostname=server_name or None,
                    ssl_handshake_timeout=ctx.config.read_timeout,
                )
            except BaseException:
                writer.transport.abort()
                raise
            return await _leaf_of(writer)
        _reader, writer = await ctx.open_connection(
            target,
            address,
            port,
            ssl=context,
            server_hostname=server_name or None,
            ssl_handshake_timeout=ctx.config.read_timeout,
            timeout=ctx.config.connect_timeout + ctx.config.read_timeout,
        )
        return await _leaf_of(writer)


async def _leaf_of(writer: asyncio.StreamWriter) -> bytes | None:
    ssl_object = writer.get_extra_info("ssl_object")
    leaf = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    await close_quietly(writer)
    return leaf


async def verify_chain(
    ctx: ScanContext,
    target: str,
    address: str,
    port: int,
    server_name: str | None,
    extra_pem: str = "",
    starttls: str | None = None,
) -> tuple[bool | None, str, bytes | None]:
    """(trusted?, OpenSSL's reason when not, leaf DER when the handshake got that far)."""
    context = _verify_context(ctx.config.ca_file, extra_pem)
    try:
        leaf = await _handshake_leaf(ctx, target, address, port, server_name, context, starttls)
        return True, "", leaf
    except ssl.SSLCertVerificationError as exc:
        return False, str(exc.verify_message or exc.reason or exc), None
    except BudgetExceeded:
        raise
    except (ssl.SSLError, OSError, TimeoutError, ConnectionError) as exc:
        return None, f"poignée de main impossible: {type(exc).__name__}", None


async def fetch_leaf(
    ctx: ScanContext,
    target: str,
    address: str,
    port: int,
    server_name: str | None,
    starttls: str | None = None,
) -> bytes | None:
    """The leaf certificate by a full, non-verifying handshake (TLS 1.3-only servers)."""
    context = ScanContext.insecure_ssl_context()
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    try:
        return await _handshake_leaf(ctx, target, address, port, server_name, context, starttls)
    except BudgetExceeded:
        raise
    except (ssl.SSLError, OSError, TimeoutError, ConnectionError):
        return None
