from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage.netguard import forbidden_reason, ip_literal, is_public, refusal

FORBIDDEN = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "::1": "loopback",
    "10.0.0.1": "private",
    "172.16.5.4": "private",
    "192.168.1.1": "private",
    "169.254.169.254": "cloud metadata",
    "fd00:ec2::254": "cloud metadata",
    "169.254.1.1": "link-local",
    "fe80::1": "link-local",
    "100.64.0.1": "shared carrier-grade NAT",
    "100.100.100.200": "shared carrier-grade NAT",
    "0.0.0.0": "unspecified",
    "::": "unspecified",
    "224.0.0.251": "multicast",
    "ff02::1": "multicast",
    "240.0.0.1": "reserved",
    "255.255.255.255": "reserved",
    "192.0.0.192": "IETF protocol assignment",
    "fd12:3456::1": "unique local",
    "::ffff:127.0.0.1": "loopback",
    "::ffff:169.254.169.254": "cloud metadata",
    "::ffff:10.0.0.1": "private",
    "64:ff9b::10.0.0.1": "private",
    "::127.0.0.1": "IPv4-compatible",
    "2001:db8::1": "documentation",
    "2002:7f00:1::": "6to4",
    "2001::1": "IETF protocol assignment",
    "::ffff:0:7f00:1": "reserved",
    "198.18.0.1": "benchmarking",
}
PUBLIC = ["8.8.8.8", "93.184.216.34", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"]


@pytest.mark.parametrize("text", list(FORBIDDEN))
def test_non_public_addresses_are_refused_with_their_kind(text: str) -> None:
    reason = forbidden_reason(ipaddress.ip_address(text))
    assert reason is not None and reason.startswith(FORBIDDEN[text])


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_are_allowed(text: str) -> None:
    assert is_public(ipaddress.ip_address(text))


@given(st.ip_addresses(v=4))
def test_ipv4_mapped_form_is_judged_like_the_ipv4_address(address: ipaddress.IPv4Address) -> None:
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert is_public(mapped) == is_public(address)


@given(st.ip_addresses(network="127.0.0.0/8") | st.ip_addresses(network="10.0.0.0/8"))
def test_no_loopback_or_private_address_is_public(address: ipaddress.IPv4Address) -> None:
    assert not is_public(address)


def test_allowed_networks_exempt_only_their_addresses() -> None:
    loopback = [ipaddress.ip_network("127.0.0.0/8")]
    assert refusal(ipaddress.ip_address("127.0.0.1"), loopback) is None
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), loopback) is None
    assert refusal(ipaddress.ip_address("::1"), loopback) == "loopback"
    assert refusal(ipaddress.ip_address("10.0.0.1"), loopback) == "private"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("example.com", None),
        ("cafe.be", None),
    ],
)
def test_ip_literals_include_legacy_ipv4_spellings(host: str, expected: str | None) -> None:
    found = ip_literal(host)
    assert (None if found is None else str(found)) == expected
