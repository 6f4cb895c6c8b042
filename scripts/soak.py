#!/usr/bin/env python3
"""The soak test: wxgate under a bounded mixed load with injected upstream faults.

Started by ./scripts/soak (and by ctest's soak_smoke) after the build; needs
only the standard library. It starts wxgate-emulator and wxgate on free
loopback ports, sets short token and ticket lifetimes so they expire during the
run, mints every single-use code the run will need, logs a fixed pool of users
in, fetches every token and ticket once, and drives wxgate-load with a mix of
every RPC for the given time. Meanwhile a fault injector keeps about 5% of
upstream requests faulted (latency spikes, -1, 45009/45011/45033, HTML 502,
truncated and mistyped answers, dropped connections, hangs shorter than the
caller's deadline, slow bodies), revokes an app's tokens every 15 s and arms
one short burst of 40001 on the ticket endpoints, sparing the token and ticket
endpoints while wxgate replaces what those took away; a sampler reads wxgate's
VmRSS, threads and fds. At the end wxgate gets SIGTERM. Everything random
follows --seed (fixed by default).

Checks (exit 1 if any fails), all on counters: wxgate-load's JSON report, the
emulator's /_emu/stats, the injector's own counts, wxgate's exit status and
/proc. wxgate ran to the end and exited 0 on SIGTERM; no call completed past
its deadline + 10%; every call is accounted for (sent = completed = sum over
status codes, none outstanding); no OK answer was malformed; every non-OK
status is one the faults or the fixture explain (never INTERNAL or UNKNOWN);
token and ticket failures reached under the bound of the calls that need a
token; wxgate logged nothing at ERROR severity; RSS grew less than the bound
between the first-minute plateau and the end; the injector really faulted
between 2% and 10% of upstream requests; no code pool ran dry. See
tests/soak/README.md, which also shows why the schedule's worst case meets
the bounds.
"""

import argparse
import dataclasses
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
# Every run with the same arguments draws the same faults, codes and mix.
DEFAULT_SEED = 1

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
# The RPCs that take an access token (or a ticket).
TOKEN_USERS = CACHE_SERVED + ("wecom-code2session", "phone", "external-contact", "kf-customers")


@dataclasses.dataclass(frozen=True)
class App:
    """An app whose tokens the injector may revoke: the /_emu/revoke body, the
    /_emu/current query that shows whether it holds a usable token, and the
    endpoints its token and the tickets fetched with that token come from."""
    name: str
    revoke: dict
    current: str
    endpoints: tuple


APPS = (
    App("shop", {"app_id": SHOP}, f"app_id={SHOP}", ("cgi-bin/token",)),
    App("news", {"app_id": NEWS}, f"app_id={NEWS}",
        ("cgi-bin/token", "cgi-bin/ticket/getticket")),
    App("sidebar", {"corp_id": CORP, "agent_id": 1000002}, f"corp_id={CORP}&agent_id=1000002",
        ("cgi-bin/gettoken", "cgi-bin/get_jsapi_ticket", "cgi-bin/ticket/get")),
    App("crm", {"corp_id": CORP, "agent_id": 1000003}, f"corp_id={CORP}&agent_id=1000003",
        ("cgi-bin/gettoken", "cgi-bin/get_jsapi_ticket", "cgi-bin/ticket/get")),
)
APP_BY_NAME = {app.name: app for app in APPS}
# The token and ticket fetch endpoints, whose failures the cache should keep
# from reaching callers.
CREDENTIAL_ENDPOINTS = tuple(sorted({e for app in APPS for e in app.endpoints}))
# The 40001 burst: on both ticket endpoints, so a rejection of the tokens of
# the apps that fetch those tickets.
BURST_ENDPOINTS = ("cgi-bin/ticket/getticket", "cgi-bin/get_jsapi_ticket")
BURST_SIZE = 3
BURST_APPS = ("news", "sidebar", "crm")

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


class SoakError(harness.HarnessError):
    pass


def log(text):
    print(f"soak: {text}", file=sys.stderr, flush=True)


