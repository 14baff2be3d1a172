"""X.509 certificate templates (provisioner options.x509), compared with the
real step-ca 0.19.

Each case of TEMPLATES is a template from step-ca's documented examples
(custom SANs, an extra extension, `fail` on a condition, `toJson
.Subject`, CRL distribution point / issuingCertificateURL / ocspServer,
templateData, the token's claims, X5C's .AuthorizationCrt). All of them
are provisioners of ONE ca.json (the fixture JWK key under several names),
served by the real step-ca and by our module on copies of the same PKI.
The same CSR and a token minted the same way go to both; the issued
certificates are compared field by field: subject, issuer, version,
signature algorithm, lifetime, and every extension with its criticality and
its DER value (the subject key id is the same because the CSR is; only the
serial and the validity instants must differ). A request the template
refuses must get the same status and message from both.

The comparison table (docs/templates-compat.md) is written from these
results when STEPCA_TEMPLATES_TABLE names a file.

Also: the real `step` CLI (STEP_CLI or PATH; skipped with the reason when
absent) gets a certificate from a templated provisioner; a template that
does not parse fails `nginx -t` naming the provisioner, the file and the
line; the README example is the file this test loads.
"""

import base64
import datetime
import json
import os
import re
import shutil
import ssl
import subprocess
import time
import urllib.request

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import REPO, copy_pki
from test_smallstep_compat import STEP_CA, _BUILT, step_ca_factory  # noqa: F401 (fixture)
from tokens import Provisioner, b64u, sign_jwt

needs_step_ca = pytest.mark.skipif(
    not _BUILT, reason="the real step-ca 0.19 is not built (scripts/build-smallstep.sh): "
                       "%s is missing" % STEP_CA)

PROVISIONER_OID = "1.3.6.1.4.1.37476.9000.64.1"
README_TEMPLATE = os.path.join(REPO, "docs", "examples", "leaf-with-crl.tpl")

