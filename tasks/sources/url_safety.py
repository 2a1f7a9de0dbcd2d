"""SSRF guard: which URLs and addresses the fetcher may talk to.

Two layers (see `tasks/fetch.py` for where each runs):

* `check_url_syntax` — scheme (http/https only), length, host present, no
  credentials, and, when the host is an IP literal, the address check. Run before
  every request, including every redirect hop.
* `resolve_checked` / the guarded network backend in `tasks/fetch.py` — resolve the
  host name once, reject it if ANY resolved address is not public (fail closed,
  also on DNS errors), and connect to exactly the validated IP. Because the same
  resolution is used for the check and the connect there is no window for DNS
  rebinding; TLS SNI and the Host header still carry the original host name.

`check_url` does both (it resolves with the system resolver) and is the
synchronous public entry point.

An address is refused unless `allow_private` when it is loopback, RFC 1918 /
other private ranges, link-local (incl. 169.254.169.254 cloud metadata),
CGNAT 100.64.0.0/10, ULA fc00::/7, multicast, reserved, unspecified, or not
globally routable — and IPv6 wrappers are unwrapped first: IPv4-mapped
(::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96, 64:ff9b:1::/48),
6to4 (2002::/16) and Teredo (2001::/32) are judged by the IPv4 address they embed.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

__all__ = [
    "UnsafeURL",
    "check_url",
    "check_url_syntax",
    "ip_is_public",
    "resolve_checked",
    "ALLOWED_SCHEMES",
]

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_MAX_URL_LENGTH = 2083

_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_EXTRA_BLOCKED = (
    _CGNAT,
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.ip_network("198.18.0.0/15"),  # benchmarking
    ipaddress.ip_network("255.255.255.255/32"),
    ipaddress.ip_network("fc00::/7"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fec0::/10"),  # deprecated site-local
)


class UnsafeURL(ValueError):
    """A URL the fetcher refuses. `reason` is a short class:
    "unsafe_scheme", "url_too_long", "bad_url", "unsafe_address", "dns_error"."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    packed = ip.packed
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(packed[-4:])
    if ip in _SIXTOFOUR:
        return ip.sixtofour
    if ip in _TEREDO:
        return ip.teredo[1] if ip.teredo else None  # (server, client): the client is the target
    # IPv4-compatible ::a.b.c.d (deprecated, but some stacks still route it)
    if packed[:12] == b"\x00" * 12 and packed[12:] != b"\x00\x00\x00\x00" and packed[12:] != b"\x00\x00\x00\x01":
        return ipaddress.IPv4Address(packed[12:])
    return None


def ip_is_public(ip: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True if `ip` is a globally routable unicast address (wrappers unwrapped)."""
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip.split("%", 1)[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not ip_is_public(inner):
            return False
    if (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    ):
        return False
    return not any(ip.version == net.version and ip in net for net in _EXTRA_BLOCKED)


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def check_url_syntax(url: str, *, allow_private: bool, max_length: int = DEFAULT_MAX_URL_LENGTH) -> str:
    """Checks that need no DNS. Returns the lower-cased host name. Raises UnsafeURL."""
    if not isinstance(url, str) or not url:
        raise UnsafeURL("bad_url", "empty URL")
    if len(url) > max_length:
        raise UnsafeURL("url_too_long", f"{len(url)} > {max_length} characters")
    if any(c in url for c in "\r\n\t\x00") or any(ord(c) < 0x20 for c in url):
        raise UnsafeURL("bad_url", "control characters in URL")
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        port = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise UnsafeURL("bad_url", str(exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeURL("unsafe_scheme", f"scheme {scheme or '(none)'!r} is not http/https")
    if not host:
        raise UnsafeURL("bad_url", "no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("bad_url", "credentials in URL")
    if port == 0:
        raise UnsafeURL("bad_url", "port 0")
    ip = _ip_literal(host)
    if ip is not None and not allow_private and not ip_is_public(ip):
        raise UnsafeURL("unsafe_address", f"{ip} is not a public address")
    return host.lower()


def check_ips(host: str, ips: list[str], *, allow_private: bool) -> None:
    if not ips:
        raise UnsafeURL("dns_error", f"{host} resolved to no address")
    if allow_private:
        return
    for ip in ips:
        if not ip_is_public(ip):
            raise UnsafeURL("unsafe_address", f"{host} resolves to {ip}, not a public address")


def resolve_checked(host: str, port: int | None = None, *, allow_private: bool) -> list[str]:
    """Resolve `host` with the system resolver and check every address (fail closed).
    Returns the addresses, in resolver order, to connect to."""
    try:
        infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnsafeURL("dns_error", f"cannot resolve {host}: {exc}") from None
    ips = list(dict.fromkeys(info[4][0] for info in infos))
    check_ips(host, ips, allow_private=allow_private)
    return ips


def check_url(url: str, *, allow_private: bool, max_length: int = DEFAULT_MAX_URL_LENGTH, resolve: bool = True) -> None:
    """Raise UnsafeURL(reason) if the fetcher must not request `url`.

    With `resolve=True` (default) the host name is resolved and every address checked;
    a resolution failure is refused ("dns_error": fail closed)."""
    host = check_url_syntax(url, allow_private=allow_private, max_length=max_length)
    if resolve and _ip_literal(host) is None:
        resolve_checked(host, allow_private=allow_private)
