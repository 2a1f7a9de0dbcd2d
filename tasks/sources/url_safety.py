"""SSRF guard: which URLs and addresses the fetcher may talk to.

Two layers (see `tasks/sources/fetch.py` for where each runs):

* `check_url_syntax` — scheme (http/https only), length, host present, no
  credentials, and, when the host is an IP literal, the address check. Run before
  every request, including every redirect hop.
* `resolve_checked` / the guarded network backend in `tasks/sources/fetch.py` — resolve the
  host name once, reject it if ANY resolved address is not public (fail closed,
  also on DNS errors), and connect to exactly the validated IP. Because the same
  resolution is used for the check and the connect there is no window for DNS
  rebinding; TLS SNI and the Host header still carry the original host name.

`check_url` does both (it resolves with the system resolver) and is the
synchronous public entry point.

An address is refused when it is loopback, RFC 1918 /
other private ranges, link-local (incl. 169.254.169.254 cloud metadata),
CGNAT 100.64.0.0/10, ULA fc00::/7, multicast, reserved, unspecified, or not
globally routable — and IPv6 wrappers are unwrapped first: IPv4-mapped
(::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96, 64:ff9b:1::/48),
6to4 (2002::/16) and Teredo (2001::/32) are judged by the IPv4 address they embed.

Intranet hosts are let through on purpose by `allow_hosts` (NEWSFLOW_FETCH__ALLOW_HOSTS):
host names (`wiki.corp`, `.corp` for every name under it) whose addresses may then be
private, and address ranges (`10.1.0.0/16`, `192.168.1.7`). `allow_private`
(NEWSFLOW_FETCH__ALLOW_PRIVATE_ADDRESSES) lets every non-public address through. Neither
lets through link-local and cloud-metadata addresses (169.254.0.0/16 incl. 169.254.169.254,
fe80::/10, AWS's fd00:ec2::254, Alibaba's 100.100.100.200, Azure's 168.63.129.16): only an
`allow_hosts` address or range inside those blocks does, so `0.0.0.0/0` does not.

`redact_url` / `redact_text` take credentials and secret query parameters out of URLs
before they are stored or logged.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = [
    "UnsafeURL",
    "check_url",
    "check_url_syntax",
    "ip_is_public",
    "resolve_checked",
    "redact_url",
    "redact_text",
    "AddressPolicy",
    "ALLOWED_SCHEMES",
    "DEFAULT_SECRET_PARAMS",
    "METADATA_NETWORKS",
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


# Never reachable through allow_private_addresses or a broad allow_hosts range: link-local (where
# clouds serve instance credentials) and the metadata/platform addresses outside it.
METADATA_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS IMDS over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
    ipaddress.ip_network("168.63.129.16/32"),  # Azure WireServer (a public address)
)
ALLOW_SETTING = "NEWSFLOW_FETCH__ALLOW_HOSTS"


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


def _is_metadata(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        candidates.append(inner)
    return any(c.version == net.version and c in net for c in candidates for net in METADATA_NETWORKS)


class AddressPolicy:
    """Which non-public addresses the fetcher may reach (see the module docstring)."""

    def __init__(self, allow_private: bool = False, allow_hosts: Iterable[str] = ()):
        self.allow_private = allow_private
        self.names: set[str] = set()
        self.suffixes: list[str] = []
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow_hosts:
            entry = entry.strip().lower().strip("[]")
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                if entry.startswith(("*.", ".")):
                    self.suffixes.append("." + entry.lstrip("*."))
                else:
                    self.names.add(entry.rstrip("."))

    def host_named(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return host in self.names or any(host.endswith(s) for s in self.suffixes)

    def allows(self, host: str, ip: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if isinstance(ip, str):
            ip = ipaddress.ip_address(ip.split("%", 1)[0])
        named = [net for net in self.networks if net.version == ip.version and ip in net]
        if _is_metadata(ip):  # only a range inside the metadata blocks names them
            return any(any(net.version == m.version and net.subnet_of(m) for m in METADATA_NETWORKS)
                       for net in named)
        return ip_is_public(ip) or self.allow_private or bool(named) or self.host_named(host)

    def refusal(self, host: str, ip) -> UnsafeURL:
        if _is_metadata(ipaddress.ip_address(str(ip).split("%", 1)[0])):
            why = (f"{ip} is a link-local/cloud-metadata address, refused even with allow_private_addresses; "
                   f"name the address in {ALLOW_SETTING} to allow it")
        else:
            why = f"{ip} is not a public address; to fetch it on purpose add {host} to {ALLOW_SETTING}"
        what = f"{host} resolves to {ip}: {why}" if host != str(ip) else why
        return UnsafeURL("unsafe_address", what)


@functools.lru_cache(maxsize=64)
def _policy(allow_private: bool, allow_hosts: tuple[str, ...]) -> AddressPolicy:
    return AddressPolicy(allow_private, allow_hosts)


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def check_url_syntax(url: str, *, allow_private: bool, max_length: int = DEFAULT_MAX_URL_LENGTH,
                     allow_hosts: Iterable[str] = ()) -> str:
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
        if not scheme:
            raise UnsafeURL("unsafe_scheme", "not a URL: it has no scheme (give http:// or https://)")
        raise UnsafeURL("unsafe_scheme", f"scheme {scheme!r} is not http/https")
    if not host:
        raise UnsafeURL("bad_url", "no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("bad_url", "credentials in URL")
    if port == 0:
        raise UnsafeURL("bad_url", "port 0")
    ip = _ip_literal(host)
    policy = _policy(allow_private, tuple(allow_hosts))
    if ip is not None and not policy.allows(str(ip), ip):
        raise policy.refusal(str(ip), ip)
    return host.lower()


def check_ips(host: str, ips: list[str], *, allow_private: bool, allow_hosts: Iterable[str] = ()) -> None:
    if not ips:
        raise UnsafeURL("dns_error", f"{host} resolved to no address")
    policy = _policy(allow_private, tuple(allow_hosts))
    for ip in ips:
        if not policy.allows(host, ip):
            raise policy.refusal(host, ip)


def resolve_checked(host: str, port: int | None = None, *, allow_private: bool,
                    allow_hosts: Iterable[str] = ()) -> list[str]:
    """Resolve `host` with the system resolver and check every address (fail closed).
    Returns the addresses, in resolver order, to connect to."""
    try:
        infos = socket.getaddrinfo(host, port or 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise UnsafeURL("dns_error", f"cannot resolve {host}: {exc}") from None
    ips = list(dict.fromkeys(info[4][0] for info in infos))
    check_ips(host, ips, allow_private=allow_private, allow_hosts=allow_hosts)
    return ips


def check_url(url: str, *, allow_private: bool, max_length: int = DEFAULT_MAX_URL_LENGTH, resolve: bool = True,
              allow_hosts: Iterable[str] = ()) -> None:
    """Raise UnsafeURL(reason) if the fetcher must not request `url`.

    With `resolve=True` (default) the host name is resolved and every address checked;
    a resolution failure is refused ("dns_error": fail closed)."""
    host = check_url_syntax(url, allow_private=allow_private, max_length=max_length, allow_hosts=allow_hosts)
    if resolve and _ip_literal(host) is None:
        resolve_checked(host, allow_private=allow_private, allow_hosts=allow_hosts)


# --- redaction -------------------------------------------------------------------------

# Query (and fragment) parameters whose values are secrets; compared case-insensitively.
DEFAULT_SECRET_PARAMS = (
    "token", "access_token", "id_token", "refresh_token", "auth", "auth_token", "api_key", "apikey", "key",
    "sig", "signature", "secret", "client_secret", "password", "passwd", "pwd", "session", "sessionid", "sid",
    "x-amz-signature", "x-amz-credential", "x-amz-security-token", "x-goog-signature", "x-goog-credential",
)
REDACTED = "REDACTED"
_URL_IN_TEXT = re.compile(r"""https?://[^\s'"<>()\[\]]+""", re.I)
_USERINFO = re.compile(r"(?i)^([a-z][a-z0-9+.-]*://)[^/?#@]*@")


