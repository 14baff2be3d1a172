"""CA keys on a PKCS#11 token, end to end, against SoftHSM2 (Debian
softhsm2) with a token made here in a private directory (SOFTHSM2_CONF):
`stepca init --kms` makes the keys on it, then the module with 2 workers
issues and renews through the token; faults: a wrong PIN, a missing
module, a key that does not match crt, the token directory moved away
while serving. The PIN must never reach a log or an error."""

import json
import os
import re
import pwd
import shutil
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import BUILD, NGINX_CONF, Nginx, Pki, assert_clean_log, make_readable
from ssh_signature import verify_certificate
from tokens import Provisioner, make_csr

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
STEPCA_CLI = os.path.join(BUILD, "stepca")
PIN = "hsm-pin-83317"
SO_PIN = "so-pin-99120"
TOKEN = "stepca"
PROV_PASSWORD = "hsm-provisioner-password"
KEY_URI = "pkcs11:id=7331;object=intermediate-key"


def kms_uri(pin=PIN, module=SOFTHSM, token=TOKEN):
    return "pkcs11:module-path=%s;token=%s?pin-value=%s" % (module, token, pin)


class HsmNginx(Nginx):
    """nginx keeps only TZ in the workers' environment unless told: the
    module finds its token through SOFTHSM2_CONF."""

    def write_conf(self, **changes):
        self.params.update(changes)
        with open(self.conf, "w") as f:
            f.write("env SOFTHSM2_CONF;\n" + NGINX_CONF.format(**self.params))
        make_readable(self.prefix)


class Hsm:
    def __init__(self, base):
        self.base = base
        self.tokens = os.path.join(base, "tokens")
        self.conf = os.path.join(base, "softhsm2.conf")
        os.makedirs(self.tokens)
        with open(self.conf, "w") as f:
            f.write("directories.tokendir = %s\nobjectstore.backend = file\n"
                    "log.level = ERROR\n" % self.tokens)
        os.chmod(base, 0o755)
        os.chmod(self.conf, 0o644)
        env = dict(os.environ, SOFTHSM2_CONF=self.conf)
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN,
                        "--so-pin", SO_PIN, "--pin", PIN],
                       check=True, capture_output=True, timeout=60, env=env)

    def give_to_workers(self):
        """The workers run as nobody and open the token's files themselves."""
        nobody = pwd.getpwnam("nobody")
        for root, dirs, files in os.walk(self.tokens):
            os.chown(root, nobody.pw_uid, nobody.pw_gid)
            for f in files:
                os.chown(os.path.join(root, f), nobody.pw_uid, nobody.pw_gid)


@pytest.fixture
def hsm(prefix, monkeypatch):
    if not os.path.exists(SOFTHSM) or shutil.which("softhsm2-util") is None:
        pytest.skip("softhsm2 is not installed (scripts/install-deps.sh)")
    if not os.path.exists(STEPCA_CLI):
        pytest.skip("%s not built" % STEPCA_CLI)
    h = Hsm(os.path.join(prefix, "hsm"))
    monkeypatch.setenv("SOFTHSM2_CONF", h.conf)
    return h


def stepca_init(prefix, *extra, kms=None):
    os.makedirs(prefix, exist_ok=True)
    pp = os.path.join(prefix, "provisioner-password")
    with open(pp, "w") as f:
        f.write(PROV_PASSWORD)
    steppath = os.path.join(prefix, "pki")
    return subprocess.run(
        [STEPCA_CLI, "init", "--name", "HSM", "--dns", "localhost", "--dns", "127.0.0.1",
         "--address", "127.0.0.1:443", "--provisioner", "admin",
         "--provisioner-password-file", pp, "--steppath", steppath,
         "--kms", kms or kms_uri()] + list(extra),
        capture_output=True, text=True, timeout=120), steppath


@pytest.fixture
def hsm_pki(hsm, prefix):
    proc, steppath = stepca_init(prefix)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert PIN not in proc.stdout + proc.stderr
    hsm.give_to_workers()
    os.chmod(steppath, 0o755)
    return Pki(steppath)


