#!/usr/bin/python3
"""The seed's two stories, run by a client in any language against the real binaries.

Starts wxgate-emulator and wxgate on free loopback ports, prepares the
stories' inputs through the emulator's control API, runs the client command
once with the inputs as one JSON object on its stdin, reads one JSON object
from its stdout and checks it:

  Story 1, mini-program login: Code2Session(js_code) answers the user's
    openid and unionid; DecryptUserData(openid, encrypted_data, iv) answers
    the decrypted JSON with that openid and unionid.
  Story 2, WeCom sidebar: SignJsapiConfig(url) and SignAgentConfig(url) are
    sha1 signatures over the emulator's corp jsapi_ticket and agent ticket;
    GetExternalContact(external_userid) answers the same unionid as story 1.
  Error: DecryptUserData for a user wxgate holds no session for, sent with
    x-request-id metadata, fails FAILED_PRECONDITION, and the
    google.rpc.ErrorInfo the client decoded from grpc-status-details-bin has
    domain "wxgate", reason "NO_SESSION", metadata app and request_id (the
    request_id sent).

A language may run only some of these parts (main's parts: "login",
"sidebar", "error"); the others are neither in its input nor checked. With
http=True wxgate also serves HTTP/JSON (server.http_address), the input has
"http_base", the client reads ErrorInfo from the JSON google.rpc.Status that
is the error's body, and the error's output has its "http_status": 400.

The client reads on stdin (every value a string):

  {"target": "127.0.0.1:PORT", "http_base": "http://127.0.0.1:PORT",
   "login":   {"app", "js_code", "encrypted_data", "iv"},
   "sidebar": {"app", "url", "external_userid"},
   "error":   {"app", "openid", "encrypted_data", "iv", "request_id"}}

and writes on stdout (other keys are ignored; int64 fields as numbers or
decimal strings, as the language's protobuf JSON has them):

  {"login":   {"openid", "unionid",
               "decrypted": {"json", "openid", "unionid"}},
   "sidebar": {"jsapi": SIGNATURE, "agent": SIGNATURE, "unionid"},
   "error":   {"code", "message", "domain", "reason", "metadata": {...},
               "http_status" (over HTTP/JSON)}}

  SIGNATURE: {"app_id", "agent_id", "timestamp", "nonce_str", "signature", "url"},
             the fields of wxgate.v1.JsapiSignature.
  code:      the gRPC status code, as its number (9) or canonical name
             ("FAILED_PRECONDITION").

It exits 0 after writing, or non-zero with the reason on stderr. A language's
test (tests/polyglot/<language>_client_test.py) is main(sys.argv, language,
prepare), where prepare(args) builds or installs the client into args.build
(run_step runs and times each step) and answers the command that runs it and
any environment it needs. Run directly, with a client already built:

    /usr/bin/python3 tests/polyglot/stories.py --build=build [--wxgate=PATH]
        [--emulator=PATH] -- COMMAND [ARGS...]
"""

import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # imported from the source tree

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))
import harness  # noqa: E402
from harness import jsapi_signature  # noqa: E402

SHOP_ID = "wxp00000000000a101"
CORP_ID = "wwp00000000000c103"
AGENT_ID = 1000007
SECRETS = ("stories-shop-secret", "stories-sidebar-secret")
APPS = f"""
apps {{ name: "shop" mini_program {{ app_id: "{SHOP_ID}" secret {{ value: "{SECRETS[0]}" }} }} }}
apps {{
  name: "sidebar"
  wecom_app {{ corp_id: "{CORP_ID}" agent_id: {AGENT_ID} secret {{ value: "{SECRETS[1]}" }} }}
  allowed_page_hosts: "cs.example.com"
}}
"""

UNIONID = "oUnion-StoryAlice-01"
EXTERNAL_USERID = "wmStoryCustomerAlice1"
# The fragment is not signed: wx.config's url is the page's URL without it.
PAGE_URL = "https://cs.example.com/sidebar?chat=7#/detail"
SIGNED_URL = "https://cs.example.com/sidebar?chat=7"
REQUEST_ID = "stories-no-session-0001"
CLIENT_TIMEOUT_S = 120

CODE_NAMES = {9: "FAILED_PRECONDITION"}  # the only code the stories expect
PARTS = ("login", "sidebar", "error")


