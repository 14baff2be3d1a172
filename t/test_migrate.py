"""`stepca migrate` from the real step-ca 0.19's database (issue 16, part 2).

The real step-ca (build/smallstep/bin/step-ca, badgerv2 as `step ca init`
configures it) serves the fixture PKI: it issues two certificates to
smallstep's client library (step-client), revokes one, and lego registers
an ACME account (and gets a certificate over http-01 when port 80 can be
bound). step-ca stops; `stepca migrate` imports its database into our LMDB
store; our module then serves the same ca.json and keys on the same
address and

* refuses to renew the revoked certificate, renews the other (step-client,
  and the real `step ca renew` when $STEP_CLI or PATH has one),
* lets lego, with the account directory it kept, get a certificate without
  registering again.

A second migration imports nothing and says so. Bad input (a missing
directory, a directory that is not a step-ca database, a corrupted export
line) is a clear error and leaves the store untouched.
"""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess

import pytest

from conftest import (BUILD, StepCli, find_step_cli, stop_process,
                      wait_for_port)
from test_acme import assert_ours, load_cert
from test_acme_clients import configure_acme_settings
from test_smallstep_compat import (_BUILT, STEP_CLIENT, StepCa,  # noqa: F401
                                   step_ca_factory)

STEPCA = os.path.join(BUILD, "stepca")
EXPORTER = os.path.join(BUILD, "stepca-db-export", "bin", "stepca-db-export")
TIMEOUT = 120

_EXPORTER_BUILT = os.access(EXPORTER, os.X_OK)
if os.environ.get("STEPCA_REQUIRE_SMALLSTEP") and not _EXPORTER_BUILT:
    raise RuntimeError("STEPCA_REQUIRE_SMALLSTEP is set but %s is missing "
                       "(scripts/build-db-export.sh)" % EXPORTER)

pytestmark = [
    pytest.mark.skipif(not _BUILT, reason="the real step-ca is not built "
                       "(scripts/build-smallstep.sh)"),
    pytest.mark.skipif(not _EXPORTER_BUILT, reason="%s not built: run "
                       "scripts/build-db-export.sh (make test does)" % EXPORTER),
    pytest.mark.skipif(not os.access(STEPCA, os.X_OK), reason="%s not built" % STEPCA),
]


def run(args, env=None, cwd=None, check=True):
    res = subprocess.run([str(a) for a in args], env=env, cwd=cwd, capture_output=True,
                         text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    if check:
        assert res.returncode == 0, "%s: exit %d\n%s\n%s" % (
            " ".join(map(str, args)), res.returncode, res.stdout, res.stderr)
    return res


def client(workdir, *args, check=True):
    env = dict(os.environ, STEPPATH=os.path.join(workdir, "steppath-client"))
    return run([STEP_CLIENT] + list(args), env=env, cwd=workdir, check=check)


def migrate(pki, store, *extra, check=True):
    return run([STEPCA, "migrate", "--config", pki.ca_json, "--store", store] + list(extra),
               check=check)


def port80_free():
    """http-01 at step-ca 0.19 is always port 80."""
    try:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", 80))
        return True
    except OSError:
        return False


class OldCa:
    """What the step-ca left behind: its ca.json, its DB, its clients' files."""


def run_old_ca(pki, prefix, step_ca_factory):
    old = OldCa()
    old.work = os.path.join(prefix, "clients")
    os.makedirs(old.work)
    os.makedirs(os.path.join(pki.path, "db"))
    ca = step_ca_factory(pki.ca_json, pki.password_file, prefix)
    old.port, old.url = ca.port, ca.url
    common = ["--ca-url", ca.url, "--root", pki.root_crt]
    for name in ("revoked", "kept"):
        client(old.work, "certificate", "%s.example.test" % name, name + ".crt", name + ".key",
               "--provisioner", "fixture@example.test", "--provisioner-password-file",
               os.path.join(pki.path, "provisioner-password.txt"), *common)
    old.revoked = load_cert(os.path.join(old.work, "revoked.crt")).serial_number
    old.kept = load_cert(os.path.join(old.work, "kept.crt")).serial_number
    client(old.work, "revoke", "--cert", "revoked.crt", "--key", "revoked.key",
           "--reason", "key compromise drill", *common)
    # The old CA refuses the revoked one itself: the fact to carry over.
    assert client(old.work, "renew", "revoked.crt", "revoked.key", *common,
                  check=False).returncode != 0

    old.lego = os.path.join(prefix, "lego")
    os.makedirs(old.lego)
    old.lego_env = dict(os.environ, LEGO_CA_CERTIFICATES=pki.root_crt)
    old.lego_issued = port80_free()
    res = run(["lego", "--server", ca.url + "/acme/acme/directory", "--email", "ops@example.test",
               "--accept-tos", "--domains", "localhost", "--http",
               "--http.port", "127.0.0.1:80", "--path", old.lego, "run"],
              env=old.lego_env, cwd=old.lego, check=old.lego_issued)
    # What the second run must not print.
    assert "Registering account" in res.stdout + res.stderr, res.stderr
    accounts = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(old.lego, "accounts"))
                for f in fs if f == "account.json"]
    assert len(accounts) == 1, res.stdout + res.stderr
    with open(accounts[0]) as f:
        old.account_uri = json.load(f)["registration"]["uri"]
    assert old.account_uri.startswith(ca.url + "/acme/acme/account/")
    ca.stop()
    return old


