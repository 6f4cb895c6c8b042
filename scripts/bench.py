#!/usr/bin/python3
"""wxgate's benchmarks: one table, printed and written to build/bench/report.md.

Started by ./scripts/bench after the build. Measures, on this machine:
  1. cache hits (SignJsapiConfig, DecryptUserData) against wxgate's own
     trivial RPC (grpc.health.v1 Check on the same call template), the same
     signing RPC in grpc-go and in the plainest async C++ server (also with
     DecryptUserData's payload size, to tell bytes from logic): h2load for
     throughput (server on CPU 0, h2load on CPU 1), and wxgate-load, which
     checks every grpc-status, for latency percentiles; SignJsapiConfig
     also with the Redis store (wxgate on a local redis-server), whose
     near-cache should answer hits without touching Redis;
     SignJsapiConfig also from a caller identified by a bearer token
     (callers configured: the token hashed, looked up and its grants
     checked on every call) against no callers; the plain server's work
     also on gRPC's callback API;
     SignJsapiConfig also with metrics on (server.metrics_address set: each
     call counted, timed and tracked in flight) against metrics off;
     SignJsapiConfig also over mTLS with a caller matched by its client
     certificate's SPIFFE ID and permissions on, against the same wxgate in
     plaintext with no callers, both from wxgate-load (h2load presents no
     client certificate) with certificates made by openssl;
     SignJsapiConfig also over HTTP/JSON (server.http_address, h2load --h1
     with a JSON body, 32 connections of one call each) against gRPC on
     the same wxgate at the same 32 calls in flight, every answer 2xx;
  2. Code2Session -> DecryptUserData, one flow at a time from a Python grpcio
     client: on one wxgate with the in-memory store, and logging in on one
     replica and decrypting on another that share Redis (p50/p99, and the
     Redis commands and round trips per flow from Redis's INFO);
  3. the cold path: GetExternalContact against the emulator answering after
     50 ms, at 16, 64, 256 and 1,024 calls in flight, wxgate on 2 threads;
  4. a cold burst: 1,000 concurrent calls for an expired ticket;
  5. wxgate's resident memory idle and with 1,024 calls in flight;
  6. the Google Benchmark micro-benchmarks (signing, decryption, base64,
     parsing each upstream answer, cache lookups under contention, the
     per-call caller check with 100 callers, whose target is under 1 µs).
Repeats are interleaved and medians reported. Each process runs in its own
session (setsid): with Debian's autogroup scheduling a session's CPU share is
split across the CPUs its processes use, which would otherwise skew the runs.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # harness and grpc_body are imported from the source tree
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))
import harness  # noqa: E402
from grpc_body import grpc_frame, message  # noqa: E402

H2_HEADERS = ["-H", "content-type: application/grpc", "-H", "te: trailers"]
# h2load's protocol flags and headers: gRPC over HTTP/2, or HTTP/JSON over
# HTTP/1.1 (wxgate's server.http_address).
H2_GRPC = ([], H2_HEADERS)
H1_JSON = (["--h1"], ["-H", "content-type: application/json"])


# What main can run, in this order (--only picks some).
PHASES = ("hits", "tls", "flows", "cold", "burst", "micro")


class BenchError(harness.HarnessError):
    pass


# --- processes ----------------------------------------------------------------------------------

def session(cpus=None):
    """The prefix that runs a child in its own session, pinned to cpus if given."""
    return ["setsid"] + (["taskset", "-c", cpus] if cpus else [])


def start_wxgate(binary, state, emu, apps_text, threads, cpus, name, sections="",
                 server_fields=""):
    """wxgate on the emulator; sections: more top-level config (store,
    callers), server_fields: more of its server section (tls)."""
    config = os.path.join(state, f"{name}.textproto")
    server_section = f"server {{ threads: {threads} calls_per_method: 64 {server_fields}}}\n"
    harness.write_wxgate_config(config, emu, apps_text, upstream="max_connections_per_host: 1024 ",
                                extra=server_section + sections)
    server = harness.start_wxgate([binary, f"--config={config}"], prefix=session(cpus))
    server.port = int(server.target.rsplit(":", 1)[1])
    return server


def start_baseline(argv, cpus, env=None):
    server = harness.Process(argv, prefix=session(cpus), env=env)
    try:
        ready = json.loads(server.wait_for_line(lambda line: line.startswith("{"), "stdout",
                                                what="its JSON ready line"))
    except harness.HarnessError:
        server.stop()
        raise
    server.port = ready["port"]
    server.target = f"127.0.0.1:{server.port}"
    return server


# --- measurements -------------------------------------------------------------------------------

def h2load(port, path, body_file, n, cpus="1", clients=4, streams=50, protocol=H2_GRPC,
           headers=()):
    """req/s of h2load -c clients -m streams, gRPC over HTTP/2 or, with
    protocol H1_JSON, HTTP/1.1 with a JSON body (-m 1: no pipelining); fails
    on any failed request or any status but 2xx (for gRPC always 200: its
    status is in the trailers, which the sanity calls check)."""
    flags, protocol_headers = protocol
    extra = [arg for header in headers for arg in ("-H", header)]
    out = subprocess.run(["setsid", "-w", "taskset", "-c", cpus, "h2load", *flags, "-n", str(n),
                          "-c", str(clients), "-m", str(streams), "-t", "1", "-d", body_file,
                          *protocol_headers, *extra, f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, timeout=900).stdout
    if f"{n} succeeded" not in out or f"status codes: {n} 2xx" not in out:
        raise BenchError(f"h2load {path}: not every request succeeded with a 2xx:\n{out}")
    return float(re.search(r"finished in [^,]*, ([0-9.]+) req/s", out).group(1))


def wxgate_load(binary, target, args, cpus="1"):
    """wxgate-load's JSON report; fails if any call went unaccounted."""
    pin = ["taskset", "-c", cpus] if cpus else []
    done = subprocess.run(["setsid", "-w", *pin, binary, f"--target={target}", "--json", *args],
                          capture_output=True, text=True, timeout=900)
    if not done.stdout.strip():
        raise BenchError(f"wxgate-load {' '.join(args)} failed:\n{done.stderr}")
    report = json.loads(done.stdout)
    if done.returncode != 0:
        raise BenchError(f"wxgate-load {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return report


class PeakRss:
    """Samples a process's resident memory every 50 ms while the block runs."""

    def __init__(self, process):
        self.process, self.peak = process, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, self.process.rss_kib())

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stop.set()
        self.thread.join()