def _redact_pairs(part: str, secret: frozenset[str]) -> str:
    pieces = part.split("&")
    changed = False
    for i, piece in enumerate(pieces):
        name, eq, _ = piece.partition("=")
        if eq and unquote(name).strip().lower() in secret:
            pieces[i] = f"{name}={REDACTED}"
            changed = True
    return "&".join(pieces) if changed else part


def redact_url(url: str, secret_params: Iterable[str] = DEFAULT_SECRET_PARAMS) -> str:
    """`url` without credentials (user:password@ becomes REDACTED@) and with the values of the
    secret query/fragment parameters replaced by REDACTED. A URL without secrets comes back
    unchanged, character for character, so stored identities do not move."""
    if not url or ("@" not in url and "=" not in url):
        return url
    secret = frozenset(p.lower() for p in secret_params)
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO.sub(rf"\1{REDACTED}@", url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query, fragment = _redact_pairs(parts.query, secret), _redact_pairs(parts.fragment, secret)
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def redact_text(text: str, secret_params: Iterable[str] = DEFAULT_SECRET_PARAMS) -> str:
    """Every http(s) URL inside `text` (an error message, a log line) redacted."""
    if not text or "://" not in text:
        return text
    params = tuple(secret_params)

    def one(match: re.Match) -> str:
        url = match.group(0)
        trail = len(url) - len(url.rstrip(".,;:!?"))  # sentence punctuation after a URL is not part of it
        return redact_url(url[: len(url) - trail], params) + url[len(url) - trail:]

    return _URL_IN_TEXT.sub(one, text)