# name -> (template text, templateData, request: sub, sans, user templateData)
TEMPLATES = {
    "custom-sans": (
        """{
  "subject": {{ toJson .Subject }},
  "sans": [{"type": "dns", "value": {{ toJson .Subject.CommonName }}},
           {"type": "dns", "value": "extra.example.test"},
           {"type": "ip", "value": "10.0.0.7"},
           {"type": "email", "value": "ops@example.test"},
           {"type": "uri", "value": "spiffe://example.test/svc"}],
  "keyUsage": ["digitalSignature"],
  "extKeyUsage": ["serverAuth", "clientAuth"]
}""", None, ("svc.example.test", ["svc.example.test"], None)),
    "extra-extension": (
        """{
  "subject": {{ toJson .Subject }},
  "sans": {{ toJson .SANs }},
  "keyUsage": ["digitalSignature", "keyEncipherment"],
  "extKeyUsage": ["clientAuth"],
  "extensions": [
    {"id": "1.2.3.4.5", "critical": false, "value": "DAVoZWxsbw=="},
    {"id": "1.2.3.4.6", "critical": true, "value": {{ printf "%s" "BQA=" | toJson }}}
  ]
}""", None, ("ext.example.test", ["ext.example.test", "127.0.0.1"], None)),
    "fail-on-condition": (
        """{{- if not (hasSuffix ".internal" .Subject.CommonName) }}
  {{- fail "common name must end in .internal" }}
{{- end }}
{
  "subject": {{ toJson .Subject }},
  "sans": {{ toJson .SANs }},
  "keyUsage": ["digitalSignature"],
  "extKeyUsage": ["serverAuth"]
}""", None, ("db.internal", ["db.internal"], None)),
    "fail-refused": (None, None, ("db.example.test", ["db.example.test"], None)),
    "toJson-subject": (
        """{
  "subject": {{ toJson .Subject }},
  "issuer": {{ toJson .Subject }},
  "sans": {{ toJson .SANs }},
  "keyUsage": ["digitalSignature"],
  "extKeyUsage": ["serverAuth"],
  "basicConstraints": {"isCA": false, "maxPathLen": 0}
}""", None, ("json.example.test", ["json.example.test", "ops@example.test"], None)),
    "crl-aia-ocsp": (
        """{
  "subject": {{ toJson .Subject }},
  "sans": {{ toJson .SANs }},
  "keyUsage": ["digitalSignature"],
  "extKeyUsage": ["serverAuth", "clientAuth"],
  "crlDistributionPoints": ["http://crl.example.test/intermediate.crl"],
  "issuingCertificateURL": ["http://ca.example.test/intermediate.crt"],
  "ocspServer": "http://ocsp.example.test",
  "policyIdentifiers": ["2.23.140.1.2.1", "1.3.6.1.4.1.99999.1"]
}""", None, ("crl.example.test", ["crl.example.test"], None)),
    "templateData": (
        """{
  "subject": {
    "commonName": {{ toJson .Subject.CommonName }},
    "organization": {{ toJson .organization }},
    "organizationalUnit": {{ toJson .Insecure.User.team }},
    "country": "DE"
  },
  "sans": {{ toJson .SANs }},
  "keyUsage": {{ toJson .keyUsage }},
  "extKeyUsage": {{ toJson .extKeyUsage }},
  "unknownExtKeyUsage": ["1.3.6.1.4.1.99999.2"]
}""", {"organization": ["Example Inc", "Example Labs"], "keyUsage": ["digitalSignature"],
       "extKeyUsage": ["serverAuth", "codeSigning"]},
        ("data.example.test", ["data.example.test"], {"team": "blue"})),
    "token-claims": (
        """{
  "subject": {"commonName": {{ toJson .Token.sub }}, "serialNumber": {{ toJson .Token.iss }}},
  "dnsNames": {{ toJson .Token.sans }},
  "keyUsage": ["digitalSignature"],
  "nameConstraints": {"critical": true, "permittedDNSDomains": ["example.test"],
                      "excludedIPRanges": ["192.168.0.0/16"]}
}""", None, ("tok.example.test", ["tok.example.test", "www.tok.example.test"], None)),
    "default-with-data": (None, {"ignored": True}, ("plain.example.test", ["plain.example.test"], None)),
    "serial-and-keyUsage-extension": (
        """{
  "subject": {{ toJson .Subject }},
  "sans": {{ toJson .SANs }},
  "serialNumber": "0x5eed1234",
  "keyUsage": ["digitalSignature"],
  "extensions": [{"id": "2.5.29.15", "critical": true, "value": "AwIDiA=="}]
}""", None, ("serial.example.test", ["serial.example.test"], None)),
}
# fail-refused runs the fail-on-condition template with a name it refuses.
TEMPLATES["fail-refused"] = (TEMPLATES["fail-on-condition"][0],) + TEMPLATES["fail-refused"][1:]

X5C_TEMPLATE = """{
  "subject": {"commonName": {{ toJson .Subject.CommonName }},
              "organizationalUnit": {{ toJson .AuthorizationCrt.Subject.CommonName }}},
  "dnsNames": {{ toJson .AuthorizationCrt.DNSNames }},
  "keyUsage": ["digitalSignature"],
  "extKeyUsage": ["clientAuth"]
}"""

RESULTS = {}  # case -> {field: "same" | "differs: ..."}


def provisioner_name(case):
    return "tpl-" + case


def write_templated_ca_json(pki):
    """The fixture ca.json with one JWK provisioner per case (same key) and
    an X5C provisioner with X5C_TEMPLATE."""
    doc = pki.read_ca_json()
    provs = doc["authority"]["provisioners"]
    jwk = provs[0]
    for case, (text, data, _) in TEMPLATES.items():
        p = json.loads(json.dumps(jwk))
        p["name"] = provisioner_name(case)
        x509opts = {}
        if text is not None:
            x509opts["template"] = text
        if data is not None:
            x509opts["templateData"] = data
        if x509opts:
            p["options"] = {"x509": x509opts}
        provs.append(p)
    x5c = json.loads(json.dumps([p for p in provs if p["type"] == "X5C"][0]))
    x5c["name"] = "tpl-x5c"
    x5c["options"] = {"x509": {"template": X5C_TEMPLATE}}
    provs.append(x5c)
    doc["authority"]["disableIssuedAtCheck"] = True
    # step-ca's default subject fields, under every template's own.
    doc["authority"]["template"] = {"country": "US", "locality": "Springfield"}
    pki.write_ca_json(doc)
    return doc


