#!/usr/bin/python3
"""server.http_address: wxgate's RPCs over HTTP/1.1 + JSON, driven with urllib.

Starts wxgate-emulator and wxgate (gRPC, HTTP/JSON and metrics listeners on
free loopback ports, two callers with bearer tokens) and checks what a caller
without gRPC depends on: every RPC class answers JSON in the protobuf JSON
mapping (login -> decrypt, both signatures -> external contact, the token
service); errors come back as the HTTP status of their gRPC code with the
JSON google.rpc.Status, ErrorInfo included; bad requests (malformed JSON,
unknown fields, wrong types, wrong content type, oversized bodies, unknown
methods, other verbs, a bad grpc-timeout) get clear answers; the caller checks,
the deadline, the audit, the metrics and the session store are the gRPC
methods' own (a session made over HTTP decrypts over gRPC).

    /usr/bin/python3 tests/http/http_gateway_test.py --build=build [-v]
"""

import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import unittest
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # the harness is imported from the source tree

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))
import harness  # noqa: E402
from harness import jsapi_signature  # noqa: E402

SHOP_ID = "wxp00000000000a201"
NEWS_ID = "wxp00000000000b202"
CORP_ID = "wwp00000000000c203"
AGENT_ID = 1000009
SECRETS = ("http-shop-secret", "http-news-secret", "http-sidebar-secret")
APPS = f"""
apps {{ name: "shop" mini_program {{ app_id: "{SHOP_ID}" secret {{ value: "{SECRETS[0]}" }} }} }}
apps {{
  name: "news"
  official_account {{ app_id: "{NEWS_ID}" secret {{ value: "{SECRETS[1]}" }} }}
  allowed_page_hosts: "news.example.com"
  token_service_enabled: true
}}
apps {{
  name: "sidebar"
  wecom_app {{ corp_id: "{CORP_ID}" agent_id: {AGENT_ID} secret {{ value: "{SECRETS[2]}" }} }}
  allowed_page_hosts: "cs.example.com"
}}
"""
# Two callers: one may call everything, one only Code2Session for shop and
# at most one call per hour after its first.
TOKEN = "http-test-token-checkout-0123456789"
LIMITED_TOKEN = "http-test-token-limited-0123456789"
CALLERS = f"""
callers {{
  name: "checkout"
  bearer_token_sha256: "{hashlib.sha256(TOKEN.encode()).hexdigest()}"
  allow {{ apps: "*" methods: "*" }}
}}
callers {{
  name: "limited"
  bearer_token_sha256: "{hashlib.sha256(LIMITED_TOKEN.encode()).hexdigest()}"
  allow {{ apps: "shop" methods: "wxgate.v1.IdentityService/Code2Session" }}
  rate_limit {{ per_second: 0.0003 burst: 1 }}
}}
"""
MAX_BODY = 16 * 1024
SERVER = f"""server {{
  http_address: "127.0.0.1:0"
  metrics_address: "127.0.0.1:0"
  max_receive_message_bytes: {MAX_BODY}
}}
"""
UNIONID = "oUnion-HttpAlice-01"
EXTERNAL_USERID = "wmHttpCustomerAlice1"
PAGE_URL = "https://cs.example.com/chat?id=3"

ARGS = None
ENV = None


class Environment(harness.Stack):
    def __init__(self, args, started):
        super().__init__(args.wxgate, args.emulator, APPS, started, prefix="wxgate-http-",
                         extra=SERVER + CALLERS)
        lines = self.wxgate.text()
        self.base = re.search(r"HTTP/JSON on (http://\S+)", lines).group(1)
        self.metrics = re.search(r"metrics on (http://\S+)/metrics", lines).group(1)


def setUpModule():
    global ENV
    started = []
    unittest.addModuleCleanup(lambda: [env.close() for env in started])
    ENV = Environment(ARGS, started)


def tearDownModule():
    status = ENV.close()
    logs = ENV.wxgate.text()
    leaked = [s for s in SECRETS + (TOKEN, LIMITED_TOKEN) if s in logs]
    if status != 0 or leaked:
        raise AssertionError(f"wxgate exited {status}; secrets in its log: {leaked}")


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.text = body.decode()
        self.json = json.loads(self.text) if self.text else None

    def error_info(self):
        """The ErrorInfo of a google.rpc.Status body."""
        details = [d for d in self.json.get("details", [])
                   if d.get("@type") == "type.googleapis.com/google.rpc.ErrorInfo"]
        assert len(details) == 1, self.text
        return details[0]


