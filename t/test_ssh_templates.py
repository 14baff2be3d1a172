"""SSH certificate templates (provisioner options.ssh) and SSH name
policies, end to end.

Each case of SSH_TEMPLATES is a JWK provisioner of ONE ca.json (the
`stepca init --ssh` provisioner key under several names). The PKI is
served by our module and, from a copy, by the real step-ca 0.19; the same
public key and a token minted the same way go to POST /ssh/sign of both,
and the issued certificates are compared field by field: type, key id,
principals, critical options, extensions, lifetime, CA key and signature
algorithm (only the serial, the nonce and the validity instants may
differ). A request the template refuses must get the same status and
message from both. The rows of docs/templates-compat.md's SSH table are
written to the file STEPCA_SSH_TEMPLATES_TABLE names.

Also: a template that does not parse fails `nginx -t`; an SSH name policy
refuses a principal with step-ca's 403 shape and spends no token.
"""

import base64
import json
import os
import shutil
import subprocess
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import Nginx, Pki, assert_clean_log
from test_smallstep_compat import STEP_CA, _BUILT, step_ca_factory  # noqa: F401 (fixture)
from test_ssh import SshCert, init_ssh_pki, keygen_list
from test_templates import post_json
from tokens import Provisioner

needs_step_ca = pytest.mark.skipif(
    not _BUILT, reason="the real step-ca 0.19 is not built (scripts/build-smallstep.sh): "
                       "%s is missing" % STEP_CA)

USER_EXTENSIONS = {"permit-X11-forwarding", "permit-agent-forwarding",
                   "permit-port-forwarding", "permit-pty", "permit-user-rc"}

FORCE_COMMAND_TEMPLATE = """{
	"type": {{ toJson .Type }},
	"keyId": {{ toJson .KeyID }},
	"principals": {{ toJson .Principals }},
	"criticalOptions": {
		"force-command": {{ toJson .Insecure.User.command }},
		"source-address": {{ toJson .sourceAddress }}
	},
	"extensions": {"permit-pty": ""}
}"""

FAIL_TEMPLATE = """{{- if not (hasSuffix "@example.test" .KeyID) }}
	{{- fail "key id must be an example.test address" }}
{{- end }}
{
	"type": {{ toJson .Type }},
	"keyId": {{ toJson .KeyID }},
	"principals": {{ toJson .Principals }},
	"extensions": {{ toJson .Extensions }}
}"""

HOST_TEMPLATE = """{
	"type": "host",
	"keyId": {{ toJson .Token.sub }},
	"principals": [{{ toJson .Token.sub }}, {{ toJson (printf "%s.%s" (index (splitList "." .Token.sub) 0) .domain) }}]
}"""

# case -> (template, templateData, request: (certType, subject, principals, user templateData))
SSH_TEMPLATES = {
    "default user template": (None, None, ("user", "alice@example.test", ["alice", "ops"], None)),
    "default host template": (None, None, ("host", "web.example.test", ["web.example.test"], None)),
    "force-command and source-address": (
        FORCE_COMMAND_TEMPLATE, {"sourceAddress": "127.0.0.1/32,10.0.0.0/8"},
        ("user", "backup@example.test", ["backup"], {"command": "/usr/bin/rsync --server"})),
    "host principals from the token and templateData": (
        HOST_TEMPLATE, {"domain": "internal.test"}, ("host", "db.example.test", ["db.example.test"], None)),
    "fail on a condition (passes)": (FAIL_TEMPLATE, None, ("user", "carol@example.test", ["carol"], None)),
    "fail on a condition (refused)": (FAIL_TEMPLATE, None, ("user", "mallory@other.test", ["mallory"], None)),
}
REFUSED = "fail on a condition (refused)"

RESULTS = {}  # case -> {field: "same" | "differs: ..."}


def provisioner_name(i):
    return "ssh-tpl-%d" % i


def write_ca_json(steppath):
    p = os.path.join(steppath, "config", "ca.json")
    with open(p) as f:
        doc = json.load(f)
    provs = doc["authority"]["provisioners"]
    jwk = [x for x in provs if x["type"] == "JWK"][0]
    for i, (text, data, _) in enumerate(SSH_TEMPLATES.values()):
        x = json.loads(json.dumps(jwk))
        x["name"] = provisioner_name(i)
        opts = {}
        if text is not None:
            opts["template"] = text
        if data is not None:
            opts["templateData"] = data
        if opts:
            x["options"] = {"ssh": opts}
        provs.append(x)
    doc["authority"]["disableIssuedAtCheck"] = True
    with open(p, "w") as f:
        json.dump(doc, f, indent="\t")
    return p


def ssh_public_key():
    """(private key, wire blob base64) of a fresh ECDSA P-256 key."""
    key = ec.generate_private_key(ec.SECP256R1())
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()
    return key, line.split()[1]


def ssh_token(prov, name, url, cert_type, subject, principals):
    prov.name = name
    return prov.token(subject, url + "/1.0/ssh/sign", sans=[], step={"ssh": {
        "certType": cert_type, "keyID": subject, "principals": principals,
        "validAfter": "", "validBefore": ""}})