def prepare(emu, target):
    """The client's input, and what the checks need that the client must not see."""
    login = emu.post("/_emu/login", {"app_id": SHOP_ID, "unionid": UNIONID})
    user_info = {"openId": login["openid"], "nickName": "Alice", "gender": 2,
                 "language": "zh_CN", "unionId": UNIONID}
    sealed = emu.post("/_emu/encrypt", {"app_id": SHOP_ID, "user": login["openid"],
                                        "data": user_info})
    emu.post("/_emu/external_contacts", {
        "corp_id": CORP_ID, "external_userid": EXTERNAL_USERID, "name": "Alice", "type": 1,
        "gender": 2, "unionid": UNIONID,
        "follow_users": [{"userid": "agent.li", "remark": "VIP", "state": "mini-shop"}]})
    # The emulator logs this user in (so it can seal data for them), but
    # wxgate never sees the code: it holds no session_key for the openid.
    stranger = emu.post("/_emu/login", {"app_id": SHOP_ID})
    stranger_sealed = emu.post("/_emu/encrypt", {"app_id": SHOP_ID, "user": stranger["openid"],
                                                 "data": {"openId": stranger["openid"]}})
    inputs = {
        "target": target,
        "login": {"app": "shop", "js_code": login["code"],
                  "encrypted_data": sealed["encrypted_data"], "iv": sealed["iv"]},
        "sidebar": {"app": "sidebar", "url": PAGE_URL, "external_userid": EXTERNAL_USERID},
        "error": {"app": "shop", "openid": stranger["openid"],
                  "encrypted_data": stranger_sealed["encrypted_data"],
                  "iv": stranger_sealed["iv"], "request_id": REQUEST_ID},
    }
    known = {"openid": login["openid"], "json": sealed["json"],
             "secrets": [login["session_key"], stranger["session_key"]]}
    return inputs, known


class Checker:
    """Collects every mismatch instead of stopping at the first."""

    def __init__(self):
        self.failures = []

    def equal(self, what, got, want):
        if got != want:
            self.failures.append(f"{what}: got {got!r}, want {want!r}")

    def true(self, what, condition):
        if not condition:
            self.failures.append(what)


def dig(output, *path):
    """output[path[0]][path[1]]...; None where a level is missing."""
    for key in path:
        output = output.get(key) if isinstance(output, dict) else None
    return output


def check(output, known, emu, c, parts=PARTS, http=False):
    """Adds to Checker c whatever in the client's output is not as the stories
    say, for the parts the client runs."""
    if "login" in parts:
        check_login(output, known, c)
    current = {}
    if "sidebar" in parts:
        current = check_sidebar(output, emu, c)
    if "error" in parts:
        check_error(output, c, http)

    text = json.dumps(output)
    for what, secret in [("a session_key", key) for key in known["secrets"]] + [
            ("the jsapi_ticket", current.get("jsapi_ticket")),
            ("the agent ticket", current.get("agent_ticket"))]:
        c.true(f"{what} reached the client", not secret or secret not in text)


def check_login(output, known, c):
    """Story 1."""
    c.equal("login.openid (Code2Session)", dig(output, "login", "openid"), known["openid"])
    c.equal("login.unionid (Code2Session)", dig(output, "login", "unionid"), UNIONID)
    c.equal("login.decrypted.json", dig(output, "login", "decrypted", "json"), known["json"])
    c.equal("login.decrypted.openid", dig(output, "login", "decrypted", "openid"),
            known["openid"])
    c.equal("login.decrypted.unionid", dig(output, "login", "decrypted", "unionid"), UNIONID)


def check_sidebar(output, emu, c):
    """Story 2; the tickets wxgate fetched and signed with, as the emulator has them."""
    current = emu.get(f"/_emu/current?corp_id={CORP_ID}&agent_id={AGENT_ID}")
    for name, ticket, agent_id in (("jsapi", current["jsapi_ticket"], 0),
                                   ("agent", current["agent_ticket"], AGENT_ID)):
        sig = dig(output, "sidebar", name) or {}
        before = len(c.failures)
        c.equal(f"sidebar.{name}.app_id", sig.get("app_id"), CORP_ID)
        c.equal(f"sidebar.{name}.agent_id", int(sig.get("agent_id") or 0), agent_id)
        c.equal(f"sidebar.{name}.url", sig.get("url"), SIGNED_URL)
        c.true(f"sidebar.{name}.nonce_str is empty", sig.get("nonce_str"))
        c.true(f"sidebar.{name}.timestamp is not a positive time: {sig.get('timestamp')!r}",
               str(sig.get("timestamp", "")).isdigit() and int(sig["timestamp"]) > 0)
        if len(c.failures) > before:
            continue  # nothing to compute the signature from
        c.equal(f"sidebar.{name}.signature (sha1 over the {name} ticket)", sig.get("signature"),
                jsapi_signature(ticket, sig["nonce_str"], sig["timestamp"], sig["url"]))
    c.equal("sidebar.unionid (GetExternalContact): the mini-program user's",
            dig(output, "sidebar", "unionid"), UNIONID)
    return current


def check_error(output, c, http):
    """The error case; over HTTP/JSON also its HTTP status."""
    if http:
        c.equal("error.http_status (FAILED_PRECONDITION over HTTP/JSON)",
                dig(output, "error", "http_status"), 400)
    code = dig(output, "error", "code")
    c.equal("error.code", CODE_NAMES.get(code, code), "FAILED_PRECONDITION")
    c.equal("error.domain (ErrorInfo)", dig(output, "error", "domain"), "wxgate")
    c.equal("error.reason (ErrorInfo)", dig(output, "error", "reason"), "NO_SESSION")
    c.equal("error.metadata.app (ErrorInfo)", dig(output, "error", "metadata", "app"), "shop")
    c.equal("error.metadata.request_id (ErrorInfo): the x-request-id sent",
            dig(output, "error", "metadata", "request_id"), REQUEST_ID)