def call(path, body, token=TOKEN, content_type="application/json", headers=None,
         method="POST", raw=None):
    """One HTTP request to wxgate's HTTP/JSON listener: the Answer, whatever its status."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(ENV.base + path, data=data, method=method)
    if content_type:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


def rpc(method, body, **options):
    service = {"SignJsapiConfig": "SignatureService", "SignAgentConfig": "SignatureService",
               "GetAccessToken": "TokenService"}.get(method, "IdentityService")
    return call(f"/wxgate.v1.{service}/{method}", body, **options)


def scrape():
    with urllib.request.urlopen(ENV.metrics + "/metrics", timeout=30) as response:
        return response.read().decode()


def counter(text, name, **labels):
    """A sample's value in the exposition, 0 when absent."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(name + "{"):
            got = ",".join(sorted(line[len(name) + 1:line.index("}")].split(",")))
            if got == want:
                return float(line.rsplit(" ", 1)[1])
    return 0.0


class StoriesOverHttp(unittest.TestCase):
    """The seed's stories, every RPC class, as JSON."""

    def login(self, unionid=UNIONID):
        emu = ENV.emulator
        login = emu.post("/_emu/login", {"app_id": SHOP_ID, "unionid": unionid})
        return login

    def test_login_then_decrypt(self):
        login = self.login()
        answer = rpc("Code2Session", {"app": "shop", "jsCode": login["code"]})
        self.assertEqual(answer.status, 200, answer.text)
        self.assertEqual(answer.headers.get_content_type(), "application/json")
        self.assertEqual(answer.json, {"openid": login["openid"], "unionid": UNIONID})
        sealed = ENV.emulator.post("/_emu/encrypt", {
            "app_id": SHOP_ID, "user": login["openid"],
            "data": {"openId": login["openid"], "nickName": "Alice", "unionId": UNIONID}})
        # proto field names are accepted too.
        answer = rpc("DecryptUserData", {"app": "shop", "openid": login["openid"],
                                         "encrypted_data": sealed["encrypted_data"],
                                         "iv": sealed["iv"]})
        self.assertEqual(answer.status, 200, answer.text)
        self.assertEqual(answer.json["json"], sealed["json"])
        self.assertEqual(answer.json["unionid"], UNIONID)
        self.assertNotIn("session", answer.text.lower())
        self.assertNotIn(login["session_key"], answer.text)

    def test_session_made_over_http_decrypts_over_grpc(self):
        sys.path.insert(0, ARGS.gen)
        import grpc  # noqa: E402
        from wxgate.v1 import identity_pb2, identity_pb2_grpc  # noqa: E402
        login = self.login()
        self.assertEqual(rpc("Code2Session", {"app": "shop", "jsCode": login["code"]}).status, 200)
        sealed = ENV.emulator.post("/_emu/encrypt", {
            "app_id": SHOP_ID, "user": login["openid"], "data": {"openId": login["openid"]}})
        with grpc.insecure_channel(ENV.target) as channel:
            stub = identity_pb2_grpc.IdentityServiceStub(channel)
            reply = stub.DecryptUserData(
                identity_pb2.DecryptUserDataRequest(
                    app="shop", openid=login["openid"],
                    encrypted_data=sealed["encrypted_data"], iv=sealed["iv"]),
                metadata=[("authorization", f"Bearer {TOKEN}")], timeout=20)
        self.assertEqual(reply.json, sealed["json"])

    def test_sidebar_signatures_and_external_contact(self):
        ENV.emulator.post("/_emu/external_contacts", {
            "corp_id": CORP_ID, "external_userid": EXTERNAL_USERID, "name": "Alice", "type": 1,
            "gender": 2, "unionid": UNIONID,
            "follow_users": [{"userid": "agent.li", "remark": "VIP"}]})
        jsapi = rpc("SignJsapiConfig", {"app": "sidebar", "url": PAGE_URL})
        agent = rpc("SignAgentConfig", {"app": "sidebar", "url": PAGE_URL})
        self.assertEqual((jsapi.status, agent.status), (200, 200), jsapi.text + agent.text)
        current = ENV.emulator.get(f"/_emu/current?corp_id={CORP_ID}&agent_id={AGENT_ID}")
        for answer, ticket in ((jsapi, current["jsapi_ticket"]), (agent, current["agent_ticket"])):
            sig = answer.json
            self.assertEqual(sig["appId"], CORP_ID)
            self.assertEqual(sig["url"], PAGE_URL)
            # int64 is a decimal string in the protobuf JSON mapping.
            self.assertIsInstance(sig["timestamp"], str)
            self.assertEqual(sig["signature"],
                             jsapi_signature(ticket, sig["nonceStr"], sig["timestamp"], PAGE_URL))
        self.assertEqual(agent.json["agentId"], str(AGENT_ID))
        self.assertNotIn("agentId", jsapi.json)  # a default value is left out
        contact = rpc("GetExternalContact", {"app": "sidebar", "externalUserid": EXTERNAL_USERID})
        self.assertEqual(contact.status, 200, contact.text)
        self.assertEqual(contact.json["unionid"], UNIONID)
        self.assertEqual(contact.json["name"], "Alice")

    def test_token_service(self):
        answer = rpc("GetAccessToken", {"app": "news"})
        self.assertEqual(answer.status, 200, answer.text)
        current = ENV.emulator.get(f"/_emu/current?app_id={NEWS_ID}")
        self.assertEqual(answer.json["accessToken"], current["access_token"])
        # A Timestamp is an RFC 3339 string in the protobuf JSON mapping.
        expires = datetime.datetime.fromisoformat(answer.json["expiresAt"].replace("Z", "+00:00"))
        self.assertGreater(expires, datetime.datetime.now(datetime.timezone.utc))