def sign_request(prov, name, url, pub, req):
    cert_type, subject, principals, user = req
    body = {"publicKey": pub, "ott": ssh_token(prov, name, url, cert_type, subject, principals),
            "certType": cert_type, "keyID": subject, "principals": principals}
    if user is not None:
        body["templateData"] = user
    return body


class Ours:
    def __init__(self, steppath, nginx):
        self.steppath = steppath
        self.nginx = nginx
        self.url = "https://127.0.0.1:%d" % nginx.port
        self.root = os.path.join(steppath, "certs", "root_ca.crt")


@pytest.fixture
def ssh_pki(prefix):
    steppath, pw, ppw = init_ssh_pki(os.path.join(prefix, "ca"))
    write_ca_json(steppath)
    with open(ppw) as f:
        prov = Provisioner(os.path.join(steppath, "config", "ca.json"), f.read().strip())
    return steppath, pw, prov


@pytest.fixture
def ours(prefix, module_path, ssh_pki):
    steppath, pw, _ = ssh_pki
    base = os.path.join(prefix, "nginx")
    os.makedirs(base)
    n = Nginx(base, Pki(steppath), os.path.join(steppath, "certs", "tls.crt"),
              os.path.join(steppath, "secrets", "tls.key"), module=module_path, password_file=pw)
    n.start()
    yield Ours(steppath, n)
    n.stop()
    assert_clean_log(n.error_log)


@pytest.fixture
def theirs(prefix, ssh_pki, step_ca_factory):
    """The real step-ca on a copy of the same PKI."""
    steppath, pw, _ = ssh_pki
    real = os.path.join(prefix, "real-step")
    shutil.copytree(steppath, real)
    p = os.path.join(real, "config", "ca.json")
    with open(p) as f:
        text = f.read()
    with open(p, "w") as f:
        f.write(text.replace(steppath, real))
    os.makedirs(os.path.join(real, "db"), exist_ok=True)
    work = os.path.join(prefix, "real")
    os.makedirs(work)
    # step-ca resolves the relative templates/ssh paths against $STEPPATH,
    # which StepCa sets to <workdir>/steppath-home.
    os.symlink(real, os.path.join(work, "steppath-home"))
    return step_ca_factory(p, pw, work)


def fields(c):
    return {
        "type": "host" if c.host else "user",
        "keyId": c.key_id,
        "principals": c.principals,
        "criticalOptions": {k: v.hex() for k, v in c.critical_options.items()},
        "extensions": {k: v.hex() for k, v in c.extensions.items()},
        "lifetime": c.valid_before - c.valid_after,
        "CA key": c.signature_key.hex(),
        "signature algorithm": c.signature_alg,
    }


def compare(case, a, b):
    fa, fb = fields(a), fields(b)
    row = {}
    for k in fa:
        row[k] = "same" if fa[k] == fb[k] else "differs: ours %r, step-ca %r" % (fa[k], fb[k])
    RESULTS[case] = row
    differing = {k: v for k, v in row.items() if v != "same"}
    assert not differing, "%s: %s" % (case, json.dumps(differing, indent=1))


@needs_step_ca
def test_ssh_templates_issue_what_step_ca_issues(ssh_pki, ours, theirs, prefix):
    _, _, prov = ssh_pki
    got = {}
    for i, (case, (_, _, req)) in enumerate(SSH_TEMPLATES.items()):
        _, pub = ssh_public_key()
        answers = []
        for url in (ours.url, theirs.url):
            answers.append(post_json(url + "/ssh/sign",
                                     sign_request(prov, provisioner_name(i), url, pub, req), ours.root))
        got[case] = answers
    for case, ((s1, b1), (s2, b2)) in got.items():
        if case == REFUSED:
            RESULTS[case] = {"status": "same" if s1 == s2 else "differs: %d/%d" % (s1, s2),
                             "message": "same" if b1 == b2 else
                             "differs: ours %r, step-ca %r" % (b1, b2)}
            assert (s1, s2) == (400, 400), (b1, b2)
            assert b1 == b2 == {"status": 400, "message": "The request could not be completed: "
                                                          "key id must be an example.test address."}
            continue
        assert (s1, s2) == (201, 201), (case, b1, b2)
        a, b = SshCert(base64.b64decode(b1["crt"])), SshCert(base64.b64decode(b2["crt"]))
        compare(case, a, b)
        # OpenSSH reads ours.
        path = os.path.join(prefix, "case-%d-cert.pub" % len(RESULTS))
        with open(path, "w") as f:
            f.write("%s %s\n" % (a.type_name, b1["crt"]))
        listing = keygen_list(path)
        if case == "force-command and source-address":
            assert "force-command /usr/bin/rsync --server" in listing, listing
            assert "source-address 127.0.0.1/32,10.0.0.0/8" in listing, listing
    # What each case must say, beyond being the same as step-ca's.
    c = {case: SshCert(base64.b64decode(b1["crt"])) for case, ((_, b1), _) in got.items() if case != REFUSED}
    assert set(c["default user template"].extensions) == USER_EXTENSIONS
    assert c["default user template"].critical_options == {}
    assert c["default host template"].host and c["default host template"].extensions == {}
    fc = c["force-command and source-address"]
    assert set(fc.extensions) == {"permit-pty"}
    assert c["host principals from the token and templateData"].principals == [
        "db.example.test", "db.internal.test"]


