#!/usr/bin/env python3
"""The soak test: wxgate under a bounded mixed load with injected upstream faults.

Started by ./scripts/soak (and by ctest's soak_smoke) after the build; needs
only the standard library. It starts wxgate-emulator and wxgate on free
loopback ports, sets short token and ticket lifetimes so they expire during the
run, mints every single-use code the run will need, logs a fixed pool of users
in, and drives wxgate-load with a mix of every RPC for the given time. Meanwhile
a fault injector keeps about 5% of upstream requests faulted (latency spikes,
-1, 45009/45011/45033, HTML 502, truncated and mistyped answers, dropped
connections, hangs shorter than the caller's deadline, slow bodies), revokes
each app's tokens once a minute in turn and arms one short burst of 40001 on the
ticket endpoints; a sampler reads wxgate's VmRSS, threads and fds. At the end
wxgate gets SIGTERM.

Checks (exit 1 if any fails): wxgate ran to the end and exited 0 on SIGTERM; no
call completed past its deadline + 10%; every call is accounted for (sent =
completed = sum over status codes, none outstanding); no OK answer was
malformed; every non-OK status is one the faults or the fixture explain (never
INTERNAL or UNKNOWN); token and ticket failures reached under 3% of the calls
that need a token; wxgate logged no ERROR line; RSS grew less than the bound
between the first-minute plateau and the end; the injector really faulted
between 2% and 10% of upstream requests; no code pool ran dry. See
tests/soak/README.md.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # harness is imported from the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "support"))
import harness  # noqa: E402

MIB = 1024 * 1024

# The apps of deploy/demo.textproto (the soak config is built from that file).
SHOP = "wxd00000000000a001"
NEWS = "wxd00000000000b002"
CORP = "wwd00000000000c003"

MIX = {
    "health": 4, "sign-jsapi": 14, "sign-agent": 10, "token": 8, "decrypt": 14,
    "external-contact": 12, "kf-customers": 10, "code2session": 12,
    "wecom-code2session": 8, "phone": 8,
}
CODE_RPCS = ("code2session", "wecom-code2session", "phone")

# Non-OK statuses the run explains, per RPC: (code, reason); reason None
# matches any reason (a deadline may pass on either side of the wire).
FAULT_STATUSES = {
    ("UNAVAILABLE", "WECHAT_BUSY"), ("UNAVAILABLE", "UPSTREAM_UNAVAILABLE"),
    ("UNAVAILABLE", "UPSTREAM_BAD_RESPONSE"), ("UNAVAILABLE", "CREDENTIAL_UNAVAILABLE"),
    ("UNAVAILABLE", "WECHAT_TOKEN_REJECTED"), ("RESOURCE_EXHAUSTED", "WECHAT_RATE_LIMITED"),
    ("DEADLINE_EXCEEDED", None),
}
FIXTURE_STATUSES = {
    "sign-jsapi": {("PERMISSION_DENIED", "URL_HOST_NOT_ALLOWED")},
    "external-contact": {("INVALID_ARGUMENT", "WECOM_INVALID_EXTERNAL_USERID"),
                         ("NOT_FOUND", "WECOM_NO_RELATIONSHIP")},
}
NO_UPSTREAM = ("health", "decrypt")  # answered from memory: any error is unexplained
# Answered from the token and ticket cache: faults hit only the rare fetches,
# which refresh ahead and back off while the cached value is still served, so
# their callers should almost never see an error.
CACHE_SERVED = ("sign-jsapi", "sign-agent", "token")
# The RPCs that take an access token (or a ticket), and the fetch endpoints
# whose failures the cache should keep from reaching them.
TOKEN_USERS = CACHE_SERVED + ("wecom-code2session", "phone", "external-contact", "kf-customers")
CREDENTIAL_ENDPOINTS = ("cgi-bin/token", "cgi-bin/gettoken", "cgi-bin/ticket/getticket",
                        "cgi-bin/get_jsapi_ticket", "cgi-bin/ticket/get")

# The fault menu: (kind, weight, fault body without endpoint). Latencies and
# hangs (--hang-cap-s=1) stay well under the caller's deadline.
FAULTS = [
    ("latency", 18, lambda r: {"latency_ms": r.randint(100, 900)}),
    ("busy -1", 14, lambda r: {"errcode": -1}),
    ("45009", 4, lambda r: {"errcode": 45009}),
    ("45011", 4, lambda r: {"errcode": 45011}),
    ("45033", 4, lambda r: {"errcode": 45033}),
    ("html 502", 10, lambda r: {"http_status": 502}),
    ("truncated", 10, lambda r: {"truncate": True}),
    ("dropped", 10, lambda r: {"drop": True}),
    ("hang 1s", 8, lambda r: {"hang": True}),
    ("wrong types", 6, lambda r: {"wrong_types": True}),
    ("latency+busy", 6, lambda r: {"latency_ms": r.randint(100, 600), "errcode": -1}),
    ("slow body", 2, lambda r: {"slow_body": True}),
]
REVOKE_TARGETS = [{"app_id": SHOP}, {"app_id": NEWS}, {"corp_id": CORP, "agent_id": 1000002},
                  {"corp_id": CORP, "agent_id": 1000003}]


class SoakError(harness.HarnessError):
    pass


def log(text):
    print(f"soak: {text}", file=sys.stderr, flush=True)


class WxgateProcess(harness.Process):
    """wxgate, its log counted: lines per severity, the ERROR lines and the
    token and ticket fetch lines (all of them); 400 first and last lines kept."""

    def __init__(self, argv, log_path=None):
        self.severities = {}     # severity -> count
        self.errors = []         # ERROR lines
        self.fetches = []        # token and ticket fetch lines
        super().__init__(argv, keep_lines=400, log_path=log_path)

    def on_line(self, line):
        words = line.split(" ", 2)
        if len(words) >= 2 and words[1] in ("DEBUG", "INFO", "WARN", "ERROR"):
            self.severities[words[1]] = self.severities.get(words[1], 0) + 1
            if words[1] == "ERROR" and len(self.errors) < 50:
                self.errors.append(line)
            if ("fetched a new" in line or "fetching the" in line) and len(self.fetches) < 20000:
                self.fetches.append(line)


class LoadProcess(harness.Process):
    """wxgate-load: stdout (its JSON report) is read by the caller; progress
    and warning lines are echoed."""

    def __init__(self, argv):
        super().__init__(argv, keep_lines=2000, read_stdout=False)

    def on_line(self, line):
        if line.startswith("wxgate-load: ") and (" sent " in line or "warning" in line):
            log(line.split("wxgate-load: ", 1)[1].strip())


def parallel(jobs, threads=4):
    """Runs the callables in `jobs` on a few threads; returns their results in order."""
    results = [None] * len(jobs)
    errors = []
    next_index = [0]
    lock = threading.Lock()

    def work():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(jobs) or errors:
                return
            try:
                results[i] = jobs[i]()
            except Exception as error:  # noqa: BLE001 -- reported below
                errors.append(error)
                return

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise errors[0]
    return results


class Injector(threading.Thread):
    """Keeps about `fraction` of upstream requests faulted.

    Every tick it reads the emulator's per-endpoint call counters and arms, per
    endpoint, count-1 faults for `fraction` of the requests of the last tick
    (rounded at random), each of a kind drawn from FAULTS; the next requests to
    that endpoint take them. Every `revoke_every` seconds it revokes the tokens
    of the next app in turn, and once, at a third of the run, it arms a burst of 40001 on both
    ticket endpoints. Pacing by wall time is the point here, not
    synchronization."""

    def __init__(self, emu, fraction, seconds, rng, tick=0.25, revoke_every=15):
        super().__init__(daemon=True)
        self.emu = emu
        self.fraction = fraction
        self.seconds = seconds
        self.rng = rng
        self.tick = tick
        self.revoke_every = revoke_every
        self.stop_event = threading.Event()
        self.armed = {}          # kind -> count
        self.revocations = []    # (t, target, revoked)
        self.burst_at = None
        self.slot = rng.randrange(len(REVOKE_TARGETS))  # the next revocation target
        self.skipped_revocations = 0
        self.cleared = 0         # faults dropped by a safety clear
        self.error = None

    def arm(self, endpoint, kind, body):
        body = dict(body, endpoint=endpoint, count=body.get("count", 1))
        answer = self.emu.post("/_emu/faults", body)
        self.armed[kind] = self.armed.get(kind, 0) + body["count"]
        return answer["faults"]

    def run(self):
        try:
            self._run()
        except Exception as error:  # noqa: BLE001 -- the main thread reports it
            self.error = error

    def _run(self):
        start = time.monotonic()
        last = self.emu.get("/_emu/stats")["calls"]
        next_revoke = start + self.revoke_every
        kinds = [k for k, _, _ in FAULTS]
        weights = [w for _, w, _ in FAULTS]
        makers = {k: m for k, _, m in FAULTS}
        while not self.stop_event.wait(self.tick):
            now = time.monotonic()
            calls = self.emu.get("/_emu/stats")["calls"]
            pending = None
            for endpoint, total in calls.items():
                delta = total - last.get(endpoint, 0)
                want = self.fraction * delta
                n = int(want) + (1 if self.rng.random() < want - int(want) else 0)
                for _ in range(n):
                    kind = self.rng.choices(kinds, weights)[0]
                    pending = self.arm(endpoint, kind, makers[kind](self.rng))
            last = calls
            # Faults armed for a quiet endpoint wait there; if they pile up
            # (the load stopped early), start over.
            if pending is not None and pending > 500:
                self.cleared += pending
                self.emu.call("DELETE", "/_emu/faults")
            if now >= next_revoke:
                # Round robin: each credential is revoked once a minute, more
                # than the cache's rejection_refresh_interval (30 s) apart; a
                # second rejection sooner is refused a refresh by design. The
                # 40001 burst is such a rejection for the apps whose tokens
                # fetch the tickets, so they sit out the 35 s after it.
                target = REVOKE_TARGETS[self.slot % len(REVOKE_TARGETS)]
                self.slot += 1
                if (self.burst_at is not None and now - start - self.burst_at < 35
                        and target != {"app_id": SHOP}):
                    self.skipped_revocations += 1
                else:
                    revoked = self.emu.post("/_emu/revoke", target)["revoked"]
                    self.revocations.append((round(now - start, 1), target, revoked))
                next_revoke = now + self.revoke_every
            if self.burst_at is None and now - start >= self.seconds / 3:
                self.arm("cgi-bin/ticket/getticket", "40001 burst", {"errcode": 40001, "count": 3})
                self.arm("cgi-bin/get_jsapi_ticket", "40001 burst", {"errcode": 40001, "count": 3})
                self.burst_at = round(now - start, 1)

    def pending(self):
        """Faults armed and not yet taken: arms a probe that never fires and reads the size."""
        size = self.emu.post("/_emu/faults", {"endpoint": "_emu/soak-probe", "count": 1})["faults"]
        return size - 1


class RssSampler(threading.Thread):
    """Samples wxgate's VmRSS, thread and file-descriptor counts (and whether it
    is still running) every `period` s."""

    def __init__(self, process, period):
        super().__init__(daemon=True)
        self.process = process
        self.period = period
        self.samples = []  # (seconds since start, rss bytes, threads, open fds)
        self.died_at = None
        self.stop_event = threading.Event()
        self.start_time = time.monotonic()

    def read(self):
        """(rss bytes, threads, fds), or None once the process is gone."""
        pid = self.process.proc.pid
        try:
            rss = threads = None
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1]) * 1024
                    elif line.startswith("Threads:"):
                        threads = int(line.split()[1])
            fds = len(os.listdir(f"/proc/{pid}/fd"))
        except OSError:
            return None
        return None if rss is None else (rss, threads, fds)

    def run(self):
        while True:
            if not self.process.alive():
                self.died_at = time.monotonic() - self.start_time
                return
            sample = self.read()
            if sample is not None:
                self.samples.append((round(time.monotonic() - self.start_time, 1), *sample))
            if self.stop_event.wait(self.period):
                return


def write_config(path, emu, apps_file):
    # 64 connections to the emulator at most (the default is 512): each costs
    # ~100 KiB that glibc keeps after it closes, so a burst of slow answers
    # would otherwise raise RSS by tens of MiB for good and hide a leak, or
    # fake one. Short back-off and config hold so a faulted fetch is retried
    # within the run; a bounded session store.
    harness.write_wxgate_config(
        path, emu, open(apps_file, encoding="utf-8").read(),
        upstream="timeout { seconds: 3 } max_connections_per_host: 64 ",
        extra="cache { max_backoff { seconds: 4 } config_error_hold { seconds: 10 } }\n"
              "sessions { max_entries: 100000 }\n")


def mint_codes(emu, counts, mp_users, wecom_users, rng):
    """Mints the run's single-use codes: lines of wxgate-load's --codes-file."""
    jobs = []
    for i in range(counts["code2session"]):
        user = mp_users[i % len(mp_users)]
        jobs.append(lambda u=user: "code2session shop %s %s" % (emu.post(
            "/_emu/login", {"app_id": SHOP, "openid": u, "keep_session_key": True})["code"], u))
    for i in range(counts["wecom-code2session"]):
        user = wecom_users[i % len(wecom_users)]
        jobs.append(lambda u=user: "wecom-code2session sidebar %s %s" % (emu.post(
            "/_emu/wecom_login", {"corp_id": CORP, "user_id": u, "keep_session_key": True})["code"],
            u))
    for i in range(counts["phone"]):
        user = mp_users[i % len(mp_users)]
        bind = rng.random() < 0.5  # half the codes are bound to the user's openid
        body = {"app_id": SHOP, "phone_number": "+86 1380013%04d" % i,
                "pure_phone_number": "1380013%04d" % i, "country_code": 86}
        if bind:
            body["openid"] = user
        jobs.append(lambda b=body, u=(user if bind else ""): (
            "phone shop %s %s" % (emu.post("/_emu/phone_code", b)["code"], u)).rstrip())
    return parallel(jobs, threads=6)


def setup_fixture(emu, mp_users, wecom_users):
    """Contacts, KF customers and encrypted user data: the fixture of the run."""
    fixture = {}
    contacts = []
    for i in range(6):
        eid = f"wmSoakContact{i:02d}"
        emu.post("/_emu/external_contacts", {
            "corp_id": CORP, "external_userid": eid, "name": f"Customer {i}", "type": 1,
            "gender": 1 + i % 2, "unionid": f"oUnionSoak{i:04d}",
            "follow_users": [{"userid": f"agent.{j}", "remark": "soak", "tags": ["vip"]}
                             for j in range(1 + i % 3)]})
        contacts.append(eid)
    emu.post("/_emu/external_contacts", {
        "corp_id": CORP, "external_userid": "wmSoakCorp00", "name": "Partner", "type": 2,
        "corp_name": "Partner Co", "position": "buyer", "follow_users": [{"userid": "agent.0"}]})
    contacts.append("wmSoakCorp00")
    # 45 follow users at 20 a page: every call walks three pages.
    emu.post("/_emu/external_contacts", {
        "corp_id": CORP, "external_userid": "wmSoakMany00", "name": "Popular", "type": 1,
        "unionid": "oUnionSoakMany", "follow_users": [{"userid": f"agent.{j}"} for j in range(45)]})
    contacts.append("wmSoakMany00")
    # Expected errors: no follow user (84061) and an unknown id (40096).
    emu.post("/_emu/external_contacts", {"corp_id": CORP, "external_userid": "wmSoakLonely00",
                                         "follow_users": []})
    fixture["external-contact"] = [{"app": "sidebar", "external_userid": e}
                                   for e in contacts + ["wmSoakLonely00", "wmSoakNobody00"]]

    kf = [f"wmKfSoak{i:02d}" for i in range(5)]
    for i, eid in enumerate(kf):
        emu.post("/_emu/kf_customers", {"corp_id": CORP, "external_userid": eid,
                                        "nickname": f"Kf {i}", "unionid": f"oUnionKf{i:04d}",
                                        "scene": "qrcode", "scene_param": f"ad-{i}"})
    fixture["kf-customers"] = [
        {"app": "sidebar", "external_userids": kf[:1]},
        {"app": "sidebar", "external_userids": kf[:3], "need_enter_session_context": True},
        {"app": "sidebar", "external_userids": kf[3:] + ["wmKfSoakGone"]},
        {"app": "sidebar", "external_userids": kf, "need_enter_session_context": True},
    ]

    decrypt = []
    for i, user in enumerate(mp_users):
        data = {"openId": user, "nickName": f"User {i}", "gender": 1, "unionId": f"oUnionMp{i:04d}"}
        sealed = emu.post("/_emu/encrypt", {"app_id": SHOP, "user": user, "data": data})
        entry = {"app": "shop", "openid": user, "encrypted_data": sealed["encrypted_data"],
                 "iv": sealed["iv"]}
        if i % 4 == 0:
            raw = json.dumps({"nickName": f"User {i}"}, separators=(",", ":"))
            signed = emu.post("/_emu/sign_raw", {"app_id": SHOP, "user": user, "raw_data": raw})
            entry.update(raw_data=raw, signature=signed["signature"])
        decrypt.append(entry)
    for i, user in enumerate(wecom_users):
        sealed = emu.post("/_emu/encrypt", {"corp_id": CORP, "user": user,
                                            "data": {"phoneNumber": f"1390013{i:04d}"}})
        decrypt.append({"app": "sidebar", "wecom_user_id": user,
                        "encrypted_data": sealed["encrypted_data"], "iv": sealed["iv"]})
    fixture["decrypt"] = decrypt

    fixture["sign-jsapi"] = [
        {"app": "news", "url": "https://news.example.com/article/7?from=timeline"},
        {"app": "news", "url": "https://m.example.com/a#frag"},
        {"app": "sidebar", "url": "https://cs.example.com/sidebar?chat=42"},
        {"app": "news", "url": "https://evil.example.net/phish"},  # URL_HOST_NOT_ALLOWED
    ]
    fixture["sign-agent"] = [
        {"app": "sidebar", "url": "https://cs.example.com/sidebar?chat=42"},
        {"app": "crm", "url": "https://cs.example.com/crm"},
    ]
    fixture["token"] = [{"app": "news"}, {"app": "news", "failed_token": "not-the-cached-token"}]
    fixture["health"] = [{}]
    return fixture


def run_load(load_binary, args_list, timeout):
    """Runs wxgate-load; returns (exit code, parsed JSON report or None, its stderr lines)."""

    proc = LoadProcess([load_binary, *args_list])
    out = []
    stdout_reader = threading.Thread(target=lambda: out.append(proc.proc.stdout.read()),
                                     daemon=True)
    stdout_reader.start()
    try:
        proc.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.proc.kill()
        proc.proc.wait()
        raise SoakError(f"wxgate-load did not finish within {timeout:.0f}s")
    stdout_reader.join()
    proc.join()
    try:
        report = json.loads(out[0]) if out and out[0].strip() else None
    except json.JSONDecodeError:
        report = None
    with proc.cond:
        lines = list(proc.lines["stderr"])
    return proc.proc.returncode, report, lines


def unexplained_statuses(report):
    """Non-OK (rpc, code, reason, count) that neither the faults nor the fixture explain."""
    bad = []
    for rpc, stats in report["rpcs"].items():
        allowed = set(FIXTURE_STATUSES.get(rpc, ()))
        if rpc not in NO_UPSTREAM:
            allowed |= FAULT_STATUSES
        for code, reasons in stats["by_reason"].items():
            for reason, count in reasons.items():
                if (code, reason) not in allowed and (code, None) not in allowed:
                    bad.append((rpc, code, reason, count))
    return bad


def cache_failures(report):
    """(failed, calls, detail): calls of TOKEN_USERS (fixture errors aside) that
    failed because of the token/ticket cache: any error of a cache-served RPC,
    and for the others errors naming a credential endpoint, CREDENTIAL_UNAVAILABLE
    or WECHAT_TOKEN_REJECTED (a revoked token that compare-and-refresh did not
    replace). detail maps 'rpc code reason endpoint' to counts."""
    failed = calls = 0
    detail = {}
    for rpc in TOKEN_USERS:
        stats = report["rpcs"].get(rpc)
        if not stats:
            continue
        expected = FIXTURE_STATUSES.get(rpc, set())
        calls += stats["completed"]
        for code, reasons in stats["by_reason"].items():
            for reason, count in reasons.items():
                if (code, reason) in expected:
                    calls -= count
                    continue
                for endpoint, n in stats["by_endpoint"][f"{code} {reason}"].items():
                    if (rpc in CACHE_SERVED or endpoint in CREDENTIAL_ENDPOINTS
                            or reason in ("CREDENTIAL_UNAVAILABLE", "WECHAT_TOKEN_REJECTED")):
                        failed += n
                        key = f"{rpc} {code} {reason} {endpoint or '-'}"
                        detail[key] = detail.get(key, 0) + n
    return failed, calls, detail


def rss_windows(samples, seconds):
    """(plateau, peak, end) RSS over the load: plateau is the highest sample of the
    first minute's second half (of the run's second quarter for runs under
    two minutes), end is the last sample."""
    if not samples:
        return None, None, None
    lo, hi = (30, 60) if seconds >= 120 else (seconds / 4, seconds / 2)
    window = [s[1] for s in samples if lo <= s[0] <= hi] or [samples[0][1]]
    return max(window), max(s[1] for s in samples), samples[-1][1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", help="build directory (binaries at their usual places)")
    parser.add_argument("--wxgate")
    parser.add_argument("--emulator")
    parser.add_argument("--load")
    parser.add_argument("--apps", help="apps textproto (default deploy/demo.textproto)")
    parser.add_argument("--minutes", type=float, default=3)
    parser.add_argument("--seconds", type=float, help="overrides --minutes")
    parser.add_argument("--rate", type=float, default=800, help="calls per second (default 800)")
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--deadline", default="2s")
    parser.add_argument("--fault-fraction", type=float, default=0.05)
    parser.add_argument("--token-ttl", type=int, default=25, help="emulator token_ttl_s")
    parser.add_argument("--ticket-ttl", type=int, default=30, help="emulator ticket_ttl_s")
    parser.add_argument("--rss-bound-mib", type=float, default=20,
                        help="largest RSS growth from the plateau to the end (MiB)")
    parser.add_argument("--cache-error-bound", type=float, default=3.0,
                        help="largest share (%%) of token-using calls failed by the token cache")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--json-out", help="also write the results as JSON here")
    parser.add_argument("--wxgate-log", help="write wxgate's whole log here, at debug level")
    args = parser.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = args.build or os.path.join(root, "build")
    binaries = {
        "wxgate": args.wxgate or os.path.join(build, "server", "wxgate"),
        "emulator": args.emulator or os.path.join(build, "tests", "emulator", "wxgate-emulator"),
        "load": args.load or os.path.join(build, "client", "wxgate-load"),
    }
    for name, path in binaries.items():
        if not os.access(path, os.X_OK):
            print(f"soak: no {name} binary at {path}", file=sys.stderr)
            return 1
    apps_file = args.apps or os.path.join(root, "deploy", "demo.textproto")
    seconds = args.seconds if args.seconds is not None else args.minutes * 60
    seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    rng = random.Random(seed)

    with tempfile.TemporaryDirectory(prefix="wxgate-soak-") as state:
        emu = harness.Emulator(binaries["emulator"], state, apps_file, ["--hang-cap-s=1"])
        try:
            return _soak_run(args, binaries, apps_file, seconds, seed, rng, state, emu)
        except harness.HarnessError as error:
            print(f"\nsoak failed: {error}", file=sys.stderr)
            return 1
        finally:
            emu.stop()


def _soak_run(args, binaries, apps_file, seconds, seed, rng, state, emu):
    emu.post("/_emu/settings", {"token_ttl_s": args.token_ttl, "ticket_ttl_s": args.ticket_ttl,
                                "code_ttl_s": int(seconds) + 600, "follow_user_page_size": 20})
    config = os.path.join(state, "wxgate.textproto")
    write_config(config, emu, apps_file)
    argv = [binaries["wxgate"], f"--config={config}"]
    if args.wxgate_log:
        argv.append("--log_level=debug")
    wxgate = harness.start_wxgate(argv, WxgateProcess, log_path=args.wxgate_log)
    try:
        return _soak_with_wxgate(args, binaries, seconds, seed, rng, state, emu, wxgate,
                                 wxgate.target)
    finally:
        if wxgate.alive():
            wxgate.stop()


def _soak_with_wxgate(args, binaries, seconds, seed, rng, state, emu, wxgate, target):
    log(f"emulator at {emu.base_url}, wxgate at {target} (pid {wxgate.proc.pid}), seed {seed}")
    sampler = RssSampler(wxgate, period=2.0)
    rss_before_setup = (sampler.read() or (None,))[0]

    # A fixed pool of users, logged in once through wxgate: later logins keep
    # their session keys, so the encrypted data stays decryptable all run and
    # the session store stays the same size (RSS measures leaks, not users).
    mp_users = [f"oSoakUser{i:04d}" for i in range(40)]
    wecom_users = [f"soak.member{i:02d}" for i in range(20)]
    logins = mint_codes(emu, {"code2session": len(mp_users), "wecom-code2session": len(wecom_users),
                              "phone": 0}, mp_users, wecom_users, rng)
    login_codes = os.path.join(state, "logins.txt")
    with open(login_codes, "w", encoding="utf-8") as out:
        out.write("\n".join(logins) + "\n")
    code, report, text = run_load(binaries["load"], [
        f"--target={target}", "--mix=code2session:2,wecom-code2session:1",
        f"--calls={len(logins)}", "--concurrency=8", f"--codes-file={login_codes}", "--json"],
        timeout=60)
    if code != 0 or report is None or report["total"]["ok"] != len(logins):
        raise SoakError("logging the users in failed:\n" + "\n".join(text))
    fixture = setup_fixture(emu, mp_users, wecom_users)
    fixture_file = os.path.join(state, "fixture.json")
    with open(fixture_file, "w", encoding="utf-8") as out:
        json.dump(fixture, out)

    weight_sum = sum(MIX.values())
    counts = {rpc: int(args.rate * seconds * MIX[rpc] / weight_sum * 1.25) + 50
              for rpc in CODE_RPCS}
    minted_at = time.monotonic()
    codes = mint_codes(emu, counts, mp_users, wecom_users, rng)
    codes_file = os.path.join(state, "codes.txt")
    with open(codes_file, "w", encoding="utf-8") as out:
        out.write("\n".join(codes) + "\n")
    log(f"minted {len(codes)} codes in {time.monotonic() - minted_at:.1f}s; "
        f"driving {args.rate:.0f} calls/s for {seconds:.0f}s")
    emu.post("/_emu/reset_stats", {})

    rss_at_start = (sampler.read() or (None,))[0]
    sampler.start_time = time.monotonic()
    sampler.start()
    injector = Injector(emu, args.fault_fraction, seconds, rng)
    injector.start()
    mix = ",".join(f"{rpc}:{w}" for rpc, w in MIX.items())
    load_args = [f"--target={target}", f"--mix={mix}", f"--duration={seconds:.0f}s",
                 f"--rate={args.rate}", f"--concurrency={args.concurrency}",
                 f"--threads={args.threads}", f"--channels={args.channels}",
                 f"--deadline={args.deadline}", f"--fixture={fixture_file}",
                 f"--codes-file={codes_file}", f"--seed={seed}", "--json",
                 f"--progress={max(5, min(30, int(seconds / 6)))}s"]
    try:
        load_code, report, load_log = run_load(binaries["load"], load_args,
                                               timeout=seconds + 120)
    finally:
        injector.stop_event.set()
        injector.join()
    pending = injector.pending()
    emu.call("DELETE", "/_emu/faults")
    stats = emu.get("/_emu/stats")
    alive_at_end = wxgate.alive()
    sampler.stop_event.set()
    sampler.join()
    rss_end_of_load = (sampler.read() or (None,))[0]
    stop_started = time.monotonic()
    exit_code = wxgate.stop(timeout=30)
    stop_seconds = time.monotonic() - stop_started
    wxgate.join(timeout=10)
    stopped_line = any(line.endswith(" stopped") for line in wxgate.lines["stderr"][-20:])

    if report is None:
        raise SoakError(f"wxgate-load exited {load_code} without a report:\n"
                        + "\n".join(load_log[-40:]))
    if injector.error is not None:
        raise SoakError(f"the fault injector failed: {injector.error!r}")

    total = report["total"]
    upstream_calls = sum(stats["calls"].values())
    injected = sum(injector.armed.values()) - pending - injector.cleared
    fraction = injected / upstream_calls if upstream_calls else 0.0
    plateau, peak, end = rss_windows(sampler.samples, seconds)
    growth = (end - plateau) if plateau is not None else None
    unexplained = unexplained_statuses(report)
    cache_failed, cache_calls, cache_detail = cache_failures(report)
    cache_share = cache_failed / cache_calls if cache_calls else 0.0
    failed_fetches = [line[11:230] for line in wxgate.fetches if "fetching the" in line]

    checks = [
        ("wxgate ran to the end of the load", alive_at_end and sampler.died_at is None,
         "" if alive_at_end else f"it died at {sampler.died_at}s"),
        ("wxgate exited 0 on SIGTERM", exit_code == 0 and stopped_line,
         f"exit {exit_code} in {stop_seconds:.2f}s"),
        ("zero late calls (deadline + 10%)", total["late"] == 0, f"{total['late']} late"),
        ("every call accounted for", load_code == 0 and report["accounted"] and
         total["outstanding"] == 0 and total["sent"] == sum(total["by_code"].values()),
         f"sent {total['sent']}, completed {total['completed']}, "
         f"sum over codes {sum(total['by_code'].values())}"),
        ("no malformed OK answer", total["bad_answers"] == 0, json.dumps(total["bad_answer_kinds"])),
        ("every error explained (no INTERNAL/UNKNOWN)", not unexplained,
         "; ".join(f"{r} {c} {why} x{n}" for r, c, why, n in unexplained)),
        (f"token/ticket failures reached < {args.cache_error_bound:g}% of token-using calls",
         100 * cache_share < args.cache_error_bound,
         f"{cache_failed} of {cache_calls} ({100 * cache_share:.2f}%)"
         + "".join(f"\n      {k}: {n}" for k, n in sorted(cache_detail.items(),
                                                       key=lambda kv: -kv[1])[:8])
         + ("\n    wxgate's failed token/ticket fetches:\n      "
            + "\n      ".join(failed_fetches[:20])
            if failed_fetches and 100 * cache_share >= args.cache_error_bound else "")),
        ("no ERROR line in wxgate's log", wxgate.severities.get("ERROR", 0) == 0,
         "\n    ".join(wxgate.errors[:5])),
        (f"RSS growth plateau -> end < {args.rss_bound_mib:g} MiB",
         growth is not None and growth < args.rss_bound_mib * MIB,
         f"{(growth or 0) / MIB:+.1f} MiB"),
        ("2%..10% of upstream requests faulted", 0.02 <= fraction <= 0.10,
         f"{100 * fraction:.1f}%"),
        ("no call lacked a code", total["no_code"] == 0, f"{total['no_code']} no-code draws"),
    ]

    print_report(args, seconds, report, stats, injector, injected, pending, fraction,
                 upstream_calls, (rss_before_setup, rss_at_start, plateau, peak, end,
                                  rss_end_of_load), sampler.samples, wxgate, exit_code, checks)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as out:
            json.dump({"load": report, "emulator_stats": stats, "faults_armed": injector.armed,
                       "faults_injected": injected, "fault_fraction": fraction,
                       "revocations": injector.revocations, "rss_samples": sampler.samples,
                       "wxgate_exit": exit_code, "wxgate_log_severities": wxgate.severities,
                       "wxgate_fetch_log": wxgate.fetches,
                       "checks": [{"check": c, "ok": ok, "detail": d} for c, ok, d in checks]},
                      out, indent=1)
    return 0 if all(ok for _, ok, _ in checks) else 1


def print_report(args, seconds, report, stats, injector, injected, pending, fraction,
                 upstream_calls, rss, samples, wxgate, exit_code, checks):
    total = report["total"]
    mib = lambda b: "?" if b is None else f"{b / MIB:.1f}"  # noqa: E731
    print(f"\n== wxgate soak: {seconds:.0f} s, target {args.rate:.0f} calls/s, "
          f"{args.threads} threads, {args.channels} channels, deadline {args.deadline}")
    print(f"calls: sent {total['sent']}, completed {total['completed']}, "
          f"outstanding {total['outstanding']}, {total['rate']:.0f}/s, late {total['late']}, "
          f"malformed OK {total['bad_answers']}, no-code {total['no_code']}")
    print("by code: " + ", ".join(f"{c} {n}" for c, n in
                                  sorted(total["by_code"].items(), key=lambda kv: -kv[1])))
    print("by reason:")
    for code, reasons in sorted(total["by_reason"].items()):
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print(f"  {code:20} {reason:32} {n:7}")
    lat = total["latency_ms"]
    print(f"latency ms (all calls): p50 {lat['p50']:.2f}, p90 {lat['p90']:.2f}, "
          f"p99 {lat['p99']:.1f}, p99.9 {lat['p999']:.1f}, max {lat['max']:.0f}")
    print(f"  {'rpc':19} {'sent':>7} {'ok%':>6} {'p50':>7} {'p99':>7} {'max':>7}")
    for rpc, s in report["rpcs"].items():
        ok = 100.0 * s["ok"] / s["completed"] if s["completed"] else 0.0
        print(f"  {rpc:19} {s['sent']:7} {ok:6.1f} {s['latency_ms']['p50']:7.2f} "
              f"{s['latency_ms']['p99']:7.1f} {s['latency_ms']['max']:7.0f}")
    before, at_start, plateau, peak, end, after = rss
    print(f"wxgate RSS MiB: before setup {mib(before)}, load start {mib(at_start)}, "
          f"plateau {mib(plateau)}, peak {mib(peak)}, end {mib(end)} "
          f"(growth {((end or 0) - (plateau or 0)) / MIB:+.1f}, bound {args.rss_bound_mib:g})")
    if samples:
        print(f"  threads {samples[0][2]}..{max(x[2] for x in samples)}, open fds "
              f"{samples[0][3]}..{max(x[3] for x in samples)} (end {samples[-1][3]}); "
              "RSS every 30 s: " + " ".join(f"{x[1] / MIB:.0f}" for x in samples[::15]))
    armed = sum(injector.armed.values())
    print(f"faults: {injected} injected of {upstream_calls} upstream requests "
          f"({100 * fraction:.1f}%); armed {armed}, {pending} never reached"
          + (f", {injector.cleared} cleared" if injector.cleared else ""))
    print("  armed by kind: " + ", ".join(f"{k} {n}" for k, n in
                                          sorted(injector.armed.items(), key=lambda kv: -kv[1])))
    print(f"  token revocations: {len(injector.revocations)} ("
          + ", ".join(f"{t}s {'/'.join(str(v) for v in target.values())}"
                      for t, target, _ in injector.revocations[:8])
          + (", ..." if len(injector.revocations) > 8 else "") + ")"
          + (f"; 40001 burst on the ticket endpoints at {injector.burst_at}s"
             if injector.burst_at is not None else "")
          + (f" ({injector.skipped_revocations} revocations skipped after it)"
             if injector.skipped_revocations else ""))
    print("upstream calls per endpoint (errors: faulted or errcode != 0):")
    for endpoint, n in sorted(stats["calls"].items(), key=lambda kv: -kv[1]):
        print(f"  {endpoint:36} {n:8} {stats['errors'].get(endpoint, 0):7}")
    print(f"  connections: {stats['connections']}, hangs abandoned: {stats['hangs_abandoned']}")
    print(f"wxgate: exit {exit_code} after SIGTERM; log lines " +
          ", ".join(f"{k} {v}" for k, v in sorted(wxgate.severities.items())))
    print("checks:")
    for what, ok, detail in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {what}" + (f": {detail}" if detail and not ok else
                                                          (f" ({detail})" if detail else "")))
    print("soak " + ("passed" if all(ok for _, ok, _ in checks) else "FAILED"))


if __name__ == "__main__":
    sys.exit(main())
