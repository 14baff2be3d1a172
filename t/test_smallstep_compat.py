"""Compatibility with the real smallstep software (docs/smallstep-compat.md).

* The real step-ca 0.19.0 (built from Debian's source package by
  scripts/build-smallstep.sh) runs on a PKI written by our `stepca init`, and
  issues certificates to our `stepca certificate` and to smallstep's own Go
  client library.
* smallstep's Go client library (github.com/smallstep/certificates/ca, via
  build/smallstep/bin/step-client) bootstraps from OUR nginx module by root
  fingerprint and gets a certificate from it; the certificate has the same
  profile as one the real step-ca issues for the same request.

The real `step` CLI cannot be built from Debian's packages (see the doc), so
step-client stands in for it.

Environment (besides conftest.py's):
    STEPCA_SMALLSTEP_BIN  directory with step-ca and step-client
                          (default <repo>/build/smallstep/bin)
"""

import hashlib
import json
import os
import signal
import subprocess

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from conftest import (BUILD, REPO, copy_pki, free_port, stop_process,
                      wait_for_port)

SMALLSTEP_BIN = os.environ.get(
    "STEPCA_SMALLSTEP_BIN", os.path.join(REPO, "build", "smallstep", "bin"))
STEP_CA = os.path.join(SMALLSTEP_BIN, "step-ca")
STEP_CLIENT = os.path.join(SMALLSTEP_BIN, "step-client")
STEPCA_CLI = os.path.join(BUILD, "stepca")

FIXTURE_FP = "d84b9c67692510df7ab84b74c092e9e6b0d0ab1223fdcbefe0bf552705853206"
FIXTURE_PROVISIONER = "fixture@example.test"
FIXTURE_KID = "dGow9tg6f8QNmFNqqdT7UCUC4Ehxuz5RGW4EMf84lFg"
# step's provisioner extension in leaf certificates
STEP_PROVISIONER_OID = x509.ObjectIdentifier("1.3.6.1.4.1.37476.9000.64.1")

_BUILT = os.access(STEP_CA, os.X_OK) and os.access(STEP_CLIENT, os.X_OK)
if os.environ.get("STEPCA_REQUIRE_SMALLSTEP") and not _BUILT:
    # make test builds them first: a missing binary there is a failure,
    # not a reason to skip the compatibility check.
    raise RuntimeError("STEPCA_REQUIRE_SMALLSTEP is set but %s is missing" % STEP_CA)

pytestmark = pytest.mark.skipif(
    not _BUILT,
    reason="real smallstep binaries not built: run scripts/build-smallstep.sh "
           "(needs Debian's golang-github-smallstep-certificates-dev, ~950 MB, "
           "a few minutes) to get %s" % STEP_CA)

CMD_TIMEOUT = 60


def run(args, cwd=None, env=None, check=True):
    res = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=CMD_TIMEOUT)
    if check:
        assert res.returncode == 0, "%s failed (%d):\n%s\n%s" % (
            " ".join(args), res.returncode, res.stdout, res.stderr)
    return res


def load_chain(path):
    # Debian's cryptography (38) has no load_pem_x509_certificates
    end = b"-----END CERTIFICATE-----"
    with open(path, "rb") as f:
        parts = f.read().split(end)
    return [x509.load_pem_x509_certificate(p + end) for p in parts if p.strip()]


def fingerprint(pem_path):
    from cryptography.hazmat.primitives.serialization import Encoding
    with open(pem_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


def verify_chain(root, chain_file):
    res = run(["openssl", "verify", "-CAfile", root, "-untrusted", chain_file,
               chain_file])
    assert res.stdout.strip().endswith(": OK"), res.stdout


def profile(cert):
    """What a certificate's profile is made of, without per-issue values."""
    exts = {}
    for e in cert.extensions:
        v = e.value
        if e.oid == ExtensionOID.KEY_USAGE:
            v = (v.digital_signature, v.key_encipherment, v.key_agreement,
                 v.key_cert_sign, v.crl_sign)
        elif e.oid == ExtensionOID.EXTENDED_KEY_USAGE:
            v = tuple(o.dotted_string for o in v)
        elif e.oid == ExtensionOID.SUBJECT_ALTERNATIVE_NAME:
            v = tuple(sorted(str(n.value) for n in v))
        else:
            v = None  # key ids, provisioner: compared separately
        exts[e.oid.dotted_string] = (e.critical, v)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "lifetime": cert.not_valid_after - cert.not_valid_before,
        "signature": cert.signature_algorithm_oid.dotted_string,
        "version": cert.version,
        "extensions": exts,
    }