def children_cpu_seconds():
    """CPU time of every child reaped so far (the load clients)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rpc_stats(report, rpc):
    """(rate, ok, total, p50 ms, p99 ms) of one RPC in a wxgate-load report."""
    per = report["rpcs"][rpc]
    latency = per["latency_ms"]
    return per["rate"], per["ok"], per["completed"], latency["p50"], latency["p99"]


def median(values):
    return statistics.median(values) if values else float("nan")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def redis_store(redis):
    """A config store section on redis, with a fresh encryption key."""
    return redis.store_section(base64.b64encode(os.urandom(32)).decode())


def redis_counters(redis):
    """(reads served, {command: calls}) from Redis's INFO. Between two
    snapshots, the second INFO adds one read; commandstats leave INFO out."""
    info = redis.info("stats", "commandstats")
    calls = {key[len("cmdstat_"):]: int(value.split(",", 1)[0].split("=", 1)[1])
             for key, value in info.items() if key.startswith("cmdstat_") and key != "cmdstat_info"}
    return int(info["total_reads_processed"]), calls


# --- the scenarios ------------------------------------------------------------------------------

REDIS_HIT = "wxgate SignJsapiConfig, cache hit, Redis store"
METRICS_HIT = "wxgate SignJsapiConfig, cache hit, metrics on"
CALLER_HIT = "wxgate SignJsapiConfig, cache hit, caller by bearer token"
BENCH_TOKEN = "bench-token-0123456789abcdef"
# The HTTP/JSON pair: one wxgate with server.http_address, 32 calls in flight
# over each of its listeners. cpp-httplib serves one connection per thread
# (http_threads, 32 by default) and HTTP/1.1 callers do not pipeline: 32
# connections of one call each; the gRPC side carries its 32 on 4
# connections, as the other rows do theirs.
HTTP_IN_FLIGHT = 32
HTTP_GRPC_HIT = "gRPC (h2load -c 4 -m 8)"
HTTP_JSON_HIT = f"HTTP/JSON (h2load --h1 -c {HTTP_IN_FLIGHT} -m 1)"
HTTP_PAIR = (HTTP_GRPC_HIT, HTTP_JSON_HIT)


def cache_hits(b, emu, apps_text, state, repeats, n, redis):
    """h2load and wxgate-load against warm caches, wxgate on one thread on CPU 0."""
    wx = start_wxgate(b["wxgate"], state, emu, apps_text, 1, "0", "hits")
    shared = start_wxgate(b["wxgate"], state, emu, apps_text, 1, "0", "hits-redis",
                          redis_store(redis))
    metered = start_wxgate(b["wxgate"], state, emu, apps_text, 1, "0", "hits-metrics",
                           server_fields='metrics_address: "127.0.0.1:0" ')
    go = start_baseline([b["go"], "--listen=127.0.0.1:0"], "0", env=dict(os.environ, GOMAXPROCS="1"))
    plain = start_baseline([b["plain"], "--listen=127.0.0.1:0", "--threads=1"], "0")
    callback = start_baseline([b["plain"], "--listen=127.0.0.1:0", "--callback"], "0")
    token_hash = hashlib.sha256(BENCH_TOKEN.encode()).hexdigest()
    admitted = start_wxgate(b["wxgate"], state, emu, apps_text, 1, "0", "hits-caller",
                            f'callers {{ name: "bench-token" bearer_token_sha256: "{token_hash}" '
                            f'allow {{ apps: "sidebar" methods: "{SIGN_PATH}" }} }}\n')
    web = start_wxgate(b["wxgate"], state, emu, apps_text, 1, "0", "hits-http",
                       server_fields='http_address: "127.0.0.1:0" ')
    try:
        line = web.wait_for_line("HTTP/JSON on http://")
        web.http_port = int(re.search(r"HTTP/JSON on http://[^\s]*:(\d+)", line).group(1))
        # Warm: the ticket (in both stores), and a session to decrypt with.
        for server in (wx, shared, metered, web, admitted):
            token = [f"--token={BENCH_TOKEN}"] if server is admitted else []
            subprocess.run([b["cli"], f"--target={server.target}", *token, "sign-jsapi", "sidebar",
                            "https://cs.example.com/x"], check=True, capture_output=True)
        login = emu.post("/_emu/login", {"app_id": b["apps"]["shop"]})
        subprocess.run([b["cli"], f"--target={wx.target}", "code2session", "shop", login["code"]],
                       check=True, capture_output=True)
        sealed = emu.post("/_emu/encrypt", {"app_id": b["apps"]["shop"], "user": login["openid"],
                                            "data": {"openId": login["openid"], "nickName": "Bench",
                                                     "unionId": "oU-bench"}})
        bodies = {
            "health": grpc_frame(b""),
            "sign": grpc_frame(message((1, "sidebar"), (2, "https://cs.example.com/x"))),
            "baseline": grpc_frame(message((1, "cs"), (2, "https://cs.example.com/x"))),
            # The same work on as many bytes as DecryptUserData moves (its
            # request is ~245 bytes longer, its answer ~70; a url counts both ways).
            "baseline_padded": grpc_frame(message((1, "cs"),
                                                  (2, "https://cs.example.com/" + "p" * 158))),
            "decrypt": grpc_frame(message((1, "shop"), (2, login["openid"]),
                                          (4, sealed["encrypted_data"]), (5, sealed["iv"]))),
        }
        # The same request in the protobuf JSON mapping, for HTTP/JSON.
        bodies["sign_json"] = json.dumps({"app": "sidebar",
                                          "url": "https://cs.example.com/x"}).encode()
        check_http_signing(web.http_port, bodies["sign_json"])
        files = {}
        for key, data in bodies.items():
            files[key] = os.path.join(state, f"{key}.bin")
            with open(files[key], "wb") as out:
                out.write(data)
        runs = [
            ("wxgate health Check (trivial RPC)", wx, "/grpc.health.v1.Health/Check", "health"),
            ("wxgate SignJsapiConfig, cache hit", wx, "/wxgate.v1.SignatureService/SignJsapiConfig",
             "sign"),
            (REDIS_HIT, shared, "/wxgate.v1.SignatureService/SignJsapiConfig", "sign"),
            (METRICS_HIT, metered, "/wxgate.v1.SignatureService/SignJsapiConfig", "sign"),
            ("wxgate DecryptUserData, held key", wx, "/wxgate.v1.IdentityService/DecryptUserData",
             "decrypt"),
            ("grpc-go SignJsapiConfig (GOMAXPROCS=1)", go,
             "/wxgate.v1.SignatureService/SignJsapiConfig", "baseline"),
            ("plain async C++ SignJsapiConfig", plain,
             "/wxgate.v1.SignatureService/SignJsapiConfig", "baseline"),
            ("plain async C++ SignJsapiConfig, +160-byte url (DecryptUserData's bytes)", plain,
             "/wxgate.v1.SignatureService/SignJsapiConfig", "baseline_padded"),
            ("plain C++ SignJsapiConfig on the callback API", callback,
             "/wxgate.v1.SignatureService/SignJsapiConfig", "baseline"),
        ]
        runs = [(name, server, server.port, path, body, n, {}) for name, server, path, body in runs]
        # Every call presents the token, which the caller policy hashes and looks up.
        runs.insert(4, (CALLER_HIT, admitted, admitted.port,
                        "/wxgate.v1.SignatureService/SignJsapiConfig", "sign", n,
                        {"headers": [f"authorization: Bearer {BENCH_TOKEN}"]}))
        # HTTP/JSON a quarter as many calls: it serves a fraction of gRPC's calls/s, and
        # its runs should take seconds, not minutes.
        runs += [
            (HTTP_GRPC_HIT, web, web.port, "/wxgate.v1.SignatureService/SignJsapiConfig", "sign", n,
             {"streams": HTTP_IN_FLIGHT // 4}),
            (HTTP_JSON_HIT, web, web.http_port, "/wxgate.v1.SignatureService/SignJsapiConfig",
             "sign_json", n // 4,
             {"clients": HTTP_IN_FLIGHT, "streams": 1, "protocol": H1_JSON}),
        ]
        rates = {name: [] for name, *_ in runs}
        cpu = {name: [] for name, *_ in runs}
        _, calls0 = redis_counters(redis)  # only the Redis-store wxgate uses Redis
        for _ in range(repeats):
            for name, server, port, path, body, calls, load in runs:  # interleaved
                before = server.cpu_seconds()
                rates[name].append(h2load(port, path, files[body], calls, **load))
                cpu[name].append((server.cpu_seconds() - before) / calls * 1e6)
        _, calls1 = redis_counters(redis)
        redis_commands = sum(calls1.values()) - sum(calls0.values())
        counted = metered_calls(metered)
        # Latency with every status checked, 64 in flight.
        fixture = {"decrypt": [{"app": "shop", "openid": login["openid"],
                                "encrypted_data": sealed["encrypted_data"], "iv": sealed["iv"]}],
                   "sign-jsapi": [{"app": "sidebar", "url": "https://cs.example.com/x"}]}
        fixture_file = os.path.join(state, "fixture.json")
        with open(fixture_file, "w") as out:
            json.dump(fixture, out)
        latency = {}
        for rpc in ("health", "sign-jsapi", "decrypt"):
            report = wxgate_load(b["load"], wx.target,
                                 [f"--mix={rpc}:1", "--duration=5s", "--concurrency=64",
                                  f"--fixture={fixture_file}"])
            latency[rpc] = report
        return rates, cpu, latency, wx.rss_kib(), (redis_commands, repeats * n), counted
    finally:
        for server in (wx, shared, metered, go, plain, callback, web, admitted):
            server.stop()


def check_http_signing(port, body):
    """One HTTP/JSON SignJsapiConfig answers 200 with a signature (h2load
    only counts status codes)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/wxgate.v1.SignatureService/SignJsapiConfig", data=body,
        headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            status, text = answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode(errors="replace")
    except urllib.error.URLError as error:
        raise BenchError(f"HTTP/JSON SignJsapiConfig: {error.reason}") from None
    signature = json.loads(text).get("signature", "") if status == 200 else ""
    if not re.fullmatch(r"[0-9a-f]{40}", signature):
        raise BenchError(f"HTTP/JSON SignJsapiConfig answered {status}: {text}")