@pytest.fixture
def hsm_nginx_for(request, prefix, module_path):
    """Makes (not starts) nginx objects serving a PKI made by stepca init;
    stops them and checks their logs (never the PIN) at teardown."""
    made = []

    def make(pki, workers=2):
        base = os.path.join(prefix, "nginx%d" % len(made))
        os.makedirs(base)
        n = HsmNginx(base, pki, os.path.join(pki.path, "certs", "tls.crt"),
                     os.path.join(pki.path, "secrets", "tls.key"), workers=workers,
                     password_file=None, module=module_path)
        made.append(n)
        return n

    yield make
    for n in made:
        n.stop()
    for n in made:
        log = n.read_file("error.log") + n.read_file("stdout.log")
        assert PIN not in log, "the PIN is in nginx's log"
        if request.node.get_closest_marker("allow_error_log") is None:
            assert_clean_log(n.error_log)


@pytest.fixture
def hsm_nginx(hsm_pki, hsm_nginx_for):
    return lambda workers=2: hsm_nginx_for(hsm_pki, workers)


def aud(n, path="/1.0/sign"):
    return "https://127.0.0.1:%d%s" % (n.port, path)


def sign(n, prov, cn):
    csr, key = make_csr(cn)
    body = json.dumps({"csr": csr, "ott": prov.token(cn, aud(n))})
    status, _, data = n.request("POST", "/1.0/sign", body=body,
                                headers={"Content-Type": "application/json"})
    return status, data, key