class StepCa:
    """One real step-ca process on a ca.json, on a free 127.0.0.1 port."""

    def __init__(self, ca_json, password_file, workdir):
        self.ca_json = ca_json
        self.password_file = password_file
        self.workdir = workdir
        self.port = free_port()
        with open(ca_json) as f:
            doc = json.load(f)
        doc["address"] = "127.0.0.1:%d" % self.port
        with open(ca_json, "w") as f:
            json.dump(doc, f, indent="\t")
        self.url = "https://127.0.0.1:%d" % self.port
        self.proc = None

    def env(self):
        env = dict(os.environ)
        env["STEPPATH"] = os.path.join(self.workdir, "steppath-home")
        env["HOME"] = self.workdir
        return env

    def start(self):
        self.log_path = os.path.join(self.workdir, "step-ca.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [STEP_CA, self.ca_json, "--password-file", self.password_file],
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env(),
            cwd=self.workdir)
        if not wait_for_port(self.port, self.proc, timeout=30):
            self.stop()
            raise AssertionError("step-ca did not start:\n" + self.read_log())
        return self

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM)
            self.log.close()
            self.proc = None


@pytest.fixture
def step_ca_factory():
    made = []

    def make(*a):
        s = StepCa(*a)
        made.append(s)
        return s.start()

    yield make
    for s in made:
        s.stop()


def client(cmd, *args, cwd=None, check=True):
    env = dict(os.environ)
    env["STEPPATH"] = os.path.join(cwd or "/nonexistent", "steppath-home")
    return run([STEP_CLIENT, cmd] + list(args), cwd=cwd, env=env, check=check)


# ---------------------------------------------------------------- real step-ca


def test_real_step_ca_runs_fixture_pki(prefix, step_ca_factory):
    """Sanity check of the build: the real step-ca on the step 0.19 fixture
    PKI answers, and smallstep's client library gets a certificate."""
    pki = copy_pki(os.path.join(prefix, "pki"))
    os.makedirs(os.path.join(pki.path, "db"))
    ca = step_ca_factory(pki.ca_json, pki.password_file, prefix)

    assert client("version", "--ca-url", ca.url, "--root", pki.root_crt,
                  cwd=prefix).stdout.strip() == "0.19.0-debian"
    assert client("health", "--ca-url", ca.url, "--root", pki.root_crt,
                  cwd=prefix).stdout.strip() == "ok"
    client("certificate", "fx.example.test", "fx.crt", "fx.key",
           "--provisioner", FIXTURE_PROVISIONER,
           "--provisioner-password-file",
           os.path.join(pki.path, "provisioner-password.txt"),
           "--ca-url", ca.url, "--root", pki.root_crt, cwd=prefix)
    verify_chain(pki.root_crt, os.path.join(prefix, "fx.crt"))


@pytest.fixture
def init_pki(prefix):
    """A PKI written by our `stepca init`."""
    if not os.access(STEPCA_CLI, os.X_OK):
        pytest.skip("%s not built" % STEPCA_CLI)
    d = os.path.join(prefix, "init")
    os.makedirs(d)
    pw = os.path.join(d, "p.txt")
    ppw = os.path.join(d, "pp.txt")
    with open(pw, "w") as f:
        f.write("init-ca-password\n")
    with open(ppw, "w") as f:
        f.write("init-provisioner-password\n")
    steppath = os.path.join(d, "step")
    run([STEPCA_CLI, "init", "--name", "Init Test", "--dns", "localhost",
         "--dns", "127.0.0.1", "--address", "127.0.0.1:%d" % free_port(),
         "--provisioner", "admin@example.test", "--password-file", pw,
         "--provisioner-password-file", ppw, "--steppath", steppath])
    return {
        "steppath": steppath,
        "ca_json": os.path.join(steppath, "config", "ca.json"),
        "root": os.path.join(steppath, "certs", "root_ca.crt"),
        "password_file": pw,
        "provisioner_password_file": ppw,
        "provisioner": "admin@example.test",
    }