def metered_calls(server):
    """wxgate_rpc_requests_total of OK SignJsapiConfig calls, from /metrics."""
    line = server.wait_for_line("metrics on http://")
    address = re.search(r"metrics on http://([^/\s]+)/metrics", line).group(1)
    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    found = re.search(r'wxgate_rpc_requests_total\{method="wxgate\.v1\.SignatureService/'
                      r'SignJsapiConfig",code="OK"\} (\d+)', text)
    return int(found.group(1)) if found else 0


BENCH_SPIFFE_ID = "spiffe://bench/client"
SIGN_PATH = "wxgate.v1.SignatureService/SignJsapiConfig"
PLAIN_HIT = "plaintext, no callers"
MTLS_HIT = "mTLS (client certificate required), caller matched by SPIFFE ID, permissions on"

# openssl's configuration for the bench's certificates: the CA's and each
# leaf's extensions, nothing read from the system's openssl.cnf.
OPENSSL_CONFIG = f"""\
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
authorityKeyIdentifier = keyid
[client]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = URI:{BENCH_SPIFFE_ID}
authorityKeyIdentifier = keyid
"""


def make_certificates(state):
    """With the openssl command line, in state/tls: a CA, a server certificate
    for 127.0.0.1 and localhost and a client certificate whose URI SAN is
    BENCH_SPIFFE_ID, both issued by the CA; P-256 keys (what SPIRE and
    cert-manager issue by default), valid for a day. {name: path}."""
    directory = os.path.join(state, "tls")
    os.makedirs(directory)
    path = {name: os.path.join(directory, name) for name in
            ("openssl.cnf", "ca.pem", "ca.key", "server.pem", "server.key", "client.pem",
             "client.key")}
    with open(path["openssl.cnf"], "w") as out:
        out.write(OPENSSL_CONFIG)

    def openssl(*args):
        done = subprocess.run(["openssl", *args], capture_output=True, text=True)
        if done.returncode != 0:
            raise BenchError(f"openssl {args[0]} failed:\n{done.stderr}")

    new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", "-config", path["openssl.cnf"], "-extensions", "ca", *new_key,
            "-keyout", path["ca.key"], "-out", path["ca.pem"], "-days", "1",
            "-subj", "/CN=wxgate bench CA")
    for serial, (leaf, subject) in enumerate((("server", "/CN=localhost"),
                                              ("client", "/CN=bench client")), start=1):
        request = os.path.join(directory, f"{leaf}.csr")
        openssl("req", "-new", "-config", path["openssl.cnf"], *new_key,
                "-keyout", path[f"{leaf}.key"], "-out", request, "-subj", subject)
        openssl("x509", "-req", "-in", request, "-CA", path["ca.pem"], "-CAkey", path["ca.key"],
                "-set_serial", str(serial), "-days", "1", "-extfile", path["openssl.cnf"],
                "-extensions", leaf, "-out", path[f"{leaf}.pem"])
    return path