def start_new_ca(nginx_factory, pki, old):
    """Our module on the same ca.json, keys and address (the account URL
    lego keeps names the host and port)."""
    http01 = free_local_port()
    configure_acme_settings(pki, {"http01Port": http01})
    n = nginx_factory()
    n.port = old.port
    n.write_conf(port=old.port)
    n.start()
    n.http01 = http01
    return n


def free_local_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def store_uri(prefix):
    # nginx_factory's first nginx keeps its LMDB store in <prefix>/nginx/db.
    return "lmdb:" + os.path.join(prefix, "nginx", "db")


def test_migrate_then_revoked_refused_kept_renewed_acme_account_works(
        pki, prefix, step_ca_factory, nginx_factory):
    old = run_old_ca(pki, prefix, step_ca_factory)
    store = store_uri(prefix)

    first = migrate(pki, store).stdout
    certs = 3 if old.lego_issued else 2
    assert "x509 certificates: %d imported, 0 skipped" % certs in first, first
    assert "x509 revocations: 1 imported, 0 skipped" in first, first
    assert 'ACME accounts (into provisioner "acme"): 1 imported, 0 skipped' in first, first
    assert "table used_ott: " in first and "spent one-time tokens" in first, first
    assert "imported %d records" % (certs + 2) in first, first

    again = migrate(pki, store).stdout
    assert "nothing new imported" in again, again
    assert "x509 certificates: 0 imported, %d skipped" % certs in again, again
    assert "skipped 1: already revoked here" in again, again

    n = start_new_ca(nginx_factory, pki, old)
    common = ["--ca-url", old.url, "--root", pki.root_crt]

    refused = client(old.work, "renew", "revoked.crt", "revoked.key", *common, check=False)
    assert refused.returncode != 0
    assert "authorization" in (refused.stdout + refused.stderr).lower(), refused.stderr
    assert load_cert(os.path.join(old.work, "revoked.crt")).serial_number == old.revoked

    client(old.work, "renew", "kept.crt", "kept.key", *common)
    renewed = load_cert(os.path.join(old.work, "kept.crt"))
    assert renewed.serial_number != old.kept
    assert_ours(renewed, pki, "kept.example.test")

    # lego with the account it registered at step-ca: no new registration,
    # the kid it signs with is the old account URL, and a certificate comes.
    res = run(["lego", "--server", old.url + "/acme/acme/directory", "--email", "ops@example.test",
               "--accept-tos", "--domains", "localhost", "--http",
               "--http.port", "127.0.0.1:%d" % n.http01, "--path", old.lego, "run"],
              env=old.lego_env, cwd=old.lego)
    assert "Registering account" not in res.stderr + res.stdout, res.stderr
    crt = load_cert(os.path.join(old.lego, "certificates", "localhost.crt"))
    assert_ours(crt, pki, "localhost")