def post_json(url, body, root):
    ctx = ssl.create_default_context(cafile=root)
    ctx.check_hostname = False
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def csr_for(cn, key):
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def der_items(data):
    """[(tag, content)] of a DER body."""
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


def raw_extensions(cert):
    """[(oid, critical, DER value)] exactly as encoded in the certificate."""
    (_, body), = der_items(cert.tbs_certificate_bytes)
    exts = [c for t, c in der_items(body) if t == 0xA3]
    out = []
    for _, ext in der_items(der_items(exts[0])[0][1]) if exts else []:
        items = der_items(ext)
        oid = x509.ObjectIdentifier(decode_oid(items[0][1])).dotted_string
        critical = len(items) == 3 and items[1][1] == b"\xff"
        out.append((oid, critical, items[-1][1]))
    return out


def decode_oid(content):
    arcs, v = [], 0
    for b in content:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(v)
            v = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


def ext_name(oid):
    name = x509.ObjectIdentifier(oid)._name
    return oid if name == "Unknown OID" else name


def fields(cert):
    """Everything that must be equal, by field name: names as DER, every
    extension as (critical, DER value)."""
    out = {
        "subject": cert.subject.public_bytes().hex(),
        "issuer": cert.issuer.public_bytes().hex(),
        "version": cert.version.name,
        "signatureAlgorithm": cert.signature_algorithm_oid.dotted_string,
        "lifetime": str(cert.not_valid_after - cert.not_valid_before),
        "extension order": " ".join(ext_name(o) for o, _, _ in raw_extensions(cert)),
    }
    for oid, critical, value in raw_extensions(cert):
        out["ext " + ext_name(oid)] = ("critical " if critical else "") + value.hex()
    return out


def compare(case, ours, theirs):
    a, b = fields(ours), fields(theirs)
    row = {}
    for k in sorted(set(a) | set(b)):
        row[k] = "same" if a.get(k) == b.get(k) else "differs: ours %r, step-ca %r" % (
            a.get(k), b.get(k))
    RESULTS[case] = row
    differing = {k: v for k, v in row.items() if v != "same"}
    assert not differing, "%s: %s" % (case, json.dumps(differing, indent=1))


@pytest.fixture
def both(prefix, pki, nginx_factory, step_ca_factory):
    """(our nginx, the real step-ca), each on a copy of the templated PKI."""
    write_templated_ca_json(pki)
    ours = nginx_factory().start()
    real = copy_pki(os.path.join(prefix, "real-pki"))
    write_templated_ca_json(real)
    os.makedirs(os.path.join(real.path, "db"))
    real_dir = os.path.join(prefix, "real")
    os.makedirs(real_dir)
    theirs = step_ca_factory(real.ca_json, real.password_file, real_dir)
    return ours, theirs


def sign_both(both, pki, body_for):
    """POST /1.0/sign to both; body_for(base_url) makes the request body."""
    ours, theirs = both
    out = []
    for url in ("https://127.0.0.1:%d" % ours.port, theirs.url):
        out.append(post_json(url + "/1.0/sign", body_for(url), pki.root_crt))
    return out


def jwk_body(pki, case, key):
    sub, sans, user = TEMPLATES[case][2]
    with open(os.path.join(pki.path, "provisioner-password.txt")) as f:
        prov = Provisioner(pki.ca_json, f.read().strip())

    def body(url):
        prov.name = provisioner_name(case)
        b = {"csr": csr_for(sub, key), "ott": prov.token(sub, url + "/1.0/sign", sans)}
        if user is not None:
            b["templateData"] = user
        return b
    return body