def openssl_verify(pki, tmp, resp, name="leaf"):
    leaf = os.path.join(tmp, name + ".crt")
    chain = os.path.join(tmp, name + ".chain")
    with open(leaf, "w") as f:
        f.write(resp["crt"])
    with open(chain, "w") as f:
        f.write("".join(resp["certChain"][1:]))
    out = subprocess.run(["openssl", "verify", "-CAfile", pki.root_crt, "-untrusted", chain,
                          leaf], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    return leaf


def token_public_key(label):
    """The public key pkcs11-tool reads from the token (DER SPKI)."""
    out = subprocess.run(["pkcs11-tool", "--module", SOFTHSM, "--token-label", TOKEN,
                          "--read-object", "--type", "pubkey", "--label", label],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return serialization.load_der_public_key(out.stdout)


def spki(key):
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


# ---------------------------------------------------------------- init


def test_init_kms_makes_the_keys_on_the_token_and_a_ca_json_that_uses_them(hsm_pki, tmp_path):
    doc = hsm_pki.read_ca_json()
    assert doc["key"] == KEY_URI
    assert doc["kms"] == {"type": "pkcs11", "uri": kms_uri()}
    # The PIN is in ca.json, so ca.json is private.
    assert os.stat(hsm_pki.ca_json).st_mode & 0o077 == 0
    # No key files: the keys are on the token only.
    assert not os.path.exists(os.path.join(hsm_pki.path, "secrets", "intermediate_ca_key"))
    assert not os.path.exists(os.path.join(hsm_pki.path, "secrets", "root_ca_key"))
    root = x509.load_pem_x509_certificate(open(hsm_pki.root_crt, "rb").read())
    inter = x509.load_pem_x509_certificate(open(hsm_pki.intermediate_crt, "rb").read())
    assert spki(root.public_key()) == spki(token_public_key("root-key"))
    assert spki(inter.public_key()) == spki(token_public_key("intermediate-key"))
    out = subprocess.run(["openssl", "verify", "-CAfile", hsm_pki.root_crt,
                          hsm_pki.intermediate_crt], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    out = subprocess.run(["openssl", "verify", "-CAfile", hsm_pki.root_crt, "-untrusted",
                          hsm_pki.intermediate_crt, os.path.join(hsm_pki.path, "certs", "tls.crt")],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr


def test_init_kms_refuses_keys_already_on_the_token(hsm_pki, prefix):
    proc, _ = stepca_init(os.path.join(prefix, "again"), "--force")
    assert proc.returncode != 0
    assert "already holds a key id=7330" in proc.stderr, proc.stderr
    assert PIN not in proc.stdout + proc.stderr


def test_init_kms_with_a_wrong_pin_or_other_scheme(hsm, prefix):
    proc, _ = stepca_init(prefix, kms=kms_uri(pin="wrong-pin-7"))
    assert proc.returncode != 0
    assert "CKR_PIN_INCORRECT" in proc.stderr, proc.stderr
    assert "wrong-pin-7" not in proc.stdout + proc.stderr
    proc, _ = stepca_init(os.path.join(prefix, "aws"), kms="awskms:region=us-east-1")
    assert proc.returncode != 0
    assert "not in awskms:" in proc.stderr and "pkcs11:" in proc.stderr, proc.stderr


# ---------------------------------------------------------------- serving


def test_two_workers_issue_and_renew_through_the_token(hsm_pki, hsm_nginx, tmp_path):
    n = hsm_nginx(workers=2)
    t = n.test_config()
    assert t.returncode == 0, t.stderr
    assert PIN not in t.stdout + t.stderr
    n.start()
    prov = Provisioner(hsm_pki.ca_json, PROV_PASSWORD)
    inter = x509.load_pem_x509_certificate(open(hsm_pki.intermediate_crt, "rb").read())
    holders = []
    for i in range(8):
        cn = "svc%d.example.test" % i
        status, data, key = sign(n, prov, cn)
        assert status == 201, data
        resp = json.loads(data)
        leaf = openssl_verify(hsm_pki, str(tmp_path), resp, "leaf%d" % i)
        cert = x509.load_pem_x509_certificate(resp["crt"].encode())
        assert cert.issuer == inter.subject
        holders.append((leaf, key, cert))
    # Both workers signed through their own module instance (bounded: more
    # requests until each worker has issued one).
    def signing_pids():
        return set(re.findall(r"(\d+)#\d+: \*\d+ stepca: 201 POST", n.read_file("error.log")))
    extra = 0
    while len(signing_pids()) < 2 and extra < 40:
        status, data, _ = sign(n, prov, "more%d.example.test" % extra)
        assert status == 201, data
        extra += 1
    assert len(signing_pids()) == 2, signing_pids()
    # Both workers came up and none was respawned (a crash in the module).
    assert len(re.findall(r"start worker process \d+", n.read_file("error.log"))) == 2

    # Renew over mTLS with the first certificate.
    leaf, key, old = holders[0]
    key_path = str(tmp_path / "leaf0.key")
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    status, _, data = n.request("POST", "/renew", body=b"", cert=leaf, key=key_path)
    assert status == 201, data
    resp = json.loads(data)
    new = x509.load_pem_x509_certificate(resp["crt"].encode())
    assert new.subject == old.subject and new.serial_number != old.serial_number
    openssl_verify(hsm_pki, str(tmp_path), resp, "renewed")


def test_the_real_step_cli_gets_a_certificate(hsm_pki, hsm_nginx, step_cli, tmp_path):
    n = hsm_nginx(workers=2).start()
    fp = subprocess.run(["openssl", "x509", "-in", hsm_pki.root_crt, "-noout", "-fingerprint",
                         "-sha256"], capture_output=True, text=True, check=True).stdout
    fp = fp.split("=", 1)[1].strip().replace(":", "").lower()
    url = "https://127.0.0.1:%d" % n.port
    step_cli.run("ca", "bootstrap", "--ca-url", url, "--fingerprint", fp)
    pp = str(tmp_path / "pp")
    with open(pp, "w") as f:
        f.write(PROV_PASSWORD)
    crt, key = str(tmp_path / "step.crt"), str(tmp_path / "step.key")
    step_cli.run("ca", "certificate", "step.example.test", crt, key, "--provisioner", "admin",
                 "--provisioner-password-file", pp, "--ca-url", url)
    out = subprocess.run(["openssl", "verify", "-CAfile", hsm_pki.root_crt, "-untrusted",
                          hsm_pki.intermediate_crt, crt], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    step_cli.run("ca", "renew", "--force", "--ca-url", url, crt, key)
    out = subprocess.run(["openssl", "verify", "-CAfile", hsm_pki.root_crt, "-untrusted",
                          hsm_pki.intermediate_crt, crt], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.allow_error_log
def test_token_moved_away_while_serving_is_503_then_comes_back(hsm, hsm_pki, hsm_nginx):
    n = hsm_nginx(workers=2).start()
    prov = Provisioner(hsm_pki.ca_json, PROV_PASSWORD)
    status, data, _ = sign(n, prov, "before.example.test")
    assert status == 201, data

    away = hsm.tokens + ".away"
    os.rename(hsm.tokens, away)
    try:
        # Every worker finds the token gone: each request is 503, none 500.
        seen = []
        for i in range(6):
            status, data, _ = sign(n, prov, "away%d.example.test" % i)
            seen.append(status)
            assert status == 503, data
            body = json.loads(data)
            assert body["status"] == 503
            assert PIN not in data.decode()
    finally:
        os.rename(away, hsm.tokens)

    # Back within a bounded wait once the directory returns.
    deadline = time.monotonic() + 15
    ok = 0
    while time.monotonic() < deadline and ok < 4:
        status, data, _ = sign(n, prov, "back%d.example.test" % ok)
        if status == 201:
            ok += 1
        else:
            assert status == 503, data
            time.sleep(0.2)
    assert ok == 4, "the CA did not come back after the token returned"
    log = n.read_file("error.log")
    assert "id=7331;object=intermediate-key" in log, log[-2000:]
    assert PIN not in log


# ---------------------------------------------------------------- SSH CA keys on the token


@pytest.fixture
def hsm_ssh_pki(hsm, prefix):
    proc, steppath = stepca_init(os.path.join(prefix, "ssh"), "--ssh")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert PIN not in proc.stdout + proc.stderr
    hsm.give_to_workers()
    os.chmod(steppath, 0o755)
    return Pki(steppath)


def openssh_line(key):
    return key.public_bytes(serialization.Encoding.OpenSSH,
                            serialization.PublicFormat.OpenSSH).decode()


def test_init_kms_ssh_puts_the_ssh_keys_on_the_token(hsm_ssh_pki):
    doc = hsm_ssh_pki.read_ca_json()
    assert doc["ssh"] == {"hostKey": "pkcs11:id=7332;object=ssh-host-key",
                          "userKey": "pkcs11:id=7333;object=ssh-user-key"}
    for kind in ("host", "user"):
        assert not os.path.exists(os.path.join(hsm_ssh_pki.path, "secrets", "ssh_%s_ca_key" % kind))
        with open(os.path.join(hsm_ssh_pki.path, "certs", "ssh_%s_ca_key.pub" % kind)) as f:
            written = f.read().split()[:2]
        assert written == openssh_line(token_public_key("ssh-%s-key" % kind)).split()[:2]


def ssh_sign(n, prov, cert_type, subject, principals):
    key = ec.generate_private_key(ec.SECP256R1())
    pub = openssh_line(key.public_key()).split()[1]
    ott = prov.token(subject, aud(n, "/1.0/ssh/sign"), sans=[], step={"ssh": {
        "certType": cert_type, "keyID": subject, "principals": principals,
        "validAfter": "", "validBefore": ""}})
    body = json.dumps({"publicKey": pub, "ott": ott, "certType": cert_type, "keyID": subject,
                       "principals": principals})
    return n.request("POST", "/ssh/sign", body=body, headers={"Content-Type": "application/json"})


def test_ssh_certificates_are_signed_on_the_token(hsm_ssh_pki, hsm_nginx_for, tmp_path):
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed")
    n = hsm_nginx_for(hsm_ssh_pki)
    t = n.test_config()
    assert t.returncode == 0, t.stderr
    n.start()
    prov = Provisioner(hsm_ssh_pki.ca_json, PROV_PASSWORD)
    for kind, subject, principals in (("user", "alice@example.test", ["alice"]),
                                      ("host", "web.example.test", ["web.example.test"])):
        status, _, data = ssh_sign(n, prov, kind, subject, principals)
        assert status == 201, data
        crt = json.loads(data)["crt"]
        path = str(tmp_path / ("%s-cert.pub" % kind))
        with open(path, "w") as f:
            f.write("ecdsa-sha2-nistp256-cert-v01@openssh.com " + crt + "\n")
        # OpenSSH reads it (and checks its signature) ...
        out = subprocess.run(["ssh-keygen", "-L", "-f", path], capture_output=True, text=True,
                             timeout=30)
        assert out.returncode == 0, out.stderr
        assert "%s certificate" % kind in out.stdout, out.stdout
        ca_pub = os.path.join(hsm_ssh_pki.path, "certs", "ssh_%s_ca_key.pub" % kind)
        fp = subprocess.run(["ssh-keygen", "-l", "-f", ca_pub], capture_output=True, text=True,
                            timeout=30).stdout.split()[1]
        assert "Signing CA: ECDSA %s (using ecdsa-sha2-nistp256)" % fp in out.stdout, out.stdout
        # ... and the signature verifies with the token's public key.
        assert verify_certificate(crt, token_public_key("ssh-%s-key" % kind)) == "ecdsa-sha2-nistp256"
        # A certificate signed by another key does not pass the check.
        with pytest.raises(AssertionError):
            verify_certificate(crt, ec.generate_private_key(ec.SECP256R1()).public_key())
    # /ssh/roots serves the token's keys.
    status, _, data = n.request("GET", "/ssh/roots")
    assert status == 200, data
    for kind in ("host", "user"):
        blob = openssh_line(token_public_key("ssh-%s-key" % kind)).split()[1]
        assert blob in data.decode()


def test_missing_ssh_key_on_the_token_fails_nginx_t_naming_it(hsm_ssh_pki, hsm_nginx_for):
    doc = hsm_ssh_pki.read_ca_json()
    doc["ssh"]["hostKey"] = "pkcs11:id=7399;object=no-ssh-key"
    hsm_ssh_pki.write_ca_json(doc)
    os.chmod(hsm_ssh_pki.ca_json, 0o600)
    check_refused(hsm_nginx_for(hsm_ssh_pki), 'field "ssh.hostKey"',
                  "no private key id=7399;object=no-ssh-key")


# ---------------------------------------------------------------- refused at load


def check_refused(n, *needles, secrets=(PIN,)):
    t = n.test_config()
    assert t.returncode != 0, t.stdout + t.stderr
    for s in needles:
        assert s in t.stderr, "%r not in:\n%s" % (s, t.stderr)
    for s in secrets:
        assert s not in t.stdout + t.stderr
    return t.stderr


def test_wrong_pin_fails_nginx_t_without_the_pin(hsm_pki, hsm_nginx):
    doc = hsm_pki.read_ca_json()
    doc["kms"]["uri"] = kms_uri(pin="not-the-pin-4410")
    hsm_pki.write_ca_json(doc)
    n = hsm_nginx()
    check_refused(n, "CKR_PIN_INCORRECT", "id=7331;object=intermediate-key", 'field "key"',
                  secrets=(PIN, "not-the-pin-4410"))


def test_pin_source_file_is_read(hsm_pki, hsm_nginx, prefix):
    pin_file = os.path.join(prefix, "pin.txt")
    with open(pin_file, "w") as f:
        f.write(PIN + "\n")
    doc = hsm_pki.read_ca_json()
    doc["kms"]["uri"] = "pkcs11:module-path=%s;token=%s?pin-source=%s" % (SOFTHSM, TOKEN, pin_file)
    hsm_pki.write_ca_json(doc)
    n = hsm_nginx()
    t = n.test_config()
    assert t.returncode == 0, t.stderr


def test_missing_module_fails_nginx_t_naming_it(hsm_pki, hsm_nginx, prefix):
    missing = os.path.join(prefix, "no-such-pkcs11.so")
    doc = hsm_pki.read_ca_json()
    doc["kms"]["uri"] = kms_uri(module=missing)
    hsm_pki.write_ca_json(doc)
    check_refused(hsm_nginx(), "cannot load module " + missing)


def test_absent_token_fails_nginx_t_naming_it(hsm_pki, hsm_nginx):
    doc = hsm_pki.read_ca_json()
    doc["kms"]["uri"] = kms_uri(token="elsewhere")
    hsm_pki.write_ca_json(doc)
    check_refused(hsm_nginx(), 'token "elsewhere" is not present')


def test_key_that_does_not_match_crt_fails_nginx_t_naming_the_key(hsm_pki, hsm_nginx):
    doc = hsm_pki.read_ca_json()
    doc["key"] = "pkcs11:id=7330;object=root-key"
    hsm_pki.write_ca_json(doc)
    check_refused(hsm_nginx(), "id=7330;object=root-key;token=stepca on the token does not match the "
                               "certificate in " + hsm_pki.intermediate_crt)


def test_missing_key_fails_nginx_t_naming_it(hsm_pki, hsm_nginx):
    doc = hsm_pki.read_ca_json()
    doc["key"] = "pkcs11:id=7399;object=nope"
    hsm_pki.write_ca_json(doc)
    check_refused(hsm_nginx(), "no private key id=7399;object=nope")


def test_pkcs11_key_without_kms_object(hsm_pki, hsm_nginx):
    doc = hsm_pki.read_ca_json()
    del doc["kms"]
    hsm_pki.write_ca_json(doc)
    check_refused(hsm_nginx(), "a pkcs11: key needs a kms object")


def test_bad_key_uri_is_named(hsm_pki, hsm_nginx):
    doc = hsm_pki.read_ca_json()
    doc["key"] = "pkcs11:id=7331;objekt=intermediate-key"
    hsm_pki.write_ca_json(doc)
    check_refused(hsm_nginx(), "unknown attribute objekt")


@pytest.mark.parametrize("key,scheme", [
    ("tpmkms:name=intermediate", "tpmkms:"),
    ("sshagentkms:name=ca", "sshagentkms:"),
    ("https://vault.example/keys/intermediate", "https://"),
])
def test_other_kms_schemes_are_refused_naming_the_scheme(nginx_factory, pki, key, scheme):
    doc = pki.read_ca_json()
    doc["key"] = key
    pki.write_ca_json(doc)
    t = nginx_factory().test_config()
    assert t.returncode != 0
    assert scheme in t.stderr and "not supported" in t.stderr, t.stderr
    assert "supported: a PEM file path, pkcs11:, yubikey:, awskms:, cloudkms" in t.stderr, t.stderr
    assert "cannot read" not in t.stderr, t.stderr


@pytest.mark.parametrize("key,kind", [
    ("awskms:key-id=f879f239-feb6-4596-9ed2-b1606277c7fe", "awskms"),
    ("yubikey:slot-id=9c", "yubikey"),
    ("azurekms:name=intermediate-ca-key;vault=example-vault-0?version=15&hsm=true", "azurekms"),
    ("projects/p/locations/global/keyRings/pki/cryptoKeys/intermediate/cryptoKeyVersions/1",
     "cloudkms"),
])
def test_kms_keys_without_a_kms_object_say_so(nginx_factory, pki, key, kind):
    doc = pki.read_ca_json()
    doc["key"] = key
    pki.write_ca_json(doc)
    t = nginx_factory().test_config()
    assert t.returncode != 0
    assert 'a %s key needs a kms object ({"type": "%s"' % (kind, kind) in t.stderr, t.stderr
    assert "cannot read" not in t.stderr, t.stderr


def test_kms_types_are_checked(nginx_factory, pki):
    doc = pki.read_ca_json()
    doc["key"] = "pkcs11:id=7331"
    doc["kms"] = {"type": "awskms", "uri": "awskms:region=us-east-1"}
    pki.write_ca_json(doc)
    t = nginx_factory().test_config()
    assert t.returncode != 0
    assert '"awskms" does not fit key, a pkcs11 key (kms.type must be pkcs11)' in t.stderr, t.stderr
    doc["kms"] = {"type": "tpmkms"}
    pki.write_ca_json(doc)
    t = nginx_factory("nginx2").test_config()
    assert t.returncode != 0
    assert '"tpmkms" is not supported by this version; supported: pkcs11, yubikey, awskms' in t.stderr
    # A kms object with a file key: the key must be the KMS's.
    doc = pki.read_ca_json()
    doc["key"] = pki.intermediate_key
    doc["kms"] = {"type": "pkcs11", "uri": kms_uri()}
    pki.write_ca_json(doc)
    t = nginx_factory("nginx3").test_config()
    assert t.returncode != 0
    assert "kms.type is pkcs11, so key must be a pkcs11 key URI" in t.stderr, t.stderr
    assert PIN not in t.stdout + t.stderr


def test_yubikey_without_a_yubikey_names_the_module(nginx_factory, pki, prefix):
    """No YubiKey is attached here: with ykcs11 installed the module loads
    and finds no token; without it the module path is named."""
    doc = pki.read_ca_json()
    doc["key"] = "yubikey:slot-id=9c"
    doc["kms"] = {"type": "yubikey", "uri": "yubikey:management-key=0102030405060708?pin-value=654321"}
    pki.write_ca_json(doc)
    t = nginx_factory().test_config()
    assert t.returncode != 0
    assert "yubikey:slot-id=9c" in t.stderr and "libykcs11.so" in t.stderr, t.stderr
    assert "654321" not in t.stdout + t.stderr
    doc["key"] = "yubikey:slot-id=f9"
    pki.write_ca_json(doc)
    t = nginx_factory("nginx2").test_config()
    assert t.returncode != 0
    assert "supported: 9a, 9c, 9d, 9e and 82-95" in t.stderr, t.stderr


def test_rsa_keys_on_the_token_issue_pkcs1_certificates(hsm, prefix, hsm_nginx_for, tmp_path):
    proc, steppath = stepca_init(os.path.join(prefix, "rsa"), "--kty", "RSA")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hsm.give_to_workers()
    pki = Pki(steppath)
    n = hsm_nginx_for(pki)
    t = n.test_config()
    assert t.returncode == 0, t.stderr
    n.start()
    prov = Provisioner(pki.ca_json, PROV_PASSWORD)
    status, data, _ = sign(n, prov, "rsa.example.test")
    assert status == 201, data
    resp = json.loads(data)
    openssl_verify(pki, str(tmp_path), resp, "rsa")
    cert = x509.load_pem_x509_certificate(resp["crt"].encode())
    assert cert.signature_algorithm_oid == x509.SignatureAlgorithmOID.RSA_WITH_SHA256
    inter = x509.load_pem_x509_certificate(open(pki.intermediate_crt, "rb").read())
    assert inter.public_key().key_size == 3072


@pytest.mark.skipif(shutil.which("lego") is None, reason="lego is not installed (scripts/install-deps.sh)")
def test_acme_certificates_are_signed_on_the_token(hsm_pki, hsm_nginx, tmp_path):
    """The issue's "JWK and ACME": a real ACME client (lego, http-01) gets a
    certificate whose signature only the token's key can have made."""
    from conftest import free_port
    port = free_port()
    doc = hsm_pki.read_ca_json()
    provs = doc["authority"]["provisioners"]
    acme = [p for p in provs if p["type"] == "ACME"]
    if not acme:
        provs.append({"type": "ACME", "name": "acme"})
        acme = [provs[-1]]
    acme[0]["nginxStepca"] = {"http01Port": port}
    hsm_pki.write_ca_json(doc)
    n = hsm_nginx(workers=2)
    n.start()
    work = tmp_path / "lego"
    work.mkdir()
    env = dict(os.environ, LEGO_CA_CERTIFICATES=hsm_pki.root_crt)
    proc = subprocess.run(
        ["lego", "--server", "https://127.0.0.1:%d/acme/%s/directory" % (n.port, acme[0]["name"]),
         "--email", "ops@example.test", "--accept-tos", "--domains", "localhost", "--http",
         "--http.port", ":%d" % port, "--path", str(work), "run"],
        env=env, cwd=str(work), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    bundle = str(work / "certificates" / "localhost.crt")
    leaf = x509.load_pem_x509_certificate(open(bundle, "rb").read())
    inter = x509.load_pem_x509_certificate(open(hsm_pki.intermediate_crt, "rb").read())
    assert leaf.issuer == inter.subject
    # The intermediate's key exists only on the token: a leaf that verifies
    # under its public key was signed there.
    inter.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes,
                              ec.ECDSA(leaf.signature_hash_algorithm))
    out = subprocess.run(["openssl", "verify", "-CAfile", hsm_pki.root_crt, "-untrusted", bundle, bundle],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
