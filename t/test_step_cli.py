"""The real smallstep `step` CLI 0.19 against our module in the stock nginx.

Every flow a step-ca user runs: bootstrap by fingerprint, health, the
roots, the provisioner list, certificates through the JWK, X5C and ACME
provisioners, token + sign, renew and rekey over mTLS, revoke by token and
by certificate, and step's own verify/inspect of what we issued.

The CLI is found through $STEP_CLI or PATH (conftest.step_cli); without it
these tests skip, with STEPCA_REQUIRE_STEP_CLI=1 they fail. Each test has
its own STEPPATH.
"""

import datetime
import hashlib
import json
import os
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import free_port
from test_acme_clients import configure_acme_settings

JWK_PROVISIONER = "fixture@example.test"
X5C_PROVISIONER = "x5c"
ACME_PROVISIONER = "acme"
PROVISIONER_OID = x509.ObjectIdentifier("1.3.6.1.4.1.37476.9000.64.1")
# ca.json's claims are step-ca's defaults: 24h leaves, 1m backdate
DEFAULT_LIFETIME = datetime.timedelta(hours=24)
BACKDATE = datetime.timedelta(minutes=1)
SLACK = datetime.timedelta(minutes=2)


# ---------------------------------------------------------------- helpers


def load_pems(path):
    with open(path, "rb") as f:
        data = f.read()
    return [x509.load_pem_x509_certificate(m.group(0)) for m in re.finditer(
        rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", data, re.S)]


def load_cert(path):
    return load_pems(path)[0]


def der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def spki(obj):
    return obj.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_spki(path):
    with open(path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    return spki(key)


def fingerprint(pem_path):
    return hashlib.sha256(der(load_cert(pem_path))).hexdigest()


def sans(cert):
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return ({str(v) for v in ext.get_values_for_type(x509.DNSName)} |
            {str(v) for v in ext.get_values_for_type(x509.IPAddress)})


def common_name(cert):
    return cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value


def der_items(data):
    """The (tag, content) items of a DER SEQUENCE's body (short and long
    lengths; enough for the provisioner extension)."""
    out, i = [], 0
    while i < len(data):
        tag, n = data[i], data[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(data[i:i + k], "big")
            i += k
        out.append((tag, data[i:i + n]))
        i += n
    return out


def provisioner_ext(cert):
    """(type, name, credential id) of step's provisioner extension."""
    value = cert.extensions.get_extension_for_oid(PROVISIONER_OID).value.value
    (tag, body), = der_items(value)
    assert tag == 0x30
    items = der_items(body)
    assert [t for t, _ in items[:3]] == [0x02, 0x04, 0x04], items
    return int.from_bytes(items[0][1], "big"), items[1][1].decode(), items[2][1].decode()


def lifetime(cert):
    return cert.not_valid_after - cert.not_valid_before


def assert_ours(cert, pki, cn, want_sans=None):
    """Issued by the fixture intermediate, for cn (and exactly want_sans)."""
    inter = load_cert(pki.intermediate_crt)
    assert cert.issuer == inter.subject
    inter.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                              ec.ECDSA(cert.signature_hash_algorithm))
    assert common_name(cert) == cn
    assert sans(cert) == set(want_sans or [cn])


def assert_fresh(cert, life=DEFAULT_LIFETIME):
    """notBefore = now - backdate, notAfter = notBefore + backdate + life."""
    now = datetime.datetime.utcnow()
    assert abs(cert.not_valid_before - (now - BACKDATE)) < SLACK, cert.not_valid_before
    assert abs(lifetime(cert) - (life + BACKDATE)) < SLACK, lifetime(cert)


def assert_refused(proc, *needles):
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for n in needles:
        assert n in out, (n, out)


# ---------------------------------------------------------------- fixtures


class Ca:
    def __init__(self, n, pki):
        self.n = n
        self.pki = pki
        self.url = "https://127.0.0.1:%d" % n.port
        self.fingerprint = fingerprint(pki.root_crt)
        self.provisioner_password = os.path.join(pki.path, "provisioner-password.txt")


@pytest.fixture
def ca(nginx, pki):
    """The module in nginx on LMDB, on the fixture PKI."""
    return Ca(nginx, pki)


def bootstrap(step_cli, ca):
    step_cli.run("ca", "bootstrap", "--ca-url", ca.url, "--fingerprint", ca.fingerprint)
    return step_cli


@pytest.fixture
def step(step_cli, ca):
    """step bootstrapped against ca: every later command finds the CA URL and
    root in $STEPPATH/config/defaults.json, as a user's would."""
    return bootstrap(step_cli, ca)


def jwk_certificate(step, ca, cn, crt, key, *extra, check=True):
    return step.run("ca", "certificate", cn, crt, key,
                    "--provisioner", JWK_PROVISIONER,
                    "--provisioner-password-file", ca.provisioner_password, *extra,
                    check=check)


def issued(step, ca, cn, *sans_):
    """A JWK certificate for cn (files in STEPPATH): (crt, key)."""
    crt = os.path.join(step.steppath, cn + ".crt")
    key = os.path.join(step.steppath, cn + ".key")
    args = []
    for s in sans_:
        args += ["--san", s]
    jwk_certificate(step, ca, cn, crt, key, *args)
    return crt, key


# ---------------------------------------------------------------- bootstrap, reads


def test_bootstrap_by_fingerprint(step_cli, ca):
    proc = step_cli.run("ca", "bootstrap", "--ca-url", ca.url,
                        "--fingerprint", ca.fingerprint)
    root = os.path.join(step_cli.steppath, "certs", "root_ca.crt")
    assert "The root certificate has been saved in %s" % root in proc.stdout + proc.stderr
    assert der(load_cert(root)) == der(load_cert(ca.pki.root_crt))
    with open(os.path.join(step_cli.steppath, "config", "defaults.json")) as f:
        defaults = json.load(f)
    assert defaults["ca-url"] == ca.url
    assert defaults["fingerprint"] == ca.fingerprint
    assert defaults["root"] == root


def test_bootstrap_with_a_wrong_fingerprint_is_refused(step_cli, ca):
    wrong = hashlib.sha256(b"not our root").hexdigest()
    proc = step_cli.run("ca", "bootstrap", "--ca-url", ca.url, "--fingerprint", wrong,
                        check=False)
    # /root/<wrong sha> is step-ca's 404, which step reports as such
    assert_refused(proc, "error downloading root certificate",
                   "The requested resource could not be found")
    assert not os.path.exists(os.path.join(step_cli.steppath, "certs", "root_ca.crt"))
    assert not os.path.exists(os.path.join(step_cli.steppath, "config", "defaults.json"))


def test_health(step):
    assert step.run("ca", "health").stdout.strip() == "ok"


def test_root_roots_and_federation(step, ca):
    root = der(load_cert(ca.pki.root_crt))
    out = os.path.join(step.steppath, "downloaded-root.crt")
    proc = step.run("ca", "root", out)
    assert der(load_cert(out)) == root, proc.stdout + proc.stderr

    for cmd in ("roots", "federation"):
        path = os.path.join(step.steppath, cmd + ".pem")
        step.run("ca", cmd, path)
        # no federated CAs configured: the bundle is the root alone
        assert [der(c) for c in load_pems(path)] == [root], cmd


def test_provisioner_list(step, ca):
    listed = json.loads(step.run("ca", "provisioner", "list").stdout)
    by_name = {p["name"]: p for p in listed}
    assert set(by_name) == {JWK_PROVISIONER, ACME_PROVISIONER, X5C_PROVISIONER}
    assert by_name[JWK_PROVISIONER]["type"] == "JWK"
    assert by_name[JWK_PROVISIONER]["key"]["kid"] == "dGow9tg6f8QNmFNqqdT7UCUC4Ehxuz5RGW4EMf84lFg"
    assert by_name[JWK_PROVISIONER]["encryptedKey"].count(".") == 4  # compact JWE
    assert by_name[ACME_PROVISIONER]["type"] == "ACME"
    assert by_name[X5C_PROVISIONER]["type"] == "X5C"
    assert by_name[X5C_PROVISIONER]["roots"]


# ---------------------------------------------------------------- JWK


def test_certificate_with_the_jwk_provisioner(step, ca):
    crt, key = issued(step, ca, "svc.example.test", "svc.example.test", "127.0.0.1")
    chain = load_pems(crt)
    # step writes leaf + intermediate
    assert len(chain) == 2
    assert der(chain[1]) == der(load_cert(ca.pki.intermediate_crt))
    leaf = chain[0]
    assert_ours(leaf, ca.pki, "svc.example.test", {"svc.example.test", "127.0.0.1"})
    assert_fresh(leaf)
    assert spki(leaf) == key_spki(key)
    assert provisioner_ext(leaf) == (1, JWK_PROVISIONER,
                                     "dGow9tg6f8QNmFNqqdT7UCUC4Ehxuz5RGW4EMf84lFg")

    # step's own checks of what we issued
    root = os.path.join(step.steppath, "certs", "root_ca.crt")
    step.run("certificate", "verify", crt, "--roots", root)
    info = json.loads(step.run("certificate", "inspect", crt, "--format", "json").stdout)
    assert info["subject"]["common_name"] == ["svc.example.test"]
    assert info["issuer"]["common_name"] == ["Fixture CA Intermediate CA"]
    assert info["serial_number"] == str(leaf.serial_number)
    text = step.run("certificate", "inspect", crt).stdout
    assert "DNS:svc.example.test" in text and "IP Address:127.0.0.1" in text, text
    assert "Fixture CA Intermediate CA" in text


def test_verify_refuses_a_root_that_did_not_sign_it(step, ca, tmp_path):
    crt, _ = issued(step, ca, "stranger.example.test")
    other = tmp_path / "other-root.crt"
    step.run("certificate", "create", "Other Root", other, tmp_path / "other-root.key",
             "--profile", "root-ca", "--no-password", "--insecure")
    proc = step.run("certificate", "verify", crt, "--roots", other, check=False)
    assert_refused(proc, "certificate signed by unknown authority")


def token(step, ca, cn, *extra):
    return step.run("ca", "token", cn, "--provisioner", JWK_PROVISIONER,
                    "--provisioner-password-file", ca.provisioner_password,
                    *extra).stdout.strip()


def jwt_claims(step, ott):
    return json.loads(step.run("crypto", "jwt", "inspect", "--insecure",
                               input=ott).stdout)["payload"]


def csr(step, cn, *sans_):
    path = os.path.join(step.steppath, cn + ".csr")
    key = os.path.join(step.steppath, cn + ".key")
    step.run("certificate", "create", cn, path, key, "--csr", "--no-password", "--insecure",
             "--force", *["--san=" + s for s in sans_])
    return path, key


def test_token_then_sign(step, ca):
    ott = token(step, ca, "signed.example.test")
    claims = jwt_claims(step, ott)
    assert claims["sub"] == "signed.example.test"
    assert claims["aud"] == ca.url + "/1.0/sign"
    assert claims["iss"] == JWK_PROVISIONER
    req, key = csr(step, "signed.example.test")
    crt = os.path.join(step.steppath, "signed.crt")
    step.run("ca", "sign", req, crt, "--token", ott)
    leaf = load_cert(crt)
    assert_ours(leaf, ca.pki, "signed.example.test")
    assert_fresh(leaf)
    assert spki(leaf) == key_spki(key)

    # the token is spent: signing again with it is refused
    again = step.run("ca", "sign", req, crt + ".2", "--token", ott, check=False)
    assert_refused(again)
    assert not os.path.exists(crt + ".2")


def test_sign_with_not_after(step, ca):
    req, _ = csr(step, "short.example.test")
    crt = os.path.join(step.steppath, "short.crt")
    step.run("ca", "sign", req, crt, "--not-after", "5m",
             "--provisioner", JWK_PROVISIONER,
             "--provisioner-password-file", ca.provisioner_password)
    leaf = load_cert(crt)
    assert_ours(leaf, ca.pki, "short.example.test")
    assert_fresh(leaf, datetime.timedelta(minutes=5))


def test_sign_refuses_a_san_mismatch(step, ca):
    # step itself refuses a CSR whose CN is not the token's subject, before
    # sending anything; a SAN the token does not name reaches the CA
    ott = token(step, ca, "token-name.example.test")
    req, _ = csr(step, "token-name.example.test", "token-name.example.test",
                 "other.example.test")
    crt = os.path.join(step.steppath, "mismatch.crt")
    proc = step.run("ca", "sign", req, crt, "--token", ott, check=False)
    assert_refused(proc, "certificate request does not contain the valid DNS names")
    assert not os.path.exists(crt)



def test_certificate_too_long_is_refused(step, ca):
    crt = os.path.join(step.steppath, "long.crt")
    proc = jwk_certificate(step, ca, "long.example.test", crt,
                           os.path.join(step.steppath, "long.key"),
                           "--not-after", "1000h", check=False)
    assert_refused(proc, "is more than the authorized maximum certificate duration")
    assert not os.path.exists(crt)


# ---------------------------------------------------------------- X5C


def test_certificate_with_the_x5c_provisioner(step, ca):
    svc_crt, svc_key = issued(step, ca, "svc.example.test")
    crt = os.path.join(step.steppath, "x5c-client.crt")
    key = os.path.join(step.steppath, "x5c-client.key")
    step.run("ca", "certificate", "x5c-client.example.test", crt, key,
             "--provisioner", X5C_PROVISIONER,
             "--x5c-cert", svc_crt, "--x5c-key", svc_key)
    leaf = load_cert(crt)
    assert_ours(leaf, ca.pki, "x5c-client.example.test")
    assert_fresh(leaf)
    assert provisioner_ext(leaf) == (7, X5C_PROVISIONER, "")
    assert spki(leaf) == key_spki(key)


def test_x5c_with_a_certificate_of_another_ca_is_refused(step, ca, tmp_path):
    root_crt, root_key = tmp_path / "r.crt", tmp_path / "r.key"
    step.run("certificate", "create", "Other Root", root_crt, root_key,
             "--profile", "root-ca", "--no-password", "--insecure")
    leaf_crt, leaf_key = tmp_path / "l.crt", tmp_path / "l.key"
    step.run("certificate", "create", "svc.example.test", leaf_crt, leaf_key,
             "--profile", "leaf", "--ca", root_crt, "--ca-key", root_key,
             "--no-password", "--insecure")
    crt = os.path.join(step.steppath, "x5c-stranger.crt")
    proc = step.run("ca", "certificate", "x5c-stranger.example.test", crt,
                    os.path.join(step.steppath, "x5c-stranger.key"),
                    "--provisioner", X5C_PROVISIONER,
                    "--x5c-cert", leaf_crt, "--x5c-key", leaf_key, check=False)
    assert_refused(proc)
    assert not os.path.exists(crt)


# ---------------------------------------------------------------- renew, rekey, revoke


def test_renew_over_mtls(step, ca):
    crt, key = issued(step, ca, "renew.example.test")
    old = load_cert(crt)
    step.run("ca", "renew", crt, key, "--force")
    new = load_cert(crt)
    assert new.serial_number != old.serial_number
    assert_ours(new, ca.pki, "renew.example.test")
    assert spki(new) == spki(old)  # renew keeps the key
    assert new.not_valid_after >= old.not_valid_after
    assert provisioner_ext(new) == provisioner_ext(old)


def test_rekey_over_mtls(step, ca):
    crt, key = issued(step, ca, "rekey.example.test", "rekey.example.test", "127.0.0.1")
    old = load_cert(crt)
    old_key = key_spki(key)
    step.run("ca", "rekey", crt, key, "--force")
    new = load_cert(crt)
    assert new.serial_number != old.serial_number
    assert_ours(new, ca.pki, "rekey.example.test", {"rekey.example.test", "127.0.0.1"})
    assert key_spki(key) != old_key
    assert spki(new) == key_spki(key)


# step-ca's fixed 401 text, as step prints it
UNAUTHORIZED = "The request lacked necessary authorization to be completed"
REVOKED = "Certificate with Serial Number %d has been revoked."


def assert_renew_refused(step, crt, key):
    before = load_cert(crt)
    proc = step.run("ca", "renew", crt, key, "--force", check=False)
    assert_refused(proc, UNAUTHORIZED)
    assert load_cert(crt).serial_number == before.serial_number


def revoke_by_token_then_renew_refused(step, ca):
    crt, key = issued(step, ca, "revoked.example.test")
    serial = load_cert(crt).serial_number
    # step ca revoke takes no provisioner flags: the token comes from
    # `step ca token --revoke`
    ott = token(step, ca, str(serial), "--revoke")
    claims = jwt_claims(step, ott)
    assert claims["sub"] == str(serial)
    assert claims["aud"] == ca.url + "/1.0/revoke"
    proc = step.run("ca", "revoke", serial, "--token", ott,
                    "--reason", "key compromised", "--reasonCode", "KeyCompromise")
    assert REVOKED % serial in proc.stdout + proc.stderr
    assert_renew_refused(step, crt, key)
    # a second revocation of the same serial is refused too
    again = step.run("ca", "revoke", serial, "--token", token(step, ca, str(serial), "--revoke"),
                     check=False)
    assert_refused(again)


def test_revoke_by_token_then_renew_refused(step, ca):
    revoke_by_token_then_renew_refused(step, ca)


def test_revoke_by_token_then_renew_refused_on_redis(step_cli, nginx_factory, redis_server, pki):
    n = nginx_factory(store=redis_server.uri).start()
    ca = Ca(n, pki)
    revoke_by_token_then_renew_refused(bootstrap(step_cli, ca), ca)


def test_revoke_with_the_certificate_then_renew_refused(step, ca):
    crt, key = issued(step, ca, "self-revoked.example.test")
    serial = load_cert(crt).serial_number
    proc = step.run("ca", "revoke", "--cert", crt, "--key", key)
    assert REVOKED % serial in proc.stdout + proc.stderr
    assert_renew_refused(step, crt, key)
    # and rekey of it too
    proc = step.run("ca", "rekey", crt, key, "--force", check=False)
    assert_refused(proc, UNAUTHORIZED)


# ---------------------------------------------------------------- ACME


@pytest.fixture
def acme_ca(nginx_factory, pki):
    """The ACME provisioner validating http-01 on a port step listens on
    (the provisioner's nginxStepca.http01Port in ca.json)."""
    port = free_port()
    configure_acme_settings(pki, {"http01Port": port})
    ca = Ca(nginx_factory().start(), pki)
    ca.http01_port = port
    return ca


@pytest.mark.parametrize("not_after", [None, "2h"])
def test_acme_certificate_http01(step_cli, acme_ca, not_after):
    step = bootstrap(step_cli, acme_ca)
    crt = os.path.join(step.steppath, "acme.crt")
    key = os.path.join(step.steppath, "acme.key")
    extra = ["--not-after", not_after] if not_after else []
    step.run("ca", "certificate", "127.0.0.1", crt, key,
             "--provisioner", ACME_PROVISIONER,
             "--http-listen", "127.0.0.1:%d" % acme_ca.http01_port, *extra)
    leaf = load_cert(crt)
    assert_ours(leaf, acme_ca.pki, "127.0.0.1")
    assert spki(leaf) == key_spki(key)
    ptype, pname, _ = provisioner_ext(leaf)
    assert (ptype, pname) == (6, ACME_PROVISIONER)
    if not_after:
        assert abs(leaf.not_valid_after - (datetime.datetime.utcnow() +
                                           datetime.timedelta(hours=2))) < SLACK
    else:
        assert_fresh(leaf)
    root = os.path.join(step.steppath, "certs", "root_ca.crt")
    step.run("certificate", "verify", crt, "--roots", root)
