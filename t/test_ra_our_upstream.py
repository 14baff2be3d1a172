"""Our module on both sides of a StepCAS registration authority:

- our RA in front of our own module as the upstream (a local CA on its own
  copy of the fixture PKI): sign, revoke by the upstream, token renewal,
  rekey, and an upstream refusal passed on; `step ca renew` over mutual
  TLS, which the RA shows the upstream in a client certificate header the
  upstream trusts from the RA's address;
- the real step-ca 0.19 in RA mode (authority.type stepcas, a JWK
  certificateIssuer) in front of our module: it bootstraps from our root
  by its fingerprint, downloads the encrypted JWK key from our
  /provisioners, gets its own TLS certificate from us, and the real step
  CLI gets a certificate through it."""

import json
import os
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import copy_pki
from test_ra_stepcas import (FIXTURE_FP, PROVISIONER_PASSWORD, RA_JWK, UPSTREAM_JWK,  # noqa: F401
                             assert_signed_by_upstream, load_pems, make_ra, post, provisioner_name,
                             ra_sign, step_ca_factory)
from test_ra_step_cli import certificate, renew_by_token
from test_smallstep_compat import STEP_CA, _BUILT
from tokens import Provisioner, make_csr


class OurUpstream:
    """Our module as a plain local CA on its own copy of the fixture PKI,
    with what make_ra reads of an upstream (url, provisioner password)."""

    def __init__(self, nginx_factory, prefix, client_cert_header=None, trusted_proxy=None):
        self.pki = copy_pki(os.path.join(prefix, "our-upstream-pki"))
        self.provisioner_password_file = os.path.join(self.pki.path, "provisioner-password.txt")
        n = nginx_factory(name="our-upstream")
        n.pki = self.pki
        n.params["ca_json"] = self.pki.ca_json
        n.params["password_line"] = "    stepca_password_file %s;\n" % self.pki.password_file
        if client_cert_header:
            n.params["http_extra"] += "    stepca_client_cert_header %s;\n" % client_cert_header
        if trusted_proxy:
            n.params["http_extra"] += "    stepca_trusted_proxy %s;\n" % trusted_proxy
        n.write_conf()
        self.nginx = n.start()
        self.url = "https://127.0.0.1:%d" % n.port
        self.jwk = Provisioner(self.pki.ca_json, PROVISIONER_PASSWORD)

    def revoke(self, serial):
        """Revoke at the upstream directly (passive, by its own token)."""
        token = self.jwk.token(serial, self.url + "/1.0/revoke", sans=[])
        status, _, body = post(self.nginx, "/1.0/revoke", {"serial": serial, "ott": token, "passive": True})
        return status, body.decode()


@pytest.fixture
def ours(nginx_factory, prefix):
    return OurUpstream(nginx_factory, prefix)


