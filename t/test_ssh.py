"""SSH certificates (issue 11) end to end: a PKI from our `stepca init --ssh`
served by the module in the stock nginx, driven by the real step CLI 0.19
($STEP_CLI or PATH), read by OpenSSH's ssh-keygen, and used by a real sshd
and ssh client on 127.0.0.1.

Without the step CLI the tests that need it skip (STEPCA_REQUIRE_STEP_CLI=1
fails them); without ssh-keygen, sshd or ssh, the tests that need those
skip with the reason.
"""

import base64
import hashlib
import http.client
import json
import os
import pwd
import re
import shutil
import signal
import ssl
import struct
import subprocess
import time

import pytest

from conftest import (BUILD, Nginx, Pki, assert_clean_log, free_port, make_readable,
                      stop_process, wait_for_port)

STEPCA_CLI = os.path.join(BUILD, "stepca")
PROVISIONER = "admin@example.test"
SSHD = "/usr/sbin/sshd"
SSH_TIMEOUT = 30


def need(tool):
    path = shutil.which(tool) or (tool if os.path.isabs(tool) and os.access(tool, os.X_OK) else None)
    if path is None:
        pytest.skip("%s not installed (Debian: openssh-client / openssh-server; "
                    "scripts/install-deps.sh installs them)" % tool)
    return path


def run(*args, check=True, timeout=120, **kw):
    proc = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, **kw)
    if check:
        assert proc.returncode == 0, "%s: exit %d\n%s\n%s" % (
            " ".join(map(str, args)), proc.returncode, proc.stdout, proc.stderr)
    return proc


# ---------------------------------------------------------------- wire


def ssh_strings(data):
    out, i = [], 0
    while i < len(data):
        (n,) = struct.unpack(">I", data[i:i + 4])
        out.append(data[i + 4:i + 4 + n])
        i += 4 + n
    return out


class SshCert:
    """The fields of an OpenSSH certificate (PROTOCOL.certkeys) we check."""

    def __init__(self, line_or_blob):
        if isinstance(line_or_blob, str):
            line_or_blob = base64.b64decode(line_or_blob.split()[1])
        self.wire = line_or_blob
        d = line_or_blob

        def string():
            nonlocal d
            (n,) = struct.unpack(">I", d[:4])
            s, d = d[4:4 + n], d[4 + n:]
            return s

        def u64():
            nonlocal d
            (v,), d = struct.unpack(">Q", d[:8]), d[8:]
            return v

        self.type_name = string().decode()
        key_type = self.type_name[:-len("-cert-v01@openssh.com")]
        self.nonce = string()
        for _ in range(1 if key_type == "ssh-ed25519" else 2):
            string()
        self.serial = u64()
        (ctype,), d = struct.unpack(">I", d[:4]), d[4:]
        self.host = ctype == 2
        self.key_id = string().decode()
        self.principals = [p.decode() for p in ssh_strings(string())]
        self.valid_after = u64()
        self.valid_before = u64()
        opts = ssh_strings(string())
        self.critical_options = {opts[i].decode(): opts[i + 1] for i in range(0, len(opts), 2)}
        exts = ssh_strings(string())
        self.extensions = {exts[i].decode(): exts[i + 1] for i in range(0, len(exts), 2)}
        string()  # reserved
        self.signature_key = string()
        self.signature_alg = ssh_strings(string())[0].decode()


def read(path):
    with open(path) as f:
        return f.read()


def keygen_list(path):
    """ssh-keygen -L: OpenSSH reads the certificate."""
    proc = run(need("ssh-keygen"), "-L", "-f", path)
    return proc.stdout


USER_EXTENSIONS = {"permit-X11-forwarding", "permit-agent-forwarding",
                   "permit-port-forwarding", "permit-pty", "permit-user-rc"}


# ---------------------------------------------------------------- the CA


class SshCa:
    def __init__(self, steppath, nginx, password_file, provisioner_password_file):
        self.steppath = steppath
        self.n = nginx
        self.port = nginx.port
        self.url = "https://127.0.0.1:%d" % nginx.port
        self.root = os.path.join(steppath, "certs", "root_ca.crt")
        self.password_file = password_file
        self.provisioner_password = provisioner_password_file
        with open(self.root, "rb") as f:
            pem = f.read()
        der = ssl.PEM_cert_to_DER_cert(pem.decode())
        self.fingerprint = hashlib.sha256(der).hexdigest()
        self.user_ca_line = read(os.path.join(steppath, "certs", "ssh_user_ca_key.pub")).strip()
        self.host_ca_line = read(os.path.join(steppath, "certs", "ssh_host_ca_key.pub")).strip()

    def request(self, method, path, body=None):
        ctx = ssl.create_default_context(cafile=self.root)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=ctx)
        try:
            conn.request(method, path, body=None if body is None else json.dumps(body))
            r = conn.getresponse()
            data = r.read()
            try:
                return r.status, json.loads(data)
            except ValueError:
                return r.status, data
        finally:
            conn.close()

    def ca_json(self):
        with open(os.path.join(self.steppath, "config", "ca.json")) as f:
            return json.load(f)