class WxgateProcess(harness.Process):
    """wxgate, its log lines counted by severity (the ERROR ones kept); 400
    first and last lines kept."""

    def __init__(self, argv, log_path=None):
        self.severities = {}     # severity -> count
        self.errors = []         # ERROR lines
        super().__init__(argv, keep_lines=400, log_path=log_path)

    def on_line(self, line):
        words = line.split(" ", 2)
        if len(words) >= 2 and words[1] in ("DEBUG", "INFO", "WARN", "ERROR"):
            self.severities[words[1]] = self.severities.get(words[1], 0) + 1
            if words[1] == "ERROR" and len(self.errors) < 50:
                self.errors.append(line)


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


# --- the fault schedule -------------------------------------------------------------------------

@dataclasses.dataclass
class Episode:
    """A rejection the injector caused: a revocation, or the 40001 burst. It
    takes away the tokens of `apps`; it is over once wxgate has fetched what
    replaces them (`over(calls)`, asked every tick with the emulator's call
    counters), and stays open `spare` seconds longer. While it is open the
    endpoints of its apps draw no fault and its apps are not revoked."""
    what: str
    apps: tuple
    opened: float
    over: object = None
    over_at: float = None

    def is_open(self, now, spare):
        return self.over_at is None or now < self.over_at + spare