class EveryOtherRpcOverHttp(unittest.TestCase):
    """The RPCs the stories leave out, each to a success: every route is the gRPC method's."""

    def test_wecom_code2session(self):
        login = ENV.emulator.post("/_emu/wecom_login", {"corp_id": CORP_ID, "user_id": "http.zhang"})
        answer = rpc("WeComCode2Session", {"app": "sidebar", "jsCode": login["code"]})
        self.assertEqual(answer.status, 200, answer.text)
        self.assertEqual(answer.json, {"corpId": CORP_ID, "userId": "http.zhang"})

    def test_get_phone_number(self):
        code = ENV.emulator.post("/_emu/phone_code", {
            "app_id": SHOP_ID, "phone_number": "+86 13800138000",
            "pure_phone_number": "13800138000", "country_code": 86})["code"]
        answer = rpc("GetPhoneNumber", {"app": "shop", "code": code})
        self.assertEqual(answer.status, 200, answer.text)
        self.assertEqual(answer.json["purePhoneNumber"], "13800138000")

    def test_batch_get_kf_customers(self):
        ENV.emulator.post("/_emu/kf_customers", {
            "corp_id": CORP_ID, "external_userid": "wmHttpKfBob01", "nickname": "Bob",
            "unionid": "oUnion-HttpBob-01"})
        answer = rpc("BatchGetKfCustomers", {"app": "sidebar",
                                             "externalUserids": ["wmHttpKfBob01", "wmHttpGone"]})
        self.assertEqual(answer.status, 200, answer.text)
        self.assertEqual([c["unionid"] for c in answer.json["customers"]], ["oUnion-HttpBob-01"])
        self.assertEqual(answer.json["invalidExternalUserids"], ["wmHttpGone"])

    def test_oauth_code_then_followers(self):
        grant = ENV.emulator.post("/_emu/oauth_code", {"app_id": NEWS_ID, "person": "carol",
                                                       "scope": "snsapi_base"})
        answer = rpc("ExchangeOAuthCode", {"app": "news", "code": grant["code"]})
        self.assertEqual(answer.status, 200, answer.text)
        self.assertEqual(answer.json["openid"], grant["openid"])
        ENV.emulator.post("/_emu/follow", {"app_id": NEWS_ID, "person": "carol"})
        follower = rpc("GetFollower", {"app": "news", "openid": grant["openid"]})
        self.assertEqual(follower.status, 200, follower.text)
        self.assertTrue(follower.json["subscribed"])
        both = rpc("BatchGetFollowers", {"app": "news", "openids": [grant["openid"]]})
        self.assertEqual(both.status, 200, both.text)
        self.assertEqual([f["openid"] for f in both.json["followers"]], [grant["openid"]])


