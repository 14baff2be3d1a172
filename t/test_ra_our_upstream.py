"""Our module on both sides of a StepCAS registration authority:

- our RA in front of our own module as the upstream (a local CA on its own
  copy of the fixture PKI): sign, revoke by the upstream, token renewal,
  rekey, and an upstream refusal passed on;
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
from test_ra_step_cli import renew_by_token
from test_smallstep_compat import STEP_CA, _BUILT
from tokens import Provisioner, make_csr


class OurUpstream:
    """Our module as a plain local CA on its own copy of the fixture PKI,
    with what make_ra reads of an upstream (url, provisioner password)."""

    def __init__(self, nginx_factory, prefix):
        self.pki = copy_pki(os.path.join(prefix, "our-upstream-pki"))
        self.provisioner_password_file = os.path.join(self.pki.path, "provisioner-password.txt")
        n = nginx_factory(name="our-upstream")
        n.pki = self.pki
        n.params["ca_json"] = self.pki.ca_json
        n.params["password_line"] = "    stepca_password_file %s;\n" % self.pki.password_file
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