class Injector(threading.Thread):
    """Keeps about `fraction` of upstream requests faulted, on a schedule
    whose worst case is known (tests/soak/README.md, "Schedule").

    Every tick it reads the emulator's per-endpoint call counters and arms, per
    endpoint, count-1 faults for `fraction` of the requests of the last tick
    (rounded at random), each of a kind drawn from FAULTS; the next requests to
    that endpoint take them. Every `revoke_every` seconds it revokes the tokens
    of the next app in turn, and once, at a third of the run, it arms the 40001
    burst. Each of those opens an Episode: the faults armed on its apps'
    token and ticket endpoints are taken back and none is armed there until
    `spare` seconds after wxgate replaced what it took away. So a fetch that
    replaces a rejected token, which its callers wait for, is never faulted.
    A revocation skips the apps an open episode concerns (the cache will not
    replace a token fetched after a rejection again for 5 s, 10 s for a second
    one in a row), and the burst waits until no episode concerns its apps.
    Pacing by wall time is the point here, not synchronization."""

    def __init__(self, emu, fraction, seconds, rng, tick=0.25, revoke_every=15, spare=10):
        super().__init__(daemon=True)
        self.emu = emu
        self.fraction = fraction
        self.seconds = seconds
        self.rng = rng
        self.tick = tick
        self.revoke_every = revoke_every
        self.spare = spare
        self.stop_event = threading.Event()
        self.armed = {}          # kind -> faults armed
        self.withdrawn = 0       # faults taken back before any request took them
        self.revocations = []    # (t, app, tokens revoked)
        self.skipped_revocations = 0
        self.burst_at = None
        self.episodes = []
        self.slot = rng.randrange(len(APPS))  # the next app to revoke
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as error:  # noqa: BLE001 -- the main thread reports it
            self.error = error

    def _run(self):
        start = time.monotonic()
        last = self.calls()
        next_revoke = self.revoke_every
        while not self.stop_event.wait(self.tick):
            now = time.monotonic() - start
            calls = self.calls()
            for episode in self.episodes:
                if episode.over_at is None and episode.over(calls):
                    episode.over_at = round(now, 1)
            self.arm_random(calls, last, self.spared(now))
            last = calls
            if now >= next_revoke:
                self.revoke(now)
                next_revoke += self.revoke_every
            if self.burst_at is None and now >= self.seconds / 3:
                self.burst(now)

    def calls(self):
        return self.emu.get("/_emu/stats")["calls"]

    def arm(self, endpoint, kind, body):
        answer = self.emu.post("/_emu/faults", dict(body, endpoint=endpoint, count=1))
        self.armed[kind] = self.armed.get(kind, 0) + 1
        return answer["faults"]

    def arm_random(self, calls, last, spared):
        kinds = [k for k, _, _ in FAULTS]
        weights = [w for _, w, _ in FAULTS]
        makers = {k: m for k, _, m in FAULTS}
        pending = 0
        for endpoint, total in calls.items():
            if endpoint in spared:
                continue
            want = self.fraction * (total - last.get(endpoint, 0))
            for _ in range(int(want) + (1 if self.rng.random() < want - int(want) else 0)):
                kind = self.rng.choices(kinds, weights)[0]
                pending = self.arm(endpoint, kind, makers[kind](self.rng))
        # Faults armed for a quiet endpoint wait there; if they pile up (the
        # load stopped early), start over.
        if pending > 500:
            self.withdrawn += self.emu.call("DELETE", "/_emu/faults")["cleared"]

    def spared(self, now):
        """The endpoints an open episode spares."""
        return {endpoint for episode in self.episodes if episode.is_open(now, self.spare)
                for name in episode.apps for endpoint in APP_BY_NAME[name].endpoints}

    def concerned(self, name, now):
        return any(name in e.apps for e in self.episodes if e.is_open(now, self.spare))

    def open_episode(self, what, apps, now):
        episode = Episode(what, apps, round(now, 1))
        self.episodes.append(episode)
        for endpoint in sorted({e for name in apps for e in APP_BY_NAME[name].endpoints}):
            self.withdrawn += self.emu.call("DELETE", f"/_emu/faults?endpoint={endpoint}")["cleared"]
        return episode

    def revoke(self, now):
        """Revokes the tokens of the next app in turn that no open episode concerns."""
        for _ in range(len(APPS)):
            app = APPS[self.slot % len(APPS)]
            self.slot += 1
            if not self.concerned(app.name, now):
                break
        else:
            self.skipped_revocations += 1
            return
        episode = self.open_episode(f"revoke {app.name}", (app.name,), now)
        revoked = self.emu.post("/_emu/revoke", app.revoke)["revoked"]
        # Revoked tokens are unusable: the app holds a usable one again once
        # wxgate fetched its replacement.
        episode.over = lambda _calls, query=app.current: (
            self.emu.get(f"/_emu/current?{query}")["access_token"] != "")
        self.revocations.append((round(now, 1), app.name, revoked))

    def burst(self, now):
        """Arms BURST_SIZE 40001s on each ticket endpoint, unless an open
        episode concerns the apps whose tokens fetch those tickets."""
        if any(self.concerned(name, now) for name in BURST_APPS):
            return
        episode = self.open_episode("40001 burst", BURST_APPS, now)
        for endpoint in BURST_ENDPOINTS:
            for _ in range(BURST_SIZE):
                self.arm(endpoint, "40001 burst", {"errcode": 40001})
        # Nothing else is armed on those endpoints while the episode is open,
        # so their next BURST_SIZE requests take the burst. Counted after
        # arming: a request in between makes the episode longer, never shorter.
        armed_at = self.calls()
        episode.over = lambda calls: all(
            calls.get(e, 0) >= armed_at.get(e, 0) + BURST_SIZE for e in BURST_ENDPOINTS)
        self.burst_at = round(now, 1)


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

    def rss(self):
        return (self.read() or (None,))[0]

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


# --- setup --------------------------------------------------------------------------------------

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
    """Mints single-use codes: lines of wxgate-load's --codes-file."""
    jobs = []
    for i in range(counts.get("code2session", 0)):
        user = mp_users[i % len(mp_users)]
        jobs.append(lambda u=user: "code2session shop %s %s" % (emu.post(
            "/_emu/login", {"app_id": SHOP, "openid": u, "keep_session_key": True})["code"], u))
    for i in range(counts.get("wecom-code2session", 0)):
        user = wecom_users[i % len(wecom_users)]
        jobs.append(lambda u=user: "wecom-code2session sidebar %s %s" % (emu.post(
            "/_emu/wecom_login", {"corp_id": CORP, "user_id": u, "keep_session_key": True})["code"],
            u))
    for i in range(counts.get("phone", 0)):
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