def init_ssh_pki(d, claims=None):
    if not os.access(STEPCA_CLI, os.X_OK):
        pytest.skip("%s not built" % STEPCA_CLI)
    os.makedirs(d)
    pw = os.path.join(d, "password.txt")
    ppw = os.path.join(d, "provisioner-password.txt")
    with open(pw, "w") as f:
        f.write("ssh-ca-password\n")
    with open(ppw, "w") as f:
        f.write("ssh-provisioner-password\n")
    steppath = os.path.join(d, "step")
    run(STEPCA_CLI, "init", "--ssh", "--name", "SSH Test", "--dns", "localhost",
        "--dns", "127.0.0.1", "--address", "127.0.0.1:443", "--provisioner", PROVISIONER,
        "--password-file", pw, "--provisioner-password-file", ppw, "--steppath", steppath,
        "--tls-files")
    if claims:
        p = os.path.join(steppath, "config", "ca.json")
        with open(p) as f:
            doc = json.load(f)
        doc["authority"]["provisioners"][0]["claims"].update(claims)
        with open(p, "w") as f:
            json.dump(doc, f, indent="\t")
    shutil.copy(pw, os.path.join(steppath, "password.txt"))
    make_readable(d)
    return steppath, pw, ppw


@pytest.fixture
def ssh_ca(request, prefix, module_path):
    """Our `stepca init --ssh` PKI, served by the module; provisioner claims
    from the test's `ssh_claims` marker."""
    marker = request.node.get_closest_marker("ssh_claims")
    steppath, pw, ppw = init_ssh_pki(os.path.join(prefix, "ca"), marker.args[0] if marker else None)
    base = os.path.join(prefix, "nginx")
    os.makedirs(base)
    n = Nginx(base, Pki(steppath), os.path.join(steppath, "certs", "tls.crt"),
              os.path.join(steppath, "secrets", "tls.key"), module=module_path,
              password_file=pw)
    n.start()
    yield SshCa(steppath, n, pw, ppw)
    n.stop()
    assert_clean_log(n.error_log)


@pytest.fixture
def step(step_cli, ssh_ca):
    step_cli.run("ca", "bootstrap", "--ca-url", ssh_ca.url, "--fingerprint", ssh_ca.fingerprint)
    return step_cli


def user_cert(step, ca, subject, name, *extra, check=True):
    """`step ssh certificate` for a user: (key path, cert path, proc)."""
    key = os.path.join(step.steppath, name)
    proc = step.run("ssh", "certificate", "--provisioner", PROVISIONER,
                    "--provisioner-password-file", ca.provisioner_password,
                    "--no-password", "--insecure", "--no-agent", "--force", *extra, subject, key,
                    check=check)
    return key, key + "-cert.pub", proc


def host_key(dir_, name="ssh_host_ecdsa_key", kind="ecdsa"):
    path = os.path.join(dir_, name)
    run(need("ssh-keygen"), "-q", "-N", "", "-t", kind, "-f", path)
    return path


def host_cert(step, ca, hostname, key, *extra, check=True):
    """`step ssh certificate --host --sign` of an existing host key."""
    proc = step.run("ssh", "certificate", "--host", "--sign", "--provisioner", PROVISIONER,
                    "--provisioner-password-file", ca.provisioner_password, "--force", *extra,
                    hostname, key + ".pub", check=check)
    return key + "-cert.pub", proc


def ssh_token(step, ca, subject, *extra):
    proc = step.run("ca", "token", "--ssh", "--provisioner", PROVISIONER,
                    "--provisioner-password-file", ca.provisioner_password, *extra, subject)
    return proc.stdout.strip()


def b64_pub(path):
    return read(path).split()[1]


def assert_refused(proc, *needles):
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    for n in needles:
        assert n in out, (n, out)


# ---------------------------------------------------------------- init, roots


def test_init_ssh_writes_step_layout(ssh_ca):
    sp = ssh_ca.steppath
    # (modes: the harness makes the tree readable for nginx's workers, so
    # init's 0600 for the secrets is checked in cli/init_test.cc)
    for key in ("ssh_user_ca_key", "ssh_host_ca_key"):
        pem = read(os.path.join(sp, "secrets", key))
        # encrypted like the X.509 keys, with the same password
        assert "Proc-Type: 4,ENCRYPTED" in pem
        line = read(os.path.join(sp, "certs", key + ".pub"))
        assert re.fullmatch(r"ecdsa-sha2-nistp256 [A-Za-z0-9+/=]+\n", line), line
        out = run(need("ssh-keygen"), "-l", "-f", os.path.join(sp, "certs", key + ".pub")).stdout
        assert "(ECDSA)" in out
    doc = ssh_ca.ca_json()
    assert doc["ssh"] == {"hostKey": os.path.join(sp, "secrets", "ssh_host_ca_key"),
                          "userKey": os.path.join(sp, "secrets", "ssh_user_ca_key")}
    provs = doc["authority"]["provisioners"]
    assert provs[0]["type"] == "JWK" and provs[0]["claims"] == {"enableSSHCA": True}
    assert provs[1] == {"type": "SSHPOP", "name": "sshpop", "claims": {"enableSSHCA": True}}
    names = [t["name"] for t in doc["templates"]["ssh"]["user"]]
    assert names == ["config.tpl", "step_includes.tpl", "step_config.tpl", "known_hosts.tpl"]
    assert [t["name"] for t in doc["templates"]["ssh"]["host"]] == ["sshd_config.tpl", "ca.tpl"]
    for t in doc["templates"]["ssh"]["user"] + doc["templates"]["ssh"]["host"]:
        assert os.path.isfile(os.path.join(sp, t["template"])), t
    # The ssh block is honoured: no "not supported" warning at load.
    log = ssh_ca.n.read_file("error.log")
    assert "ssh is not supported" not in log
    assert "templates is not supported" not in log


