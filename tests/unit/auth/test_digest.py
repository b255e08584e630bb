"""Digest authentication as Collect speaks it: nonces, challenge, parsing, check.

Expected hashes are computed here with hashlib (or taken from RFC 2617 §3.5),
never with the module under test, and one header is built by an independent
client (requests' HTTPDigestAuth).
"""

from __future__ import annotations

import hashlib
import re

import pytest
from requests.auth import HTTPDigestAuth

from app.auth import digest
from app.auth.passwords import digest_ha1

SECRET = "test-secret-key"
NOW = 1_732_455_064.0
NONCE = digest.make_nonce(SECRET, NOW)  # nonces are random: make one, reuse it


def md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def creds(**overrides: object) -> digest.DigestCredentials:
    fields: dict[str, object] = {
        "username": "juana",
        "realm": "Ayni",
        "nonce": NONCE,
        "uri": "/submission?deviceID=collect%3AABCDEF0123456789",
        "response": "",
        "qop": "auth",
        "nc": "00000001",
        "cnonce": "0a4f113b",
        "algorithm": "MD5",
        "opaque": None,
    }
    fields.update(overrides)
    return digest.DigestCredentials(**fields)  # type: ignore[arg-type]


def signed(ha1: str, method: str = "POST", **overrides: object):
    """Credentials whose response is computed independently of the module."""
    c = creds(**overrides)
    ha2 = md5(f"{method}:{c.uri}")
    response = md5(f"{ha1}:{c.nonce}:{c.nc}:{c.cnonce}:{c.qop}:{ha2}")
    return creds(response=response, **overrides)


HA1 = md5("juana:Ayni:clave-de-prueba-123")


# --- RFC 2617 §3.5 --------------------------------------------------------


def test_response_matches_the_rfc_2617_worked_example():
    ha1 = md5("Mufasa:testrealm@host.com:Circle Of Life")
    example = creds(
        username="Mufasa",
        realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
        uri="/dir/index.html",
        nc="00000001",
        cnonce="0a4f113b",
        opaque="5ccc069c403ebaf9f0171e9517f40e41",
    )
    assert digest.response_for(ha1, "GET", example) == (
        "6629fae49393a05397450978507c4ef1"
    )


def test_stored_ha1_is_the_rfc_ha1():
    assert digest_ha1("juana", "clave-de-prueba-123") == HA1


# --- verify ---------------------------------------------------------------


def test_a_correct_response_for_the_requested_path_is_accepted():
    c = signed(HA1)
    # Flask's request.full_path: decoded path, "?", the query.
    assert digest.verify(c, HA1, "POST", "/submission?deviceID=collect:ABCDEF")


def test_the_method_is_part_of_the_response():
    assert not digest.verify(signed(HA1, "HEAD"), HA1, "POST", "/submission?")


def test_a_wrong_password_is_refused():
    wrong = md5("juana:Ayni:otra-clave-1234")
    assert not digest.verify(signed(wrong), HA1, "POST", "/submission?")


@pytest.mark.parametrize(
    "request_path",
    ["/formList?", "/v1/projects/2/submission?", "/submission/x?", "/"],
)
def test_a_uri_naming_another_path_is_refused(request_path):
    assert not digest.verify(signed(HA1), HA1, "POST", request_path)


def test_a_percent_encoded_uri_matches_the_decoded_request_path():
    c = signed(HA1, "GET", uri="/v1/projects/1/forms/encuesta%20nueva.xml")
    assert digest.verify(c, HA1, "GET", "/v1/projects/1/forms/encuesta nueva.xml?")


def test_an_absolute_uri_is_compared_by_its_path():
    c = signed(HA1, uri="http://192.168.1.10:8000/submission?deviceID=x")
    assert digest.verify(c, HA1, "POST", "/submission?deviceID=x")


def test_md5_sess_is_accepted():
    base = creds(algorithm="MD5-sess")
    session_ha1 = md5(f"{HA1}:{base.nonce}:{base.cnonce}")
    ha2 = md5(f"POST:{base.uri}")
    response = md5(
        f"{session_ha1}:{base.nonce}:{base.nc}:{base.cnonce}:{base.qop}:{ha2}"
    )
    c = creds(algorithm="MD5-sess", response=response)
    assert digest.verify(c, HA1, "POST", "/submission?")
    # The plain-MD5 response is not valid under MD5-sess.
    assert not digest.verify(
        creds(algorithm="MD5-sess", response=signed(HA1).response),
        HA1,
        "POST",
        "/submission?",
    )