@needs_step_ca
@pytest.mark.parametrize("case", [c for c in TEMPLATES if c != "fail-refused"])
def test_template_issues_what_step_ca_issues(both, pki, case):
    key = ec.generate_private_key(ec.SECP256R1())
    (s1, ours), (s2, theirs) = sign_both(both, pki, jwk_body(pki, case, key))
    assert (s1, s2) == (201, 201), (ours, theirs)
    o = x509.load_pem_x509_certificate(ours["crt"].encode())
    t = x509.load_pem_x509_certificate(theirs["crt"].encode())
    compare(case, o, t)
    if case == "serial-and-keyUsage-extension":
        assert o.serial_number == t.serial_number == 0x5EED1234
        RESULTS[case]["serialNumber"] = "same"


# name -> (template, our status, step-ca's status): where the two differ on
# purpose (README "Certificate templates").
DIFFERENCES = {
    "not JSON": ("{ {{ .Subject.CommonName }} }", 400, 500),
    "extension value not DER": (
        '{"subject": "x", "extensions": [{"id": "1.2.3", "value": "AAAA"}]}', 400, 201),
    "template forges the provisioner extension": (
        '{"subject": {{ toJson .Subject }}, "extensions": '
        '[{"id": "1.3.6.1.4.1.37476.9000.64.1", "value": "BQA="}]}', 400, 500),
    "signatureAlgorithm not the CA key's": (
        '{"subject": {{ toJson .Subject }}, "signatureAlgorithm": "ECDSA-SHA384"}', 400, 201),
    "execution error (index out of range)": (
        '{"subject": {{ index .Token.sans 5 | toJson }}}', 400, 500),
}


@needs_step_ca
def test_where_we_differ_on_purpose(prefix, pki, nginx_factory, step_ca_factory):
    doc = pki.read_ca_json()
    jwk = doc["authority"]["provisioners"][0]
    names = {}
    for i, (what, (text, _, _)) in enumerate(DIFFERENCES.items()):
        p = json.loads(json.dumps(jwk))
        p["name"] = names[what] = "diff-%d" % i
        p["options"] = {"x509": {"template": text}}
        doc["authority"]["provisioners"].append(p)
    doc["authority"]["disableIssuedAtCheck"] = True
    pki.write_ca_json(doc)
    ours = nginx_factory().start()
    real = copy_pki(os.path.join(prefix, "real-pki"))
    real.write_ca_json(json.loads(json.dumps(doc).replace(pki.path, real.path)))
    os.makedirs(os.path.join(real.path, "db"))
    os.makedirs(os.path.join(prefix, "real"))
    theirs = step_ca_factory(real.ca_json, real.password_file, os.path.join(prefix, "real"))
    with open(os.path.join(pki.path, "provisioner-password.txt")) as f:
        prov = Provisioner(pki.ca_json, f.read().strip())
    got = {}
    for what, (_, want_ours, want_theirs) in DIFFERENCES.items():
        prov.name = names[what]
        statuses = []
        for url in ("https://127.0.0.1:%d" % ours.port, theirs.url):
            key = ec.generate_private_key(ec.SECP256R1())
            status, body = post_json(url + "/1.0/sign", {
                "csr": csr_for("d.example.test", key),
                "ott": prov.token("d.example.test", url + "/1.0/sign")}, pki.root_crt)
            statuses.append((status, body.get("message", "")[:120]))
        got[what] = statuses
        RESULTS["differs: " + what] = {
            "status": "ours %d (%s), step-ca %d (%s)" % (statuses[0] + statuses[1])}
    for what, (_, want_ours, want_theirs) in DIFFERENCES.items():
        assert (got[what][0][0], got[what][1][0]) == (want_ours, want_theirs), (what, got[what])


@needs_step_ca
def test_fail_in_a_template_is_the_same_400(both, pki):
    key = ec.generate_private_key(ec.SECP256R1())
    (s1, ours), (s2, theirs) = sign_both(both, pki, jwk_body(pki, "fail-refused", key))
    RESULTS["fail-refused"] = {"status": "same" if s1 == s2 else "differs: %d/%d" % (s1, s2),
                               "message": "same" if ours == theirs else
                               "differs: ours %r, step-ca %r" % (ours, theirs)}
    assert s1 == s2 == 400
    assert ours == theirs == {
        "status": 400,
        "message": "The request could not be completed: common name must end in .internal."}