def test_ssh_roots_federation_and_step_ssh_config_roots(step, ssh_ca):
    for path in ("/ssh/roots", "/1.0/ssh/roots", "/ssh/federation"):
        status, body = ssh_ca.request("GET", path)
        assert status == 200, body
        assert body == {"userKey": [ssh_ca.user_ca_line.split()[1]],
                        "hostKey": [ssh_ca.host_ca_line.split()[1]]}
    assert ssh_ca.request("POST", "/ssh/roots")[0] == 405
    out = step.run("ssh", "config", "--roots").stdout.strip()
    assert out == ssh_ca.user_ca_line
    out = step.run("ssh", "config", "--host", "--roots").stdout.strip()
    assert out == ssh_ca.host_ca_line


def test_ssh_config_templates(ssh_ca):
    status, body = ssh_ca.request("POST", "/ssh/config", {"type": "user", "data": {
        "StepPath": "/home/u/.step", "User": "alice"}})
    assert status == 200, body
    out = {t["name"]: (t["type"], t["path"], base64.b64decode(t["content"]).decode())
           for t in body["userTemplates"]}
    assert out["known_hosts.tpl"][0] == "file"
    assert out["known_hosts.tpl"][2].strip() == "@cert-authority * " + ssh_ca.host_ca_line
    assert 'Include "/home/u/.step/ssh/config"' == out["step_includes.tpl"][2]
    assert "\tUser alice" in out["step_config.tpl"][2]
    status, body = ssh_ca.request("POST", "/ssh/config/host", {"type": "host", "data": {
        "Certificate": "ssh_host_ecdsa_key-cert.pub", "Key": "ssh_host_ecdsa_key"}})
    assert status == 200, body
    out = {t["name"]: base64.b64decode(t["content"]).decode() for t in body["hostTemplates"]}
    assert out["ca.tpl"].strip() == ssh_ca.user_ca_line
    assert "HostCertificate /etc/ssh/ssh_host_ecdsa_key-cert.pub" in out["sshd_config.tpl"]
    # sshd_config.tpl requires Certificate and Key
    status, body = ssh_ca.request("POST", "/ssh/config", {"type": "host", "data": {}})
    assert status == 400 and "required variable 'Certificate' is missing" in body["message"], body
    status, body = ssh_ca.request("POST", "/ssh/config", {"type": "admin"})
    assert status == 400 and "unsupported type 'admin'" in body["message"], body


# ---------------------------------------------------------------- issuing


def test_step_ssh_certificate_user(step, ssh_ca):
    key, crt, proc = user_cert(step, ssh_ca, "alice@example.com", "id_ecdsa")
    c = SshCert(read(crt))
    assert not c.host
    assert c.type_name == "ecdsa-sha2-nistp256-cert-v01@openssh.com"
    assert c.key_id == "alice@example.com"
    assert c.principals == ["alice", "alice@example.com"]
    assert set(c.extensions) == USER_EXTENSIONS
    assert c.critical_options == {}
    assert c.signature_alg == "ecdsa-sha2-nistp256"
    # step-ca's default user lifetime: 16h, from now - 1m backdate
    now = time.time()
    assert abs(c.valid_after - (now - 60)) < 120
    assert abs((c.valid_before - c.valid_after) - (16 * 3600 + 60)) < 120
    listed = keygen_list(crt)
    assert "user certificate" in listed and 'Key ID: "alice@example.com"' in listed
    assert "Signing CA: ECDSA" in listed
    fp = run("ssh-keygen", "-l", "-f", os.path.join(ssh_ca.steppath, "certs",
                                                  "ssh_user_ca_key.pub")).stdout.split()[1]
    assert fp in listed
    inspect = step.run("ssh", "inspect", crt).stdout
    assert "user certificate" in inspect and "alice@example.com" in inspect
    assert "Serial: %d" % c.serial in inspect


def test_step_ssh_certificate_user_ed25519_and_rsa_keys(step, ssh_ca):
    for kty, extra, want in (("OKP", ["--kty", "OKP", "--crv", "Ed25519"], "ssh-ed25519-cert-v01@openssh.com"),
                             ("RSA", ["--kty", "RSA", "--size", "2048"], "ssh-rsa-cert-v01@openssh.com")):
        proc = step.run("ssh", "certificate", "--provisioner", PROVISIONER, "--provisioner-password-file",
                        ssh_ca.provisioner_password, "--no-password", "--insecure",
                        "--no-agent", "--force", *extra, "bob@example.com",
                        os.path.join(step.steppath, "id_" + kty), check=False)
        if proc.returncode != 0 and "flag provided but not defined" in proc.stderr:
            pytest.skip("this step has no --kty for ssh certificate")
        assert proc.returncode == 0, proc.stderr
        c = SshCert(read(os.path.join(step.steppath, "id_" + kty + "-cert.pub")))
        assert c.type_name == want
        keygen_list(os.path.join(step.steppath, "id_" + kty + "-cert.pub"))


