"""A broken ca.json makes `nginx -t` fail with exactly one [emerg] line,
"stepca: <message>", that names the file and the field."""

import os
import re

import pytest

pytestmark = pytest.mark.allow_error_log


# "nginx: [emerg] stepca: ..." or "<date> [emerg] <pid>#<tid>: stepca: ..."
EMERG_RE = re.compile(r"\[emerg\] (\d+#\d+: )?stepca: ")


def emerg_lines(stderr):
    return [l for l in stderr.splitlines() if "[emerg]" in l]


def check_fails(n, *needles):
    res = n.test_config()
    assert res.returncode != 0, res.stderr
    lines = emerg_lines(res.stderr)
    assert len(lines) == 1, res.stderr
    line = lines[0]
    assert EMERG_RE.search(line), line
    for needle in needles:
        assert needle in line, (needle, line)
    return line


def test_bad_json(nginx_factory, pki):
    pki.write_ca_json(text='{\n\t"root": "x",\n\t"crt": \n}\n')
    check_fails(nginx_factory(), "ca.json")


def test_unknown_provisioner_type(nginx_factory, pki):
    doc = pki.read_ca_json()
    doc["authority"]["provisioners"][0]["type"] = "NOSUCHTYPE"
    pki.write_ca_json(doc)
    check_fails(nginx_factory(), "ca.json", "authority.provisioners[0].type")


def test_bad_claims_duration(nginx_factory, pki):
    doc = pki.read_ca_json()
    doc["authority"]["claims"] = {"maxTLSCertDuration": "forever"}
    pki.write_ca_json(doc)
    check_fails(nginx_factory(), "ca.json", "authority.claims.maxTLSCertDuration")


def test_unreadable_key_file(nginx_factory, pki):
    doc = pki.read_ca_json()
    doc["key"] = os.path.join(pki.path, "secrets", "no_such_key")
    pki.write_ca_json(doc)
    check_fails(nginx_factory(), "ca.json", "key", "no_such_key")


def test_key_does_not_match_certificate(nginx_factory, pki):
    # the root key has the same password, but belongs to another certificate
    doc = pki.read_ca_json()
    doc["key"] = pki.root_key
    pki.write_ca_json(doc)
    check_fails(nginx_factory(), "ca.json", "key")


def test_wrong_password(nginx_factory, pki, prefix):
    wrong = os.path.join(prefix, "wrong-password.txt")
    with open(wrong, "w") as f:
        f.write("not-the-password\n")
    os.chmod(wrong, 0o644)
    line = check_fails(nginx_factory(password_file=wrong), "ca.json")
    assert "key" in line or "password" in line, line


def test_missing_ca_json(nginx_factory, pki):
    os.unlink(pki.ca_json)
    check_fails(nginx_factory(), "ca.json")


def test_stepca_without_ca_json(nginx_factory):
    n = nginx_factory()
    with open(n.conf) as f:
        conf = f.read()
    conf = "\n".join(l for l in conf.splitlines() if "stepca_ca_json" not in l)
    with open(n.conf, "w") as f:
        f.write(conf)
    check_fails(n, "stepca_ca_json")
