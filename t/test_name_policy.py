"""Name policies end to end: the README's example policy (read from the
README itself) on the fixture PKI, through /1.0/sign, renew, the real
`step` CLI and lego over ACME; a bad policy fails `nginx -t`."""

import ipaddress
import json
import os
import re
import shutil
import subprocess

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import REPO, free_port
from test_acme import CLIENT_TIMEOUT, assert_ours, load_cert, run
from test_renew import issue, post
from test_sign import PROVISIONER_PASSWORD, aud, sign
from tokens import Provisioner, make_csr

JWK = "fixture@example.test"
PREFIX = "The request was forbidden by the certificate authority: "


def readme_example():
    """The JSON block after the name-policy marker in README.md."""
    with open(os.path.join(REPO, "README.md")) as f:
        text = f.read()
    m = re.search(r"<!-- name-policy-example -->\s*```json\n(.*?)```", text, re.S)
    assert m, "README.md lost its name-policy example"
    return json.loads(m.group(1))


def apply_policies(pki, example):
    """Puts the example's authority and provisioner policies into ca.json."""
    doc = pki.read_ca_json()
    auth = example["authority"]
    if "policy" in auth:
        doc["authority"]["policy"] = auth["policy"]
    by_name = {p["name"]: p for p in auth.get("provisioners", [])}
    for p in doc["authority"]["provisioners"]:
        if p["name"] in by_name and "policy" in by_name[p["name"]]:
            p["policy"] = by_name[p["name"]]["policy"]
    pki.write_ca_json(doc)


@pytest.fixture
def policy_nginx(nginx_factory, pki):
    apply_policies(pki, readme_example())
    return nginx_factory().start()


@pytest.fixture
def prov(pki):
    return Provisioner(pki.ca_json, PROVISIONER_PASSWORD)


def csr_with(cn, dns=(), ips=(), emails=()):
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    names += [x509.RFC822Name(e) for e in emails]
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def issued_count(n):
    return n.read_file("error.log").count("issued certificate serial=")


def refusal(kind, name, why):
    return {"status": 403,
            "message": PREFIX + '%s name "%s" not allowed (%s).' % (kind, name, why)}


OF_JWK = 'the policy of provisioner "%s"' % JWK


def test_readme_example_through_sign(policy_nginx, prov):
    n = policy_nginx
    allowed = [("www.example.test", ["www.example.test"]),
               ("example.test", ["example.test", "192.0.2.7"]),
               ("mail.example.test", ["mail.example.test", "ops@example.test"])]
    for cn, sans in allowed:
        dns = [s for s in sans if not s[0].isdigit() and "@" not in s]
        ips = [s for s in sans if s[0].isdigit()]
        emails = [s for s in sans if "@" in s]
        status, _, body = sign(n, csr_with(cn, dns, ips, emails), prov.token(cn, aud(n), sans=sans))
        assert status == 201, (cn, body)
    assert issued_count(n) == 3

    refused = [
        ("admin.example.test", ["admin.example.test"],
         refusal("dns", "admin.example.test", 'denied by "admin.example.test" in ' + OF_JWK)),
        ("legacy.example.test", ["legacy.example.test"],
         refusal("dns", "legacy.example.test", 'denied by "legacy.example.test" in the authority policy')),
        ("www.other.test", ["www.other.test"],
         refusal("dns", "www.other.test", "no allow rule of %s matches it" % OF_JWK)),
        ("a.b.example.test", ["a.b.example.test"],
         refusal("dns", "a.b.example.test", "no allow rule of %s matches it" % OF_JWK)),
        ("*.example.test", ["*.example.test"],
         refusal("dns", "*.example.test",
                 "wildcard names are not allowed by %s (allowWildcardNames is false)" % OF_JWK)),
        ("host.example.test", ["host.example.test", "192.0.2.200"],
         refusal("ip", "192.0.2.200", 'denied by "192.0.2.128/25" in the authority policy')),
        ("host.example.test", ["host.example.test", "198.51.100.1"],
         refusal("ip", "198.51.100.1", "no allow rule of %s matches it" % OF_JWK)),
        ("host.example.test", ["host.example.test", "ops@other.test"],
         refusal("email", "ops@other.test", "no allow rule of %s matches it" % OF_JWK)),
    ]
    for cn, sans, want in refused:
        dns = [s for s in sans if not s[0].isdigit() and "@" not in s]
        ips = [s for s in sans if s[0].isdigit()]
        emails = [s for s in sans if "@" in s]
        csr = csr_with(cn, dns, ips, emails)
        ott = prov.token(cn, aud(n), sans=sans)
        status, headers, body = sign(n, csr, ott)
        assert status == 403, (cn, body)
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body) == want
        # The token was not spent: the same token is refused by the policy
        # again, not as a replay (401).
        status, _, body = sign(n, csr, ott)
        assert status == 403, (cn, body)
    # Nothing was issued or recorded for a refusal.
    assert issued_count(n) == 3