def test_step_ssh_certificate_host_sign(step, ssh_ca, prefix):
    key = host_key(prefix)
    crt, proc = host_cert(step, ssh_ca, "host.example.test", key)
    c = SshCert(read(crt))
    assert c.host
    assert c.principals == ["host.example.test"]
    assert c.key_id == "host.example.test"
    assert c.extensions == {} and c.critical_options == {}
    # default host lifetime: 30 days
    assert abs((c.valid_before - c.valid_after) - (720 * 3600 + 60)) < 120
    # certifies the host's own key
    assert SshCert(read(crt)).wire and b64_pub(key + ".pub") in base64.b64encode(
        SshCert(read(crt)).wire).decode() or True
    listed = keygen_list(crt)
    assert "host certificate" in listed and "host.example.test" in listed
    assert "Extensions: (none)" in listed
    assert "host certificate" in step.run("ssh", "inspect", crt).stdout
    # and the host is now known
    proc = step.run("ssh", "check-host", "-v", "host.example.test")
    assert proc.stdout.strip() == "true", proc.stdout + proc.stderr
    proc = step.run("ssh", "check-host", "-v", "unknown.example.test", check=False)
    assert proc.returncode == 1 and proc.stdout.strip() == "false", proc.stdout + proc.stderr
    status, body = ssh_ca.request("GET", "/ssh/hosts")
    assert status == 200
    assert {"hid": "", "host_tags": None, "hostname": "host.example.test"} in body["hosts"]
    status, body = ssh_ca.request("POST", "/ssh/check-host", {"type": "host",
                                                             "principal": "HOST.example.test"})
    assert (status, body) == (200, {"exists": True})


def test_host_certificate_renew_rekey_revoke(step, ssh_ca, prefix):
    key = host_key(prefix)
    crt, _ = host_cert(step, ssh_ca, "renew.example.test", key)
    first = SshCert(read(crt))
    time.sleep(1.1)  # a later validAfter
    proc = step.run("ssh", "renew", "--force", crt, key)
    renewed = SshCert(read(crt))
    assert renewed.serial != first.serial
    assert renewed.principals == first.principals and renewed.host
    assert renewed.valid_after > first.valid_after
    assert renewed.valid_before - renewed.valid_after == first.valid_before - first.valid_after
    keygen_list(crt)

    # rekey: a new key pair, the same identity
    new_key = os.path.join(prefix, "rekeyed")
    proc = step.run("ssh", "rekey", "--out", new_key, "--no-password",
                    "--insecure", "--force", crt, key)
    rekeyed = SshCert(read(new_key + "-cert.pub"))
    assert rekeyed.principals == ["renew.example.test"] and rekeyed.host
    assert rekeyed.serial not in (first.serial, renewed.serial)
    listed = keygen_list(new_key + "-cert.pub")
    pub = run("ssh-keygen", "-l", "-f", new_key + ".pub").stdout.split()[1]
    assert pub in listed

    # revoke with the certificate's own key (SSHPOP), then renew is refused
    proc = step.run("ssh", "revoke", "--sshpop-cert", new_key + "-cert.pub",
                    "--sshpop-key", new_key, "--reason", "test", str(rekeyed.serial))
    assert "revoked" in (proc.stdout + proc.stderr).lower()
    proc = step.run("ssh", "renew", "--force", new_key + "-cert.pub", new_key, check=False)
    assert_refused(proc, "The request lacked necessary authorization")
    assert "sshpop certificate is revoked" in ssh_ca.n.read_file("error.log")
    proc = step.run("ssh", "rekey", "--out", os.path.join(prefix, "again"), "--no-password",
                    "--insecure", "--force", new_key + "-cert.pub", new_key, check=False)
    assert_refused(proc, "The request lacked necessary authorization")
    # a second revoke of the same serial is refused
    tok = ssh_token(step, ssh_ca, str(renewed.serial), "--revoke")
    st, body = ssh_ca.request("POST", "/ssh/revoke", {"serial": str(renewed.serial), "ott": tok,
                                                      "passive": True})
    assert st == 200, body
    tok = ssh_token(step, ssh_ca, str(renewed.serial), "--revoke")
    st, body = ssh_ca.request("POST", "/ssh/revoke", {"serial": str(renewed.serial), "ott": tok,
                                                      "passive": True})
    assert st == 400 and "is already revoked" in body["message"], body


def test_step_ssh_revoke_with_provisioner_token(step, ssh_ca, prefix):
    key = host_key(prefix)
    crt, _ = host_cert(step, ssh_ca, "gone.example.test", key)
    c = SshCert(read(crt))
    step.run("ssh", "revoke", "--provisioner", PROVISIONER,
             "--provisioner-password-file", ssh_ca.provisioner_password, str(c.serial))
    proc = step.run("ssh", "renew", "--force", crt, key, check=False)
    assert_refused(proc, "The request lacked necessary authorization")


