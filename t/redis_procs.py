"""redis-server and redis-sentinel processes for the Redis tests
(durability, Sentinel failover, TLS): one class per process, each started
on a free 127.0.0.1 port and stopped by its own PID."""

import os
import shutil
import signal
import subprocess
import time

from conftest import free_port, stop_process, wait_for_port

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


def have_redis():
    return os.path.exists(REDIS_SERVER) and os.path.exists(REDIS_CLI)


def have_sentinel():
    return have_redis() and os.path.exists(REDIS_SENTINEL)


class RedisProc:
    """One redis-server; args are extra command-line options."""

    def __init__(self, base, *args, port=None):
        self.dir = base
        self.port = free_port() if port is None else port
        self.args = list(args)
        self.proc = None
        os.makedirs(base, exist_ok=True)

    @property
    def uri(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def command(self):
        return [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--daemonize", "no", "--save", "", "--dir", self.dir,
                "--logfile", os.path.join(self.dir, "redis.log")] + self.args

    def start(self, wait_port=None):
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_for_port(wait_port or self.port, self.proc):
            stop_process(self.proc, signal.SIGKILL)
            raise AssertionError("redis-server did not start on %d:\n%s" % (
                self.port, self.log()))
        return self

    def stop(self):
        stop_process(self.proc, signal.SIGTERM)

    def kill9(self):
        """A crash of the process (or, with the files cut, of the host)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def cli(self, *args, timeout=30):
        return subprocess.run([REDIS_CLI, "-p", str(self.port)] + list(args),
                              capture_output=True, text=True, timeout=timeout).stdout

    def keys(self, prefix):
        return [k for k in self.cli("--scan", "--pattern", prefix + "*").split() if k]

    def log(self):
        try:
            with open(os.path.join(self.dir, "redis.log"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def aof_files(self):
        """The append-only files (Redis 7: appendonlydir/*.incr.aof)."""
        d = os.path.join(self.dir, "appendonlydir")
        if not os.path.isdir(d):
            return []
        return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".incr.aof"))

    def info(self, section):
        out = {}
        for line in self.cli("INFO", section).splitlines():
            if ":" in line:
                k, v = line.strip().split(":", 1)
                out[k] = v
        return out


class SentinelProc:
    """One redis-sentinel watching `master_name` at master_port."""

    def __init__(self, base, master_name, master_port, quorum=2,
                 down_after_ms=1000, failover_timeout_ms=5000):
        self.dir = base
        self.port = free_port()
        self.proc = None
        os.makedirs(base, exist_ok=True)
        self.conf = os.path.join(base, "sentinel.conf")
        with open(self.conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\nlogfile %s\n"
                    "sentinel monitor %s 127.0.0.1 %d %d\n"
                    "sentinel down-after-milliseconds %s %d\n"
                    "sentinel failover-timeout %s %d\n"
                    "sentinel parallel-syncs %s 1\n" % (
                        self.port, base, os.path.join(base, "sentinel.log"),
                        master_name, master_port, quorum,
                        master_name, down_after_ms,
                        master_name, failover_timeout_ms, master_name))

    def start(self):
        self.proc = subprocess.Popen([REDIS_SENTINEL, self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        if not wait_for_port(self.port, self.proc):
            stop_process(self.proc, signal.SIGKILL)
            raise AssertionError("redis-sentinel did not start on %d" % self.port)
        return self

    def stop(self):
        stop_process(self.proc, signal.SIGTERM)

    def cli(self, *args, timeout=30):
        return subprocess.run([REDIS_CLI, "-p", str(self.port)] + list(args),
                              capture_output=True, text=True, timeout=timeout).stdout

    def master_port(self, name):
        out = self.cli("SENTINEL", "get-master-addr-by-name", name).split()
        return int(out[1]) if len(out) == 2 else None


def wait_until(pred, timeout, step=0.05):
    """Bounded poll: pred()'s first truthy value, or None after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None