def test_real_step_ca_serves_stepca_init_pki(prefix, init_pki, step_ca_factory):
    """`stepca init` writes a PKI the real step-ca 0.19 starts from, and the
    real step-ca issues certificates to our CLI and to smallstep's client."""
    p = init_pki
    with open(os.path.join(p["steppath"], "config", "defaults.json")) as f:
        defaults = json.load(f)
    assert defaults["fingerprint"] == fingerprint(p["root"])

    ca = step_ca_factory(p["ca_json"], p["password_file"], prefix)
    assert client("health", "--ca-url", ca.url, "--root", p["root"],
                  cwd=prefix).stdout.strip() == "ok"

    # our CLI against the real step-ca
    run([STEPCA_CLI, "certificate", "ours.example.test", "ours.crt", "ours.key",
         "--san", "ours.example.test", "--san", "192.0.2.7",
         "--provisioner", p["provisioner"],
         "--provisioner-password-file", p["provisioner_password_file"],
         "--ca-url", ca.url, "--root", p["root"]], cwd=prefix)
    ours = os.path.join(prefix, "ours.crt")
    verify_chain(p["root"], ours)
    leaf = load_chain(ours)[0]
    sans = leaf.extensions.get_extension_for_oid(
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    assert sorted(str(n.value) for n in sans) == ["192.0.2.7", "ours.example.test"]
    assert leaf.issuer.rfc4514_string() == "CN=Init Test Intermediate CA,O=Init Test"

    # smallstep's client library, by fingerprint only, against the same CA
    client("bootstrap", "--ca-url", ca.url, "--fingerprint",
           defaults["fingerprint"], "--out", "boot.crt", cwd=prefix)
    assert fingerprint(os.path.join(prefix, "boot.crt")) == defaults["fingerprint"]
    client("certificate", "theirs.example.test", "theirs.crt", "theirs.key",
           "--provisioner", p["provisioner"],
           "--provisioner-password-file", p["provisioner_password_file"],
           "--ca-url", ca.url, "--fingerprint", defaults["fingerprint"],
           cwd=prefix)
    verify_chain(p["root"], os.path.join(prefix, "theirs.crt"))

    log = ca.read_log()
    assert "status=201 subject=ours.example.test" in log, log
    assert "status=201 subject=theirs.example.test" in log, log


# ---------------------------------------------------------------- our module


def test_smallstep_client_bootstrap_and_certificate_from_our_module(
        prefix, nginx, step_ca_factory):
    """smallstep's Go client library against OUR nginx module: pin the root by
    fingerprint, look the provisioner up, download and decrypt its key, sign a
    token, get a certificate. Then the same request to the real step-ca on the
    same PKI: both certificates have the same profile."""
    ppw = os.path.join(nginx.pki.path, "provisioner-password.txt")
    url = "https://127.0.0.1:%d" % nginx.port

    res = client("bootstrap", "--ca-url", url, "--fingerprint", FIXTURE_FP,
                 "--out", "root.crt", cwd=prefix)
    assert "root.crt" in res.stdout
    with open(os.path.join(prefix, "root.crt"), "rb") as a, \
            open(nginx.pki.root_crt, "rb") as b:
        assert x509.load_pem_x509_certificate(a.read()) == \
            x509.load_pem_x509_certificate(b.read())

    # a wrong fingerprint must fail (the client checks the /root answer)
    res = client("bootstrap", "--ca-url", url, "--fingerprint", "00" * 32,
                 "--out", "bad.crt", cwd=prefix, check=False)
    assert res.returncode != 0
    assert not os.path.exists(os.path.join(prefix, "bad.crt"))

    assert client("health", "--ca-url", url, "--fingerprint", FIXTURE_FP,
                  cwd=prefix).stdout.strip() == "ok"

    client("certificate", "svc.example.test", "ours.crt", "ours.key",
           "--san", "svc.example.test", "--san", "127.0.0.1",
           "--provisioner", FIXTURE_PROVISIONER,
           "--provisioner-password-file", ppw,
           "--ca-url", url, "--fingerprint", FIXTURE_FP, cwd=prefix)
    ours_file = os.path.join(prefix, "ours.crt")
    verify_chain(nginx.pki.root_crt, ours_file)
    ours = load_chain(ours_file)

    # the same request to the real step-ca on a copy of the same PKI
    real_pki = copy_pki(os.path.join(prefix, "real-pki"))
    os.makedirs(os.path.join(real_pki.path, "db"))
    real_dir = os.path.join(prefix, "real")
    os.makedirs(real_dir)
    ca = step_ca_factory(real_pki.ca_json, real_pki.password_file, real_dir)
    client("certificate", "svc.example.test", "theirs.crt", "theirs.key",
           "--san", "svc.example.test", "--san", "127.0.0.1",
           "--provisioner", FIXTURE_PROVISIONER,
           "--provisioner-password-file", ppw,
           "--ca-url", ca.url, "--fingerprint", FIXTURE_FP, cwd=prefix)
    theirs = load_chain(os.path.join(prefix, "theirs.crt"))

    assert len(ours) == len(theirs) == 2
    assert ours[1] == theirs[1]  # the intermediate
    assert profile(ours[0]) == profile(theirs[0])
    for chain in (ours, theirs):
        ext = chain[0].extensions.get_extension_for_oid(STEP_PROVISIONER_OID)
        der = ext.value.value
        assert FIXTURE_PROVISIONER.encode() in der
        assert FIXTURE_KID.encode() in der
    assert ours[0].extensions.get_extension_for_oid(
        STEP_PROVISIONER_OID).value.value == theirs[0].extensions.get_extension_for_oid(
        STEP_PROVISIONER_OID).value.value


# ------------------------------------- renew, rekey, revoke against our module


# step-ca's message for a 401, as smallstep's client library reports it
UNAUTHORIZED = "The request lacked necessary authorization to be completed."


def _pubkey(cert):
    from cryptography.hazmat.primitives.serialization import (
        Encoding, PublicFormat)
    return cert.public_key().public_bytes(Encoding.DER,
                                          PublicFormat.SubjectPublicKeyInfo)


def _key_pub(key_path):
    from cryptography.hazmat.primitives.serialization import (
        Encoding, PublicFormat, load_pem_private_key)
    with open(key_path, "rb") as f:
        key = load_pem_private_key(f.read(), None)
    return key.public_key().public_bytes(Encoding.DER,
                                         PublicFormat.SubjectPublicKeyInfo)


def _issue(nginx, prefix, cn):
    """A certificate from our module through smallstep's client library."""
    url = "https://127.0.0.1:%d" % nginx.port
    client("certificate", cn, cn + ".crt", cn + ".key",
           "--provisioner", FIXTURE_PROVISIONER,
           "--provisioner-password-file",
           os.path.join(nginx.pki.path, "provisioner-password.txt"),
           "--ca-url", url, "--root", nginx.pki.root_crt, cwd=prefix)
    crt = os.path.join(prefix, cn + ".crt")
    return crt, os.path.join(prefix, cn + ".key"), load_chain(crt)[0]


def _ca(nginx):
    return ["--ca-url", "https://127.0.0.1:%d" % nginx.port,
            "--root", nginx.pki.root_crt]


def _check_same_identity(old, chain_file, root):
    verify_chain(root, chain_file)
    new = load_chain(chain_file)[0]
    assert new.subject == old.subject
    assert new.serial_number != old.serial_number
    san = x509.SubjectAlternativeName
    assert (new.extensions.get_extension_for_class(san).value ==
            old.extensions.get_extension_for_class(san).value)
    assert new.extensions.get_extension_for_oid(STEP_PROVISIONER_OID)
    return new


def test_smallstep_client_renews_and_rekeys_with_our_module(prefix, nginx):
    """ca.Client.Renew over mTLS (step ca renew), ca.Client.RenewWithToken
    with step's x5cInsecure token (step ca renew --mtls=false) and
    ca.Client.Rekey over mTLS (step ca rekey), against our module."""
    crt, key, old = _issue(nginx, prefix, "svc.example.test")
    root = nginx.pki.root_crt

    res = client("renew", crt, key, "--out", "mtls.crt", *_ca(nginx), cwd=prefix)
    assert "mtls.crt" in res.stdout
    new = _check_same_identity(old, os.path.join(prefix, "mtls.crt"), root)
    assert _pubkey(new) == _pubkey(old)

    client("renew", crt, key, "--mtls=false", "--out", "token.crt", *_ca(nginx),
           cwd=prefix)
    tnew = _check_same_identity(old, os.path.join(prefix, "token.crt"), root)
    assert _pubkey(tnew) == _pubkey(old)
    assert tnew.serial_number != new.serial_number

    client("rekey", crt, key, "--out-cert", "rekey.crt", "--out-key", "rekey.key",
           *_ca(nginx), cwd=prefix)
    rnew = _check_same_identity(old, os.path.join(prefix, "rekey.crt"), root)
    assert _pubkey(rnew) == _key_pub(os.path.join(prefix, "rekey.key"))
    assert _pubkey(rnew) != _pubkey(old)

    # the rekeyed certificate and key work for the next mTLS renew
    client("renew", "rekey.crt", "rekey.key", "--out", "rekey2.crt",
           *_ca(nginx), cwd=prefix)
    _check_same_identity(old, os.path.join(prefix, "rekey2.crt"), root)

    log = nginx.read_file("error.log")
    assert "renewed certificate serial=" in log
    assert "rekeyed certificate serial=" in log


def test_smallstep_client_revokes_by_token_with_our_module(prefix, nginx):
    """ca.Client.Revoke with a provisioner JWK token (aud /1.0/revoke, sub the
    serial), like step ca revoke SERIAL; then renewals of it are refused."""
    crt, key, old = _issue(nginx, prefix, "svc.example.test")
    _, _, other = _issue(nginx, prefix, "other.example.test")
    serial = str(old.serial_number)
    res = client("revoke", serial, "--provisioner", FIXTURE_PROVISIONER,
                 "--provisioner-password-file",
                 os.path.join(nginx.pki.path, "provisioner-password.txt"),
                 "--reason", "superseded", "--reasonCode", "4",
                 *_ca(nginx), cwd=prefix)
    assert serial in res.stdout and "(ok)" in res.stdout, res.stdout

    for extra in ([], ["--mtls=false"]):
        res = client("renew", crt, key, "--out", "after.crt", *extra,
                     *_ca(nginx), cwd=prefix, check=False)
        assert res.returncode != 0, res.stdout
        assert UNAUTHORIZED in res.stderr, res.stderr
        assert not os.path.exists(os.path.join(prefix, "after.crt"))
    res = client("rekey", crt, key, "--out-cert", "after.crt",
                 "--out-key", "after.key", *_ca(nginx), cwd=prefix, check=False)
    assert res.returncode != 0, res.stdout
    assert UNAUTHORIZED in res.stderr, res.stderr

    # revoked twice: refused
    res = client("revoke", serial, "--provisioner", FIXTURE_PROVISIONER,
                 "--provisioner-password-file",
                 os.path.join(nginx.pki.path, "provisioner-password.txt"),
                 *_ca(nginx), cwd=prefix, check=False)
    assert res.returncode != 0
    assert "already revoked" in res.stderr, res.stderr

    # the other certificate is untouched
    client("renew", "other.example.test.crt", "other.example.test.key",
           "--out", "other2.crt", *_ca(nginx), cwd=prefix)
    _check_same_identity(other, os.path.join(prefix, "other2.crt"),
                         nginx.pki.root_crt)


def test_smallstep_client_revokes_over_mtls_with_our_module(prefix, nginx):
    """ca.Client.Revoke over mTLS with the certificate's own key (step ca
    revoke --cert --key); then renewals of it are refused."""
    crt, key, old = _issue(nginx, prefix, "svc.example.test")
    res = client("revoke", "--cert", crt, "--key", key, "--reason",
                 "keyCompromise", "--reasonCode", "1", *_ca(nginx), cwd=prefix)
    assert str(old.serial_number) in res.stdout, res.stdout
    for extra in ([], ["--mtls=false"]):
        res = client("renew", crt, key, "--out", "after.crt", *extra,
                     *_ca(nginx), cwd=prefix, check=False)
        assert res.returncode != 0, res.stdout
        assert UNAUTHORIZED in res.stderr, res.stderr
        assert not os.path.exists(os.path.join(prefix, "after.crt"))
