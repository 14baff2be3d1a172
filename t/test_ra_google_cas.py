"""Registration authority mode, cloudCAS: our module in front of Google
Cloud Certificate Authority Service. Nothing of Google's can run here: the
upstream is t/fake_google_cas.py, written from the CA Service v1 and
OAuth2 service-account documentation. It verifies the RA's JWT grant
against the service account's public key, accepts only the bearer tokens
it issued, and signs for real with its own root and subordinate CA.

STEPCA_CLOUDCAS_ENDPOINT points the RA at the fake (README); the token
endpoint is the credentials file's token_uri, as with Google's own."""

import json
import os
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from fake_google_cas import FakeGoogleCas, hex_serial
from fake_vault import ca_of_pki
from test_ra_vault import PROVISIONER_PASSWORD, der, load_pems, post, sign
from tokens import Provisioner, make_csr, rsa_key


@pytest.fixture
def google(monkeypatch):
    made = []

    def make(**kw):
        g = FakeGoogleCas(**kw)
        made.append(g)
        monkeypatch.setenv("STEPCA_CLOUDCAS_ENDPOINT", g.url)
        return g

    yield make
    for g in made:
        g.stop()


def write_credentials(prefix, g, key=None, name="credentials.json"):
    path = os.path.join(prefix, name)
    with open(path, "w") as f:
        json.dump(g.credentials(key), f)
    os.chmod(path, 0o644)
    return path


def write_ra_ca_json(pki, g, credentials, name=None, fingerprint=None):
    doc = pki.read_ca_json()
    for f in ("root", "crt", "key", "db", "address"):
        doc.pop(f, None)
    a = doc["authority"]
    a["type"] = "cloudCAS"
    a["certificateAuthority"] = name or g.ca_name
    if credentials is not None:
        a["credentialsFile"] = credentials
    if fingerprint:
        a["certificateAuthorityFingerprint"] = fingerprint
    pki.write_ca_json(doc)


def make_ra(nginx_factory, pki, prefix, g, start=True, **kw):
    creds = kw.pop("credentials", None) or write_credentials(prefix, g)
    write_ra_ca_json(pki, g, creds, **kw)
    n = nginx_factory(password_file=None)
    return n.start() if start else n


def assert_from_google(body, g, cn):
    doc = json.loads(body)
    chain = [load_pems(p)[0] for p in doc["certChain"]]
    assert len(chain) == 2, doc["certChain"]
    assert der(chain[1]) == der(g.intermediate)
    leaf = chain[0]
    assert leaf.issuer == g.intermediate.subject
    assert leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == cn
    assert any(der(c["cert"]) == der(leaf) for c in g.certificates.values())
    return leaf


def test_the_ra_serves_the_cas_root_and_signs(nginx_factory, pki, prefix, google):
    g = google()
    ra = make_ra(nginx_factory, pki, prefix, g, fingerprint=g.root_fingerprint())
    status, _, body = ra.get("/roots")
    assert status == 201, body
    root_pem = load_pems(json.loads(body)["crts"][0])[0]
    assert der(root_pem) == der(g.root)
    status, body = sign(ra, pki, "gcas.example.test")
    assert status == 201, body
    assert_from_google(body, g, "gcas.example.test")
    status, body = sign(ra, pki, "gcas-rsa.example.test", key=rsa_key(2048))
    assert status == 201, body
    assert_from_google(body, g, "gcas-rsa.example.test")
    creates = [e for e in g.log if e[0] == "POST" and "/certificates?" in e[1]]
    assert len(creates) == 2
    for _, path, headers, raw in creates:
        assert path.startswith("/v1/%s/certificates?certificateId=stepca-" % g.pool)
        assert "issuingCertificateAuthorityId=" + g.ca_id in path
        sent = json.loads(raw)
        assert set(sent) == {"pemCsr", "lifetime"}
        assert sent["lifetime"].endswith("s") and 0 < int(sent["lifetime"][:-1]) <= 24 * 3600 + 60
        assert headers["Authorization"].startswith("Bearer ya29.fake-")
    # the access token from start is cached: one grant for everything
    assert g.grants == 1
    assert "BEGIN PRIVATE KEY" not in ra.read_file("error.log")


def test_a_pool_name_fetches_the_pool_ca_certs(nginx_factory, pki, prefix, google):
    g = google()
    ra = make_ra(nginx_factory, pki, prefix, g, name=g.pool)
    assert g.requests_to(":fetchCaCerts")
    status, body = sign(ra, pki, "pool.example.test")
    assert status == 201, body
    assert_from_google(body, g, "pool.example.test")
    (_, path, _, _), = [e for e in g.log if e[0] == "POST" and "/certificates?" in e[1]]
    assert "issuingCertificateAuthorityId" not in path  # Google picks the pool's CA


