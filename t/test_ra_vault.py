"""Registration authority mode, vaultcas: our module in front of Vault's
PKI secrets engine. No Vault server can run here: the upstream is
t/fake_vault.py, written from Vault's API documentation and strict about
paths, tokens, the namespace header and bodies. It signs for real with its
own root and intermediate.

The RA's ca.json has no root, crt or key: it names Vault (address, root
fingerprint) and authority.config (mount, roles, auth), and keeps its own
JWK provisioner for its clients."""

import json
import os
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from fake_vault import FakeVault, ca_of_pki, colon_hex
from tokens import Provisioner, make_csr, rsa_key

PROVISIONER_PASSWORD = "fixture-provisioner-password"


def load_pems(text):
    out, rest, end = [], text.encode() if isinstance(text, str) else text, b"-----END CERTIFICATE-----"
    while end in rest:
        i = rest.index(end) + len(end)
        out.append(x509.load_pem_x509_certificate(rest[:i].strip() + b"\n"))
        rest = rest[i:]
    return out


def der(c):
    return c.public_bytes(serialization.Encoding.DER)


@pytest.fixture
def vault():
    made = []

    def make(**kw):
        v = FakeVault(**kw)
        made.append(v)
        return v

    yield make
    for v in made:
        v.stop()


def write_ra_ca_json(pki, vault, fingerprint=None, config=None, auth_options=None):
    doc = pki.read_ca_json()
    for f in ("root", "crt", "key", "db", "address"):
        doc.pop(f, None)
    a = doc["authority"]
    a["type"] = "vaultcas"
    a["certificateAuthority"] = vault.url
    a["certificateAuthorityFingerprint"] = fingerprint or vault.root_fingerprint()
    cfg = {"pkiMountPath": vault.mount, "pkiRoleRSA": "rsa-role", "pkiRoleEC": "ec-role",
           "pkiRoleEd25519": "ed25519-role", "authType": "approle", "authMountPath": "approle",
           "authOptions": {"roleID": vault.role_id, "secretID": vault.secret_id,
                           "isWrappingToken": False}}
    if vault.namespace:
        cfg["namespace"] = vault.namespace
    cfg.update(config or {})
    if auth_options is not None:
        cfg["authOptions"] = auth_options
    a["config"] = cfg
    pki.write_ca_json(doc)


def make_ra(nginx_factory, pki, vault, start=True, **kw):
    write_ra_ca_json(pki, vault, **kw)
    n = nginx_factory(password_file=None)
    return n.start() if start else n


def post(n, path, doc):
    return n.request("POST", path, body=json.dumps(doc), headers={"Content-Type": "application/json"})


def sign(ra, pki, cn, key=None, csr=None):
    prov = Provisioner(pki.ca_json, PROVISIONER_PASSWORD)
    if csr is None:
        csr, key = make_csr(cn, key=key)
    token = prov.token(cn, "https://127.0.0.1:%d/1.0/sign" % ra.port, [cn])
    status, _, body = post(ra, "/1.0/sign", {"csr": csr, "ott": token})
    return status, body


def ed25519_csr(cn):
    key = ed25519.Ed25519PrivateKey.generate()
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
           .sign(key, None))
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def assert_from_vault(body, vault, cn):
    doc = json.loads(body)
    chain = [load_pems(p)[0] for p in doc["certChain"]]
    assert len(chain) == 2, doc["certChain"]
    assert der(chain[1]) == der(vault.intermediate)
    assert doc["ca"].strip() == vault.intermediate_pem.strip()
    leaf = chain[0]
    assert leaf.issuer == vault.intermediate.subject
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == cn
    # the fake keeps what it signed: the RA answered with Vault's leaf
    assert colon_hex(leaf.serial_number) in vault.issued
    return leaf


# ---------------------------------------------------------------- serving


def test_the_ra_serves_the_vault_root(nginx_factory, pki, vault):
    v = vault()
    ra = make_ra(nginx_factory, pki, v)
    status, _, body = ra.get("/roots")
    assert status == 201, body
    assert [c.strip() for c in json.loads(body)["crts"]] == [v.root_pem.strip()]
    status, _, body = ra.get("/root/" + v.root_fingerprint())
    assert status == 200, body
    assert json.loads(body)["ca"].strip() == v.root_pem.strip()