def write_rows(path):
    """The template x field x result table of docs/templates-compat.md."""
    if not path or not RESULTS:
        return
    lines = ["| template | field | result |", "|---|---|---|"]
    for case, row in RESULTS.items():
        for field, result in row.items():
            lines.append("| %s | %s | %s |" % (case, field, result.replace("|", "\\|")))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def teardown_module(module):
    write_rows(os.environ.get("STEPCA_SSH_TEMPLATES_TABLE"))


# ---------------------------------------------------------------- nginx -t


def test_an_ssh_template_that_does_not_parse_fails_nginx_t(prefix, module_path, ssh_pki):
    steppath, pw, _ = ssh_pki
    p = os.path.join(steppath, "config", "ca.json")
    with open(p) as f:
        doc = json.load(f)
    tpl = os.path.join(steppath, "templates", "broken-ssh.tpl")
    with open(tpl, "w") as f:
        f.write('{\n  "type": {{ toJson .Type }},\n  "keyId": {{ .KeyID \n}\n')
    doc["authority"]["provisioners"][0].setdefault("options", {})["ssh"] = {"templateFile": tpl}
    with open(p, "w") as f:
        json.dump(doc, f)
    base = os.path.join(prefix, "nginx-t")
    os.makedirs(base)
    n = Nginx(base, Pki(steppath), os.path.join(steppath, "certs", "tls.crt"),
              os.path.join(steppath, "secrets", "tls.key"), module=module_path, password_file=pw)
    proc = n.test_config()
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "options.ssh.templateFile" in out, out
    assert tpl + ":4:0: unexpected \"}\" in operand" in out, out
    assert "provisioner \"%s\"" % doc["authority"]["provisioners"][0]["name"] in out, out


# ---------------------------------------------------------------- name policy


def test_ssh_name_policy_refuses_a_principal(prefix, module_path, ssh_pki):
    steppath, pw, prov = ssh_pki
    p = os.path.join(steppath, "config", "ca.json")
    with open(p) as f:
        doc = json.load(f)
    first = doc["authority"]["provisioners"][0]
    first["policy"] = {"ssh": {"user": {"allow": {"principal": ["alice", "ops", "root"]}},
                               "host": {"allow": {"dns": ["*.example.test"]}}}}
    doc["authority"]["policy"] = {"ssh": {"user": {"deny": {"principal": ["root"]}},
                                          "host": {"allow": {"dns": ["*.example.test"]}}}}
    with open(p, "w") as f:
        json.dump(doc, f)
    base = os.path.join(prefix, "nginx-policy")
    os.makedirs(base)
    n = Nginx(base, Pki(steppath), os.path.join(steppath, "certs", "tls.crt"),
              os.path.join(steppath, "secrets", "tls.key"), module=module_path, password_file=pw)
    n.start()
    try:
        url = "https://127.0.0.1:%d" % n.port
        root = os.path.join(steppath, "certs", "root_ca.crt")
        name = first["name"]
        _, pub = ssh_public_key()

        def sign(req):
            body = sign_request(prov, name, url, pub, req)
            return body, post_json(url + "/ssh/sign", body, root)

        _, (st, body) = sign(("user", "alice@example.test", ["alice", "ops"], None))
        assert st == 201, body
        assert SshCert(base64.b64decode(body["crt"])).principals == ["alice", "ops"]

        refused, (st, body) = sign(("user", "bob@example.test", ["bob"], None))
        assert (st, body) == (403, {"status": 403, "message":
            "The request was forbidden by the certificate authority: principal name \"bob\" not "
            "allowed (no allow rule of the policy of provisioner \"%s\" matches it)." % name})
        # The refusal spent no token: the same token again is refused by
        # the policy (403), not as a replay (401).
        st, body = post_json(url + "/ssh/sign", refused, root)
        assert st == 403, body

        # The authority's deny applies to names the provisioner allows.
        _, (st, body) = sign(("user", "root@example.test", ["ops", "root"], None))
        assert st == 403, body
        assert "principal name \"root\" not allowed" in body["message"], body
        assert "the authority policy" in body["message"], body

        # Hosts: a name outside *.example.test is refused, one inside issued.
        _, (st, body) = sign(("host", "web.other.test", ["web.other.test"], None))
        assert st == 403, body
        assert "web.other.test" in body["message"], body
        _, (st, body) = sign(("host", "web.example.test", ["web.example.test"], None))
        assert st == 201, body
        assert SshCert(base64.b64decode(body["crt"])).host
    finally:
        n.stop()
    assert_clean_log(n.error_log)