def tls_hits(b, emu, apps_text, state, repeats, n):
    """Cache-hit SignJsapiConfig on two wxgates that differ only in how they
    admit a call: plaintext with no callers (the cache-hit row's setup), and
    mTLS requiring a client certificate with one caller, matched by its
    certificate's SPIFFE ID and allowed the app and the method. Both on one
    thread on CPU 0, loaded by wxgate-load on CPU 1 in h2load's shape (4
    connections, 200 calls in flight): h2load cannot present a client
    certificate, so both rows use wxgate-load. {row: [(calls/s, server CPU
    µs/call, load CPU µs/call, p50 ms, p99 ms)]}, repeats interleaved."""
    path = make_certificates(state)
    tls = (f'tls {{ cert_file: "{path["server.pem"]}" key_file: "{path["server.key"]}" '
           f'client_ca_file: "{path["ca.pem"]}" require_client_cert: true }} ')
    callers = (f'callers {{ name: "bench-client" certificate_san: "{BENCH_SPIFFE_ID}" '
               f'allow {{ apps: "sidebar" methods: "{SIGN_PATH}" }} }}\n')
    plain = start_wxgate(b["wxgate"], state, emu, apps_text, 1, "0", "hits-plain")
    mtls = start_wxgate(b["wxgate"], state, emu, apps_text, 1, "0", "hits-mtls", callers, tls)
    client = [f"--cacert={path['ca.pem']}", f"--cert={path['client.pem']}",
              f"--key={path['client.key']}"]
    runs = [(PLAIN_HIT, plain, []), (MTLS_HIT, mtls, client)]
    try:
        # Warm the ticket; and the permissions are in force: another app is refused.
        for _, server, flags in runs:
            subprocess.run([b["cli"], f"--target={server.target}", *flags, "sign-jsapi", "sidebar",
                            "https://cs.example.com/x"], check=True, capture_output=True)
        refused = subprocess.run([b["cli"], f"--target={mtls.target}", *client, "sign-jsapi",
                                  "crm", "https://cs.example.com/x"], capture_output=True,
                                 text=True)
        if "PERMISSION_DENIED" not in refused.stdout + refused.stderr:
            raise BenchError("the mTLS wxgate did not refuse an app its caller may not use:\n"
                             f"{refused.stdout}{refused.stderr}")
        fixture = {"sign-jsapi": [{"app": "sidebar", "url": "https://cs.example.com/x"}]}
        load = ["--mix=sign-jsapi:1", f"--calls={n}", "--concurrency=200", "--channels=4",
                f"--fixture-json={json.dumps(fixture)}"]
        rows = {name: [] for name, *_ in runs}
        for _ in range(repeats):
            for name, server, flags in runs:  # interleaved
                server0, load0 = server.cpu_seconds(), children_cpu_seconds()
                report = wxgate_load(b["load"], server.target, load + flags)
                server_us = (server.cpu_seconds() - server0) / n * 1e6
                load_us = (children_cpu_seconds() - load0) / n * 1e6
                rate, ok, total, p50, p99 = rpc_stats(report, "sign-jsapi")
                if ok != n or total != n:
                    raise BenchError(f"{name}: {ok:,} of {total:,} calls OK, not all {n:,}:\n"
                                     f"{json.dumps(report['rpcs']['sign-jsapi'])}")
                rows[name].append((rate, server_us, load_us, p50, p99))
        return rows
    finally:
        for server in (plain, mtls):
            server.stop()


def login_flows(b, emu, apps_text, state, redis, flows):
    """Code2Session then DecryptUserData, one flow at a time from the Python
    client (client/python): on one wxgate with the in-memory store, then
    logging in on replica A and decrypting on replica B, which share Redis."""
    # The client imports the stubs the build generated, from WXGATE_PY_GEN.
    os.environ["WXGATE_PY_GEN"] = os.path.join(b["build"], "python")
    sys.path.insert(0, os.path.join(ROOT, "client", "python"))
    import wxgate_client
    store = redis_store(redis)
    servers = [start_wxgate(b["wxgate"], state, emu, apps_text, 2, None, name, section)
               for name, section in (("flows", ""), ("flows-a", store), ("flows-b", store))]
    try:
        alone, a, b_ = servers
        return {"one wxgate, in-memory store": run_flows(wxgate_client, emu, b["apps"]["shop"],
                                                         alone, alone, flows, redis),
                "login on A, decrypt on B, sharing Redis": run_flows(
                    wxgate_client, emu, b["apps"]["shop"], a, b_, flows, redis)}
    finally:
        for server in servers:
            server.stop()