def warm_credentials(emu, cli, target):
    """One call per token and ticket of the run through wxgate, so the load
    starts with every credential cached and valid: no fetch in the run then
    has callers waiting on it, except those the schedule causes (and, in
    runs longer than the lifetimes, the fetches at expiry)."""
    phone_code = emu.post("/_emu/phone_code", {"app_id": SHOP, "phone_number": "+86 13800139999",
                                               "pure_phone_number": "13800139999",
                                               "country_code": 86})["code"]
    for words in (["sign-jsapi", "news", "https://news.example.com/warm"],
                  ["sign-jsapi", "sidebar", "https://cs.example.com/warm"],
                  ["sign-agent", "sidebar", "https://cs.example.com/warm"],
                  ["sign-agent", "crm", "https://cs.example.com/warm"],
                  ["phone", "shop", phone_code]):
        done = subprocess.run([cli, f"--target={target}", *words], capture_output=True,
                              text=True, timeout=60)
        if done.returncode != 0:
            raise SoakError(f"warming the credentials: wxgate-cli {words[0]} {words[1]} exited "
                            f"{done.returncode}:\n{done.stdout}{done.stderr}")


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


# --- results ------------------------------------------------------------------------------------

@dataclasses.dataclass
class SoakRun:
    """What one run measured, for the checks and the report."""
    seconds: float
    seed: int
    load_code: int
    report: dict            # wxgate-load's JSON report
    stats: dict             # the emulator's /_emu/stats at the end of the load
    injector: Injector      # stopped: what it armed, revoked and spared
    pending: int            # faults armed and never reached
    samples: list           # wxgate's (t, rss, threads, fds) during the load
    died_at: float          # when the sampler found wxgate gone, or None
    rss_before_setup: int
    rss_at_start: int
    alive_at_end: bool
    exit_code: int          # after SIGTERM; None when it had to be killed
    stop_seconds: float
    severities: dict        # wxgate's log lines by severity
    errors: list            # its ERROR lines

    @property
    def total(self):
        return self.report["total"]

    @property
    def upstream_calls(self):
        return sum(self.stats["calls"].values())

    @property
    def injected(self):
        return sum(self.injector.armed.values()) - self.injector.withdrawn - self.pending

    @property
    def fault_fraction(self):
        return self.injected / self.upstream_calls if self.upstream_calls else 0.0

    def rss_windows(self):
        """(plateau, peak, end) RSS over the load: plateau is the highest sample
        of the first minute's second half (of the run's second quarter for runs
        under two minutes), end is the last sample."""
        if not self.samples:
            return None, None, None
        lo, hi = (30, 60) if self.seconds >= 120 else (self.seconds / 4, self.seconds / 2)
        window = [s[1] for s in self.samples if lo <= s[0] <= hi] or [self.samples[0][1]]
        return max(window), max(s[1] for s in self.samples), self.samples[-1][1]


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


# --- checks: each (run, args) -> (what, ok, detail); ok None: not checked ---------------------

def check_ran_to_the_end(run, _args):
    return ("wxgate ran to the end of the load", run.alive_at_end and run.died_at is None,
            "" if run.died_at is None else f"it died at {run.died_at:.1f}s")


def check_clean_exit(run, _args):
    # main() returns 0 only after the drain and the orderly teardown.
    return ("wxgate exited 0 on SIGTERM", run.exit_code == 0,
            f"exit {run.exit_code} in {run.stop_seconds:.2f}s")


def check_no_late_call(run, _args):
    return ("zero late calls (deadline + 10%)", run.total["late"] == 0,
            f"{run.total['late']} late")


def check_accounted(run, _args):
    total = run.total
    by_code = sum(total["by_code"].values())
    return ("every call accounted for",
            run.load_code == 0 and run.report["accounted"] and total["outstanding"] == 0
            and total["sent"] == by_code,
            f"sent {total['sent']}, completed {total['completed']}, sum over codes {by_code}")


def check_no_malformed_answer(run, _args):
    return ("no malformed OK answer", run.total["bad_answers"] == 0,
            json.dumps(run.total["bad_answer_kinds"]))