@needs_step_ca
def test_x5c_template_reads_the_authorization_certificate(both, pki):
    """X5C: .AuthorizationCrt is the certificate that signed the token."""
    key = ec.generate_private_key(ec.SECP256R1())
    (s, first), _ = sign_both(both, pki, jwk_body(pki, "default-with-data", key))
    assert s == 201
    auth_crt = x509.load_pem_x509_certificate(first["crt"].encode())
    with open(pki.intermediate_crt, "rb") as f:
        inter = x509.load_pem_x509_certificate(f.read())
    x5c = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
           for c in (auth_crt, inter)]
    leaf_key = ec.generate_private_key(ec.SECP256R1())

    def body(url):
        now = int(time.time())
        claims = {"aud": url + "/1.0/sign#x5c/tpl-x5c", "exp": now + 300, "iat": now,
                  "nbf": now, "iss": "tpl-x5c", "jti": os.urandom(16).hex(),
                  "sub": "client.example.test", "sans": ["client.example.test"]}
        tok = sign_jwt({"alg": "ES256", "typ": "JWT", "x5c": x5c}, claims, key)
        return {"csr": csr_for("client.example.test", leaf_key), "ott": tok}
    (s1, ours), (s2, theirs) = sign_both(both, pki, body)
    assert (s1, s2) == (201, 201), (ours, theirs)
    o = x509.load_pem_x509_certificate(ours["crt"].encode())
    compare("x5c-authorizationCrt", o, x509.load_pem_x509_certificate(theirs["crt"].encode()))
    ou = o.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value
    assert ou == "plain.example.test"


def test_bad_output_is_a_400_here(prefix, pki, nginx_factory):
    """Output that is not JSON, and an extension that is not DER: step-ca
    answers 500 "error applying certificate template"; here a 400 with the
    reason, since nothing failed on the CA's side that a retry would fix."""
    doc = pki.read_ca_json()
    jwk = doc["authority"]["provisioners"][0]
    for name, text in (("notjson", "{ {{ .Subject.CommonName }} }"),
                       ("badder", '{"subject": "x", "extensions": [{"id": "1.2.3", "value": "AAAA"}]}'),
                       ("loop", "{{ $l := list 1 2 3 4 5 6 7 8 9 10 }}{{ range $l }}{{ range $l }}"
                                "{{ range $l }}{{ range $l }}{{ range $l }}{{ range $l }}x"
                                "{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{}")):
        p = json.loads(json.dumps(jwk))
        p["name"] = name
        p["options"] = {"x509": {"template": text}}
        doc["authority"]["provisioners"].append(p)
    pki.write_ca_json(doc)
    n = nginx_factory().start()
    with open(os.path.join(pki.path, "provisioner-password.txt")) as f:
        prov = Provisioner(pki.ca_json, f.read().strip())
    url = "https://127.0.0.1:%d" % n.port
    for name, want in (("notjson", "error unmarshaling certificate"),
                       ("badder", "DER"),
                       ("loop", "error applying certificate template")):
        prov.name = name
        key = ec.generate_private_key(ec.SECP256R1())
        status, body = post_json(url + "/1.0/sign", {
            "csr": csr_for("x.example.test", key),
            "ott": prov.token("x.example.test", url + "/1.0/sign")}, pki.root_crt)
        assert status == 400, (name, body)
        assert want in body["message"], (name, body)
    RESULTS["bad output"] = {"not JSON / bad DER / limits": "ours 400 with the reason; step-ca 500"}


def test_a_template_that_does_not_parse_fails_nginx_t(prefix, pki, nginx_factory):
    tpl = os.path.join(pki.path, "templates", "broken.tpl")
    os.makedirs(os.path.dirname(tpl))
    with open(tpl, "w") as f:
        f.write('{\n  "subject": {{ toJson .Subject }},\n  "sans": {{ toJson .SANs \n}\n')
    doc = pki.read_ca_json()
    doc["authority"]["provisioners"][0]["options"] = {"x509": {"templateFile": "templates/broken.tpl"}}
    pki.write_ca_json(doc)
    res = nginx_factory().test_config()
    assert res.returncode != 0
    assert 'provisioner "fixture@example.test"' in res.stderr, res.stderr
    # the "}" on line 4 is where the unclosed action is noticed
    assert re.search(re.escape(tpl) + r":4:\d+: ", res.stderr), res.stderr

    doc["authority"]["provisioners"][0]["options"] = {"x509": {"templateFile": "templates/missing.tpl"}}
    pki.write_ca_json(doc)
    res = nginx_factory(name="nginx2").test_config()
    assert res.returncode != 0
    assert "cannot read" in res.stderr and "missing.tpl" in res.stderr, res.stderr