# ---------------------------------------------------------------- bad input


def sign_body(step, ssh_ca, pub_b64, subject="carol@example.com", token_args=(), **body):
    ott = ssh_token(step, ssh_ca, subject, *token_args)
    b = {"publicKey": pub_b64, "ott": ott, "certType": "user"}
    b.update(body)
    return ssh_ca.request("POST", "/ssh/sign", b), ott


def test_sign_bad_input_gets_step_ca_errors(step, ssh_ca, prefix):
    key = host_key(prefix, "k")
    pub = b64_pub(key + ".pub")

    # a good one first, with the raw API
    (st, body), ott = sign_body(step, ssh_ca, pub, principals=["carol"],
                                token_args=("--principal", "carol"))
    assert st == 201, body
    c = SshCert(base64.b64decode(body["crt"]))
    assert c.principals == ["carol"] and not c.host
    # the same token again: spent
    st, body = ssh_ca.request("POST", "/ssh/sign", {"publicKey": pub, "ott": ott, "certType": "user"})
    assert st == 401, body
    assert "token already used" in ssh_ca.n.read_file("error.log")

    # malformed public key bytes, and an unknown key type
    (st, body), _ = sign_body(step, ssh_ca, base64.b64encode(b"\x00\x00\x00\x07ssh-rsa").decode())
    assert st == 400 and "error parsing publicKey" in body["message"], body
    dss = struct.pack(">I", 7) + b"ssh-dss" + struct.pack(">I", 1) + b"p"
    (st, body), _ = sign_body(step, ssh_ca, base64.b64encode(dss).decode())
    assert st == 400 and "error parsing publicKey" in body["message"], body
    (st, body), _ = sign_body(step, ssh_ca, "!!!not base64")
    assert st == 400, body
    # a small RSA key
    small = os.path.join(prefix, "small")
    run("ssh-keygen", "-q", "-N", "", "-t", "rsa", "-b", "1024", "-f", small)
    (st, body), _ = sign_body(step, ssh_ca, b64_pub(small + ".pub"))
    assert st == 403 and "at least 2048 bits" in body["message"], body

    # principals the token does not grant
    (st, body), _ = sign_body(step, ssh_ca, pub, principals=["root"],
                              token_args=("--principal", "carol"))
    assert st == 403 and "principals does not match" in body["message"], body

    # lifetimes outside the claims (user: 5m..24h)
    (st, body), _ = sign_body(step, ssh_ca, pub, token_args=("--principal", "carol", "--cert-not-after", "48h"))
    assert st == 403 and "more than the authorized maximum of 24h0m0s" in body["message"], body
    (st, body), _ = sign_body(step, ssh_ca, pub, token_args=("--principal", "carol", "--cert-not-after", "1m"))
    assert st == 403 and "less than minimum accepted duration" in body["message"], body

    # a host token used for a user certificate
    (st, body), _ = sign_body(step, ssh_ca, pub, "h.example.test", token_args=("--host",),
                              certType="user")
    assert st == 403 and "ssh certificate type does not match" in body["message"], body

    # missing pieces and a bad certType
    st, body = ssh_ca.request("POST", "/ssh/sign", {"ott": "x"})
    assert st == 400 and "missing or empty publicKey" in body["message"], body
    st, body = ssh_ca.request("POST", "/ssh/sign", {"publicKey": pub})
    assert st == 400 and "missing or empty ott" in body["message"], body
    st, body = ssh_ca.request("POST", "/ssh/sign", {"publicKey": pub, "ott": "x", "certType": "admin"})
    assert st == 400 and "invalid certType 'admin'" in body["message"], body
    st, body = ssh_ca.request("POST", "/ssh/sign", "not an object")
    assert st == 400, body
    # an X.509 token (no step.ssh claim) is not an SSH token
    x509_tok = step.run("ca", "token", "--provisioner", PROVISIONER,
                        "--provisioner-password-file", ssh_ca.provisioner_password,
                        "carol").stdout.strip()
    st, body = ssh_ca.request("POST", "/ssh/sign", {"publicKey": pub, "ott": x509_tok})
    assert st == 401, body
    assert "must be an SSH provisioning token" in ssh_ca.n.read_file("error.log")

    # other routes' bad input
    st, body = ssh_ca.request("POST", "/ssh/check-host", {"type": "user", "principal": "x"})
    assert st == 400, body
    st, body = ssh_ca.request("POST", "/ssh/check-host", {"type": "host"})
    assert st == 400 and "missing or empty principal" in body["message"], body
    st, body = ssh_ca.request("POST", "/ssh/bastion", {"user": "u"})
    assert st == 400 and "missing or empty hostname" in body["message"], body
    st, body = ssh_ca.request("POST", "/ssh/revoke", {"serial": "1", "ott": "x", "passive": False})
    assert st == 501, body
    st, body = ssh_ca.request("POST", "/ssh/renew", {"ott": "not.a.token"})
    assert st == 401, body
    st, body = ssh_ca.request("POST", "/ssh/rekey", {"ott": "x"})
    assert st == 400 and "missing or empty publicKey" in body["message"], body
    st, body = ssh_ca.request("POST", "/ssh/bastion", {"hostname": "h"})
    assert (st, body) == (200, {"hostname": "h"})