def check_errors_explained(run, _args):
    unexplained = unexplained_statuses(run.report)
    return ("every error explained (no INTERNAL/UNKNOWN)", not unexplained,
            "; ".join(f"{r} {c} {why} x{n}" for r, c, why, n in unexplained))


def check_cache_failures(run, args):
    failed, calls, detail = cache_failures(run.report)
    share = 100 * failed / calls if calls else 0.0
    ok = share < args.cache_error_bound
    text = f"{failed} of {calls} ({share:.2f}%)" + "".join(
        f"\n      {k}: {n}" for k, n in sorted(detail.items(), key=lambda kv: -kv[1])[:8])
    if not ok:
        text += "\n    token and ticket requests upstream (calls, errors):" + "".join(
            f"\n      {e}: {run.stats['calls'].get(e, 0)}, {run.stats['errors'].get(e, 0)}"
            for e in CREDENTIAL_ENDPOINTS)
    return (f"token/ticket failures reached < {args.cache_error_bound:g}% of token-using calls",
            ok, text)


def check_no_error_severity(run, _args):
    # ERROR is the severity wxgate gives a bug (README, Operating it).
    return ("nothing logged at ERROR severity", run.severities.get("ERROR", 0) == 0,
            "\n    ".join(run.errors[:5]))


def check_rss_growth(run, args):
    plateau, _, end = run.rss_windows()
    growth = end - plateau if plateau is not None else None
    detail = f"{(growth or 0) / MIB:+.1f} MiB"
    if args.rss_bound_mib == 0:
        return "RSS growth plateau -> end, not bounded", None, detail
    return (f"RSS growth plateau -> end < {args.rss_bound_mib:g} MiB",
            growth is not None and growth < args.rss_bound_mib * MIB, detail)


def check_fault_fraction(run, _args):
    return ("2%..10% of upstream requests faulted", 0.02 <= run.fault_fraction <= 0.10,
            f"{100 * run.fault_fraction:.1f}%")


def check_codes_sufficed(run, _args):
    return ("no call lacked a code", run.total["no_code"] == 0,
            f"{run.total['no_code']} no-code draws")


CHECKS = (check_ran_to_the_end, check_clean_exit, check_no_late_call, check_accounted,
          check_no_malformed_answer, check_errors_explained, check_cache_failures,
          check_no_error_severity, check_rss_growth, check_fault_fraction, check_codes_sufficed)


# --- report -------------------------------------------------------------------------------------

def mib(value):
    return "?" if value is None else f"{value / MIB:.1f}"


def most_first(counts):
    """'a 9, b 3': a {name: count} dict, largest count first."""
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def print_calls(run):
    total = run.total
    print(f"calls: sent {total['sent']}, completed {total['completed']}, "
          f"outstanding {total['outstanding']}, {total['rate']:.0f}/s, late {total['late']}, "
          f"malformed OK {total['bad_answers']}, no-code {total['no_code']}")
    print("by code: " + most_first(total["by_code"]))
    print("by reason:")
    for code, reasons in sorted(total["by_reason"].items()):
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            print(f"  {code:20} {reason:32} {n:7}")
    lat = total["latency_ms"]
    print(f"latency ms (all calls): p50 {lat['p50']:.2f}, p90 {lat['p90']:.2f}, "
          f"p99 {lat['p99']:.1f}, p99.9 {lat['p999']:.1f}, max {lat['max']:.0f}")
    print(f"  {'rpc':19} {'sent':>7} {'ok%':>6} {'p50':>7} {'p99':>7} {'max':>7}")
    for rpc, s in run.report["rpcs"].items():
        ok = 100.0 * s["ok"] / s["completed"] if s["completed"] else 0.0
        print(f"  {rpc:19} {s['sent']:7} {ok:6.1f} {s['latency_ms']['p50']:7.2f} "
              f"{s['latency_ms']['p99']:7.1f} {s['latency_ms']['max']:7.0f}")