def test_authority_policy_alone(nginx_factory, pki, prov):
    """No provisioner policy: the authority's applies by itself."""
    doc = pki.read_ca_json()
    doc["authority"]["policy"] = {"x509": {"allow": {"dns": ["*.corp.test"]},
                                           "deny": {"dns": ["vault.corp.test"]}}}
    pki.write_ca_json(doc)
    n = nginx_factory().start()
    csr, _ = make_csr("app.corp.test")
    status, _, body = sign(n, csr, prov.token("app.corp.test", aud(n)))
    assert status == 201, body
    for cn, why in (("vault.corp.test", 'denied by "vault.corp.test" in the authority policy'),
                    ("app.elsewhere.test", "no allow rule of the authority policy matches it")):
        csr, _ = make_csr(cn)
        status, _, body = sign(n, csr, prov.token(cn, aud(n)))
        assert status == 403, body
        assert json.loads(body) == refusal("dns", cn, why)
    # An IP SAN: the policy allows DNS names only.
    csr = csr_with("app.corp.test", ["app.corp.test"], ["10.1.2.3"])
    status, _, body = sign(n, csr, prov.token("app.corp.test", aud(n), sans=["app.corp.test", "10.1.2.3"]))
    assert status == 403
    assert json.loads(body)["message"] == PREFIX + (
        'ip name "10.1.2.3" not allowed (the authority policy allows only the names it lists '
        'and lists no ip names).')


def test_renew_is_judged_by_todays_policy(nginx_factory, pki, prov, tmp_path):
    n = nginx_factory().start()
    holder = issue(n, prov, tmp_path, "svc.renew.test")
    status, _, body = post(n, "/renew", cert=holder.crt_path, key=holder.key_path)
    assert status == 201, body
    # The policy is tightened: the same certificate no longer renews.
    doc = pki.read_ca_json()
    doc["authority"]["policy"] = {"x509": {"deny": {"dns": ["*.renew.test"]}}}
    pki.write_ca_json(doc)
    n.reload()
    for path in ("/renew", "/1.0/renew"):
        status, _, body = post(n, path, cert=holder.crt_path, key=holder.key_path)
        assert status == 403, body
        assert json.loads(body) == refusal(
            "dns", "svc.renew.test", 'denied by "*.renew.test" in the authority policy')
    # Rekey too.
    csr, _ = make_csr("svc.renew.test")
    status, _, body = post(n, "/rekey", body=json.dumps({"csr": csr}),
                           cert=holder.crt_path, key=holder.key_path)
    assert status == 403, body


@pytest.mark.parametrize("policy,where,what", [
    ({"x509": {"allow": {"ip": ["10.0.0.0/33"]}}}, "authority.policy.x509.allow.ip[0]",
     "is neither an IP address nor a CIDR"),
    ({"x509": {"deny": {"dns": [".example.test"]}}}, "authority.policy.x509.deny.dns[0]",
     'write a sub-domain rule as "*.example.test"'),
    ({"x509": {"alow": {"dns": ["example.test"]}}}, "authority.policy.x509.alow", "unknown key"),
    ({"x509": {"allow": {"commonName": ["x"]}}}, "authority.policy.x509.allow.commonName",
     'step-ca spells it "cn"'),
])
def test_bad_authority_policy_fails_nginx_t(nginx_factory, pki, policy, where, what):
    doc = pki.read_ca_json()
    doc["authority"]["policy"] = policy
    pki.write_ca_json(doc)
    n = nginx_factory()
    proc = n.test_config()
    assert proc.returncode != 0, proc.stderr
    assert pki.ca_json in proc.stderr
    assert where in proc.stderr, proc.stderr
    assert what in proc.stderr, proc.stderr