class ErrorsOverHttp(unittest.TestCase):
    """Each error: the HTTP status of its gRPC code, the JSON google.rpc.Status."""

    def assertError(self, answer, http_status, code, reason, **metadata):
        self.assertEqual(answer.status, http_status, answer.text)
        self.assertEqual(answer.headers.get_content_type(), "application/json")
        self.assertEqual(answer.json["code"], code, answer.text)
        self.assertTrue(answer.json["message"], answer.text)
        info = answer.error_info()
        self.assertEqual(info["domain"], "wxgate")
        self.assertEqual(info["reason"], reason)
        self.assertTrue(info["metadata"].get("request_id"), answer.text)
        for key, value in metadata.items():
            self.assertEqual(info["metadata"].get(key), value, answer.text)
        return info

    def test_upstream_error(self):
        answer = rpc("Code2Session", {"app": "shop", "jsCode": "never-issued"},
                     headers={"x-request-id": "http-test-40029"})
        self.assertError(answer, 400, 3, "WECHAT_INVALID_CODE", errcode="40029",
                         endpoint="sns/jscode2session", app="shop", request_id="http-test-40029")

    def test_no_session_is_failed_precondition(self):
        stranger = ENV.emulator.post("/_emu/login", {"app_id": SHOP_ID})
        sealed = ENV.emulator.post("/_emu/encrypt", {
            "app_id": SHOP_ID, "user": stranger["openid"], "data": {"openId": "x"}})
        answer = rpc("DecryptUserData", {"app": "shop", "openid": stranger["openid"],
                                         "encryptedData": sealed["encrypted_data"],
                                         "iv": sealed["iv"]})
        self.assertError(answer, 400, 9, "NO_SESSION", app="shop")

    def test_unknown_app_and_bad_field(self):
        self.assertError(rpc("Code2Session", {"app": "nope", "jsCode": "x"}), 404, 5,
                         "APP_NOT_FOUND")
        self.assertError(rpc("SignJsapiConfig", {"app": "sidebar", "url": "ftp://x"}), 400, 3,
                         "INVALID_URL", field="url", app="sidebar")

    def test_malformed_json(self):
        info = self.assertError(rpc("Code2Session", None, raw=b'{"app": "shop",'), 400, 3,
                                "INVALID_ARGUMENT")
        self.assertNotIn("field", info["metadata"])
        answer = rpc("Code2Session", None, raw=b"not json at all")
        self.assertError(answer, 400, 3, "INVALID_ARGUMENT")
        self.assertIn("wxgate.v1.Code2SessionRequest", answer.json["message"])
        self.assertNotIn("\n", answer.json["message"])

    def test_unknown_field_and_wrong_type(self):
        answer = rpc("Code2Session", {"app": "shop", "jsCode": "x", "sessionKey": "y"})
        self.assertError(answer, 400, 3, "INVALID_ARGUMENT")
        self.assertIn("sessionKey", answer.json["message"])
        answer = rpc("Code2Session", {"app": ["shop"], "jsCode": "x"})
        self.assertError(answer, 400, 3, "INVALID_ARGUMENT")

    def test_wrong_content_type(self):
        for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
            answer = rpc("Code2Session", {"app": "shop", "jsCode": "x"},
                         content_type=content_type)
            self.assertError(answer, 415, 3, "INVALID_ARGUMENT")
            self.assertIn("application/json", answer.json["message"])
        answer = rpc("SignJsapiConfig", {"app": "sidebar", "url": PAGE_URL},
                     content_type="Application/JSON; charset=utf-8")
        self.assertEqual(answer.status, 200, answer.text)

    def test_oversized_body(self):
        body = {"app": "shop", "jsCode": "x" * (MAX_BODY + 1)}
        answer = rpc("Code2Session", body)
        self.assertError(answer, 413, 8, "RESOURCE_EXHAUSTED")
        self.assertIn(str(MAX_BODY), answer.json["message"])
        # The next request on a new connection is served as usual.
        self.assertEqual(rpc("SignJsapiConfig", {"app": "sidebar", "url": PAGE_URL}).status, 200)

    def test_unknown_method_and_other_verbs(self):
        answer = call("/wxgate.v1.IdentityService/Nope", {"app": "shop"})
        self.assertError(answer, 501, 12, "UNIMPLEMENTED")
        answer = call("/", {"app": "shop"})
        self.assertError(answer, 501, 12, "UNIMPLEMENTED")
        for verb in ("GET", "PUT", "DELETE"):
            answer = call("/wxgate.v1.IdentityService/Code2Session", None, method=verb,
                          content_type=None)
            self.assertError(answer, 405, 3, "INVALID_ARGUMENT")
            self.assertEqual(answer.headers["Allow"], "POST")

    def test_bad_grpc_timeout(self):
        for value in ("soon", "5", "123456789S", "5X"):
            answer = rpc("SignJsapiConfig", {"app": "sidebar", "url": PAGE_URL},
                         headers={"grpc-timeout": value})
            self.assertError(answer, 400, 3, "INVALID_ARGUMENT")
            self.assertIn("grpc-timeout", answer.json["message"])

    def test_deadline_from_grpc_timeout(self):
        ENV.emulator.post("/_emu/faults", {"endpoint": "cgi-bin/externalcontact/get",
                                           "hang": True})
        try:
            answer = rpc("GetExternalContact", {"app": "sidebar",
                                                "externalUserid": "wmHttpNobodyHangs1"},
                         headers={"grpc-timeout": "300m"})
        finally:
            ENV.emulator.call("DELETE", "/_emu/faults")
        self.assertError(answer, 504, 4, "DEADLINE_EXCEEDED")


