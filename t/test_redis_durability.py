"""A Redis that loses its last writes must not let a spent token be spent
again (issue 18, docs/fleet.md "When Redis loses writes").

For each persistence setting: spend tokens, then simulate the worst a host
crash can do to that setting (kill -9, cut the append-only file back to
what it held before the spends, restart); the records of those spends are
gone, yet a replay of every token yields no certificate, because the
restarted server has a new run id and the CA moved the store epoch past
every token issued before it."""

import json
import os
import time

import pytest

from redis_procs import RedisProc, have_redis
from test_sign import PROVISIONER_PASSWORD, aud, sign
from tokens import Provisioner, make_csr

pytestmark = pytest.mark.skipif(not have_redis(), reason="redis-server not installed")

SETTINGS = {
    "everysec": ["--appendonly", "yes", "--appendfsync", "everysec"],
    "always": ["--appendonly", "yes", "--appendfsync", "always"],
    "no-aof": ["--appendonly", "no"],
}
SPENT = 5


@pytest.fixture
def prov(pki):
    return Provisioner(pki.ca_json, PROVISIONER_PASSWORD)


def aof_sizes(redis):
    return {p: os.path.getsize(p) for p in redis.aof_files()}


def cut_back(redis, sizes):
    """What a power loss does to writes the disk never got: the files end
    where they ended before."""
    for path in redis.aof_files():
        with open(path, "r+b") as f:
            f.truncate(sizes.get(path, 0))


@pytest.mark.allow_error_log
@pytest.mark.parametrize("setting", sorted(SETTINGS))
def test_replays_after_a_lost_tail_issue_nothing(nginx_factory, prefix, prov, setting):
    redis = RedisProc(os.path.join(prefix, "redis"), *SETTINGS[setting]).start()
    try:
        n = nginx_factory(store=redis.uri + "?timeout=500ms&connect_timeout=500ms").start()
        csr, _ = make_csr("durable.example.test")
        # Warm up: the epoch is claimed, the workers know the server.
        assert sign(n, csr, prov.token("durable.example.test", aud(n)))[0] == 201
        time.sleep(1.2)  # everysec: the warm-up is on disk
        before = aof_sizes(redis)
        records_before = len(redis.keys("stepca:x509_certs/"))

        tokens = [prov.token("durable.example.test", aud(n)) for _ in range(SPENT)]
        for ott in tokens:
            status, _, body = sign(n, csr, ott)
            assert status == 201, body
        assert len(redis.keys("stepca:x509_certs/")) == records_before + SPENT

        redis.kill9()
        cut_back(redis, before)
        redis.start()
        # The loss is real: the records of those certificates are gone
        # (without the append-only file, everything is).
        kept = 0 if setting == "no-aof" else records_before
        assert len(redis.keys("stepca:x509_certs/")) == kept, setting

        replayed = []
        for ott in tokens:
            deadline = time.monotonic() + 10
            while True:
                status, _, body = sign(n, csr, ott)
                if status != 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            replayed.append((status, body))
        for status, body in replayed:
            assert status == 401, body
        assert len(redis.keys("stepca:x509_certs/")) == kept
        log = n.read_file("error.log")
        assert "token issued before the bootstrap" in log

        # Tokens issued after the change work.
        time.sleep(1.1)
        status, _, body = sign(n, csr, prov.token("durable.example.test", aud(n)))
        assert status == 201, body
    finally:
        redis.stop()


@pytest.mark.allow_error_log
def test_a_process_crash_loses_nothing_and_replays_stay_refused(nginx_factory, prefix, prov):
    redis = RedisProc(os.path.join(prefix, "redis"), *SETTINGS["everysec"]).start()
    try:
        n = nginx_factory(store=redis.uri + "?timeout=500ms&connect_timeout=500ms").start()
        csr, _ = make_csr("crash.example.test")
        tokens = [prov.token("crash.example.test", aud(n)) for _ in range(SPENT)]
        for ott in tokens:
            assert sign(n, csr, ott)[0] == 201
        records = len(redis.keys("stepca:x509_certs/"))
        redis.kill9()
        redis.start()
        assert len(redis.keys("stepca:x509_certs/")) == records  # the page cache kept it
        for ott in tokens:
            deadline = time.monotonic() + 10
            while True:
                status, _, body = sign(n, csr, ott)
                if status != 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert status == 401, body
            assert json.loads(body)["status"] == 401
        assert len(redis.keys("stepca:x509_certs/")) == records
    finally:
        redis.stop()