def test_another_realm_is_refused():
    assert not digest.verify(signed(HA1, realm="Central"), HA1, "POST", "/submission")


@pytest.mark.parametrize(
    "overrides", [{"algorithm": "SHA-256"}, {"qop": "auth-int"}], ids=str
)
def test_algorithms_and_qops_never_offered_are_refused(overrides):
    assert not digest.verify(signed(HA1, **overrides), HA1, "POST", "/submission")


def test_an_upper_case_response_is_accepted():
    c = signed(HA1)
    upper = creds(response=c.response.upper())
    assert digest.verify(upper, HA1, "POST", "/submission?")


def test_a_header_built_by_requests_verifies():
    auth = HTTPDigestAuth("juana", "clave-de-prueba-123")
    auth.init_per_thread_state()
    auth._thread_local.chal = {
        "realm": "Ayni",
        "nonce": digest.make_nonce(SECRET),
        "qop": "auth",
        "algorithm": "MD5",
        "opaque": digest.opaque_for(SECRET),
    }
    header = auth.build_digest_header(
        "POST", "http://192.168.1.10:8000/submission?deviceID=collect%3AABC"
    )
    parsed = digest.parse_authorization(header)
    assert parsed is not None
    assert parsed.uri == "/submission?deviceID=collect%3AABC"
    assert digest.check_nonce(SECRET, parsed.nonce) == "ok"
    assert digest.verify(parsed, HA1, "POST", "/submission?deviceID=collect:ABC")


# --- nonces ---------------------------------------------------------------


def test_a_fresh_nonce_is_ok_and_has_the_documented_shape():
    nonce = digest.make_nonce(SECRET, NOW)
    assert re.fullmatch(r"1732455064\.[0-9a-f]{16}\.[0-9a-f]{32}", nonce)
    assert digest.check_nonce(SECRET, nonce, NOW + 10) == "ok"


def test_two_challenges_in_the_same_second_get_different_nonces():
    # Each nonce has its own (nonce, nc) record: two tablets challenged at once
    # must not share one, or the second's nc=1 would look like a replay.
    nonces = {digest.make_nonce(SECRET, NOW) for _ in range(50)}
    assert len(nonces) == 50


def test_a_nonce_stays_ok_for_hours_then_turns_stale():
    nonce = digest.make_nonce(SECRET, NOW)
    assert digest.check_nonce(SECRET, nonce, NOW + 6 * 3600) == "ok"
    assert digest.check_nonce(SECRET, nonce, NOW + 6 * 3600 + 1) == "stale"
    assert digest.check_nonce(SECRET, nonce, NOW + 61, max_age=60) == "stale"


def test_a_nonce_from_another_secret_is_invalid_not_stale():
    nonce = digest.make_nonce("another-secret", NOW)
    assert digest.check_nonce(SECRET, nonce, NOW) == "invalid"
    assert digest.check_nonce(SECRET, nonce, NOW + 7 * 3600) == "invalid"


def test_a_nonce_with_a_moved_timestamp_or_salt_is_invalid():
    stamp, salt, tag = digest.make_nonce(SECRET, NOW).split(".")
    moved = f"{int(stamp) + 3600}.{salt}.{tag}"
    assert digest.check_nonce(SECRET, moved, NOW) == "invalid"
    other_salt = f"{stamp}.{'0' * 16 if salt != '0' * 16 else '1' * 16}.{tag}"
    assert digest.check_nonce(SECRET, other_salt, NOW) == "invalid"


def test_a_nonce_with_a_tampered_tag_is_invalid():
    nonce = digest.make_nonce(SECRET, NOW)
    flipped = nonce[:-1] + ("0" if nonce[-1] != "0" else "1")
    assert digest.check_nonce(SECRET, flipped, NOW) == "invalid"


def test_a_signed_nonce_from_the_far_future_is_invalid():
    nonce = digest.make_nonce(SECRET, NOW + 3600)
    assert digest.check_nonce(SECRET, nonce, NOW) == "invalid"
    assert digest.check_nonce(SECRET, nonce, NOW + 3600 - 60) == "ok"