def test_the_role_follows_the_csr_key_type_and_the_token_is_reused(nginx_factory, pki, vault):
    v = vault(namespace="custom/vault/enterprise/namespace")
    ra = make_ra(nginx_factory, pki, v)
    status, body = sign(ra, pki, "ec.example.test")
    assert status == 201, body
    assert_from_vault(body, v, "ec.example.test")
    status, body = sign(ra, pki, "rsa.example.test", key=rsa_key(2048))
    assert status == 201, body
    assert isinstance(assert_from_vault(body, v, "rsa.example.test").public_key(),
                      type(rsa_key(1024).public_key()))
    status, body = sign(ra, pki, "ed.example.test", csr=ed25519_csr("ed.example.test"))
    assert status == 201, body
    assert_from_vault(body, v, "ed.example.test")
    signs = [e for e in v.log if "/sign/" in e[1]]
    assert [e[1] for e in signs] == ["/v1/pki_int1/sign/ec-role", "/v1/pki_int1/sign/rsa-role",
                                     "/v1/pki_int1/sign/ed25519-role"]
    for method, _, headers, raw in signs:
        assert method == "POST"
        assert headers["X-Vault-Namespace"] == "custom/vault/enterprise/namespace"
        assert headers["X-Vault-Token"] in v.tokens
        sent = json.loads(raw)
        assert sent["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
        assert sent["ttl"].endswith("s") and 0 < int(sent["ttl"][:-1]) <= 24 * 3600 + 60
    # one login at start (each worker reuses the token the master got)
    assert v.logins == 1
    # the secret never reaches the log
    assert v.secret_id not in ra.read_file("error.log")


def test_pki_role_default_is_used_when_no_key_role_is_set(nginx_factory, pki, vault):
    v = vault(roles={"default": "ec"}, mount="pki")
    ra = make_ra(nginx_factory, pki, v, config={"pkiMountPath": None, "pkiRoleEC": None,
                                                "pkiRoleRSA": None, "pkiRoleEd25519": None})
    status, body = sign(ra, pki, "default-role.example.test")
    assert status == 201, body
    assert [e[1] for e in v.log if "/sign/" in e[1]] == ["/v1/pki/sign/default"]


def test_revoke_through_the_ra_reaches_vault(nginx_factory, pki, vault):
    v = vault()
    ra = make_ra(nginx_factory, pki, v)
    status, body = sign(ra, pki, "revoked.example.test")
    assert status == 201, body
    leaf = load_pems(json.loads(body)["crt"])[0]
    serial = str(leaf.serial_number)
    token = Provisioner(pki.ca_json, PROVISIONER_PASSWORD).token(
        serial, "https://127.0.0.1:%d/1.0/revoke" % ra.port, sans=[])
    status, _, body = post(ra, "/1.0/revoke", {"serial": serial, "ott": token, "passive": True,
                                               "reasonCode": 1})
    assert status == 200, body
    assert v.revoked == {colon_hex(leaf.serial_number)}
    (_, path, _, raw), = v.requests_to("/revoke")
    assert path == "/v1/pki_int1/revoke"
    assert json.loads(raw) == {"serial_number": colon_hex(leaf.serial_number)}


@pytest.mark.allow_error_log
def test_vault_over_tls_is_checked_against_vault_cacert(nginx_factory, pki, vault, server_tls,
                                                        monkeypatch):
    v = vault(tls=server_tls)  # a certificate from the fixture root, for 127.0.0.1
    assert v.url.startswith("https://")
    monkeypatch.delenv("VAULT_CACERT", raising=False)
    n = make_ra(nginx_factory, pki, v, start=False)
    out = n.test_config()
    assert out.returncode != 0  # the system's trust store does not know the fixture root
    assert "Vault did not answer" in out.stderr, out.stderr
    assert not v.requests_to("/login")
    monkeypatch.setenv("VAULT_CACERT", pki.root_crt)
    ra = nginx_factory(name="trusted", password_file=None).start()
    status, body = sign(ra, pki, "tls.example.test")
    assert status == 201, body
    assert_from_vault(body, v, "tls.example.test")


# ---------------------------------------------------------------- auth methods


def test_secret_id_from_a_file_and_from_the_environment(nginx_factory, pki, vault, prefix, monkeypatch):
    v = vault()
    f = os.path.join(prefix, "secret-id.txt")
    open(f, "w").write(v.secret_id + "\n")
    ra = make_ra(nginx_factory, pki, v, auth_options={"roleID": v.role_id, "secretIDFile": f})
    status, body = sign(ra, pki, "file.example.test")
    assert status == 201, body
    ra.stop()
    monkeypatch.setenv("FAKE_VAULT_SECRET_ID", v.secret_id)
    write_ra_ca_json(pki, v, auth_options={"roleID": v.role_id, "secretIDEnv": "FAKE_VAULT_SECRET_ID"})
    out = nginx_factory(name="env", password_file=None).test_config()
    assert out.returncode == 0, out.stderr


@pytest.mark.allow_error_log
def test_a_wrapped_secret_id_is_unwrapped_once(nginx_factory, pki, vault):
    v = vault()
    wrapped = v.wrap_secret_id()
    ra = make_ra(nginx_factory, pki, v, auth_options={"roleID": v.role_id, "secretID": wrapped,
                                                      "isWrappingToken": True})
    status, body = sign(ra, pki, "wrapped.example.test")
    assert status == 201, body
    (_, _, headers, _), = v.requests_to("sys/wrapping/unwrap")
    assert headers["X-Vault-Token"] == wrapped
    # the same wrapping token again: Vault refuses, and so does the load
    out = nginx_factory(name="again", password_file=None).test_config()
    assert out.returncode != 0
    assert "Vault refused to unwrap the wrapping token" in out.stderr, out.stderr
    assert "can be unwrapped only once" in out.stderr, out.stderr
    assert "authority.config.authOptions.secretID" in out.stderr, out.stderr


def test_kubernetes_auth_reads_the_service_account_token(nginx_factory, pki, vault, prefix):
    v = vault(kubernetes_mount="k8s-cluster")
    path = os.path.join(prefix, "sa-token")
    open(path, "w").write(v.kubernetes_jwt + "\n")
    ra = make_ra(nginx_factory, pki, v, config={"authType": "kubernetes", "authMountPath": "k8s-cluster"},
                 auth_options={"role": v.kubernetes_role, "tokenPath": path})
    status, body = sign(ra, pki, "k8s.example.test")
    assert status == 201, body
    (_, p, _, raw), = v.requests_to("/login")
    assert p == "/v1/auth/k8s-cluster/login"
    assert json.loads(raw) == {"role": v.kubernetes_role, "jwt": v.kubernetes_jwt}


@pytest.mark.allow_error_log
def test_a_wrong_secret_id_refuses_to_start(nginx_factory, pki, vault):
    v = vault()
    n = make_ra(nginx_factory, pki, v, start=False,
                auth_options={"roleID": v.role_id, "secretID": "not-the-secret"})
    out = n.test_config()
    assert out.returncode != 0
    assert "Vault refused the approle login at auth/approle/login: invalid secret id" in out.stderr, out.stderr
    assert "authority.config.authOptions.secretID" in out.stderr, out.stderr
    assert "not-the-secret" not in out.stderr


# ---------------------------------------------------------------- token lifetime


def test_the_token_is_renewed_before_it_expires(nginx_factory, pki, vault):
    v = vault(token_ttl=9, renewable=True)
    t0 = time.monotonic()  # the master logs in at start
    ra = make_ra(nginx_factory, pki, v)
    status, body = sign(ra, pki, "first.example.test")
    assert status == 201, body
    # past two thirds of the lease (6 s), before its end (9 s)
    time.sleep(max(0, t0 + 6.7 - time.monotonic()))
    status, body = sign(ra, pki, "second.example.test")
    assert status == 201, body
    assert v.renewals >= 1
    assert v.logins == 1


def test_a_token_that_cannot_be_renewed_is_replaced_by_a_new_login(nginx_factory, pki, vault):
    v = vault(token_ttl=3, renewable=False)
    ra = make_ra(nginx_factory, pki, v)
    time.sleep(3.2)  # the master's token has lapsed
    status, body = sign(ra, pki, "relogin.example.test")
    assert status == 201, body
    assert v.renewals == 0
    assert v.logins >= 2


def test_a_token_vault_revoked_early_is_replaced(nginx_factory, pki, vault):
    v = vault()
    ra = make_ra(nginx_factory, pki, v)
    v.expire_all_tokens()
    status, body = sign(ra, pki, "revoked-token.example.test")
    assert status == 201, body
    # the refused call (403) was retried once after a new login
    assert [e[1] for e in v.log if "/sign/" in e[1]].count("/v1/pki_int1/sign/ec-role") == 2
    assert v.logins == 2


# ---------------------------------------------------------------- faults


@pytest.mark.allow_error_log
def test_vault_failing_is_a_503_and_nothing_is_recorded(nginx_factory, pki, vault):
    v = vault()
    ra = make_ra(nginx_factory, pki, v)
    v.fail_status = 500
    status, body = sign(ra, pki, "fail.example.test")
    assert status == 503, body
    doc = json.loads(body)
    assert "Vault could not sign the certificate (HTTP 500)" in doc["message"], doc
    assert "the token was spent" in doc["message"], doc
    assert "internal error" in ra.read_file("error.log")  # Vault's words, for the operator
    assert "issued certificate" not in ra.read_file("error.log")


@pytest.mark.allow_error_log
def test_vault_refusing_the_request_passes_its_reason_on(nginx_factory, pki, vault):
    v = vault()
    # the EC role of this ca.json is one that signs only RSA keys
    ra = make_ra(nginx_factory, pki, v, config={"pkiRoleEC": "rsa-role"})
    status, body = sign(ra, pki, "refused.example.test")
    assert status == 400, body
    assert "Vault refused to sign the certificate: role requires keys of type rsa" in \
        json.loads(body)["message"], body


@pytest.mark.allow_error_log
def test_a_vanished_mount_is_unavailability_not_the_clients_fault(nginx_factory, pki, vault):
    v = vault(roles={"ec-role": "ec"})
    ra = make_ra(nginx_factory, pki, v, config={"pkiMountPath": "pki_int1"})
    v.mount = "elsewhere"  # the mount vanished (unmounted) after start
    status, body = sign(ra, pki, "gone.example.test")
    assert status == 503, body
    assert "Vault could not sign the certificate (HTTP 404)" in json.loads(body)["message"], body
    assert "check authority.config.pkiMountPath" in ra.read_file("error.log")


@pytest.mark.allow_error_log
def test_vault_stopped_is_a_503(nginx_factory, pki, vault):
    v = vault()
    ra = make_ra(nginx_factory, pki, v)
    v.stop()
    status, body = sign(ra, pki, "stopped.example.test")
    assert status == 503, body
    assert "Vault did not answer" in json.loads(body)["message"], body
    assert ra.get("/health")[0] == 200


@pytest.mark.allow_error_log
def test_a_slow_vault_is_given_up_after_the_timeout(nginx_factory, pki, vault):
    v = vault()
    ra = make_ra(nginx_factory, pki, v)
    v.delay = 30
    t0 = time.monotonic()
    status, body = sign(ra, pki, "slow.example.test")
    took = time.monotonic() - t0
    assert status == 503, body
    assert "Vault did not answer in time" in json.loads(body)["message"], body
    assert 14 < took < 25, took


@pytest.mark.allow_error_log
def test_a_wrong_fingerprint_refuses_to_start(nginx_factory, pki, vault):
    v = vault()
    n = make_ra(nginx_factory, pki, v, start=False, fingerprint="ab" * 32)
    out = n.test_config()
    assert out.returncode != 0
    assert 'field "authority.certificateAuthorityFingerprint"' in out.stderr, out.stderr
    assert "has no CA certificate with fingerprint " + "ab" * 32 in out.stderr, out.stderr
    assert v.root_fingerprint() in out.stderr  # what Vault has instead
    assert not v.requests_to("/login")  # nothing was sent before the root was proven


@pytest.mark.allow_error_log
def test_a_wrong_namespace_refuses_to_start(nginx_factory, pki, vault):
    v = vault(namespace="team-a")
    n = make_ra(nginx_factory, pki, v, start=False, config={"namespace": "team-b"})
    out = n.test_config()
    assert out.returncode != 0
    assert "HTTP 404" in out.stderr and "namespace" in out.stderr, out.stderr


@pytest.mark.allow_error_log
@pytest.mark.parametrize("config, auth_options, words", [
    ({"authType": "ldap"}, None, '"authority.config.authType": must be "approle" or "kubernetes"'),
    ({}, {"roleID": "r"}, "one of secretID, secretIDFile or secretIDEnv is required"),
    ({}, {"roleID": "r", "secretID": "a", "secretIDEnv": "B"}, "give only one of"),
    ({}, {"secretID": "s"}, '"authority.config.authOptions.roleID": is required'),
    ({"authType": "kubernetes"}, {"tokenPath": "/x"}, '"authority.config.authOptions.role": is required'),
    ({}, {"roleID": "r", "secretIDEnv": "STEPCA_TEST_UNSET_VARIABLE"}, "STEPCA_TEST_UNSET_VARIABLE is not set in the environment"),
])
def test_config_mistakes_fail_nginx_t_with_the_field_named(nginx_factory, pki, vault, config,
                                                          auth_options, words):
    v = vault()
    n = make_ra(nginx_factory, pki, v, start=False, config=config, auth_options=auth_options)
    out = n.test_config()
    assert out.returncode != 0
    assert words in out.stderr, out.stderr


# ---------------------------------------------------------------- the real step CLI


def test_step_ca_certificate_through_a_vault_ra(step_cli, nginx_factory, pki, vault):
    # Vault's PKI is the fixture's here: the RA's TLS certificate (from the
    # fixture root) must chain to the root step bootstraps with
    v = vault(ca=ca_of_pki(pki))
    ra = make_ra(nginx_factory, pki, v)
    step_cli.run("ca", "bootstrap", "--ca-url", "https://127.0.0.1:%d" % ra.port,
                 "--fingerprint", v.root_fingerprint())
    crt = os.path.join(step_cli.steppath, "vault-cli.crt")
    key = os.path.join(step_cli.steppath, "vault-cli.key")
    step_cli.run("ca", "certificate", "vault-cli.example.test", crt, key,
                 "--provisioner", "fixture@example.test",
                 "--provisioner-password-file", os.path.join(pki.path, "provisioner-password.txt"))
    chain = load_pems(open(crt).read())
    assert chain[0].issuer == v.intermediate.subject
    assert colon_hex(chain[0].serial_number) in v.issued
    step_cli.run("certificate", "verify", crt, "--roots",
                 os.path.join(step_cli.steppath, "certs", "root_ca.crt"))


# ---------------------------------------------------------------- stepca init --ra vaultcas


def serve_init_dir(nginx_factory, steppath, name):
    from conftest import Pki
    ca_json = os.path.join(steppath, "config", "ca.json")
    doc = json.load(open(ca_json))
    for root, dirs, files in os.walk(steppath):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    n = nginx_factory(name=name, password_file=None)
    pki = Pki(steppath)
    pki.root_crt = doc["root"]
    n.pki = pki
    n.params["ca_json"] = ca_json
    n.write_conf()
    return n.start(), ca_json


def test_stepca_init_ra_vaultcas_writes_an_ra_the_module_serves(nginx_factory, pki, vault, prefix):
    from conftest import BUILD, free_port
    v = vault(namespace="team-a", ca=ca_of_pki(pki))
    secret = os.path.join(prefix, "secret-id.txt")
    open(secret, "w").write(v.secret_id + "\n")
    pw = os.path.join(prefix, "ra-admin-password.txt")
    open(pw, "w").write("ra admin password\n")
    steppath = os.path.join(prefix, "init-vault")
    base = [os.path.join(BUILD, "stepca"), "init", "--ra", "vaultcas", "--issuer", v.url,
            "--vault-pki-mount", v.mount, "--vault-pki-role-ec", "ec-role",
            "--vault-pki-role-rsa", "rsa-role", "--vault-pki-role-ed25519", "ed25519-role",
            "--vault-namespace", "team-a", "--vault-role-id", v.role_id,
            "--vault-secret-id-file", secret, "--dns", "127.0.0.1",
            "--address", "127.0.0.1:%d" % free_port(), "--provisioner", "ra-admin",
            "--password-file", pw, "--steppath", steppath]
    bad = subprocess_run(base + ["--issuer-fingerprint", "11" * 32])
    assert bad.returncode != 0
    assert "has no CA certificate with fingerprint " + "11" * 32 in bad.stderr, bad.stderr
    assert not os.path.exists(steppath)
    out = subprocess_run(base + ["--issuer-fingerprint", v.root_fingerprint()])
    assert out.returncode == 0, out.stdout + out.stderr
    doc = json.load(open(os.path.join(steppath, "config", "ca.json")))
    a = doc["authority"]
    assert (a["type"], a["certificateAuthority"], a["certificateAuthorityFingerprint"]) == \
        ("vaultcas", v.url, v.root_fingerprint())
    assert a["config"] == {
        "pkiMountPath": v.mount, "pkiRoleRSA": "rsa-role", "pkiRoleEC": "ec-role",
        "pkiRoleEd25519": "ed25519-role", "authType": "approle", "namespace": "team-a",
        "authOptions": {"roleID": v.role_id, "secretIDFile": secret, "isWrappingToken": False}}
    assert v.secret_id not in open(os.path.join(steppath, "config", "ca.json")).read()
    assert doc["crt"] == "" and doc["key"] == ""
    assert open(doc["root"]).read().strip() == v.root_pem.strip()
    defaults = json.load(open(os.path.join(steppath, "config", "defaults.json")))
    assert defaults["fingerprint"] == v.root_fingerprint()

    n, ca_json = serve_init_dir(nginx_factory, steppath, "init-vault-ra")
    prov = Provisioner(ca_json, "ra admin password")
    csr, _ = make_csr("from-init.example.test")
    token = prov.token("from-init.example.test", "https://127.0.0.1:%d/1.0/sign" % n.port)
    status, _, body = post(n, "/1.0/sign", {"csr": csr, "ott": token})
    assert status == 201, body
    assert_from_vault(body, v, "from-init.example.test")


def subprocess_run(args):
    import subprocess
    return subprocess.run(args, capture_output=True, text=True, timeout=60)