def run_stories(args, command, env, name, parts=PARTS, http=False):
    started = []
    checker = Checker()
    stack = None
    try:
        stack = harness.Stack(args.wxgate, args.emulator, APPS, started,
                              prefix=f"wxgate-{name}-",
                              extra='server { http_address: "127.0.0.1:0" }\n' if http else "")
        inputs, known = prepare(stack.emulator, stack.target)
        inputs = {key: value for key, value in inputs.items()
                  if key not in PARTS or key in parts}
        if http:  # logged before "listening on", so already there
            line = stack.wxgate.wait_for_line("HTTP/JSON on ")
            inputs["http_base"] = line.split("HTTP/JSON on ", 1)[1].split()[0]
        begin = time.monotonic()
        try:
            done = subprocess.run(command, input=json.dumps(inputs), capture_output=True,
                                  text=True, env=env, timeout=CLIENT_TIMEOUT_S)
        except subprocess.TimeoutExpired as timeout:
            print(f"{name} client did not finish in {CLIENT_TIMEOUT_S}s; its stderr:\n"
                  f"{timeout.stderr}", file=sys.stderr)
            return 1
        print(f"{name} client ran the stories in {time.monotonic() - begin:.1f}s",
              file=sys.stderr)
        if done.stderr:
            print(f"---- {name} client's stderr ----\n{done.stderr}", file=sys.stderr)
        if done.returncode != 0:
            checker.failures.append(f"the client exited with status {done.returncode}")
        else:
            try:
                output = json.loads(done.stdout)
            except json.JSONDecodeError as error:
                output = None
                checker.failures.append(f"stdout is not one JSON object ({error}):\n"
                                        f"{done.stdout[:2000]}")
            if output is not None:
                check(output, known, stack.emulator, checker, parts, http)
                print(f"---- {name} client's output ----\n{json.dumps(output, indent=1)}",
                      file=sys.stderr)
    finally:
        status = None
        for each in started:
            status = each.close()
    if status != 0:
        checker.failures.append(f"wxgate did not exit 0 on SIGTERM (status {status})")
    if stack is not None and stack.wxgate is not None:
        logs = stack.wxgate.text()
        checker.true("a secret appears in wxgate's log", not any(s in logs for s in SECRETS))
        if checker.failures:
            print("---- wxgate's log ----\n" + stack.wxgate.tail(60), file=sys.stderr)
    if checker.failures:
        print(f"\n{name}_client_test FAILED:\n  " + "\n  ".join(checker.failures),
              file=sys.stderr)
        return 1
    print(f"{name}_client_test passed: {', '.join(parts)}{' over HTTP/JSON' if http else ''}",
          file=sys.stderr)
    return 0


def timed(what, step):
    """Runs step(), printing how long it took (CI time is watched)."""
    begin = time.monotonic()
    result = step()
    print(f"{what} took {time.monotonic() - begin:.1f}s", file=sys.stderr)
    return result


def main(argv, name="client", prepare_client=None, parts=PARTS, http=False):
    """Parses the shared flags (harness.parse_test_args), then
    prepare_client(args) -> (command, extra environment) or, without it, the
    command after "--"; runs the stories' parts, over HTTP/JSON when http.
    The exit status."""
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1:]
    else:
        command = []
    args, rest = harness.parse_test_args(argv[1:], __doc__.splitlines()[0], SOURCE_DIR)
    if rest:
        print(f"{name}_client_test: unknown arguments {rest}", file=sys.stderr)
        return 2
    missing = [f"{what} not found at {path} (build it: cmake --build {args.build})"
               for what, path in (("wxgate", args.wxgate), ("wxgate-emulator", args.emulator))
               if not os.path.exists(path)]
    if missing:
        print(f"{name}_client_test FAILED to start:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    env = dict(os.environ)
    if prepare_client is not None:
        try:
            command, extra_env = prepare_client(args)
        except PrepareError as error:
            print(f"{name}_client_test FAILED to build its client: {error}", file=sys.stderr)
            return 1
        env.update(extra_env)
    if not command:
        print(f"usage: {argv[0]} [--build=DIR] -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    return run_stories(args, command, env, name, parts, http)


class PrepareError(Exception):
    """A client could not be built or installed; the message says why."""


def run_step(what, argv, **options):
    """Runs a build step, timed; PrepareError with its output if it fails."""
    def step():
        try:
            return subprocess.run(argv, capture_output=True, text=True, **options)
        except OSError as error:
            raise PrepareError(f"{what}: {error}") from None
    done = timed(what, step)
    if done.returncode != 0:
        raise PrepareError(f"{what} failed (status {done.returncode}):\n"
                           f"{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return done


if __name__ == "__main__":
    sys.exit(main(sys.argv, "stories"))