def write_credential(prefix, doc, key):
    crt = os.path.join(prefix, "leaf.crt")
    key_path = os.path.join(prefix, "leaf.key")
    open(crt, "w").write("".join(doc["certChain"]))
    open(key_path, "wb").write(key.private_bytes(serialization.Encoding.PEM,
                                                 serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    return crt, key_path


@pytest.mark.allow_error_log  # the upstream's refusal
def test_our_ra_over_our_own_module(nginx_factory, pki, ours, prefix):
    ra = make_ra(nginx_factory, pki, ours)
    status, body, _, _, key = ra_sign(ra, pki, "ours-via-ours.example.test", ["ours-via-ours.example.test"])
    assert status == 201, body
    leaf = assert_signed_by_upstream(json.loads(body), ours, "ours-via-ours.example.test", UPSTREAM_JWK)
    crt, key_path = write_credential(prefix, json.loads(body), key)
    # renewal by token, through to our module's /renew (which, as step-ca,
    # takes the token's audience without its port)
    status, renewed, _ = renew_by_token(ra, crt, key_path)
    assert status == 201, renewed
    again = assert_signed_by_upstream(json.loads(renewed), ours, "ours-via-ours.example.test", UPSTREAM_JWK)
    assert again.public_key().public_numbers() == leaf.public_key().public_numbers()
    assert again.serial_number != leaf.serial_number
    # rekey over mTLS with a CSR naming nothing, as step ca rekey sends
    newkey = ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).sign(
        newkey, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
    status, _, rekeyed = ra.request("POST", "/1.0/rekey", body=json.dumps({"csr": csr}),
                                    headers={"Content-Type": "application/json"}, cert=crt, key=key_path)
    assert status == 201, rekeyed
    third = assert_signed_by_upstream(json.loads(rekeyed), ours, "ours-via-ours.example.test", UPSTREAM_JWK)
    assert third.public_key().public_numbers() == newkey.public_key().public_numbers()
    assert third.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
        .get_values_for_type(x509.DNSName) == ["ours-via-ours.example.test"]
    # the upstream recorded it: its own revoke by serial works, once
    serial = str(leaf.serial_number)
    assert ours.revoke(serial)[0] == 200
    code, text = ours.revoke(serial)
    assert code == 400 and "already revoked" in text, text
    # an upstream refusal reaches the client with its reason: the
    # upstream's JWK provisioner refuses a lifetime beyond its maximum
    prov = Provisioner(pki.ca_json, PROVISIONER_PASSWORD)
    csr, _ = make_csr("too-long.example.test")
    token = prov.token("too-long.example.test", "https://127.0.0.1:%d/1.0/sign" % ra.port)
    status, _, body = post(ra, "/1.0/sign", {"csr": csr, "ott": token, "notAfter": "8760h"})
    assert status in (400, 403), body
    assert b"500" not in body


@pytest.mark.skipif(not _BUILT, reason="real step-ca not built: %s" % STEP_CA)
def test_real_step_ca_in_ra_mode_over_our_module(step_cli, step_ca_factory, ours, prefix, pki):
    # step-ca's RA: its own provisioner for clients (the fixture JWK,
    # renamed), our module's JWK provisioner as its issuer
    ra_dir = os.path.join(prefix, "step-ca-ra")
    os.makedirs(os.path.join(ra_dir, "db"))
    doc = pki.read_ca_json()
    client_prov = doc["authority"]["provisioners"][0]
    client_prov["name"] = RA_JWK
    ra_json = {
        "root": ours.pki.root_crt, "crt": "", "key": "",
        "dnsNames": ["127.0.0.1"],
        "db": {"type": "badgerv2", "dataSource": os.path.join(ra_dir, "db")},
        "logger": {"format": "text"},
        "authority": {
            "type": "stepcas",
            "certificateAuthority": ours.url,
            "certificateAuthorityFingerprint": FIXTURE_FP,
            "certificateIssuer": {"type": "jwk", "provisioner": UPSTREAM_JWK,
                                  "password": PROVISIONER_PASSWORD},
            "provisioners": [client_prov],
        },
        "tls": {"minVersion": 1.2, "maxVersion": 1.3, "renegotiation": False},
    }
    ca_json = os.path.join(ra_dir, "ca.json")
    with open(ca_json, "w") as f:
        json.dump(ra_json, f)
    unused = os.path.join(ra_dir, "unused-password.txt")
    with open(unused, "w") as f:
        f.write("unused\n")
    sra = step_ca_factory(ca_json, unused, ra_dir)

    step_cli.run("ca", "bootstrap", "--ca-url", sra.url, "--fingerprint", FIXTURE_FP)
    crt = os.path.join(step_cli.steppath, "through-step-ra.crt")
    key = os.path.join(step_cli.steppath, "through-step-ra.key")
    step_cli.run("ca", "certificate", "through-step-ra.example.test", crt, key,
                 "--provisioner", RA_JWK, "--provisioner-password-file",
                 os.path.join(pki.path, "provisioner-password.txt"))
    chain = load_pems(open(crt).read())
    leaf = chain[0]
    inter = load_pems(open(ours.pki.intermediate_crt).read())[0]
    assert leaf.issuer == inter.subject
    # our module built it, with its own provisioner: the RA's issuer
    assert provisioner_name(leaf) == UPSTREAM_JWK
    step_cli.run("certificate", "verify", crt, "--roots", ours.pki.root_crt)
    # and our module has it on record: it revokes it by serial
    assert ours.revoke(str(leaf.serial_number))[0] == 200
    # step-ca's RA served its TLS with a certificate our module signed
    out = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % sra.port,
                          "-CAfile", ours.pki.root_crt, "-verify_return_error"],
                         input="", capture_output=True, text=True, timeout=30)
    assert "Verify return code: 0 (ok)" in out.stdout, out.stdout + out.stderr


RA_HEADER = "X-Stepca-Ra-Client-Cert"


def ra_over_ours_forwarding_mtls(nginx_factory, pki, prefix, step_cli, trusted_proxy):
    ours = OurUpstream(nginx_factory, prefix, client_cert_header=RA_HEADER, trusted_proxy=trusted_proxy)
    ra = make_ra(nginx_factory, pki, ours, nginx_stepca={"upstream": {"clientCertHeader": RA_HEADER}})
    step_cli.run("ca", "bootstrap", "--ca-url", "https://127.0.0.1:%d" % ra.port, "--fingerprint", FIXTURE_FP)
    return ours, ra