def run_flows(client, emu, shop_id, login_on, decrypt_on, flows, redis, warm=20):
    """Latencies (ms) of `flows` flows after `warm` unmeasured ones, and what
    Redis served meanwhile, per flow."""
    users = []
    for _ in range(warm + flows):  # the phone's side, beforehand: wx.login, wx.getUserInfo
        login = emu.post("/_emu/login", {"app_id": shop_id})
        sealed = emu.post("/_emu/encrypt", {"app_id": shop_id, "user": login["openid"],
                                            "data": {"openId": login["openid"], "nickName": "B"}})
        users.append((login["code"], login["openid"], sealed))
    times = {"flow": [], "login": [], "decrypt": []}
    with client.WxgateClient(login_on.target, timeout=10) as a, \
            client.WxgateClient(decrypt_on.target, timeout=10) as d:
        for i, (code, openid, sealed) in enumerate(users):
            if i == warm:
                reads0, calls0 = redis_counters(redis)
            try:
                t0 = time.perf_counter()
                a.code2session("shop", code)
                t1 = time.perf_counter()
                user = d.decrypt_user_data("shop", openid=openid, iv=sealed["iv"],
                                           encrypted_data=sealed["encrypted_data"])
                t2 = time.perf_counter()
            except client.WxgateError as error:
                raise BenchError(f"flow {i}: {error}") from None
            if user.openid != openid:
                raise BenchError(f"flow {i}: decrypted {user.openid}'s data, not {openid}'s")
            if i >= warm:
                for key, seconds in (("flow", t2 - t0), ("login", t1 - t0), ("decrypt", t2 - t1)):
                    times[key].append(seconds * 1e3)
    reads1, calls1 = redis_counters(redis)
    commands = {cmd: (calls1[cmd] - calls0.get(cmd, 0)) / flows for cmd in calls1
                if calls1[cmd] != calls0.get(cmd, 0)}
    return {"flows": flows, "round_trips": (reads1 - reads0 - 1) / flows, "commands": commands,
            **{f"{key}_p{p}": percentile(values, p) for key, values in times.items()
               for p in (50, 99)}}


def cold_path(b, emu, apps_text, state, levels, seconds):
    """GetExternalContact with 50 ms upstream latency, wxgate on 2 threads."""
    wx = start_wxgate(b["wxgate"], state, emu, apps_text, 2, None, "cold")
    try:
        corp = b["apps"]["sidebar"]
        for i in range(64):
            emu.post("/_emu/external_contacts",
                     {"corp_id": corp, "external_userid": f"wmBench{i:04d}", "unionid": f"oU{i}",
                      "follow_users": [{"userid": "agent"}]})
        fixture = {"external-contact": [{"app": "sidebar", "external_userid": f"wmBench{i:04d}"}
                                        for i in range(64)]}
        fixture_file = os.path.join(state, "cold.json")
        with open(fixture_file, "w") as out:
            json.dump(fixture, out)
        # Warm the token, then every contact call waits 50 ms upstream.
        subprocess.run([b["cli"], f"--target={wx.target}", "external-contact", "sidebar",
                        "wmBench0000"], check=True, capture_output=True)
        emu.post("/_emu/faults", {"endpoint": "cgi-bin/externalcontact/get", "count": -1,
                                  "latency_ms": 50})
        idle_rss = wx.rss_kib()
        rows = []
        peak_rss = idle_rss
        for level in levels:
            # Not measured: opening the connections (TLS handshakes) a level needs.
            wxgate_load(b["load"], wx.target,
                        ["--mix=external-contact:1", "--duration=3s", f"--concurrency={level}",
                         f"--channels={max(1, level // 100)}", "--deadline=10s",
                         f"--fixture={fixture_file}"], cpus=None)
            stats0 = emu.get("/_emu/stats")
            cpu0, wall0 = wx.cpu_seconds(), time.monotonic()
            emu_cpu0, load_cpu0 = emu.process.cpu_seconds(), children_cpu_seconds()
            with PeakRss(wx) as rss:
                report = wxgate_load(b["load"], wx.target,
                                     ["--mix=external-contact:1", f"--duration={seconds}s",
                                      f"--concurrency={level}",
                                      f"--channels={max(1, level // 100)}", "--deadline=10s",
                                      f"--fixture={fixture_file}"], cpus=None)
            wall = time.monotonic() - wall0
            cpu = wx.cpu_seconds() - cpu0
            emu_cpu = emu.process.cpu_seconds() - emu_cpu0
            load_cpu = children_cpu_seconds() - load_cpu0
            stats1 = emu.get("/_emu/stats")
            calls = (stats1["calls"].get("cgi-bin/externalcontact/get", 0) -
                     stats0["calls"].get("cgi-bin/externalcontact/get", 0))
            conns = stats1["upstream_connections"] - stats0["upstream_connections"]
            rate, ok, total, p50, p99 = rpc_stats(report, "external-contact")
            rows.append({"in_flight": level, "rate": rate, "target": 0.8 * level / 0.05,
                         "ok": ok, "total": total, "p50": p50, "p99": p99,
                         "upstream_calls": calls, "new_connections": conns,
                         "cpu": cpu / wall * 100, "cpu_us": cpu / total * 1e6 if total else 0,
                         "emu_cpu": emu_cpu / wall * 100, "load_cpu": load_cpu / wall * 100,
                         "rss": rss.peak})
            peak_rss = max(peak_rss, rss.peak)
        return rows, idle_rss
    finally:
        wx.stop()