def test_migrated_revocation_refused_by_the_real_step_cli(
        pki, prefix, step_ca_factory, nginx_factory):
    path, reason = find_step_cli()
    if path is None:
        pytest.skip("the real step CLI is needed for `step ca renew`: " + reason)
    old = run_old_ca(pki, prefix, step_ca_factory)
    migrate(pki, store_uri(prefix))
    start_new_ca(nginx_factory, pki, old)
    step = StepCli(path, os.path.join(prefix, "steppath"))
    common = ["--ca-url", old.url, "--root", pki.root_crt, "--force"]

    revoked = os.path.join(old.work, "revoked.crt")
    proc = step.run("ca", "renew", revoked, os.path.join(old.work, "revoked.key"), *common,
                    check=False)
    assert proc.returncode != 0
    assert "The request lacked necessary authorization to be completed" in proc.stderr, proc.stderr
    assert load_cert(revoked).serial_number == old.revoked

    kept = os.path.join(old.work, "kept.crt")
    step.run("ca", "renew", kept, os.path.join(old.work, "kept.key"), *common)
    assert load_cert(kept).serial_number != old.kept
    assert_ours(load_cert(kept), pki, "kept.example.test")


def issue_two_revoke_one(pki, prefix, step_ca_factory, db=None):
    """The real step-ca on ca.json's db (or db): certificates "gone" (then
    revoked) and "stays"; step-ca is stopped on return."""
    if db is None:
        os.makedirs(os.path.join(pki.path, "db"))
    else:
        doc = pki.read_ca_json()
        doc["db"] = db
        pki.write_ca_json(doc)
    work = os.path.join(prefix, "clients")
    os.makedirs(work)
    ca = step_ca_factory(pki.ca_json, pki.password_file, prefix)
    common = ["--ca-url", ca.url, "--root", pki.root_crt]
    for name in ("gone", "stays"):
        client(work, "certificate", "%s.example.test" % name, name + ".crt", name + ".key",
               "--provisioner", "fixture@example.test", "--provisioner-password-file",
               os.path.join(pki.path, "provisioner-password.txt"), *common)
    client(work, "revoke", "--cert", "gone.crt", "--key", "gone.key", *common)
    ca.stop()
    return ca, work, common


def check_new_side(nginx_factory, pki, ca, work, common, **nginx):
    """Our module on the same address: "gone" is refused, "stays" renews."""
    n = nginx_factory(**nginx)
    n.port = ca.port
    n.write_conf(port=ca.port)
    n.start()
    gone = load_cert(os.path.join(work, "gone.crt")).serial_number
    refused = client(work, "renew", "gone.crt", "gone.key", *common, check=False)
    assert refused.returncode != 0, refused.stdout
    assert load_cert(os.path.join(work, "gone.crt")).serial_number == gone
    before = load_cert(os.path.join(work, "stays.crt")).serial_number
    client(work, "renew", "stays.crt", "stays.key", *common)
    after = load_cert(os.path.join(work, "stays.crt"))
    assert after.serial_number != before
    assert_ours(after, pki, "stays.example.test")


def test_migrate_from_bbolt(pki, prefix, step_ca_factory, nginx_factory):
    """step-ca's other embedded database: the same import from a bbolt file."""
    os.makedirs(os.path.join(pki.path, "db"))
    ca, work, common = issue_two_revoke_one(pki, prefix, step_ca_factory, db={
        "type": "bbolt", "dataSource": os.path.join(pki.path, "db", "step.db")})
    out = migrate(pki, store_uri(prefix)).stdout
    assert out.startswith("stepca migrate: bbolt database "), out
    assert "x509 certificates: 2 imported, 0 skipped" in out, out
    assert "x509 revocations: 1 imported, 0 skipped" in out, out
    assert "ACME accounts" in out and "none in the export" in out, out
    check_new_side(nginx_factory, pki, ca, work, common)