def test_step_ca_renew_over_mtls_through_our_ra_to_our_module(step_cli, nginx_factory, pki, prefix):
    ours, ra = ra_over_ours_forwarding_mtls(nginx_factory, pki, prefix, step_cli, "127.0.0.1")
    crt, key = certificate(step_cli, pki, "mtls-via-ra.example.test")
    old = load_pems(open(crt).read())[0]
    step_cli.run("ca", "renew", "--force", crt, key)
    chain = load_pems(open(crt).read())
    new = chain[0]
    assert new.serial_number != old.serial_number
    assert new.public_key().public_numbers() == old.public_key().public_numbers()  # renew keeps the key
    assert new.subject == old.subject
    assert new.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
        .get_values_for_type(x509.DNSName) == ["mtls-via-ra.example.test"]
    inter = load_pems(open(ours.pki.intermediate_crt).read())[0]
    assert new.issuer == inter.subject and provisioner_name(new) == UPSTREAM_JWK
    step_cli.run("certificate", "verify", crt, "--roots", ours.pki.root_crt)
    # the renewed certificate renews again the same way
    step_cli.run("ca", "renew", "--force", crt, key)
    third = load_pems(open(crt).read())[0]
    assert third.serial_number != new.serial_number


@pytest.mark.allow_error_log  # the refusals
def test_a_certificate_revoked_at_the_upstream_is_refused_renewal_through_the_ra(step_cli, nginx_factory,
                                                                                 pki, prefix):
    ours, ra = ra_over_ours_forwarding_mtls(nginx_factory, pki, prefix, step_cli, "127.0.0.1")
    crt, key = certificate(step_cli, pki, "mtls-revoked-upstream.example.test")
    before = open(crt).read()
    # revoked at the upstream only: the RA does not know, the upstream
    # checks the forwarded certificate itself
    assert ours.revoke(str(load_pems(before)[0].serial_number))[0] == 200
    status, _, body = ra.request("POST", "/1.0/renew", body=b"", cert=crt, key=key)
    assert status == 401, body
    assert "certificate has been revoked" in ours.nginx.read_file("error.log")
    assert "the upstream CA refused to renew the certificate" in ra.read_file("error.log")
    assert open(crt).read() == before


@pytest.mark.allow_error_log  # the upstream's warning, the refusal
def test_an_upstream_that_does_not_trust_the_ra_renews_nothing(step_cli, nginx_factory, pki, prefix):
    # the upstream reads the header only from 10.0.0.0/8: the RA's
    # 127.0.0.1 is not a trusted proxy, so the header is ignored and the
    # upstream sees a renewal with no certificate at all
    ours, ra = ra_over_ours_forwarding_mtls(nginx_factory, pki, prefix, step_cli, "10.0.0.0/8")
    crt, key = certificate(step_cli, pki, "mtls-untrusted.example.test")
    before = open(crt).read()
    proc = step_cli.run("ca", "renew", "--force", crt, key, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert open(crt).read() == before
    assert "which is not a trusted proxy" in ours.nginx.read_file("error.log")
    # the upstream saw no certificate: not the client's fault (a 503), and
    # the RA's log says what to check
    assert "did not take the client certificate this registration authority forwarded" in out, out
    assert "stepca_trusted_proxy" in ra.read_file("error.log")
    assert "500" not in out


@pytest.mark.allow_error_log
def test_without_the_header_mtls_renewal_is_refused_naming_the_setting(step_cli, nginx_factory, pki, prefix):
    ours = OurUpstream(nginx_factory, prefix)
    ra = make_ra(nginx_factory, pki, ours)
    step_cli.run("ca", "bootstrap", "--ca-url", "https://127.0.0.1:%d" % ra.port, "--fingerprint", FIXTURE_FP)
    crt, key = certificate(step_cli, pki, "mtls-refused.example.test")
    proc = step_cli.run("ca", "renew", "--force", crt, key, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "nginxStepca.upstream.clientCertHeader" in out, out


@pytest.mark.allow_error_log
@pytest.mark.parametrize("value, words", [
    ("X-A: injected", "is not a header name"),
    (7, "must be a header name"),
])
def test_a_bad_client_cert_header_fails_nginx_t(nginx_factory, pki, ours, value, words):
    n = make_ra(nginx_factory, pki, ours, start=False, nginx_stepca={"upstream": {"clientCertHeader": value}})
    out = n.test_config()
    assert out.returncode != 0
    assert '"nginxStepca.upstream.clientCertHeader"' in out.stderr and words in out.stderr, out.stderr


@pytest.mark.allow_error_log
def test_a_client_cert_header_on_a_local_ca_fails_nginx_t(nginx_factory, pki):
    doc = pki.read_ca_json()
    doc["nginxStepca"] = {"upstream": {"clientCertHeader": RA_HEADER}}
    pki.write_ca_json(doc)
    out = nginx_factory().test_config()
    assert out.returncode != 0
    assert "is read only by a registration authority" in out.stderr, out.stderr