def print_memory(run, args):
    plateau, peak, end = run.rss_windows()
    print(f"wxgate RSS MiB: before setup {mib(run.rss_before_setup)}, load start "
          f"{mib(run.rss_at_start)}, plateau {mib(plateau)}, peak {mib(peak)}, end {mib(end)} "
          f"(growth {((end or 0) - (plateau or 0)) / MIB:+.1f}, bound "
          f"{f'{args.rss_bound_mib:g}' if args.rss_bound_mib else 'none'})")
    if run.samples:
        print(f"  threads {run.samples[0][2]}..{max(x[2] for x in run.samples)}, open fds "
              f"{run.samples[0][3]}..{max(x[3] for x in run.samples)} (end "
              f"{run.samples[-1][3]}); RSS every 30 s: "
              + " ".join(f"{x[1] / MIB:.0f}" for x in run.samples[::15]))


def print_faults(run):
    injector = run.injector
    print(f"faults: {run.injected} injected of {run.upstream_calls} upstream requests "
          f"({100 * run.fault_fraction:.1f}%); armed {sum(injector.armed.values())}, "
          f"{injector.withdrawn} taken back, {run.pending} never reached")
    print("  armed by kind: " + most_first(injector.armed))
    revocations = ", ".join(f"{t}s {app}" for t, app, _ in injector.revocations)
    print(f"  token revocations: {len(injector.revocations)} ({revocations})"
          + (f", {injector.skipped_revocations} skipped" if injector.skipped_revocations else "")
          + ("" if injector.burst_at is None else
             f"; 40001 burst on the ticket endpoints at {injector.burst_at}s"))
    print(f"  episodes (credential endpoints spared until {injector.spare:g} s after 'over'):")
    for e in injector.episodes:
        over = "not over" if e.over_at is None else f"over at {e.over_at:.1f}s"
        print(f"    {e.opened:6.1f}s  {e.what:16} {'/'.join(e.apps):18} {over}")
    print("upstream calls per endpoint (errors: faulted or errcode != 0):")
    for endpoint, n in sorted(run.stats["calls"].items(), key=lambda kv: -kv[1]):
        print(f"  {endpoint:36} {n:8} {run.stats['errors'].get(endpoint, 0):7}")
    print(f"  connections: {run.stats['connections']}, "
          f"hangs abandoned: {run.stats['hangs_abandoned']}")


def print_report(run, args, verdicts):
    print(f"\n== wxgate soak: {run.seconds:.0f} s, target {args.rate:.0f} calls/s, "
          f"{args.threads} threads, {args.channels} channels, deadline {args.deadline}, "
          f"seed {run.seed}")
    print_calls(run)
    print_memory(run, args)
    print_faults(run)
    print(f"wxgate: exit {run.exit_code} after SIGTERM; log lines " +
          ", ".join(f"{k} {v}" for k, v in sorted(run.severities.items())))
    print("checks:")
    for what, ok, detail in verdicts:
        word = "SKIP" if ok is None else "PASS" if ok else "FAIL"
        print(f"  {word}  {what}" + (f": {detail}" if detail and ok is False else
                                     (f" ({detail})" if detail else "")))
    print("soak " + ("passed" if passed(verdicts) else "FAILED"))


def passed(verdicts):
    return all(ok is not False for _, ok, _ in verdicts)


def write_json(run, verdicts, path):
    injector = run.injector
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"seed": run.seed, "load": run.report, "emulator_stats": run.stats,
                   "faults_armed": injector.armed, "faults_withdrawn": injector.withdrawn,
                   "faults_pending": run.pending, "faults_injected": run.injected,
                   "fault_fraction": run.fault_fraction, "revocations": injector.revocations,
                   "burst_at": injector.burst_at,
                   "episodes": [{"what": e.what, "apps": e.apps, "opened": e.opened,
                                 "over_at": e.over_at} for e in injector.episodes],
                   "rss_samples": run.samples, "wxgate_exit": run.exit_code,
                   "wxgate_log_severities": run.severities,
                   "checks": [{"check": c, "ok": ok, "detail": d} for c, ok, d in verdicts]},
                  out, indent=1)