def test_migrate_into_redis(pki, prefix, step_ca_factory, nginx_factory, redis_server):
    """The fleet's store: the import goes to Redis, which every node reads."""
    ca, work, common = issue_two_revoke_one(pki, prefix, step_ca_factory)
    out = migrate(pki, redis_server.uri).stdout
    assert "-> redis store" in out, out
    assert "x509 revocations: 1 imported, 0 skipped" in out, out
    assert "nothing new imported" in migrate(pki, redis_server.uri).stdout
    check_new_side(nginx_factory, pki, ca, work, common, store=redis_server.uri)


class MariaDb:
    """A private MariaDB server on 127.0.0.1 (no grant tables: the test is
    the only client), for step-ca's "mysql" database type."""

    def __init__(self, base):
        self.base = base
        self.datadir = os.path.join(base, "data")
        self.port = free_local_port()
        self.proc = None

    def start(self):
        os.makedirs(self.base)
        run(["mariadb-install-db", "--no-defaults", "--datadir=" + self.datadir,
             "--user=" + pwd.getpwuid(os.getuid()).pw_name, "--skip-test-db",
             "--auth-root-authentication-method=normal"])
        self.log = open(os.path.join(self.base, "mariadbd.log"), "wb")
        self.proc = subprocess.Popen(
            ["mariadbd", "--no-defaults", "--datadir=" + self.datadir,
             "--socket=" + os.path.join(self.base, "sock"), "--port=%d" % self.port,
             "--bind-address=127.0.0.1", "--skip-grant-tables",
             "--pid-file=" + os.path.join(self.base, "pid"),
             "--user=" + pwd.getpwuid(os.getuid()).pw_name],
            stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_for_port(self.port, self.proc, timeout=60):
            self.stop()
            with open(os.path.join(self.base, "mariadbd.log"), errors="replace") as f:
                raise AssertionError("mariadbd did not start:\n" + f.read())
        return self

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM, timeout=60)
            self.log.close()
            self.proc = None


@pytest.fixture
def mariadb(prefix):
    if shutil.which("mariadbd") is None or shutil.which("mariadb-install-db") is None:
        pytest.skip("mariadb-server is not installed (step-ca's mysql database type)")
    m = MariaDb(os.path.join(prefix, "mariadb"))
    yield m.start()
    m.stop()


def test_migrate_from_mysql(pki, prefix, step_ca_factory, nginx_factory, mariadb):
    """step-ca's "mysql" type, on MariaDB: the same import over the DSN."""
    ca, work, common = issue_two_revoke_one(pki, prefix, step_ca_factory, db={
        "type": "mysql", "dataSource": "root@tcp(127.0.0.1:%d)/" % mariadb.port,
        "database": "stepca"})
    out = migrate(pki, store_uri(prefix)).stdout
    assert out.startswith("stepca migrate: mysql database tcp(127.0.0.1:%d)/ (stepca)"
                          % mariadb.port), out
    assert "x509 certificates: 2 imported, 0 skipped" in out, out
    assert "x509 revocations: 1 imported, 0 skipped" in out, out
    assert "nothing new imported" in migrate(pki, store_uri(prefix)).stdout
    check_new_side(nginx_factory, pki, ca, work, common)

    # A database of that server without step-ca's tables is refused.
    res = migrate(pki, store_uri(prefix) + "-other", "--database", "mysql", check=False)
    assert res.returncode == 1 and "not a step-ca database" in res.stderr, res.stderr
    assert "root@" not in res.stderr, res.stderr


# ---------------------------------------------------------------- bad input


def assert_store_untouched(prefix):
    assert not os.path.exists(os.path.join(prefix, "nginx", "db")), \
        "the store was created by a failed migration"


def files_of(top):
    out = {}
    for d, _, fs in os.walk(top):
        for f in fs:
            st = os.stat(os.path.join(d, f))
            out[os.path.relpath(os.path.join(d, f), top)] = (st.st_size, st.st_mtime_ns)
    return out


def test_missing_directory_is_a_clear_error(pki, prefix):
    missing = os.path.join(prefix, "no-such-db")
    res = migrate(pki, store_uri(prefix), "--from", missing, check=False)
    assert res.returncode == 1
    assert "not a step-ca database" in res.stderr and missing in res.stderr, res.stderr
    assert "no such file or directory" in res.stderr, res.stderr
    assert res.stdout == ""
    assert_store_untouched(prefix)


