"""SSRF guard: address classes, URL syntax, DNS fail-closed."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks.sources.url_safety import UnsafeURL, check_url, check_url_syntax, ip_is_public

BLOCKED = [
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.5.4", "192.168.1.1",
    "169.254.169.254", "100.64.0.1", "100.127.255.254", "0.0.0.0", "224.0.0.1",
    "239.255.255.250", "240.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.0.8",
    "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::7f00:1", "64:ff9b::a00:1", "2002:7f00:1::1", "2002:a9fe:a9fe::1", "::127.0.0.1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4001:81c::200e", "2002:808:808::1"]


@pytest.mark.parametrize("ip", BLOCKED)
def test_blocked_addresses(ip):
    assert not ip_is_public(ip)


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses(ip):
    assert ip_is_public(ip)


@given(st.ip_addresses(v=4))
def test_ipv4_mapped_wrapper_never_more_permissive(ip):
    mapped = ipaddress.IPv6Address(f"::ffff:{ip}")
    if not ip_is_public(ip):
        assert not ip_is_public(mapped)


@given(st.ip_addresses(v=4))
def test_nat64_and_6to4_wrappers_of_private_v4_are_blocked(ip):
    if ip_is_public(ip):
        return
    nat64 = ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(ip))
    six2four = ipaddress.IPv6Address((0x2002 << 112) | (int(ip) << 80))
    assert not ip_is_public(nat64) and not ip_is_public(six2four)


@pytest.mark.parametrize(
    "url, reason",
    [
        ("file:///etc/passwd", "unsafe_scheme"),
        ("ftp://example.com/x", "unsafe_scheme"),
        ("javascript:alert(1)", "unsafe_scheme"),
        ("gopher://127.0.0.1:25/", "unsafe_scheme"),
        ("http://", "bad_url"),
        ("http://user:pw@example.com/", "bad_url"),
        ("http://example.com:99999/", "bad_url"),
        ("http://exa\nmple.com/", "bad_url"),
        ("http://example.com/" + "a" * 2100, "url_too_long"),
        ("http://127.0.0.1/", "unsafe_address"),
        ("http://10.0.0.7:8080/", "unsafe_address"),
        ("http://169.254.169.254/latest/meta-data/", "unsafe_address"),
        ("http://[::1]/", "unsafe_address"),
        ("http://[::ffff:127.0.0.1]/", "unsafe_address"),
        ("http://[fd00::1]/", "unsafe_address"),
        ("http://0.0.0.0/", "unsafe_address"),
    ],
)
def test_check_url_refusals(url, reason):
    with pytest.raises(UnsafeURL) as err:
        check_url(url, allow_private=False)
    assert err.value.reason == reason


@pytest.mark.parametrize("url", ["http://localhost/", "http://2130706433/", "http://0x7f.1/", "http://127.1/"])
def test_names_and_odd_notations_resolving_to_loopback(url):
    with pytest.raises(UnsafeURL) as err:
        check_url(url, allow_private=False)
    assert err.value.reason == "unsafe_address"


def test_dns_failure_fails_closed():
    with pytest.raises(UnsafeURL) as err:
        check_url("http://no-such-host.invalid/", allow_private=False)
    assert err.value.reason == "dns_error"


def test_allow_private_lets_loopback_through():
    check_url("http://127.0.0.1:8080/x", allow_private=True)
    check_url("http://localhost/", allow_private=True)
    with pytest.raises(UnsafeURL):  # the scheme rule still applies
        check_url("file:///etc/passwd", allow_private=True)


def test_public_literal_passes_syntax_without_dns():
    assert check_url_syntax("https://8.8.8.8/x", allow_private=False) == "8.8.8.8"
    assert check_url_syntax("https://Example.COM/x", allow_private=False) == "example.com"
    check_url("https://1.1.1.1/", allow_private=False)  # IP literal: no DNS needed


def test_a_refused_name_says_the_address_it_resolved_to_in_a_sentence():
    """It read "2130706434 resolves to 127.0.0.2 is not a public address"."""
    from tasks.sources.url_safety import UnsafeURL, check_ips

    with pytest.raises(UnsafeURL) as refused:
        check_ips("intranet.example", ["10.1.2.3"], allow_private=False)
    assert refused.value.detail.startswith("intranet.example resolves to 10.1.2.3: 10.1.2.3 is not a public address")