# --- the run ------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", help="build directory (binaries at their usual places)")
    parser.add_argument("--wxgate")
    parser.add_argument("--emulator")
    parser.add_argument("--load")
    parser.add_argument("--cli")
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
    parser.add_argument("--spare-seconds", type=float, default=10,
                        help="how long after wxgate replaced a revoked or rejected token its "
                             "app's endpoints stay spared (default 10: twice the cache's 5 s "
                             "rejection guard)")
    parser.add_argument("--rss-bound-mib", type=float, default=20,
                        help="largest RSS growth from the plateau to the end (MiB); 0: not "
                             "checked, for sanitizer builds, where RSS measures the sanitizer")
    parser.add_argument("--cache-error-bound", type=float, default=3.0,
                        help="largest share (%%) of token-using calls failed by the token cache")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"seed of every random choice of the run (default {DEFAULT_SEED})")
    parser.add_argument("--json-out", help="also write the results as JSON here")
    parser.add_argument("--wxgate-log", help="write wxgate's whole log here, at debug level")
    args = parser.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = args.build or os.path.join(root, "build")
    binaries = {
        "wxgate": args.wxgate or os.path.join(build, "server", "wxgate"),
        "emulator": args.emulator or os.path.join(build, "tests", "emulator", "wxgate-emulator"),
        "load": args.load or os.path.join(build, "client", "wxgate-load"),
        "cli": args.cli or os.path.join(build, "client", "wxgate-cli"),
    }
    for name, path in binaries.items():
        if not os.access(path, os.X_OK):
            print(f"soak: no {name} binary at {path}", file=sys.stderr)
            return 1
    apps_file = args.apps or os.path.join(root, "deploy", "demo.textproto")
    seconds = args.seconds if args.seconds is not None else args.minutes * 60

    with tempfile.TemporaryDirectory(prefix="wxgate-soak-") as state:
        emu = harness.Emulator(binaries["emulator"], state, apps_file, ["--hang-cap-s=1"])
        try:
            run = soak(args, binaries, apps_file, seconds, state, emu)
        except harness.HarnessError as error:
            print(f"\nsoak failed: {error}", file=sys.stderr)
            return 1
        finally:
            emu.stop()
    verdicts = [check(run, args) for check in CHECKS]
    print_report(run, args, verdicts)
    if args.json_out:
        write_json(run, verdicts, args.json_out)
    return 0 if passed(verdicts) else 1


def soak(args, binaries, apps_file, seconds, state, emu):
    """Sets up, runs the load and stops wxgate: the SoakRun."""
    emu.post("/_emu/settings", {"token_ttl_s": args.token_ttl, "ticket_ttl_s": args.ticket_ttl,
                                "code_ttl_s": int(seconds) + 600, "follow_user_page_size": 20})
    config = os.path.join(state, "wxgate.textproto")
    write_config(config, emu, apps_file)
    argv = [binaries["wxgate"], f"--config={config}"]
    if args.wxgate_log:
        argv.append("--log_level=debug")
    wxgate = harness.start_wxgate(argv, WxgateProcess, log_path=args.wxgate_log)
    try:
        return soak_with_wxgate(args, binaries, seconds, state, emu, wxgate)
    finally:
        if wxgate.alive():
            wxgate.stop()


