"""One nginx, two CAs: two server{} blocks with their own ca.json (the
step 0.19 fixture PKI and a PKI written by `stepca init`), store and
counters. Each answers its own root, issues under its own intermediate, and
refuses the other CA's tokens. A third server that only inherits the
http{}-level CA shares that CA's authority (loaded once)."""

import http.client
import json
import os
import re
import ssl
import subprocess

import pytest

from conftest import BUILD, NGINX_HEAD, free_port, make_core_dir, make_readable, wait_for_port
from tokens import Provisioner, make_csr

FIXTURE_PROVISIONER_PASSWORD = "fixture-provisioner-password"
STEPCA_CLI = os.path.join(BUILD, "stepca")

CONF = NGINX_HEAD.replace("{workers}", "2") + """\
    # CA 1, for every server that does not name its own
    stepca_ca_json       {ca1_json};
    stepca_password_file {ca1_password};
    stepca_store         lmdb:{prefix}/db1;
    stepca_thread_pool   stepca;

    server {{
        listen 127.0.0.1:{port1} ssl;
        ssl_certificate {crt1};
        ssl_certificate_key {key1};
        location / {{ stepca; }}
        location = /metrics {{ stepca_metrics; }}
    }}

    server {{
        listen 127.0.0.1:{port2} ssl;
        stepca_ca_json       {ca2_json};
        stepca_password_file {ca2_password};
        stepca_store         lmdb:{prefix}/db2;
        stepca_max_body_size 64k;
        ssl_certificate {crt2};
        ssl_certificate_key {key2};
        location / {{ stepca; }}
        location = /metrics {{ stepca_metrics; }}
    }}

    server {{
        listen 127.0.0.1:{port3} ssl;
        ssl_certificate {crt1};
        ssl_certificate_key {key1};
        location / {{ stepca; }}
    }}
}}
"""


@pytest.fixture
def ca2(prefix):
    """A second, unrelated PKI written by our `stepca init`."""
    if not os.access(STEPCA_CLI, os.X_OK):
        pytest.skip("%s not built" % STEPCA_CLI)
    d = os.path.join(prefix, "ca2")
    os.makedirs(d)
    pw = os.path.join(d, "p.txt")
    ppw = os.path.join(d, "pp.txt")
    with open(pw, "w") as f:
        f.write("ca2-password\n")
    with open(ppw, "w") as f:
        f.write("ca2-provisioner-password\n")
    steppath = os.path.join(d, "step")
    subprocess.run(
        [STEPCA_CLI, "init", "--name", "Second CA", "--dns", "localhost",
         "--dns", "127.0.0.1", "--address", "127.0.0.1:443",
         "--provisioner", "second@example.test", "--password-file", pw,
         "--provisioner-password-file", ppw, "--steppath", steppath, "--tls-files"],
        check=True, capture_output=True, timeout=120)
    make_readable(d)
    return {
        "ca_json": os.path.join(steppath, "config", "ca.json"),
        "root": os.path.join(steppath, "certs", "root_ca.crt"),
        "crt": os.path.join(steppath, "certs", "tls.crt"),
        "key": os.path.join(steppath, "secrets", "tls.key"),
        "password_file": pw,
        "provisioner_password": "ca2-provisioner-password",
    }


class Ca:
    def __init__(self, port, root, provisioner):
        self.port = port
        self.root = root
        self.prov = provisioner

    @property
    def aud(self):
        return "https://127.0.0.1:%d/1.0/sign" % self.port

    def request(self, method, path, body=None):
        ctx = ssl.create_default_context(cafile=self.root)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=ctx)
        try:
            conn.request(method, path, body=body)
            r = conn.getresponse()
            return r.status, r.read()
        finally:
            conn.close()

    def sign(self, ott, cn):
        csr, _ = make_csr(cn)
        return self.request("POST", "/1.0/sign", json.dumps({"csr": csr, "ott": ott}))


