"""Redis Sentinel (issue 18): two CA nodes on a redis+sentinel:// store, a
master, a replica and three sentinels on 127.0.0.1. Under steady load the
master is killed; the sentinels promote the replica, the nodes follow
within seconds with only 503s (and refusals of tokens issued before the
change) in between, no worker crashes, and every token used before the
failover, fired again at both nodes, yields no certificate."""

import json
import os
import threading
import time

import pytest

from redis_procs import RedisProc, SentinelProc, have_sentinel, wait_until
from test_sign import PROVISIONER_PASSWORD, aud, sign
from tokens import Provisioner, make_csr

pytestmark = pytest.mark.skipif(not have_sentinel(), reason="redis-sentinel not installed")

MASTER = "stepca-master"
BOOTSTRAP = "token issued before the bootstrap"


@pytest.fixture
def prov(pki):
    return Provisioner(pki.ca_json, PROVISIONER_PASSWORD)


@pytest.fixture
def sentinel_set(prefix):
    """master, replica, three sentinels; everything stopped at the end."""
    procs = []
    master = RedisProc(os.path.join(prefix, "master"), "--appendonly", "yes",
                       "--appendfsync", "everysec")
    procs.append(master.start())
    replica = RedisProc(os.path.join(prefix, "replica"), "--appendonly", "yes",
                        "--appendfsync", "everysec",
                        "--replicaof", "127.0.0.1", str(master.port))
    procs.append(replica.start())
    assert wait_until(lambda: replica.info("replication").get("master_link_status") == "up", 15)
    sentinels = []
    for i in range(3):
        s = SentinelProc(os.path.join(prefix, "sentinel%d" % i), MASTER, master.port)
        procs.append(s.start())
        sentinels.append(s)
    # Every sentinel knows the replica and the two other sentinels.
    def settled():
        for s in sentinels:
            info = s.cli("SENTINEL", "master", MASTER).split()
            d = dict(zip(info[::2], info[1::2]))
            if d.get("num-slaves") != "1" or d.get("num-other-sentinels") != "2":
                return False
        return True
    assert wait_until(settled, 30, step=0.2), "sentinels did not discover each other"
    yield master, replica, sentinels
    for p in reversed(procs):
        p.stop()


def sentinel_uri(sentinels, query="timeout=500ms&connect_timeout=300ms"):
    hosts = ",".join("127.0.0.1:%d" % s.port for s in sentinels)
    return "redis+sentinel://%s/%s/0?%s" % (hosts, MASTER, query)


class NodeLoad:
    """Clients alternating between the nodes, each request with a fresh
    token: records (status, body, t0, ott, node index)."""

    def __init__(self, nodes, prov, threads=4):
        self.nodes, self.prov = nodes, prov
        self.results, self.errors = [], []
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.csr, _ = make_csr("sentinel.example.test")
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]

    def run(self, i):
        k = i
        while not self.stop_ev.is_set():
            n = self.nodes[k % len(self.nodes)]
            k += 1
            ott = self.prov.token("sentinel.example.test", aud(n))
            t0 = time.monotonic()
            try:
                status, _, body = sign(n, self.csr, ott)
                with self.lock:
                    self.results.append((status, body, t0, ott, k % len(self.nodes)))
            except Exception as e:
                with self.lock:
                    self.errors.append(repr(e))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=60)

    def count(self, status, after=0.0):
        with self.lock:
            return sum(1 for r in self.results if r[0] == status and r[2] >= after)


def test_sentinel_uri_finds_the_master(nginx_factory, sentinel_set, prov):
    master, _, sentinels = sentinel_set
    # The first sentinel listed is down: the next one answers.
    n = nginx_factory(store=sentinel_uri([sentinels[0]] + sentinels).replace(
        "127.0.0.1:%d," % sentinels[0].port, "127.0.0.1:1,", 1)).start()
    csr, _ = make_csr("found.example.test")
    status, _, body = sign(n, csr, prov.token("found.example.test", aud(n)))
    assert status == 201, body
    assert len(master.keys("stepca:x509_certs/")) == 1


@pytest.mark.allow_error_log
def test_failover_under_load_spends_no_token_twice(nginx_factory, sentinel_set, prov, capsys):
    master, replica, sentinels = sentinel_set
    uri = sentinel_uri(sentinels)
    nodes = [nginx_factory(name="a", store=uri).start(), nginx_factory(name="b", store=uri).start()]

    with NodeLoad(nodes, prov) as load:
        assert wait_until(lambda: load.count(201) >= 20, 30), load.results[-3:]
        master.kill9()
        killed_at = time.monotonic()
        promoted = wait_until(lambda: sentinels[0].master_port(MASTER) == replica.port, 30, 0.1)
        promoted_at = time.monotonic()
        assert promoted, "the sentinels did not promote the replica"
        assert wait_until(lambda: load.count(201, after=promoted_at) >= 10, 30), \
            "the nodes did not follow the failover"
    assert not load.errors, load.errors[:5]

    statuses = [r[0] for r in load.results]
    assert 500 not in statuses
    for status, body, t0, _, _ in load.results:
        assert status in (201, 401, 503), (status, body)
        if status == 401:
            # Only tokens issued before the nodes saw the new master (the
            # reason is in the log: the epoch moved past them).
            assert t0 < promoted_at + 5, (t0 - killed_at, body)
        if status == 503:
            assert "unavailable" in json.loads(body)["message"]
    outage = [r[2] for r in load.results if r[0] != 201 and r[2] >= killed_at - 1]
    first_back = min(r[2] for r in load.results if r[0] == 201 and r[2] > killed_at)
    window = (max(outage) - killed_at) if outage else 0.0
    assert window < 20, window
    logs = "".join(n.read_file("error.log") for n in nodes)
    assert "exited on signal" not in logs
    if 401 in statuses:
        assert BOOTSTRAP in logs

    # Every token that got a certificate before the master died, again, at
    # both nodes: nothing.
    before = [r for r in load.results if r[0] == 201 and r[2] < killed_at]
    certs = len(replica.keys("stepca:x509_certs/"))
    replays = 0
    for status, body, t0, ott, k in before:
        for n in nodes:
            s, _, b = sign(n, load.csr, ott)
            replays += 1
            assert s == 401, b
    assert len(replica.keys("stepca:x509_certs/")) == certs
    with capsys.disabled():
        print("\nsentinel failover: recovered %.1fs after the kill (promotion at %.1fs), "
              "%d x 503, %d x 401 (pre-change tokens), %d replays of %d tokens, "
              "0 certificates from replays" % (
                  first_back - killed_at, promoted_at - killed_at,
                  statuses.count(503), statuses.count(401), replays, len(before)))