def test_bad_provisioner_policy_fails_nginx_t(nginx_factory, pki):
    doc = pki.read_ca_json()
    doc["authority"]["provisioners"][0]["policy"] = {"ssh": {"user": {"allow": {"principal": "alice"}}}}
    pki.write_ca_json(doc)
    proc = nginx_factory().test_config()
    assert proc.returncode != 0
    assert "authority.provisioners[0].policy.ssh.user.allow.principal" in proc.stderr, proc.stderr
    assert "must be a list of strings" in proc.stderr


# ------------------------------------------------------------ step CLI


def test_step_cli_refused_and_allowed(step_cli, policy_nginx, pki):
    from test_step_cli import Ca, assert_refused, bootstrap, jwk_certificate
    ca = Ca(policy_nginx, pki)
    step = bootstrap(step_cli, ca)
    crt = os.path.join(step.steppath, "ok.crt")
    jwk_certificate(step, ca, "www.example.test", crt, os.path.join(step.steppath, "ok.key"))
    assert "www.example.test" in load_cert(crt).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    bad = os.path.join(step.steppath, "bad.crt")
    proc = jwk_certificate(step, ca, "admin.example.test", bad,
                           os.path.join(step.steppath, "bad.key"), check=False)
    assert_refused(proc)
    # step prints the CA's message, quotes escaped or not
    assert re.search(r'dns name \\?"admin\.example\.test\\?" not allowed', proc.stdout + proc.stderr), \
        proc.stdout + proc.stderr
    assert not os.path.exists(bad)


# ------------------------------------------------------------ ACME


@pytest.mark.skipif(shutil.which("lego") is None, reason="lego not installed")
def test_lego_rejected_identifier_then_certificate(nginx_factory, pki, prefix):
    apply_policies(pki, readme_example())
    http01 = free_port()
    doc = pki.read_ca_json()
    for p in doc["authority"]["provisioners"]:
        if p["type"] == "ACME":
            p["nginxStepca"] = {"http01Port": http01}
    pki.write_ca_json(doc)
    n = nginx_factory().start()
    directory = "https://127.0.0.1:%d/acme/acme/directory" % n.port
    work = os.path.join(prefix, "lego")
    os.makedirs(work)
    env = dict(os.environ, LEGO_CA_CERTIFICATES=pki.root_crt)

    def lego(domain):
        return ["lego", "--server", directory, "--email", "ops@example.test",
                "--accept-tos", "--domains", domain, "--http",
                "--http.port", ":%d" % http01, "--path", work, "run"]

    proc = subprocess.run(lego("denied.localhost"), env=env, cwd=work, capture_output=True,
                          text=True, timeout=CLIENT_TIMEOUT)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "urn:ietf:params:acme:error:rejectedIdentifier" in out, out
    assert re.search(r'dns name \\?"denied\.localhost\\?" not allowed', out), out
    assert not os.path.exists(os.path.join(work, "certificates", "denied.localhost.crt"))

    run(lego("localhost"), env, work)
    assert_ours(load_cert(os.path.join(work, "certificates", "localhost.crt")), pki, "localhost")


def test_acme_new_order_problem_document(nginx_factory, pki):
    """The new-order refusal without a client in between: a wildcard and a
    name outside the list are refused before any authorization exists."""
    from test_acme_fleet import Acme
    apply_policies(pki, readme_example())
    n = nginx_factory().start()
    c = Acme(n.port, pki.root_crt)
    c.directory()
    c.register()
    of_acme = 'the policy of provisioner "acme"'
    for value, why in (("*.localhost", "wildcard names are not allowed by %s "
                                       "(allowWildcardNames is false)" % of_acme),
                       ("www.example.test", "no allow rule of %s matches it" % of_acme)):
        status, headers, body = c.post(c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": value}]})
        assert status == 400, body
        assert headers["Content-Type"] == "application/problem+json"
        doc = json.loads(body)
        assert doc["type"] == "urn:ietf:params:acme:error:rejectedIdentifier"
        assert doc["detail"] == 'dns name "%s" not allowed (%s)' % (value, why)
    status, _, body = c.post(c.dir["newOrder"], {"identifiers": [{"type": "ip", "value": "127.0.0.1"}]})
    assert status == 400, body
    assert json.loads(body)["detail"].startswith('ip name "127.0.0.1" not allowed')
    status, _, body = c.post(c.dir["newOrder"], {"identifiers": [{"type": "dns", "value": "localhost"}]})
    assert status == 201, body