@pytest.fixture
def two_cas(prefix, pki, ca2, server_tls, module_path):
    base = os.path.join(prefix, "nginx")
    os.makedirs(os.path.join(base, "tmp"))
    make_core_dir(base)
    ports = [free_port() for _ in range(3)]
    crt1, key1 = server_tls
    conf = os.path.join(base, "nginx.conf")
    with open(conf, "w") as f:
        f.write(CONF.format(
            module=module_path, prefix=base, port1=ports[0], port2=ports[1], port3=ports[2],
            ca1_json=pki.ca_json, ca1_password=pki.password_file, crt1=crt1, key1=key1,
            ca2_json=ca2["ca_json"], ca2_password=ca2["password_file"],
            crt2=ca2["crt"], key2=ca2["key"]))
    make_readable(base)
    test = subprocess.run(["/usr/sbin/nginx", "-p", base, "-c", conf, "-t"],
                          capture_output=True, text=True, timeout=60)
    assert test.returncode == 0, test.stderr
    out = open(os.path.join(base, "stdout.log"), "wb")
    proc = subprocess.Popen(["/usr/sbin/nginx", "-p", base, "-c", conf],
                            stdout=out, stderr=subprocess.STDOUT)
    try:
        for p in ports:
            assert wait_for_port(p, proc), open(os.path.join(base, "error.log")).read()
        one = Ca(ports[0], pki.root_crt, Provisioner(pki.ca_json, FIXTURE_PROVISIONER_PASSWORD))
        two = Ca(ports[1], ca2["root"], Provisioner(ca2["ca_json"], ca2["provisioner_password"]))
        three = Ca(ports[2], pki.root_crt, one.prov)
        yield one, two, three, test.stderr, os.path.join(base, "error.log")
    finally:
        proc.send_signal(3)  # SIGQUIT, by our own child's pid
        proc.wait(timeout=30)
        out.close()
    with open(os.path.join(base, "error.log")) as f:
        bad = [l for l in f if re.search(r"\[(error|crit|alert|emerg)\]", l)]
    assert not bad, bad


def pem_file(path):
    with open(path) as f:
        return f.read()


def verify(root, resp, tmp):
    leaf = os.path.join(tmp, "leaf.pem")
    chain = os.path.join(tmp, "chain.pem")
    with open(leaf, "w") as f:
        f.write(resp["crt"])
    with open(chain, "w") as f:
        f.write("".join(resp["certChain"][1:]))
    return subprocess.run(["openssl", "verify", "-CAfile", root, "-untrusted", chain, leaf],
                          capture_output=True, text=True, timeout=30)


def metric(ca, name, provisioner):
    status, body = ca.request("GET", "/metrics")
    assert status == 200
    m = re.search(r'^%s\{provisioner="%s"\} (\d+)$' % (name, re.escape(provisioner)),
                  body.decode(), re.M)
    return int(m.group(1)) if m else None


def test_two_servers_serve_two_cas(two_cas, tmp_path):
    one, two, three, _, _ = two_cas

    # each /roots answers its own root, and only that
    for ca in (one, two):
        status, body = ca.request("GET", "/roots")
        assert status == 201, body
        crts = json.loads(body)["crts"]
        assert [c.strip() for c in crts] == [pem_file(ca.root).strip()]
    assert pem_file(one.root) != pem_file(two.root)

    # a certificate from each verifies against its own root only
    for ca, other, cn in ((one, two, "one.example.test"), (two, one, "two.example.test")):
        status, body = ca.sign(ca.prov.token(cn, ca.aud), cn)
        assert status == 201, body
        resp = json.loads(body)
        ok = verify(ca.root, resp, str(tmp_path))
        assert ok.returncode == 0, ok.stdout + ok.stderr
        wrong = verify(other.root, resp, str(tmp_path))
        assert wrong.returncode != 0, wrong.stdout

    # a token of CA 1 is refused by CA 2 (whatever audience it names), and
    # the other way round
    for ca, other in ((one, two), (two, one)):
        for aud in (ca.aud, other.aud):
            status, body = other.sign(ca.prov.token("x.example.test", aud), "x.example.test")
            assert status == 401, body

    # each CA counts its own certificates in its own zone
    assert metric(one, "stepca_certificates_issued_total", one.prov.name) == 1
    assert metric(two, "stepca_certificates_issued_total", two.prov.name) == 1
    assert metric(two, "stepca_certificates_issued_total", one.prov.name) is None


def test_a_server_that_inherits_shares_the_authority(two_cas):
    one, two, three, test_stderr, error_log = two_cas
    # the third server serves CA 1 (same root, same store: a token spent on
    # one server is spent on the other)
    status, body = three.request("GET", "/roots")
    assert status == 201
    assert json.loads(body)["crts"][0].strip() == pem_file(one.root).strip()
    ott = one.prov.token("shared.example.test", one.aud)
    assert one.sign(ott, "shared.example.test")[0] == 201
    assert three.sign(ott, "shared.example.test")[0] == 401
    # the counters are CA 1's too
    assert metric(one, "stepca_certificates_issued_total", one.prov.name) == 1


def test_max_body_size_is_per_server(two_cas):
    one, two, _, _, _ = two_cas
    big = b"{" + b" " * (100 * 1024) + b"}"
    status, _ = two.request("POST", "/1.0/sign", big)   # 64k in this server
    assert status == 413
    status, _ = one.request("POST", "/1.0/sign", big)   # 1m inherited default
    assert status == 400