def test_credentials_from_google_application_credentials(nginx_factory, pki, prefix, google, monkeypatch):
    g = google()
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", write_credentials(prefix, g, name="adc.json"))
    write_ra_ca_json(pki, g, None)
    ra = nginx_factory(password_file=None).start()
    status, body = sign(ra, pki, "adc.example.test")
    assert status == 201, body


def test_revoke_through_the_ra_reaches_google(nginx_factory, pki, prefix, google):
    g = google()
    ra = make_ra(nginx_factory, pki, prefix, g)
    status, body = sign(ra, pki, "revoked.example.test")
    assert status == 201, body
    leaf = load_pems(json.loads(body)["crt"])[0]
    serial = str(leaf.serial_number)
    token = Provisioner(pki.ca_json, PROVISIONER_PASSWORD).token(
        serial, "https://127.0.0.1:%d/1.0/revoke" % ra.port, sans=[])
    status, _, body = post(ra, "/1.0/revoke", {"serial": serial, "ott": token, "passive": True,
                                               "reasonCode": 1})
    assert status == 200, body
    (c,) = [c for c in g.certificates.values() if c["cert"].serial_number == leaf.serial_number]
    assert c["revoked"] == "KEY_COMPROMISE"
    (_, path, _, _), = g.requests_to("hex_serial_number")
    assert hex_serial(leaf.serial_number) in path


def test_an_expired_access_token_is_replaced(nginx_factory, pki, prefix, google):
    g = google()
    ra = make_ra(nginx_factory, pki, prefix, g)
    g.expire_all_tokens()  # Google revoked it before its expires_in
    status, body = sign(ra, pki, "new-token.example.test")
    assert status == 201, body
    assert g.grants == 2


def test_a_short_lived_access_token_is_fetched_again_when_due(nginx_factory, pki, prefix, google):
    g = google(token_lifetime=2)
    ra = make_ra(nginx_factory, pki, prefix, g)
    time.sleep(2.2)
    status, body = sign(ra, pki, "due.example.test")
    assert status == 201, body
    assert g.grants == 2
    (_, _, headers, _), = [e for e in g.log if e[0] == "POST" and "/certificates?" in e[1]]
    assert headers["Authorization"] == "Bearer " + list(g.tokens)[-1]  # the new one


# ---------------------------------------------------------------- faults


@pytest.mark.allow_error_log
def test_a_key_that_is_not_the_service_accounts_refuses_to_start(nginx_factory, pki, prefix, google):
    g = google()
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    n = make_ra(nginx_factory, pki, prefix, g, start=False,
                credentials=write_credentials(prefix, g, key=other, name="wrong.json"))
    out = n.test_config()
    assert out.returncode != 0
    assert 'field "authority.credentialsFile"' in out.stderr, out.stderr
    assert "Invalid JWT Signature" in out.stderr, out.stderr
    assert not g.tokens


@pytest.mark.allow_error_log
@pytest.mark.parametrize("status, code, words", [
    (500, 503, "Google CAS could not sign the certificate (HTTP 500)"),
    (503, 503, "Google CAS could not sign the certificate (HTTP 503)"),
    (403, 503, "Google CAS did not accept the registration authority's credentials"),
    (400, 400, "Google CAS refused to sign the certificate: Internal error encountered."),
])
def test_google_failing_or_refusing(nginx_factory, pki, prefix, google, status, code, words):
    g = google()
    ra = make_ra(nginx_factory, pki, prefix, g)
    g.fail_status = status
    got, body = sign(ra, pki, "fault.example.test")
    assert got == code, body
    doc = json.loads(body)
    assert words in doc["message"], doc
    if code == 503:
        assert "the token was spent" in doc["message"], doc
    assert "issued certificate" not in ra.read_file("error.log")


@pytest.mark.allow_error_log
def test_google_stopped_is_a_503(nginx_factory, pki, prefix, google):
    g = google()
    ra = make_ra(nginx_factory, pki, prefix, g)
    g.stop()
    status, body = sign(ra, pki, "stopped.example.test")
    assert status == 503, body
    assert "Google CAS did not answer" in json.loads(body)["message"], body


@pytest.mark.allow_error_log
def test_a_slow_google_is_given_up_after_the_timeout(nginx_factory, pki, prefix, google):
    g = google()
    ra = make_ra(nginx_factory, pki, prefix, g)
    g.delay = 30
    t0 = time.monotonic()
    status, body = sign(ra, pki, "slow.example.test")
    assert status == 503, body
    assert "Google CAS did not answer in time" in json.loads(body)["message"], body
    assert 14 < time.monotonic() - t0 < 25