def cold_burst(b, emu, apps_text, state):
    """1,000 concurrent calls right after the ticket expired: fetches seen upstream."""
    emu.post("/_emu/settings", {"ticket_ttl_s": 3, "token_ttl_s": 7200})
    wx = start_wxgate(b["wxgate"], state, emu, apps_text, 2, None, "burst")
    try:
        subprocess.run([b["cli"], f"--target={wx.target}", "sign-jsapi", "crm",
                        "https://cs.example.com/x"], check=False, capture_output=True)
        # The ticket (3 s) expires in wxgate's cache; the token (2 h) does not.
        time.sleep(4)
        stats0 = emu.get("/_emu/stats")["calls"]
        # The fetch takes 1 s: long enough to sample the memory of 1,000 calls
        # that wait inside wxgate with no upstream transfer of their own.
        emu.post("/_emu/faults", {"endpoint": "cgi-bin/get_jsapi_ticket", "latency_ms": 1000})
        idle_rss = wx.rss_kib()
        with PeakRss(wx) as rss:
            report = wxgate_load(b["load"], wx.target,
                                 ["--mix=sign-jsapi:1", "--calls=1000", "--concurrency=1000",
                                  "--channels=10", "--deadline=20s",
                                  '--fixture-json={"sign-jsapi":[{"app":"sidebar",'
                                  '"url":"https://cs.example.com/x"}]}'],
                                 cpus=None)
        stats1 = emu.get("/_emu/stats")["calls"]
        fetched = {ep: stats1.get(ep, 0) - stats0.get(ep, 0)
                   for ep in ("cgi-bin/gettoken", "cgi-bin/get_jsapi_ticket")}
        _, ok, total, p50, p99 = rpc_stats(report, "sign-jsapi")
        return {"ok": ok, "total": total, "p50": p50, "p99": p99, "idle_rss": idle_rss,
                "peak_rss": rss.peak, **fetched}
    finally:
        wx.stop()
        emu.post("/_emu/settings", {"ticket_ttl_s": 7200})


def micro_benchmarks(build, quick):
    """Google Benchmark results of every wxgate_bench_* binary, on CPU 1."""
    binaries = [("crypto", "wxgate_bench_crypto"), ("signature", "wxgate_bench_signature"),
                ("identity", "wxgate_bench_user_data"), ("wechat", "wxgate_bench_replies"),
                ("cache", "wxgate_bench_cache"), ("upstream", "wxgate_bench_http_client"),
                ("callers", "wxgate_bench_callers")]
    rows = []
    for directory, name in binaries:
        binary = os.path.join(build, "tests", directory, name)
        done = subprocess.run(["setsid", "-w", "taskset", "-c", "1", binary,
                               "--benchmark_format=json",
                               f"--benchmark_min_time={0.05 if quick else 0.5}"],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise BenchError(f"{name} exited {done.returncode}:\n{done.stderr}")
        for result in json.loads(done.stdout)["benchmarks"]:
            rows.append((name, result["name"], result["real_time"], result["time_unit"]))
    return rows


# --- report -------------------------------------------------------------------------------------

def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    cores = os.cpu_count()
    kernel = os.uname().release
    grpc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libgrpc++1.51"],
                          capture_output=True, text=True).stdout
    return f"{cores} × {cpu}, Linux {kernel}, gRPC {grpc}"


def render_tls(tls):
    """The plaintext / mTLS pair of cache-hit rows and their ratios."""
    lines = ["", "**TLS and callers, cache hits**: SignJsapiConfig, server: 1 thread on CPU 0; "
                 "wxgate-load (4 connections, 200 in flight, every status checked) on CPU 1 for "
                 "both rows, as h2load cannot present a client certificate; the client's "
                 "certificate is P-256, its URI SAN the caller's SPIFFE ID, and the caller is "
                 "allowed the app and the method", "",
             "| setup | calls/s | server CPU µs/call | load CPU µs/call | p50 ms | p99 ms |",
             "|---|---:|---:|---:|---:|---:|"]
    medians = {}
    for name, runs in tls.items():
        medians[name] = [median(column) for column in zip(*runs)]
        rate, server_us, load_us, p50, p99 = medians[name]
        lines.append(f"| {name} | {rate:,.0f} | {server_us:.1f} | {load_us:.1f} | {p50:.2f} | "
                     f"{p99:.2f} |")
    plain, mtls = medians[PLAIN_HIT], medians[MTLS_HIT]

    def busy(row):  # % of its CPU the server and the load client used
        return f"{row[1] * row[0] / 1e4:.0f}% / {row[2] * row[0] / 1e4:.0f}%"

    lines += ["", f"mTLS with the caller check at {mtls[0] / plain[0]:.2f} × plaintext's calls/s "
                  f"and {mtls[1] / plain[1]:.2f} × its server CPU per call "
                  f"({mtls[1] - plain[1]:+.1f} µs). CPU 0 (server) / CPU 1 (load) busy: "
                  f"plaintext {busy(plain)}, mTLS {busy(mtls)}; the busier one set the pace. "
                  "The TLS handshakes (one per connection, 4 per run) happen before wxgate-load "
                  "starts its clock and are in the server's CPU."]
    return lines


def render_http(rates, cpu):
    """The HTTP/JSON against gRPC pair and their ratio."""
    lines = ["", f"**HTTP/JSON against gRPC, cache hits**: SignJsapiConfig on one wxgate with "
                 f"server.http_address (1 gRPC thread, http_threads 32, all on CPU 0), "
                 f"{HTTP_IN_FLIGHT} calls in flight over each listener from h2load on CPU 1; "
                 "HTTP/1.1 callers do not pipeline and cpp-httplib holds a thread per connection, "
                 f"so HTTP/JSON takes {HTTP_IN_FLIGHT} connections (at most http_threads), gRPC "
                 "4; every HTTP answer 2xx", "",
             "| transport | calls/s | CPU µs/call |", "|---|---:|---:|"]
    for name in HTTP_PAIR:
        lines.append(f"| {name} | {median(rates[name]):,.0f} | {median(cpu[name]):.1f} |")
    grpc, web = HTTP_PAIR
    lines.append(f"| HTTP/JSON ÷ gRPC | {median(rates[web]) / median(rates[grpc]):.3f} | "
                 f"{median(cpu[web]) / median(cpu[grpc]):.2f} |")
    return lines