def prepare(args, binaries, seconds, state, emu, wxgate, rng):
    """Codes, logged-in users, the fixture and warm credentials: the files
    wxgate-load reads (codes, fixture)."""
    # A fixed pool of users, logged in once through wxgate: later logins keep
    # their session keys, so the encrypted data stays decryptable all run and
    # the session store stays the same size (RSS measures leaks, not users).
    mp_users = [f"oSoakUser{i:04d}" for i in range(40)]
    wecom_users = [f"soak.member{i:02d}" for i in range(20)]
    # The run's codes first: minting takes a while, and the credentials
    # fetched below should be fresh when the load starts.
    weight_sum = sum(MIX.values())
    counts = {rpc: int(args.rate * seconds * MIX[rpc] / weight_sum * 1.25) + 50
              for rpc in CODE_RPCS}
    minted_at = time.monotonic()
    codes = mint_codes(emu, counts, mp_users, wecom_users, rng)
    log(f"minted {len(codes)} codes in {time.monotonic() - minted_at:.1f}s")
    codes_file = os.path.join(state, "codes.txt")
    with open(codes_file, "w", encoding="utf-8") as out:
        out.write("\n".join(codes) + "\n")

    logins = mint_codes(emu, {"code2session": len(mp_users), "wecom-code2session": len(wecom_users)},
                        mp_users, wecom_users, rng)
    login_codes = os.path.join(state, "logins.txt")
    with open(login_codes, "w", encoding="utf-8") as out:
        out.write("\n".join(logins) + "\n")
    code, report, text = run_load(binaries["load"], [
        f"--target={wxgate.target}", "--mix=code2session:2,wecom-code2session:1",
        f"--calls={len(logins)}", "--concurrency=8", f"--codes-file={login_codes}", "--json"],
        timeout=60)
    if code != 0 or report is None or report["total"]["ok"] != len(logins):
        raise SoakError("logging the users in failed:\n" + "\n".join(text))
    fixture_file = os.path.join(state, "fixture.json")
    with open(fixture_file, "w", encoding="utf-8") as out:
        json.dump(setup_fixture(emu, mp_users, wecom_users), out)
    warm_credentials(emu, binaries["cli"], wxgate.target)
    return codes_file, fixture_file


def soak_with_wxgate(args, binaries, seconds, state, emu, wxgate):
    rng = random.Random(args.seed)
    log(f"emulator at {emu.base_url}, wxgate at {wxgate.target} (pid {wxgate.proc.pid}), "
        f"seed {args.seed}")
    sampler = RssSampler(wxgate, period=2.0)
    rss_before_setup = sampler.rss()
    codes_file, fixture_file = prepare(args, binaries, seconds, state, emu, wxgate, rng)
    log(f"driving {args.rate:.0f} calls/s for {seconds:.0f}s")
    emu.post("/_emu/reset_stats", {})

    rss_at_start = sampler.rss()
    sampler.start_time = time.monotonic()
    sampler.start()
    injector = Injector(emu, args.fault_fraction, seconds, rng, spare=args.spare_seconds)
    injector.start()
    mix = ",".join(f"{rpc}:{w}" for rpc, w in MIX.items())
    load_args = [f"--target={wxgate.target}", f"--mix={mix}", f"--duration={seconds:.0f}s",
                 f"--rate={args.rate}", f"--concurrency={args.concurrency}",
                 f"--threads={args.threads}", f"--channels={args.channels}",
                 f"--deadline={args.deadline}", f"--fixture={fixture_file}",
                 f"--codes-file={codes_file}", f"--seed={args.seed}", "--json",
                 f"--progress={max(5, min(30, int(seconds / 6)))}s"]
    try:
        load_code, report, load_log = run_load(binaries["load"], load_args,
                                               timeout=seconds + 120)
    finally:
        injector.stop_event.set()
        injector.join()
    pending = emu.call("DELETE", "/_emu/faults")["cleared"]
    stats = emu.get("/_emu/stats")
    alive_at_end = wxgate.alive()
    sampler.stop_event.set()
    sampler.join()
    stop_started = time.monotonic()
    exit_code = wxgate.stop(timeout=30)
    stop_seconds = time.monotonic() - stop_started
    wxgate.join(timeout=10)

    if report is None:
        raise SoakError(f"wxgate-load exited {load_code} without a report:\n"
                        + "\n".join(load_log[-40:]))
    if injector.error is not None:
        raise SoakError(f"the fault injector failed: {injector.error!r}")
    with wxgate.cond:
        severities, errors = dict(wxgate.severities), list(wxgate.errors)
    return SoakRun(seconds=seconds, seed=args.seed, load_code=load_code, report=report,
                   stats=stats, injector=injector, pending=pending, samples=sampler.samples,
                   died_at=sampler.died_at, rss_before_setup=rss_before_setup,
                   rss_at_start=rss_at_start,
                   alive_at_end=alive_at_end, exit_code=exit_code, stop_seconds=stop_seconds,
                   severities=severities, errors=errors)


if __name__ == "__main__":
    sys.exit(main())