def test_readme_example_with_the_step_cli(pki, nginx_factory, step_cli):
    """The README's example template (docs/examples/leaf-with-crl.tpl) as a
    templateFile, and the real `step` CLI getting a certificate with it."""
    doc = pki.read_ca_json()
    doc["authority"]["provisioners"][0]["options"] = {"x509": {
        "templateFile": README_TEMPLATE,
        "templateData": {"crl": "http://crl.example.test/ca.crl"}}}
    pki.write_ca_json(doc)
    n = nginx_factory().start()
    url = "https://127.0.0.1:%d" % n.port
    fp = subprocess.run(["openssl", "x509", "-in", pki.root_crt, "-noout", "-fingerprint",
                         "-sha256"], capture_output=True, text=True, check=True).stdout
    fp = fp.strip().split("=", 1)[1].replace(":", "").lower()
    step_cli.run("ca", "bootstrap", "--ca-url", url, "--fingerprint", fp)
    crt = os.path.join(step_cli.steppath, "svc.crt")
    key = os.path.join(step_cli.steppath, "svc.key")
    step_cli.run("ca", "certificate", "svc.example.test", crt, key,
                 "--provisioner", "fixture@example.test",
                 "--provisioner-password-file", os.path.join(pki.path, "provisioner-password.txt"))
    with open(crt, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for n in dp[0].full_name] == ["http://crl.example.test/ca.crl"]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "svc.example.test"
    RESULTS["step CLI + README template"] = {"CRL distribution point": "present"}


