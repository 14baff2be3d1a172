"""ACME through the sample fleet itself: conf.d/fleet-node.conf and
conf.d/fleet-balancer.conf (the files docker-compose.yml and `make fleet`
use), two nodes on one Redis behind the stream balancer with the PROXY
protocol. lego issues, renews and revokes with no badNonce, and both nodes
serve ACME requests."""

import os
import shutil

import pytest

from conftest import free_port
from fleet import Fleet
from test_acme import assert_ours, configure_acme, load_cert, run


@pytest.fixture
def acme_confd_fleet(prefix, pki, server_tls, module_path):
    http01 = free_port()
    configure_acme(pki, http01)
    crt, key = server_tls
    f = Fleet(os.path.join(prefix, "fleet"), pki, crt, key, module_path).start()
    f.http01_port = http01
    yield f
    f.stop()
    assert not f.crashes(), "\n".join(f.crashes())
    assert not f.bad_lines(), "\n".join(f.bad_lines())


@pytest.mark.skipif(shutil.which("lego") is None, reason="lego not installed")
def test_lego_through_the_sample_fleet(acme_confd_fleet, pki, prefix):
    f = acme_confd_fleet
    work = os.path.join(prefix, "lego")
    os.makedirs(work)
    env = dict(os.environ, LEGO_CA_CERTIFICATES=pki.root_crt)
    directory = "https://127.0.0.1:%d/acme/acme/directory" % f.port
    common = ["lego", "--server", directory, "--email", "ops@example.test",
              "--accept-tos", "--domains", "localhost", "--http",
              "--http.port", "127.0.0.1:%d" % f.http01_port, "--path", work]
    out = run(common + ["run"], env, work)
    crt = os.path.join(work, "certificates", "localhost.crt")
    first = load_cert(crt)
    assert_ours(first, pki, "localhost")
    out2 = run(common + ["renew", "--days", "9999", "--no-random-sleep"], env, work)
    assert load_cert(crt).serial_number != first.serial_number
    out3 = run(common + ["revoke"], env, work)
    for p in (out, out2, out3):
        assert "badNonce" not in p.stdout + p.stderr
    # lego's runs are separate processes, so the balancer spread them over
    # both nodes; every ACME answer was a success.
    per_node = [[l for l in n.read("access.log").splitlines() if "/acme/" in l]
                for n in f.nodes]
    assert all(per_node), [len(x) for x in per_node]
    for lines in per_node:
        for l in lines:
            status = l.split('"')[2].split()[0]
            assert status.startswith("2"), l