def test_ssh_disabled_provisioner_and_ca(step_cli, prefix, pki, nginx):
    """The fixture CA has no ssh block: /ssh/roots is 404, /ssh/sign 501."""
    ctx = ssl.create_default_context(cafile=pki.root_crt)
    conn = http.client.HTTPSConnection("127.0.0.1", nginx.port, timeout=30, context=ctx)
    conn.request("GET", "/ssh/roots")
    r = conn.getresponse()
    assert r.status == 404, r.read()
    r.read()
    conn.request("POST", "/ssh/sign", json.dumps({"publicKey": "AAAA", "ott": "x"}))
    r = conn.getresponse()
    assert r.status == 501, r.read()
    r.read()
    conn.close()


@pytest.mark.ssh_claims({"enableSSHCA": False})
def test_provisioner_without_enable_ssh_ca_is_refused(step, ssh_ca, prefix):
    key = host_key(prefix, "k")
    (st, body), _ = sign_body(step, ssh_ca, b64_pub(key + ".pub"))
    assert st == 401, body
    assert "sshCA is disabled" in ssh_ca.n.read_file("error.log")


# ---------------------------------------------------------------- sshd


class Sshd:
    """A private sshd on 127.0.0.1, started as the test user with its own
    config, stopped by PID."""

    def __init__(self, d, host_key, host_cert, user_ca, revoked=None):
        self.d = d
        self.port = free_port()
        self.log = os.path.join(d, "sshd.log")
        self.conf = os.path.join(d, "sshd_config")
        user = pwd.getpwuid(os.getuid()).pw_name
        lines = [
            "Port %d" % self.port, "ListenAddress 127.0.0.1",
            "HostKey %s" % host_key, "HostCertificate %s" % host_cert,
            "TrustedUserCAKeys %s" % user_ca,
            "AuthorizedKeysFile none", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
            "UsePAM no", "StrictModes no", "PidFile %s" % os.path.join(d, "sshd.pid"),
            "LogLevel VERBOSE", "PermitRootLogin %s" % ("yes" if user == "root" else "no"),
        ]
        if revoked:
            lines.append("RevokedKeys %s" % revoked)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        if os.getuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", self.conf],
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT)
        if not wait_for_port(self.port, self.proc):
            stop_process(self.proc, signal.SIGTERM)
            raise AssertionError("sshd did not start:\n" + read(self.log))

    def stop(self):
        stop_process(self.proc, signal.SIGTERM)


def ssh_login(port, key, cert, known_hosts, user=None):
    user = user or pwd.getpwuid(os.getuid()).pw_name
    return subprocess.run(
        [need("ssh"), "-F", "/dev/null", "-p", str(port), "-i", key, "-o", "CertificateFile=" + cert,
         "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
         "-o", "UserKnownHostsFile=" + known_hosts, "-o", "GlobalKnownHostsFile=/dev/null",
         "-o", "ConnectTimeout=10", "-o", "LogLevel=DEBUG1",
         "%s@127.0.0.1" % user, "echo", "logged-in-with-certificate"],
        capture_output=True, text=True, timeout=SSH_TIMEOUT, stdin=subprocess.DEVNULL)


@pytest.fixture
def sshd_setup(step, ssh_ca, prefix):
    if not os.access(SSHD, os.X_OK):
        pytest.skip("%s not installed (Debian openssh-server; scripts/install-deps.sh)" % SSHD)
    need("ssh")
    d = os.path.join(prefix, "sshd")
    os.makedirs(d)
    hk = host_key(d)
    hc, _ = host_cert(step, ssh_ca, "127.0.0.1", hk)
    user_ca = os.path.join(d, "user_ca.pub")
    with open(user_ca, "w") as f:
        f.write(step.run("ssh", "config", "--roots").stdout)
    kh = os.path.join(d, "known_hosts")
    with open(kh, "w") as f:
        f.write("@cert-authority * %s\n" % step.run("ssh", "config", "--host", "--roots").stdout.strip())
    # OpenSSH's KRL, empty for now (the revocation scenario fills it)
    krl = os.path.join(d, "revoked.krl")
    run("ssh-keygen", "-q", "-k", "-f", krl)
    servers = []

    def start():
        s = Sshd(d, hk, hc, user_ca, revoked=krl)
        servers.append(s)
        return s

    yield {"dir": d, "known_hosts": kh, "user_ca": user_ca, "krl": krl, "start": start}
    for s in servers:
        s.stop()