@pytest.mark.skipif(shutil.which("lego") is None, reason="lego not installed")
def test_acme_finalize_renders_the_acme_provisioners_template(pki, prefix, nginx_factory):
    """ACME: the order's names are .SANs, the CSR's common name .Subject,
    and the template's fields reach the certificate."""
    from conftest import free_port
    port = free_port()
    doc = pki.read_ca_json()
    for p in doc["authority"]["provisioners"]:
        if p["type"] == "ACME":
            p["nginxStepca"] = {"http01Port": port}
            p["options"] = {"x509": {"template": """{
  "subject": {"commonName": {{ toJson .Subject.CommonName }}, "organization": {{ toJson .org }}},
  "sans": {{ toJson .SANs }},
  "keyUsage": ["digitalSignature"],
  "extKeyUsage": ["serverAuth"],
  "crlDistributionPoints": ["http://crl.example.test/acme.crl"]
}""", "templateData": {"org": "ACME Org"}}}
    pki.write_ca_json(doc)
    n = nginx_factory().start()
    work = os.path.join(prefix, "lego")
    os.makedirs(work)
    env = dict(os.environ, LEGO_CA_CERTIFICATES=pki.root_crt)
    res = subprocess.run(
        ["lego", "--server", "https://127.0.0.1:%d/acme/acme/directory" % n.port,
         "--email", "ops@example.test", "--accept-tos", "--domains", "localhost", "--http",
         "--http.port", ":%d" % port, "--path", work, "run"],
        env=env, cwd=work, capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    with open(os.path.join(work, "certificates", "localhost.crt"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "ACME Org"
    dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [u.value for u in dp[0].full_name] == ["http://crl.example.test/acme.crl"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [o.dotted_string for o in eku] == ["1.3.6.1.5.5.7.3.1"]
    RESULTS["ACME finalize (ours; step-ca needs port 80)"] = {
        "subject O, CRL DP, extKeyUsage from the template": "present"}


SEED_INTERMEDIATE_TEMPLATE = (
    '{ "subject": {{ toJson .Subject }}, "keyUsage": ["certSign", "crlSign"], '
    '"basicConstraints": { "isCA": true, "maxPathLen": 0 }, '
    '"crlDistributionPoints": ["http://crl.example.com/crl/ca.crl"] } }')


def openssl_text(path):
    return subprocess.run(["openssl", "x509", "-in", path, "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout


def test_cli_intermediate_with_a_crl_distribution_point(prefix):
    """The production guide's intermediate (its template verbatim, stray
    brace included) with `stepca certificate create --template`, and a new
    PKI's intermediate with `stepca init --intermediate-template`: openssl
    shows the CRL distribution point, and the chain verifies."""
    cli = os.path.join(os.environ.get("STEPCA_BUILD", os.path.join(REPO, "build")), "stepca")
    if not os.access(cli, os.X_OK):
        pytest.skip("%s not built" % cli)
    tpl = os.path.join(prefix, "intermediate.tpl")
    with open(tpl, "w") as f:
        f.write(SEED_INTERMEDIATE_TEMPLATE)
    for name, text in (("pw.txt", "ca-pw\n"), ("ppw.txt", "prov-pw\n"), ("int-pw.txt", "int-pw\n")):
        with open(os.path.join(prefix, name), "w") as f:
            f.write(text)
    step = os.path.join(prefix, "step")
    subprocess.run([cli, "init", "--name", "Tpl", "--dns", "localhost", "--address", ":9443",
                    "--provisioner", "admin", "--password-file", os.path.join(prefix, "pw.txt"),
                    "--provisioner-password-file", os.path.join(prefix, "ppw.txt"),
                    "--steppath", step, "--intermediate-template", tpl],
                   check=True, capture_output=True, timeout=120)
    root = os.path.join(step, "certs", "root_ca.crt")
    for crt in (os.path.join(step, "certs", "intermediate_ca.crt"),):
        text = openssl_text(crt)
        assert "X509v3 CRL Distribution Points" in text, text
        assert "URI:http://crl.example.com/crl/ca.crl" in text, text
        assert "CA:TRUE, pathlen:0" in text, text
        subprocess.run(["openssl", "verify", "-CAfile", root, crt], check=True,
                       capture_output=True)

    crt = os.path.join(prefix, "intermediate_ca.crt")
    res = subprocess.run(
        [cli, "certificate", "create", "Example Intermediate CA", crt,
         os.path.join(prefix, "intermediate_ca_key"), "--template", tpl, "--ca", root,
         "--ca-key", os.path.join(step, "secrets", "root_ca_key"),
         "--ca-password-file", os.path.join(prefix, "pw.txt"),
         "--password-file", os.path.join(prefix, "int-pw.txt"), "--not-after", "87660h"],
        capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    text = openssl_text(crt)
    assert "URI:http://crl.example.com/crl/ca.crl" in text, text
    assert "Subject: CN = Example Intermediate CA" in text, text
    subprocess.run(["openssl", "verify", "-CAfile", root, crt], check=True, capture_output=True)
    RESULTS["stepca certificate create / init --intermediate-template"] = {
        "CRL distribution point (openssl)": "present"}


def test_zz_write_table():
    """Writes the comparison table when STEPCA_TEMPLATES_TABLE is set (runs
    last in this file): a summary, one row per template, then every
    template x field x result."""
    out = os.environ.get("STEPCA_TEMPLATES_TABLE")
    if not out:
        pytest.skip("STEPCA_TEMPLATES_TABLE not set")
    esc = lambda t: str(t).replace("|", "\\|")
    lines = ["| template | fields | result |", "|---|---|---|"]
    for case, row in RESULTS.items():
        bad = [f for f, r in row.items() if r != "same"]
        if all(r == "same" for r in row.values()):
            result = "same (%d fields)" % len(row)
        else:
            result = "; ".join("%s: %s" % (f, row[f]) for f in bad)
        lines.append("| %s | %s | %s |" % (esc(case), esc(", ".join(row)), esc(result)))
    lines += ["", "| template | field | result |", "|---|---|---|"]
    for case, row in RESULTS.items():
        for field, result in row.items():
            lines.append("| %s | %s | %s |" % (esc(case), esc(field), esc(result)))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