@pytest.mark.allow_error_log
def test_a_wrong_fingerprint_refuses_to_start(nginx_factory, pki, prefix, google):
    g = google()
    n = make_ra(nginx_factory, pki, prefix, g, start=False, fingerprint="cd" * 32)
    out = n.test_config()
    assert out.returncode != 0
    assert 'field "authority.certificateAuthorityFingerprint"' in out.stderr, out.stderr
    assert g.root_fingerprint() in out.stderr


@pytest.mark.allow_error_log
@pytest.mark.parametrize("name, words", [
    ("projects/p/locations/l/certificateAuthorities/ca", "must be a Google CAS name"),
    ("projects/p/locations/l/caPools/other/certificateAuthorities/fake-sub-ca", "HTTP 404"),
])
def test_a_wrong_ca_name_refuses_to_start(nginx_factory, pki, prefix, google, name, words):
    g = google()
    n = make_ra(nginx_factory, pki, prefix, g, start=False, name=name)
    out = n.test_config()
    assert out.returncode != 0
    assert 'field "authority.certificateAuthority"' in out.stderr, out.stderr
    assert words in out.stderr, out.stderr


@pytest.mark.allow_error_log
def test_no_credentials_at_all_refuses_to_start(nginx_factory, pki, prefix, google, monkeypatch):
    g = google()
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    write_ra_ca_json(pki, g, None)
    out = nginx_factory(password_file=None).test_config()
    assert out.returncode != 0
    assert '"authority.credentialsFile": is required' in out.stderr, out.stderr


# ---------------------------------------------------------------- the real step CLI


def test_step_ca_certificate_through_a_google_cas_ra(step_cli, nginx_factory, pki, prefix, google):
    g = google(ca=ca_of_pki(pki))  # the RA's TLS certificate chains to the CA's root
    ra = make_ra(nginx_factory, pki, prefix, g)
    step_cli.run("ca", "bootstrap", "--ca-url", "https://127.0.0.1:%d" % ra.port,
                 "--fingerprint", g.root_fingerprint())
    crt = os.path.join(step_cli.steppath, "gcas-cli.crt")
    key = os.path.join(step_cli.steppath, "gcas-cli.key")
    step_cli.run("ca", "certificate", "gcas-cli.example.test", crt, key,
                 "--provisioner", "fixture@example.test",
                 "--provisioner-password-file", os.path.join(pki.path, "provisioner-password.txt"))
    chain = load_pems(open(crt).read())
    assert chain[0].issuer == g.intermediate.subject
    step_cli.run("certificate", "verify", crt, "--roots",
                 os.path.join(step_cli.steppath, "certs", "root_ca.crt"))


# ---------------------------------------------------------------- stepca init --ra cloudcas


def test_stepca_init_ra_cloudcas_writes_an_ra_the_module_serves(nginx_factory, pki, google, prefix):
    from conftest import BUILD, free_port
    from test_ra_vault import serve_init_dir, subprocess_run
    g = google(ca=ca_of_pki(pki))
    creds = write_credentials(prefix, g)
    pw = os.path.join(prefix, "ra-admin-password.txt")
    open(pw, "w").write("ra admin password\n")
    steppath = os.path.join(prefix, "init-gcas")
    base = [os.path.join(BUILD, "stepca"), "init", "--ra", "cloudcas", "--credentials-file", creds,
            "--dns", "127.0.0.1", "--address", "127.0.0.1:%d" % free_port(),
            "--provisioner", "ra-admin", "--password-file", pw, "--steppath", steppath]
    bad = subprocess_run(base + ["--issuer", g.pool + "/certificateAuthorities/nope"])
    assert bad.returncode != 0
    assert "HTTP 404" in bad.stderr, bad.stderr
    assert not os.path.exists(steppath)
    out = subprocess_run(base + ["--issuer", g.ca_name])
    assert out.returncode == 0, out.stdout + out.stderr
    doc = json.load(open(os.path.join(steppath, "config", "ca.json")))
    a = doc["authority"]
    assert (a["type"], a["certificateAuthority"], a["credentialsFile"]) == ("cloudCAS", g.ca_name, creds)
    assert a["certificateAuthorityFingerprint"] == g.root_fingerprint()
    assert doc["crt"] == "" and doc["key"] == ""
    assert der(load_pems(open(doc["root"]).read())[0]) == der(g.root)
    assert json.load(open(os.path.join(steppath, "config", "defaults.json")))["fingerprint"] == \
        g.root_fingerprint()

    n, ca_json = serve_init_dir(nginx_factory, steppath, "init-gcas-ra")
    prov = Provisioner(ca_json, "ra admin password")
    csr, _ = make_csr("from-init.example.test")
    token = prov.token("from-init.example.test", "https://127.0.0.1:%d/1.0/sign" % n.port)
    status, _, body = post(n, "/1.0/sign", {"csr": csr, "ott": token})
    assert status == 201, body
    assert_from_google(body, g, "from-init.example.test")