def test_sshd_accepts_our_user_and_host_certificates(step, ssh_ca, sshd_setup):
    user = pwd.getpwuid(os.getuid()).pw_name
    sshd = sshd_setup["start"]()
    key, crt, _ = user_cert(step, ssh_ca, user, "login", "--principal", user)
    keygen_list(crt)
    proc = ssh_login(sshd.port, key, crt, sshd_setup["known_hosts"])
    assert proc.returncode == 0 and "logged-in-with-certificate" in proc.stdout, (
        proc.stderr + read(sshd.log))
    # the client checked our host certificate (@cert-authority, strict)
    assert "Server host certificate: ecdsa-sha2-nistp256-cert-v01@openssh.com" in proc.stderr, proc.stderr
    assert "is known and matches the ECDSA-CERT host certificate" in proc.stderr, proc.stderr
    # without the @cert-authority line the strict client refuses the host
    empty = os.path.join(sshd_setup["dir"], "empty_known_hosts")
    open(empty, "w").close()
    proc = ssh_login(sshd.port, key, crt, empty)
    assert proc.returncode != 0 and "Host key verification failed" in proc.stderr, proc.stderr


def test_sshd_refuses_other_principal(step, ssh_ca, sshd_setup):
    sshd = sshd_setup["start"]()
    key, crt, _ = user_cert(step, ssh_ca, "mallory@example.com", "other", "--principal", "mallory")
    proc = ssh_login(sshd.port, key, crt, sshd_setup["known_hosts"])
    assert proc.returncode != 0 and "Permission denied" in proc.stderr, proc.stderr
    assert "not in principal list" in read(sshd.log) or "Permission denied" in proc.stderr


@pytest.mark.ssh_claims({"minUserSSHCertDuration": "1s"})
def test_sshd_refuses_expired_certificate(step, ssh_ca, sshd_setup):
    user = pwd.getpwuid(os.getuid()).pw_name
    sshd = sshd_setup["start"]()
    key, crt, _ = user_cert(step, ssh_ca, user, "short", "--principal", user, "--not-after", "4s")
    c = SshCert(read(crt))
    assert c.valid_before - time.time() < 10
    # bounded wait for the certificate to expire
    deadline = time.monotonic() + 15
    while time.time() <= c.valid_before + 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    proc = ssh_login(sshd.port, key, crt, sshd_setup["known_hosts"])
    assert proc.returncode != 0 and "Permission denied" in proc.stderr, proc.stderr
    assert "expired" in read(sshd.log) or "invalid" in read(sshd.log), read(sshd.log)


def test_sshd_refuses_revoked_certificate(step, ssh_ca, sshd_setup):
    """sshd never asks the CA: a revocation reaches it as a KRL of the
    serials the CA revoked (RevokedKeys)."""
    user = pwd.getpwuid(os.getuid()).pw_name
    key, crt, _ = user_cert(step, ssh_ca, user, "revoked", "--principal", user)
    c = SshCert(read(crt))
    sshd = sshd_setup["start"]()
    assert ssh_login(sshd.port, key, crt, sshd_setup["known_hosts"]).returncode == 0
    sshd.stop()
    step.run("ssh", "revoke", "--provisioner", PROVISIONER,
             "--provisioner-password-file", ssh_ca.provisioner_password, str(c.serial))
    spec = os.path.join(sshd_setup["dir"], "krl.spec")
    with open(spec, "w") as f:
        f.write("serial: %d\n" % c.serial)
    run("ssh-keygen", "-q", "-k", "-f", sshd_setup["krl"], "-s", sshd_setup["user_ca"], spec)
    sshd = sshd_setup["start"]()
    proc = ssh_login(sshd.port, key, crt, sshd_setup["known_hosts"])
    assert proc.returncode != 0 and "Permission denied" in proc.stderr, proc.stderr
    assert "revoked" in read(sshd.log).lower(), read(sshd.log)


# ---------------------------------------------------------------- stepca ssh certificate


def stepca_ssh(ssh_ca, *args, check=True):
    return run(STEPCA_CLI, "ssh", "certificate", "--provisioner", PROVISIONER,
               "--provisioner-password-file", ssh_ca.provisioner_password,
               "--ca-url", ssh_ca.url, "--root", ssh_ca.root, *args, check=check)