def test_a_directory_that_is_not_a_step_ca_database_is_refused(pki, prefix):
    other = os.path.join(prefix, "other")
    os.makedirs(other)
    with open(os.path.join(other, "notes.txt"), "w") as f:
        f.write("not a database\n")
    res = migrate(pki, store_uri(prefix), "--from", other, check=False)
    assert res.returncode == 1
    assert "not a step-ca database" in res.stderr and "not a badger database" in res.stderr, \
        res.stderr
    assert os.listdir(other) == ["notes.txt"], "the exporter wrote into the directory it read"
    assert_store_untouched(prefix)

    # A file where badger wants a directory, and a type that is not a driver.
    res = migrate(pki, store_uri(prefix), "--from", pki.ca_json, check=False)
    assert res.returncode == 1 and "not a directory" in res.stderr, res.stderr
    res = migrate(pki, store_uri(prefix), "--from", other, "--db-type", "postgresql", check=False)
    assert res.returncode == 1 and "not supported" in res.stderr, res.stderr
    assert_store_untouched(prefix)


def test_a_corrupted_export_line_imports_nothing(pki, prefix, step_ca_factory):
    old = run_old_ca(pki, prefix, step_ca_factory)
    export = os.path.join(prefix, "export.jsonl")
    db = os.path.join(pki.path, "db")
    before = files_of(db)
    res = run([EXPORTER, "--type", "badgerv2", "--source", db])
    lines = res.stdout.splitlines(True)
    assert '"kind":"end"' in lines[-1]
    # The step-ca database itself was only read (the exporter works on a copy).
    assert files_of(db) == before
    with open(export, "w") as f:
        f.writelines(lines)
    ok = migrate(pki, store_uri(prefix) + "-check", "--from-json", export)
    assert "x509 revocations: 1 imported" in ok.stdout

    broken = lines[:]
    broken[-2] = broken[-2][:len(broken[-2]) // 2] + "\n"  # a line cut in half
    with open(export, "w") as f:
        f.writelines(broken)
    res = migrate(pki, store_uri(prefix), "--from-json", export, check=False)
    assert res.returncode == 1
    assert "export line %d: not a JSON object" % (len(lines) - 1) in res.stderr, res.stderr
    assert "nothing was imported" in res.stderr, res.stderr
    assert_store_untouched(prefix)

    # A cut export (the last lines lost) is refused the same way.
    with open(export, "w") as f:
        f.writelines(lines[:-3])
    res = migrate(pki, store_uri(prefix), "--from-json", export, check=False)
    assert res.returncode == 1 and "incomplete" in res.stderr, res.stderr
    assert_store_untouched(prefix)
    assert str(old.revoked) in "".join(lines)


def test_accounts_need_one_acme_provisioner(pki, prefix, step_ca_factory):
    """step-ca 0.19 records no provisioner per ACME account: with several
    ACME provisioners the operator names the one, and a wrong name is
    refused before anything is written."""
    run_old_ca(pki, prefix, step_ca_factory)
    res = migrate(pki, store_uri(prefix), "--acme-provisioner", "nope", check=False)
    assert res.returncode == 1
    assert '--acme-provisioner "nope" is not an ACME provisioner' in res.stderr, res.stderr
    assert_store_untouched(prefix)

    doc = pki.read_ca_json()
    second = dict(next(p for p in doc["authority"]["provisioners"] if p["type"] == "ACME"))
    second["name"] = "acme-two"
    doc["authority"]["provisioners"].append(second)
    pki.write_ca_json(doc)
    res = migrate(pki, store_uri(prefix), check=False)
    assert res.returncode == 1
    assert "several ACME provisioners (acme, acme-two)" in res.stderr, res.stderr
    assert "nothing was imported" in res.stderr, res.stderr
    assert_store_untouched(prefix)

    out = migrate(pki, store_uri(prefix), "--acme-provisioner", "acme-two").stdout
    assert 'ACME accounts (into provisioner "acme-two"): 1 imported' in out, out