@pytest.mark.parametrize(
    "nonce",
    ["", "abc", "1732455064", "1732455064.", ".abc", "x.y", "1.2.3", "-1.00"],
)
def test_malformed_nonces_are_invalid(nonce):
    assert digest.check_nonce(SECRET, nonce, NOW) == "invalid"


# --- challenge ------------------------------------------------------------


def test_the_challenge_offers_only_qop_auth_with_md5():
    value = digest.challenge(SECRET, now=NOW)
    assert value.startswith('Digest realm="Ayni", qop="auth", algorithm=MD5, nonce="')
    nonce = re.search(r'nonce="([^"]+)"', value)
    opaque = re.search(r'opaque="([^"]+)"', value)
    assert nonce and opaque
    assert digest.check_nonce(SECRET, nonce.group(1), NOW) == "ok"
    assert opaque.group(1) == digest.opaque_for(SECRET)
    assert "stale" not in value
    assert "auth-int" not in value


def test_a_stale_challenge_says_so():
    assert digest.challenge(SECRET, stale=True).endswith(", stale=true")


# --- parsing --------------------------------------------------------------

COLLECT_HEADER = (
    'Digest username="juana", realm="Ayni", nonce="1732455064.00ff", '
    'uri="/submission?deviceID=collect%3AABC", response="ABCDEF0123", qop=auth, '
    'nc=00000002, cnonce="c,n=o\\"nce", algorithm=MD5, opaque="5ccc"'
)


def test_a_collect_header_is_parsed_with_commas_and_escapes_in_quotes():
    parsed = digest.parse_authorization(COLLECT_HEADER)
    assert parsed == digest.DigestCredentials(
        username="juana",
        realm="Ayni",
        nonce="1732455064.00ff",
        uri="/submission?deviceID=collect%3AABC",
        response="abcdef0123",
        qop="auth",
        nc="00000002",
        cnonce='c,n=o"nce',
        algorithm="MD5",
        opaque="5ccc",
    )


def test_parsing_ignores_case_of_scheme_and_names_and_extra_spaces():
    header = (
        'digest   USERNAME = "a b" ,Realm="Ayni",nonce="n", uri="/x",'
        ' response="r",,  qop="auth", nc=0000000A, cnonce=c, userhash=false'
    )
    parsed = digest.parse_authorization(header)
    assert parsed is not None
    assert (parsed.username, parsed.qop, parsed.nc, parsed.cnonce) == (
        "a b",
        "auth",
        "0000000A",
        "c",
    )
    assert digest.nonce_count(parsed) == 10
    assert parsed.algorithm == "MD5"
    assert parsed.opaque is None


def test_a_legacy_header_without_qop_is_refused():
    # RFC 2069's form has no request counter, so a replay could not be told
    # from a new request; Ayni offers only qop=auth and Collect answers it.
    assert (
        digest.parse_authorization(
            'Digest username="u", realm="Ayni", nonce="n", uri="/", response="r"'
        )
        is None
    )


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Digest",
        "Digest ",
        "Basic anVhbmE6eA==",
        "Bearer abc",
        'Digest realm="Ayni", nonce="n", uri="/", response="r"',  # no username
        'Digest username="u", realm="Ayni", nonce="n", uri="/"',  # no response
        'Digest username="", realm="Ayni", nonce="n", uri="/", response="r"',
        'Digest username="u", realm="Ayni", nonce="n", uri="/", response="r", qop=auth',
        'Digest username="u", realm="Ayni", nonce="n", uri="/", response="r", '
        'username="v"',
        'Digest username="u, realm="Ayni", nonce="n", uri="/", response="r"',
        'Digest username="u" realm="Ayni", nonce="n", uri="/", response="r"',
        'Digest username=u v, realm="Ayni", nonce="n", uri="/", response="r"',
        "Digest garbage",
        "Digest =x",
        # nc must be 8 hexadecimal digits (RFC 7616 §3.4)
        'Digest username="u", realm="Ayni", nonce="n", uri="/", response="r", '
        "qop=auth, nc=1, cnonce=c",
        'Digest username="u", realm="Ayni", nonce="n", uri="/", response="r", '
        "qop=auth, nc=0000000g, cnonce=c",
        'Digest username="u", realm="Ayni", nonce="n", uri="/", response="r", '
        "qop=auth, nc=000000001, cnonce=c",
    ],
)
def test_malformed_headers_give_none(header):
    assert digest.parse_authorization(header) is None