class CallersOverHttp(unittest.TestCase):
    """The caller checks are gRPC's: the same reasons, as HTTP statuses."""

    def test_no_token_is_unauthenticated(self):
        answer = rpc("SignJsapiConfig", {"app": "sidebar", "url": PAGE_URL}, token=None)
        self.assertEqual(answer.status, 401, answer.text)
        self.assertEqual(answer.error_info()["reason"], "CALLER_UNKNOWN")
        answer = rpc("SignJsapiConfig", {"app": "sidebar", "url": PAGE_URL}, token="wrong")
        self.assertEqual(answer.status, 401, answer.text)

    def test_not_allowed_then_rate_limited(self):
        answer = rpc("SignJsapiConfig", {"app": "sidebar", "url": PAGE_URL}, token=LIMITED_TOKEN)
        self.assertEqual(answer.status, 403, answer.text)
        self.assertEqual(answer.error_info()["reason"], "CALLER_NOT_ALLOWED")
        # Its one call (burst 1), then the limit: 429 with Retry-After.
        first = rpc("Code2Session", {"app": "shop", "jsCode": "never-issued"},
                    token=LIMITED_TOKEN)
        self.assertEqual(first.error_info()["reason"], "WECHAT_INVALID_CODE")
        limited = rpc("Code2Session", {"app": "shop", "jsCode": "never-issued"},
                      token=LIMITED_TOKEN)
        self.assertEqual(limited.status, 429, limited.text)
        self.assertEqual(limited.error_info()["reason"], "CALLER_RATE_LIMITED")
        self.assertGreaterEqual(int(limited.headers["Retry-After"]), 1)
        retry = [d for d in limited.json["details"]
                 if d["@type"] == "type.googleapis.com/google.rpc.RetryInfo"]
        self.assertEqual(len(retry), 1, limited.text)