def render_caller_check(micro):
    """The per-call caller check against its target."""
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
    checks = [(name, value * scale[unit]) for binary, name, value, unit in micro
              if binary == "wxgate_bench_callers"]
    if not checks:
        return []
    name, slowest = max(checks, key=lambda check: check[1])
    verdict = "met" if slowest < 1000 else "MISSED"
    return ["", f"**Per-call caller check** (wxgate_bench_callers: 100 callers with SPIFFE IDs, "
                f"token hashes and grants): slowest case {name} at {slowest:,.0f} ns; "
                f"target under 1 µs for 100 callers: {verdict}."]


def render(results, repeats, command):
    """The report of the phases that ran."""
    lines = [f"Machine: {machine()}. Command: `{command}`. Medians of {repeats} interleaved runs."]
    if "hits" in results:
        lines += render_hits(results["hits"])
    if "tls" in results:
        lines += render_tls(results["tls"])
    if "flows" in results:
        lines += render_flows(results["flows"])
    if "cold" in results:
        lines += render_cold(*results["cold"])
    if "burst" in results:
        lines += render_burst(results["burst"])
    if "micro" in results:
        lines += render_micro(results["micro"])
    return "\n".join(lines)


def render_hits(hits):
    rates, cpu, latency, _, (redis_commands, redis_calls), counted = hits
    trivial = median(rates["wxgate health Check (trivial RPC)"])
    go = median(rates["grpc-go SignJsapiConfig (GOMAXPROCS=1)"])
    plain = median(rates["plain async C++ SignJsapiConfig"])
    lines = ["",
             "**Cache hits** (server: 1 thread on CPU 0; h2load -c 4 -m 50 on CPU 1)",
             "",
             "| RPC | calls/s | CPU µs/call | × trivial | × grpc-go | × plain C++ |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in rates:
        if name in HTTP_PAIR:
            continue
        r = median(rates[name])
        lines.append(f"| {name} | {r:,.0f} | {median(cpu[name]):.1f} | {r / trivial:.2f} | "
                     f"{r / go:.2f} | {r / plain:.2f} |")
    lines += render_http(rates, cpu)
    lines += ["", "**Latency, every status checked** (wxgate-load, 64 in flight, 5 s)", "",
              "| RPC | calls/s | OK / calls | p50 ms | p99 ms |", "|---|---:|---:|---:|---:|"]
    for rpc, report in latency.items():
        rate, ok, total, p50, p99 = rpc_stats(report, rpc)
        lines.append(f"| {rpc} | {rate:,.0f} | {ok:,} / {total:,} | {p50:.2f} | {p99:.2f} |")
    in_memory = "wxgate SignJsapiConfig, cache hit"
    lines += ["", f"**Redis store, cache hits**: SignJsapiConfig at "
                  f"{median(rates[REDIS_HIT]) / median(rates[in_memory]):.2f} × the in-memory "
                  f"store's calls/s (target ≥ 0.95), "
                  f"{median(cpu[REDIS_HIT]) / median(cpu[in_memory]):.2f} × its CPU per call; "
                  f"Redis served {redis_commands:,} commands during its {redis_calls:,} calls "
                  "(the near-cache answers)."]
    lines += ["", f"**Metrics on, cache hits**: SignJsapiConfig with server.metrics_address set "
                  f"at {median(rates[METRICS_HIT]) / median(rates[in_memory]):.2f} × metrics off's "
                  f"calls/s (target ≥ 0.97), "
                  f"{median(cpu[METRICS_HIT]) / median(cpu[in_memory]):.2f} × its CPU per call "
                  f"({median(cpu[METRICS_HIT]) - median(cpu[in_memory]):+.2f} µs); its /metrics "
                  f"counted {counted:,} OK SignJsapiConfig calls after the runs."]
    lines += ["", f"**Caller checks on, cache hits**: SignJsapiConfig from a caller identified by "
                  f"its bearer token (hashed and looked up per call, then its grants checked) at "
                  f"{median(rates[CALLER_HIT]) / median(rates[in_memory]):.2f} × no callers' "
                  f"calls/s (target ≥ 0.95), "
                  f"{median(cpu[CALLER_HIT]) / median(cpu[in_memory]):.2f} × its CPU per call "
                  f"({median(cpu[CALLER_HIT]) - median(cpu[in_memory]):+.2f} µs)."]
    return lines


def render_flows(flows):
    count = next(iter(flows.values()))["flows"]
    lines = ["", "**Login on one replica, decrypt on another**: Code2Session → DecryptUserData, "
                  f"one flow at a time from the Python client (grpcio), {count:,} flows after 20 "
                  "unmeasured; Code2Session includes the emulator's jscode2session. Redis per "
                  "flow: round trips = reads Redis served (INFO stats), commands = INFO "
                  "commandstats, which counts the commands of Lua scripts too", "",
              "| setup | flow p50 ms | flow p99 ms | Code2Session p50 / p99 ms | "
              "DecryptUserData p50 / p99 ms | Redis round trips | Redis commands |",
              "|---|---:|---:|---:|---:|---:|---|"]
    for name, row in flows.items():
        commands = ", ".join(f"{cmd} {n:.2f}" for cmd, n in sorted(row["commands"].items()))
        lines.append(f"| {name} | {row['flow_p50']:.2f} | {row['flow_p99']:.2f} | "
                     f"{row['login_p50']:.2f} / {row['login_p99']:.2f} | "
                     f"{row['decrypt_p50']:.2f} / {row['decrypt_p99']:.2f} | "
                     f"{row['round_trips']:.2f} | {commands or 'none'} |")
    return lines


def render_cold(cold, idle_rss):
    lines = ["", "**Cold path**: GetExternalContact, upstream answers after 50 ms, wxgate on 2 threads "
                  "(each level after a 3 s warm-up that opens its connections; "
                  "CPU in % of one core, the three processes share the machine's cores)",
              "", "| in flight | calls/s | target 0.8×n/50ms | OK / calls | p50 ms | p99 ms | "
                  "upstream calls | new connections | wxgate CPU | wxgate µs/call | "
                  "emulator CPU | load CPU | RSS KiB |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in cold:
        share = row["new_connections"] / row["upstream_calls"] * 100 if row["upstream_calls"] else 0
        lines.append(f"| {row['in_flight']:,} | {row['rate']:,.0f} | {row['target']:,.0f} | "
                     f"{row['ok']:,} / {row['total']:,} | {row['p50']:.1f} | {row['p99']:.1f} | "
                     f"{row['upstream_calls']:,} | {row['new_connections']} ({share:.2f}%) | "
                     f"{row['cpu']:.0f}% | {row['cpu_us']:.0f} | {row['emu_cpu']:.0f}% | "
                     f"{row['load_cpu']:.0f}% | {row['rss']:,} |")
    top = cold[-1]
    per_call = (top["rss"] - idle_rss) / top["in_flight"] if top["in_flight"] else 0
    lines += ["", f"**Memory**: RSS idle {idle_rss:,} KiB; with {top['in_flight']:,} in flight "
                  f"{top['rss']:,} KiB: {per_call:.1f} KiB per call in flight, each with its own "
                  "upstream transfer (target ≤ 20)."]
    # The emulator and the load client share wxgate's two cores; what wxgate
    # alone could serve is its CPU per call against both cores.
    cores = os.cpu_count()
    lines += ["", "**Cold path against its targets**, the emulator's and the load client's CPU "
                  f"subtracted (what wxgate's own CPU per call allows on {cores} cores):", ""]
    for row in cold:
        if not row["cpu_us"]:
            continue
        bound = cores * 1e6 / row["cpu_us"]
        wanted = 0.9 * row["in_flight"] / 0.05
        lines.append(f"- {row['in_flight']:,} in flight: {row['cpu_us']:.0f} µs of wxgate CPU per "
                     f"call (target ≤ 60 at 256), so at most {bound:,.0f} calls/s on {cores} "
                     f"cores; 0.9 × in-flight / 50 ms = {wanted:,.0f}: "
                     f"{'within reach' if bound >= wanted else 'out of reach'}.")
    return lines


def render_burst(burst):
    waiting = (burst["peak_rss"] - burst["idle_rss"]) / burst["total"] if burst["total"] else 0
    return ["", f"**Cold burst**: {burst['total']:,} concurrent SignJsapiConfig calls right after "
                f"the ticket expired: {burst['ok']:,} OK, p50 {burst['p50']:.0f} ms, p99 "
                f"{burst['p99']:.0f} ms; upstream saw {burst['cgi-bin/get_jsapi_ticket']} ticket "
                f"fetch(es) and {burst['cgi-bin/gettoken']} token fetch(es). Memory: "
                f"{burst['total']:,} calls waiting inside wxgate on one shared fetch: "
                f"{burst['idle_rss']:,} -> {burst['peak_rss']:,} KiB, {waiting:.1f} KiB per call."]


def render_micro(micro):
    lines = ["", "**Micro-benchmarks** (Google Benchmark, one thread on CPU 1 unless named)", "",
              "| binary | benchmark | time |", "|---|---|---:|"]
    for binary, name, value, unit in micro:
        lines.append(f"| {binary} | {name} | {value:,.1f} {unit} |")
    lines += render_caller_check(micro)
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--go", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=200000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--flows", type=int, default=500)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--command", default="./scripts/bench")
    parser.add_argument("--only", default=",".join(PHASES),
                        help=f"comma-separated phases to run, of {','.join(PHASES)}")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if not only <= set(PHASES):
        parser.error(f"--only: unknown phase(s) {','.join(sorted(only - set(PHASES)))}")
    if args.quick:
        args.repeats, args.calls, args.seconds, args.flows = 1, 50000, 4, 100
    b = {"wxgate": os.path.join(args.build, "server", "wxgate"),
         "emulator": os.path.join(args.build, "tests", "emulator", "wxgate-emulator"),
         "cli": os.path.join(args.build, "client", "wxgate-cli"),
         "load": os.path.join(args.build, "client", "wxgate-load"),
         "plain": os.path.join(args.build, "tests", "bench", "wxgate-bench-plain-server"),
         "go": args.go, "build": args.build}
    apps_file = os.path.join(ROOT, "deploy", "demo.textproto")
    apps_text = open(apps_file).read()
    text = "\n".join(l.split("#", 1)[0] for l in apps_text.splitlines())
    b["apps"] = dict(re.findall(r'name:\s*"([^"]+)".*?(?:app_id|corp_id):\s*"([^"]+)"', text, re.S))
    with tempfile.TemporaryDirectory(prefix="wxgate-bench-") as state:
        emu = harness.Emulator(b["emulator"], state, apps_file,
                               ["--max-threads=8192", "--threads=64"], prefix=session())
        redis = None
        try:
            redis = harness.Redis(state, prefix=session())
            phases = {
                "hits": ("cache hits", lambda: cache_hits(b, emu, apps_text, state, args.repeats,
                                                          args.calls, redis)),
                "tls": ("TLS and callers",
                        lambda: tls_hits(b, emu, apps_text, state, args.repeats, args.calls)),
                "flows": ("login flows",
                          lambda: login_flows(b, emu, apps_text, state, redis, args.flows)),
                "cold": ("cold path", lambda: cold_path(b, emu, apps_text, state,
                                                        [16, 64, 256, 1024], args.seconds)),
                "burst": ("cold burst", lambda: cold_burst(b, emu, apps_text, state)),
                "micro": ("micro-benchmarks", lambda: micro_benchmarks(args.build, args.quick)),
            }
            results = {}
            for phase in PHASES:  # in this order, whatever order --only named them
                if phase in only:
                    label, run = phases[phase]
                    print(f"{label}...", file=sys.stderr)
                    results[phase] = run()
        except harness.HarnessError as error:
            print(f"bench failed: {error}", file=sys.stderr)
            return 1
        finally:
            if redis is not None:
                redis.stop()
            emu.stop()
    report = render(results, args.repeats, args.command)
    out_dir = os.path.join(args.build, "bench")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "report.md"), "w") as out:
        out.write(report + "\n")
    print(report)
    print(f"\n(written to {os.path.join(out_dir, 'report.md')})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
