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


# ---------------------------------------------------------------- directives
#
# A bad directive value fails `nginx -t` in nginx's own words, naming the
# directive and the file and line: [emerg] invalid value "0" in
# "stepca_acme_http01_port" directive, it must be ... in /x/nginx.conf:31


def check_directive_fails(n, directive, value):
    res = n.test_config()
    assert res.returncode != 0, res.stderr
    lines = emerg_lines(res.stderr)
    assert len(lines) == 1, res.stderr
    line = lines[0]
    assert '"%s" directive' % directive in line, line
    if value is not None:
        assert 'invalid value "%s"' % value in line, line
    assert re.search(r" in \S+nginx\.conf:\d+$", line), line
    return line


@pytest.mark.parametrize("directive,value", [
    ("stepca_acme_http01_port", "0"),
    ("stepca_acme_http01_port", "65536"),
    ("stepca_acme_http01_port", "eighty"),
    ("stepca_acme_tls_alpn01_port", "-1"),
    ("stepca_acme_validation_threads", "0"),
    ("stepca_acme_validation_threads", "lots"),
    ("stepca_acme_validation_queue", "1000001"),
    ("stepca_acme_dns_resolver", "dns.example.test"),
    ("stepca_acme_dns_resolver", "127.0.0.1:0"),
    ("stepca_acme_dns_resolver", "[::1]53"),
    ("stepca_acme_base_url", "ca.example.test"),
    ("stepca_acme_base_url", "https://ca.example.test/?x=1"),
    ("stepca_max_body_size", "0"),
    ("stepca_max_body_size", "1q"),
])
def test_bad_directive_value(nginx_factory, directive, value):
    n = nginx_factory(http_extra="    %s %s;\n" % (directive, value))
    check_directive_fails(n, directive, value)


def test_bad_directive_value_in_server(nginx_factory):
    n = nginx_factory(server_extra="        stepca_acme_http01_port 99999;\n")
    check_directive_fails(n, "stepca_acme_http01_port", "99999")


def test_duplicate_directive(nginx_factory):
    n = nginx_factory(http_extra="    stepca_acme_http01_port 8080;\n"
                                 "    stepca_acme_http01_port 8081;\n")
    line = check_directive_fails(n, "stepca_acme_http01_port", None)
    assert "is duplicate" in line, line


def test_good_directive_values(nginx_factory):
    n = nginx_factory(http_extra="""\
    stepca_acme_base_url https://ca.example.test:8443/;
    stepca_acme_http01_port 8080;
    stepca_acme_tls_alpn01_port 8443;
    stepca_acme_dns_resolver [::1]:5353;
    stepca_acme_validation_threads 2;
    stepca_acme_validation_queue 10;
    stepca_max_body_size 64k;
""")
    res = n.test_config()
    assert res.returncode == 0, res.stderr
    assert not emerg_lines(res.stderr), res.stderr


def test_stepca_in_server_without_ca_json(nginx_factory, prefix):
    # the CA directives moved into the server; a second server without them
    # has a stepca location
    n = nginx_factory()
    with open(n.conf) as f:
        conf = f.read()
    conf = conf.replace("    stepca_ca_json ", "    # ")
    port = n.port + 1
    conf = conf.replace("        server_name localhost;\n",
                        "        server_name localhost;\n        stepca_ca_json %s;\n"
                        % n.pki.ca_json)
    conf = conf.rstrip().rstrip("}") + """
    server {
        listen 127.0.0.1:%d;
        location / { stepca; }
    }
}
""" % port
    with open(n.conf, "w") as f:
        f.write(conf)
    check_fails(n, "stepca_ca_json", "nginx.conf:")


def test_two_cas_on_one_lmdb_directory(nginx_factory, pki, prefix):
    # the same store under two different CA configurations is refused:
    # one LMDB environment cannot be opened twice by one process
    n = nginx_factory(server_extra="        stepca_acme_http01_port 8080;\n")
    with open(n.conf) as f:
        conf = f.read()
    conf = conf.rstrip().rstrip("}") + """
    server {
        listen 127.0.0.1:%d;
        location / { stepca; }
    }
}
""" % (n.port + 1)
    with open(n.conf, "w") as f:
        f.write(conf)
    line = check_fails(n, "same store", n.store, "stepca_store")
    assert n.pki.ca_json in line, line