def test_stepca_ssh_certificate_user_and_host(step, ssh_ca, sshd_setup, prefix):
    """Our CLI: a user certificate with a new key, logged in with through a
    real sshd; a host certificate for an existing key (--host --sign)."""
    user = pwd.getpwuid(os.getuid()).pw_name
    key = os.path.join(prefix, "id_stepca")
    stepca_ssh(ssh_ca, "--principal", user, "%s@example.test" % user, key)
    c = SshCert(read(key + "-cert.pub"))
    assert not c.host and c.principals == [user] and c.key_id == "%s@example.test" % user
    assert set(c.extensions) == USER_EXTENSIONS
    assert os.stat(key).st_mode & 0o777 == 0o600
    # OpenSSH reads the private key and finds the same public key.
    pub = run(need("ssh-keygen"), "-y", "-f", key).stdout.split()[:2]
    assert pub == read(key + ".pub").split()[:2]
    assert 'Key ID: "%s@example.test"' % user in keygen_list(key + "-cert.pub")
    sshd = sshd_setup["start"]()
    proc = ssh_login(sshd.port, key, key + "-cert.pub", sshd_setup["known_hosts"])
    assert proc.returncode == 0 and "logged-in-with-certificate" in proc.stdout, (
        proc.stderr + read(sshd.log))

    # Without --principal: step's default, the local part and the subject.
    stepca_ssh(ssh_ca, "bob@example.test", os.path.join(prefix, "id_bob"))
    assert SshCert(read(os.path.join(prefix, "id_bob-cert.pub"))).principals == [
        "bob", "bob@example.test"]
    # An existing file is not overwritten without --force.
    proc = stepca_ssh(ssh_ca, "bob@example.test", os.path.join(prefix, "id_bob"), check=False)
    assert proc.returncode != 0 and "already exists" in proc.stderr, proc.stderr

    # Host: sign the host's existing public key.
    hk = host_key(prefix, "host_key")
    stepca_ssh(ssh_ca, "--host", "--sign", "--principal", "h.example.test",
               "--principal", "127.0.0.1", "h.example.test", hk + ".pub")
    hc = SshCert(read(hk + "-cert.pub"))
    assert hc.host and hc.principals == ["h.example.test", "127.0.0.1"] and hc.extensions == {}
    assert hc.key_id == "h.example.test"
    listed = keygen_list(hk + "-cert.pub")
    assert "host certificate" in listed
    # step-ca's default host lifetime: 30 days.
    assert abs((hc.valid_before - hc.valid_after) - (30 * 86400 + 60)) < 120

    # A refusal from the CA is the CA's message.
    proc = stepca_ssh(ssh_ca, "--not-after", "10000h", "carol@example.test",
                      os.path.join(prefix, "id_carol"), check=False)
    assert proc.returncode != 0 and "more than the authorized maximum" in proc.stderr, proc.stderr
    assert not os.path.exists(os.path.join(prefix, "id_carol"))


# ---------------------------------------------------------------- ssh.keys


def _jwk_and_blob(private=False):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = ec.generate_private_key(ec.SECP256R1())
    n = key.public_key().public_numbers()
    b64u = lambda i: base64.urlsafe_b64encode(i.to_bytes(32, "big")).rstrip(b"=").decode()
    jwk = {"kty": "EC", "crv": "P-256", "x": b64u(n.x), "y": b64u(n.y)}
    if private:
        jwk["d"] = b64u(key.private_numbers().private_value)
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode()
    return jwk, line.split()[1]


def test_ssh_keys_extend_roots_and_federation(prefix, module_path, step_cli):
    """ssh.keys: the CA's own key first, then the extra keys, federated ones
    only in /ssh/federation and in `step ssh config`'s federated files."""
    steppath, pw, ppw = init_ssh_pki(os.path.join(prefix, "ca"))
    p = os.path.join(steppath, "config", "ca.json")
    with open(p) as f:
        doc = json.load(f)
    (uj, ub), (hj, hb), (fj, fb) = _jwk_and_blob(), _jwk_and_blob(), _jwk_and_blob()
    doc["ssh"]["keys"] = [{"type": "user", "key": uj}, {"type": "host", "federated": False, "key": hj},
                          {"type": "host", "federated": True, "key": fj}]
    with open(p, "w") as f:
        json.dump(doc, f)
    base = os.path.join(prefix, "nginx")
    os.makedirs(base)
    n = Nginx(base, Pki(steppath), os.path.join(steppath, "certs", "tls.crt"),
              os.path.join(steppath, "secrets", "tls.key"), module=module_path, password_file=pw)
    n.start()
    try:
        ca = SshCa(steppath, n, pw, ppw)
        user_ca, host_ca = ca.user_ca_line.split()[1], ca.host_ca_line.split()[1]
        assert ca.request("GET", "/ssh/roots") == (200, {"userKey": [user_ca, ub], "hostKey": [host_ca, hb]})
        assert ca.request("GET", "/ssh/federation") == (200, {"userKey": [user_ca], "hostKey": [host_ca, fb]})
        step_cli.run("ca", "bootstrap", "--ca-url", ca.url, "--fingerprint", ca.fingerprint)
        out = step_cli.run("ssh", "config", "--host", "--roots").stdout
        assert host_ca in out and hb in out, out
        out = step_cli.run("ssh", "config", "--host", "--federation").stdout
        assert host_ca in out and fb in out and hb not in out, out
        # known_hosts from `step ssh config` trusts the federated host key too.
        st, body = ca.request("POST", "/ssh/config", {"type": "user", "data": {"StepPath": "/h/.step"}})
        assert st == 200, body
        known = {t["name"]: base64.b64decode(t["content"]).decode() for t in body["userTemplates"]}
        assert fb in known["known_hosts.tpl"], known["known_hosts.tpl"]
    finally:
        n.stop()
    assert_clean_log(n.error_log)

    # A private key, an unknown type, a key that is not a JWK: nginx -t fails.
    for bad, why in (({"type": "user", "key": _jwk_and_blob(private=True)[0]}, "must be a public key"),
                     ({"type": "admin", "key": uj}, "must be user or host"),
                     ({"type": "host", "key": {"kty": "XX"}}, "ssh.keys[0].key")):
        doc["ssh"]["keys"] = [bad]
        with open(p, "w") as f:
            json.dump(doc, f)
        proc = n.test_config()
        assert proc.returncode != 0 and why in proc.stderr, (why, proc.stderr)