class SameStepsAsGrpc(unittest.TestCase):
    """Audit lines and metrics count HTTP calls as the gRPC methods' own."""

    def test_metrics_count_http_calls(self):
        method = "wxgate.v1.SignatureService/SignJsapiConfig"
        before = scrape()
        for _ in range(3):
            self.assertEqual(rpc("SignJsapiConfig", {"app": "sidebar", "url": PAGE_URL}).status,
                             200)
        rpc("SignJsapiConfig", {"app": "sidebar", "url": "ftp://x"})
        after = scrape()
        self.assertEqual(counter(after, "wxgate_rpc_requests_total", method=method, code="OK") -
                         counter(before, "wxgate_rpc_requests_total", method=method, code="OK"),
                         3)
        self.assertEqual(
            counter(after, "wxgate_rpc_requests_total", method=method, code="INVALID_ARGUMENT") -
            counter(before, "wxgate_rpc_requests_total", method=method, code="INVALID_ARGUMENT"),
            1)
        self.assertGreaterEqual(
            counter(after, "wxgate_caller_requests_total", caller="checkout", result="admitted") -
            counter(before, "wxgate_caller_requests_total", caller="checkout", result="admitted"),
            4)

    def test_audit_line_names_caller_and_request_id(self):
        login = ENV.emulator.post("/_emu/login", {"app_id": SHOP_ID})
        answer = rpc("Code2Session", {"app": "shop", "jsCode": login["code"]},
                     headers={"x-request-id": "http-audit-0001"})
        self.assertEqual(answer.status, 200, answer.text)
        line = ENV.wxgate.wait_for_line(lambda l: "audit: " in l and "http-audit-0001" in l,
                                        what="the audit line of the HTTP call")
        record = json.loads(line.split("audit: ", 1)[1])
        self.assertEqual(record["caller"], "checkout")
        self.assertEqual(record["method"], "wxgate.v1.IdentityService/Code2Session")
        self.assertEqual(record["code"], "OK")
        self.assertTrue(record["peer"].startswith("ipv4:127.0.0.1:"), record)
        self.assertNotIn(login["openid"], line)


class Listener(unittest.TestCase):
    def test_backlog_is_not_the_library_default(self):
        # Debian's cpp-httplib listens with a backlog of 5: 32 clients
        # connecting at once would see drops and 1 s retries. ss shows a
        # listening socket's backlog as its Send-Q.
        port = ENV.base.rsplit(":", 1)[1]
        out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True,
                             check=True).stdout.split()
        self.assertEqual(out[0], "LISTEN", out)
        self.assertGreaterEqual(int(out[2]), 128, out)


class DrainOverHttp(unittest.TestCase):
    """SIGTERM: a call in flight is answered (503 once shutdown_grace is
    over), and wxgate still exits cleanly."""

    def test_call_in_flight_at_sigterm_is_answered(self):
        started = []
        self.addCleanup(lambda: [env.close() for env in started])
        stack = harness.Stack(ARGS.wxgate, ARGS.emulator, APPS, started, prefix="wxgate-http-drain-",
                              extra='server { http_address: "127.0.0.1:0" '
                                    'shutdown_grace { seconds: 1 } }\n')
        base = re.search(r"HTTP/JSON on (http://\S+)", stack.wxgate.text()).group(1)
        endpoint = "cgi-bin/externalcontact/get"
        stack.emulator.post("/_emu/faults", {"endpoint": endpoint, "hang": True})
        answers = []

        def ask():
            request = urllib.request.Request(
                base + "/wxgate.v1.IdentityService/GetExternalContact",
                data=json.dumps({"app": "sidebar", "externalUserid": "wmHttpDrain1"}).encode(),
                headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    answers.append(Answer(response.status, response.headers, response.read()))
            except urllib.error.HTTPError as error:
                answers.append(Answer(error.code, error.headers, error.read()))

        caller = threading.Thread(target=ask)
        caller.start()
        # The call is in flight once the emulator holds its request.
        deadline = time.monotonic() + 30
        while not stack.emulator.get(f"/_emu/requests?endpoint={endpoint}")["requests"]:
            self.assertLess(time.monotonic(), deadline, "the call never reached the emulator")
            time.sleep(0.01)
        status = stack.wxgate.stop()
        caller.join(60)
        self.assertEqual(status, 0, stack.wxgate.tail())
        self.assertEqual(len(answers), 1)
        answer = answers[0]
        self.assertEqual(answer.status, 503, answer.text)
        self.assertEqual(answer.json["code"], 14)
        self.assertIn("shutting down", answer.json["message"])
        self.assertTrue(answer.error_info()["metadata"]["request_id"])
        self.assertIn("stopped", stack.wxgate.text())


if __name__ == "__main__":
    ARGS, rest = harness.parse_test_args(sys.argv[1:], __doc__.splitlines()[0], SOURCE_DIR)
    unittest.main(argv=[sys.argv[0]] + rest)
