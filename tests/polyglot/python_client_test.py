#!/usr/bin/python3
"""The Python client (client/python/wxgate_client.py) against the real binaries.

Starts wxgate-emulator and wxgate on free loopback ports, then drives every RPC
of wxgate.v1 through stubs generated from the same protos (the build's
wxgate_python_stubs target): the mini-program login story (Code2Session ->
DecryptUserData -> GetExternalContact, one UnionID throughout), the other
RPCs, and error cases, whose gRPC code and google.rpc.ErrorInfo must come out
of grpc-status-details-bin. No response may carry a session_key.

    /usr/bin/python3 tests/polyglot/python_client_test.py --build=build [-v]
        [--wxgate=PATH] [--emulator=PATH] [--gen=DIR] [--client=DIR] [unittest args]
"""

import base64
import json
import os
import socket
import sys
import time
import unittest

sys.dont_write_bytecode = True  # the client and harness are imported from the source tree

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))
import harness  # noqa: E402
from harness import jsapi_signature  # noqa: E402

SHOP_ID = "wxp00000000000a001"
NEWS_ID = "wxp00000000000b002"
CORP_ID = "wwp00000000000c003"
AGENT_ID = 1000002

# Apps-only config: the emulator registers these apps (with these secrets);
# wxgate gets listen_address + upstream + the same apps.
APPS = f"""
apps {{ name: "shop" mini_program {{ app_id: "{SHOP_ID}" secret {{ value: "py-shop-secret" }} }} }}
apps {{
  name: "news"
  official_account {{ app_id: "{NEWS_ID}" secret {{ value: "py-news-secret" }} }}
  allowed_page_hosts: "news.example.com"
  token_service_enabled: true
}}
apps {{
  name: "sidebar"
  wecom_app {{ corp_id: "{CORP_ID}" agent_id: {AGENT_ID} secret {{ value: "py-sidebar-secret" }} }}
  allowed_page_hosts: "cs.example.com"
}}
"""
SECRETS = ("py-shop-secret", "py-news-secret", "py-sidebar-secret")

ARGS = None   # parsed command line
ENV = None    # the running Environment, set by setUpModule


class Environment(harness.Stack):
    """The emulator and wxgate, started in this order and stopped in reverse."""

    def __init__(self, args, started):
        super().__init__(args.wxgate, args.emulator, APPS, started, prefix="wxgate-py-")
        self.client = wxgate_client.WxgateClient(self.target, timeout=20.0)


def setUpModule():
    global ENV
    # Module cleanups run even when setUpModule fails half-way, unlike
    # tearDownModule: whatever was started is stopped.
    started = []
    unittest.addModuleCleanup(lambda: [env.close() for env in started])
    ENV = Environment(ARGS, started)


def tearDownModule():
    status = ENV.close()
    logs = ENV.wxgate.text()
    leaked = [s for s in SECRETS if s in logs]
    if status != 0 or "stopped" not in logs:
        shown = "killed after SIGTERM timed out" if status is None else f"status {status}"
        raise AssertionError(f"wxgate did not drain and exit 0 on SIGTERM ({shown})")
    if leaked:
        raise AssertionError("a secret appears in wxgate's log")


def session_key_free(testcase, session_key, *messages):
    """Asserts no message (or error) carries the session_key, base64 or raw."""
    raw = base64.b64decode(session_key)
    for message in messages:
        if isinstance(message, wxgate_client.WxgateError):
            text = (message.message + json.dumps(message.metadata)).encode()
            serialized = b"".join(d.SerializeToString() for d in message.details)
        else:
            text = str(message).encode()
            serialized = message.SerializeToString()
        for blob in (text, serialized):
            testcase.assertNotIn(session_key.encode(), blob,
                                 f"a session_key left wxgate in {type(message).__name__}")
            testcase.assertNotIn(raw, blob,
                                 f"a raw session_key left wxgate in {type(message).__name__}")


class WxgateTestCase(unittest.TestCase):
    def setUp(self):
        self.emu = ENV.emulator
        self.wx = ENV.client

    def assertWxgateError(self, call, code, reason, **metadata):
        """Runs call(), which must raise WxgateError(code, reason, metadata ⊇ given)."""
        with self.assertRaises(wxgate_client.WxgateError) as caught:
            call()
        error = caught.exception
        self.assertEqual((error.code, error.reason), (code, reason),
                         f"expected {code.name} {reason}, got {error}")
        self.assertEqual(error.domain, "wxgate", f"ErrorInfo.domain of {error}")
        for key, value in metadata.items():
            self.assertEqual(error.metadata.get(key), value, f"ErrorInfo.metadata[{key}] of {error}")
        return error


class MiniProgramToSidebarTest(WxgateTestCase):
    """Story: a mini-program user logs in, has data decrypted, and is then
    recognised in the WeCom sidebar by the same UnionID."""

    def test_code2session_decrypt_external_contact(self):
        unionid = "oUnion-PyAlice-0001"
        login = self.emu.post("/_emu/login", {"app_id": SHOP_ID, "unionid": unionid})
        self.assertIn("session_key", login, "the emulator's login answer carries the key")
        session = self.wx.code2session("shop", login["code"])
        self.assertEqual(session.openid, login["openid"])
        self.assertEqual(session.unionid, unionid)

        user_info = {"openId": session.openid, "nickName": "Alice", "gender": 2,
                     "language": "zh_CN", "unionId": unionid}
        sealed = self.emu.post("/_emu/encrypt",
                               {"app_id": SHOP_ID, "user": session.openid, "data": user_info})
        decrypted = self.wx.decrypt_user_data("shop", openid=session.openid,
                                              encrypted_data=sealed["encrypted_data"],
                                              iv=sealed["iv"])
        self.assertEqual(decrypted.json, sealed["json"])
        self.assertEqual(json.loads(decrypted.json)["nickName"], "Alice")
        self.assertEqual(decrypted.openid, session.openid)
        self.assertEqual(decrypted.unionid, unionid)
        self.assertGreater(decrypted.watermark_timestamp, 0)

        raw = json.dumps({"nickName": "Alice", "gender": 2}, separators=(",", ":"))
        signed = self.emu.post("/_emu/sign_raw",
                               {"app_id": SHOP_ID, "user": session.openid, "raw_data": raw})
        with_raw = self.wx.decrypt_user_data("shop", openid=session.openid,
                                             encrypted_data=sealed["encrypted_data"],
                                             iv=sealed["iv"], raw_data=raw,
                                             signature=signed["signature"])
        self.assertEqual(with_raw.openid, session.openid)
        bad_signature = self.assertWxgateError(
            lambda: self.wx.decrypt_user_data("shop", openid=session.openid,
                                              encrypted_data=sealed["encrypted_data"],
                                              iv=sealed["iv"], raw_data=raw + " ",
                                              signature=signed["signature"]),
            grpc.StatusCode.PERMISSION_DENIED, "SIGNATURE_MISMATCH", app="shop")

        external_userid = "wmPyCustomerAlice01"
        self.emu.post("/_emu/external_contacts", {
            "corp_id": CORP_ID, "external_userid": external_userid, "name": "Alice", "type": 1,
            "gender": 2, "unionid": unionid,
            "follow_users": [{"userid": "agent.li", "remark": "VIP", "state": "mini-shop",
                              "tags": [{"group_name": "level", "tag_name": "gold", "type": 1}]}]})
        contact = self.wx.get_external_contact("sidebar", external_userid)
        self.assertEqual(contact.external_userid, external_userid)
        self.assertEqual(contact.unionid, session.unionid,
                         "the sidebar's customer is the mini-program user")
        self.assertEqual(contact.name, "Alice")
        self.assertEqual(contact.type, wxgate_client.identity_pb2.EXTERNAL_CONTACT_TYPE_WECHAT)
        self.assertEqual(contact.gender, wxgate_client.identity_pb2.GENDER_FEMALE)
        self.assertEqual([(f.userid, f.remark, f.state) for f in contact.follow_users],
                         [("agent.li", "VIP", "mini-shop")])
        self.assertEqual([(t.group_name, t.tag_name) for t in contact.follow_users[0].tags],
                         [("level", "gold")])

        session_key_free(self, login["session_key"], session, decrypted, with_raw, contact,
                         bad_signature)

    def test_relogin_makes_the_held_key_stale(self):
        login = self.emu.post("/_emu/login", {"app_id": SHOP_ID})
        self.wx.code2session("shop", login["code"])
        relogin = self.emu.post("/_emu/login", {"app_id": SHOP_ID, "openid": login["openid"]})
        sealed = self.emu.post("/_emu/encrypt", {"app_id": SHOP_ID, "user": login["openid"],
                                                 "data": {"openId": login["openid"]}})
        decrypt = lambda: self.wx.decrypt_user_data(  # noqa: E731
            "shop", openid=login["openid"], encrypted_data=sealed["encrypted_data"],
            iv=sealed["iv"])
        stale = self.assertWxgateError(decrypt, grpc.StatusCode.FAILED_PRECONDITION,
                                       "SESSION_KEY_STALE", app="shop")
        self.wx.code2session("shop", relogin["code"])
        fresh = decrypt()
        self.assertEqual(fresh.openid, login["openid"])
        session_key_free(self, login["session_key"], stale, fresh)
        session_key_free(self, relogin["session_key"], stale, fresh)


class OtherRpcsTest(WxgateTestCase):
    def test_wecom_code2session_and_decrypt(self):
        login = self.emu.post("/_emu/wecom_login", {"corp_id": CORP_ID, "user_id": "py.zhang"})
        member = self.wx.wecom_code2session("sidebar", login["code"])
        self.assertEqual((member.corp_id, member.user_id), (CORP_ID, "py.zhang"))
        sealed = self.emu.post("/_emu/encrypt", {"corp_id": CORP_ID, "user": "py.zhang",
                                                 "data": {"phoneNumber": "13900139000",
                                                          "purePhoneNumber": "13900139000",
                                                          "countryCode": "86"}})
        decrypted = self.wx.decrypt_user_data("sidebar", wecom_user_id="py.zhang",
                                              encrypted_data=sealed["encrypted_data"],
                                              iv=sealed["iv"])
        self.assertEqual((decrypted.phone_number, decrypted.pure_phone_number,
                          decrypted.country_code), ("13900139000", "13900139000", "86"))
        session_key_free(self, login["session_key"], member, decrypted)

    def test_get_phone_number(self):
        code = self.emu.post("/_emu/phone_code", {"app_id": SHOP_ID,
                                                  "phone_number": "+86 13800138000",
                                                  "pure_phone_number": "13800138000",
                                                  "country_code": 86})["code"]
        phone = self.wx.get_phone_number("shop", code)
        self.assertEqual((phone.phone_number, phone.pure_phone_number, phone.country_code),
                         ("+86 13800138000", "13800138000", "86"))
        self.assertWxgateError(lambda: self.wx.get_phone_number("shop", code),
                               grpc.StatusCode.INVALID_ARGUMENT, "WECHAT_INVALID_CODE", app="shop")

    def test_batch_get_kf_customers(self):
        self.emu.post("/_emu/kf_customers", {"corp_id": CORP_ID, "external_userid": "wmPyKfBob01",
                                             "nickname": "Bob", "unionid": "oUnion-PyBob-0001",
                                             "scene": "qrcode", "scene_param": "ad-7"})
        kf = self.wx.batch_get_kf_customers("sidebar", ["wmPyKfBob01", "wmPyGone"],
                                            need_enter_session_context=True)
        self.assertEqual([(c.external_userid, c.nickname, c.unionid) for c in kf.customers],
                         [("wmPyKfBob01", "Bob", "oUnion-PyBob-0001")])
        self.assertEqual(kf.customers[0].enter_session_context.scene, "qrcode")
        self.assertEqual(kf.customers[0].enter_session_context.scene_param, "ad-7")
        self.assertEqual(list(kf.invalid_external_userids), ["wmPyGone"])

    def test_sign_jsapi_and_agent_config(self):
        page = "https://cs.example.com/sidebar?chat=7#/detail"
        config = self.wx.sign_jsapi_config("sidebar", page)
        agent = self.wx.sign_agent_config("sidebar", page)
        current = self.emu.get(f"/_emu/current?corp_id={CORP_ID}&agent_id={AGENT_ID}")
        self.assertEqual(config.url, "https://cs.example.com/sidebar?chat=7")
        self.assertEqual((config.app_id, config.agent_id), (CORP_ID, 0))
        self.assertEqual(config.signature, jsapi_signature(current["jsapi_ticket"],
                                                           config.nonce_str, config.timestamp,
                                                           config.url))
        self.assertEqual((agent.app_id, agent.agent_id), (CORP_ID, AGENT_ID))
        self.assertEqual(agent.signature, jsapi_signature(current["agent_ticket"],
                                                          agent.nonce_str, agent.timestamp,
                                                          agent.url))
        for message in (config, agent):
            text = str(message)
            self.assertNotIn(current["jsapi_ticket"], text)
            self.assertNotIn(current["agent_ticket"], text)

        news = self.wx.sign_jsapi_config("news", "https://news.example.com/a/1")
        oa = self.emu.get(f"/_emu/current?app_id={NEWS_ID}")
        self.assertEqual(news.app_id, NEWS_ID)
        self.assertEqual(news.signature, jsapi_signature(oa["ticket"], news.nonce_str,
                                                         news.timestamp, news.url))
        self.assertWxgateError(lambda: self.wx.sign_jsapi_config("sidebar",
                                                                 "https://evil.example.net/"),
                               grpc.StatusCode.PERMISSION_DENIED, "URL_HOST_NOT_ALLOWED",
                               app="sidebar")
        self.assertWxgateError(lambda: self.wx.sign_jsapi_config("news", "javascript:alert(1)"),
                               grpc.StatusCode.INVALID_ARGUMENT, "INVALID_URL", field="url")

    def test_get_access_token(self):
        token = self.wx.get_access_token("news")
        oa = self.emu.get(f"/_emu/current?app_id={NEWS_ID}")
        self.assertEqual(token.access_token, oa["access_token"])
        self.assertGreater(token.expires_at.seconds, time.time())
        self.assertWxgateError(lambda: self.wx.get_access_token("shop"),
                               grpc.StatusCode.PERMISSION_DENIED, "TOKEN_SERVICE_DISABLED",
                               app="shop")


class ErrorInfoTest(WxgateTestCase):
    """Errors arrive as WxgateError with the code and the decoded ErrorInfo."""

    def test_reused_code_is_invalid(self):
        login = self.emu.post("/_emu/login", {"app_id": SHOP_ID})
        self.wx.code2session("shop", login["code"])
        error = self.assertWxgateError(lambda: self.wx.code2session("shop", login["code"]),
                                       grpc.StatusCode.INVALID_ARGUMENT, "WECHAT_INVALID_CODE",
                                       app="shop", endpoint="sns/jscode2session")
        self.assertIn(error.metadata.get("errcode"), ("40029", "40163"), str(error))
        session_key_free(self, login["session_key"], error)

    def test_unknown_app_is_not_found_on_every_rpc(self):
        calls = {
            "Code2Session": lambda: self.wx.code2session("nosuchapp", "code0001"),
            "WeComCode2Session": lambda: self.wx.wecom_code2session("nosuchapp", "code0001"),
            "DecryptUserData": lambda: self.wx.decrypt_user_data(
                "nosuchapp", openid="oNobody", encrypted_data="A" * 22 + "==", iv="A" * 22 + "=="),
            "GetPhoneNumber": lambda: self.wx.get_phone_number("nosuchapp", "code0001"),
            "GetExternalContact": lambda: self.wx.get_external_contact("nosuchapp", "wmNobody"),
            "BatchGetKfCustomers": lambda: self.wx.batch_get_kf_customers("nosuchapp",
                                                                          ["wmNobody"]),
            "ExchangeOAuthCode": lambda: self.wx.exchange_oauth_code("nosuchapp", "code0001"),
            "GetFollower": lambda: self.wx.get_follower("nosuchapp", "oNobody"),
            "BatchGetFollowers": lambda: self.wx.batch_get_followers("nosuchapp", ["oNobody"]),
            "SignJsapiConfig": lambda: self.wx.sign_jsapi_config("nosuchapp",
                                                                 "https://a.example.com/"),
            "SignAgentConfig": lambda: self.wx.sign_agent_config("nosuchapp",
                                                                 "https://a.example.com/"),
            "GetAccessToken": lambda: self.wx.get_access_token("nosuchapp"),
        }
        for rpc, call in calls.items():
            with self.subTest(rpc=rpc):
                # The name came from the caller, not the config: "field", not "app".
                self.assertWxgateError(call, grpc.StatusCode.NOT_FOUND, "APP_NOT_FOUND",
                                       field="app")

    def test_decrypt_without_session(self):
        # The emulator logs the user in (so it can seal data), but wxgate never
        # saw the code: it holds no session_key for this openid.
        login = self.emu.post("/_emu/login", {"app_id": SHOP_ID})
        sealed = self.emu.post("/_emu/encrypt", {"app_id": SHOP_ID, "user": login["openid"],
                                                 "data": {"openId": login["openid"]}})
        error = self.assertWxgateError(
            lambda: self.wx.decrypt_user_data("shop", openid=login["openid"],
                                              encrypted_data=sealed["encrypted_data"],
                                              iv=sealed["iv"]),
            grpc.StatusCode.FAILED_PRECONDITION, "NO_SESSION", app="shop")
        self.assertIn("Code2Session", error.message)
        self.assertNotIn(login["openid"], error.message + json.dumps(error.metadata))
        session_key_free(self, login["session_key"], error)

    def test_bad_field_names_the_field(self):
        error = self.assertWxgateError(
            lambda: self.wx.decrypt_user_data("shop", openid="oSomeone",
                                              encrypted_data="A" * 22 + "==", iv="c2hvcnQ="),
            grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT", field="iv")
        self.assertNotIn("c2hvcnQ=", error.message, "values are never echoed")
        self.assertWxgateError(lambda: self.wx.code2session("shop", "has space"),
                               grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT",
                               field="js_code")
        self.assertWxgateError(
            lambda: self.wx.decrypt_user_data("shop", encrypted_data="A" * 22 + "==",
                                              iv="A" * 22 + "=="),
            grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
        with self.assertRaises(ValueError):
            self.wx.decrypt_user_data("shop", openid="a", wecom_user_id="b",
                                      encrypted_data="", iv="")

    def test_wrong_app_kind(self):
        self.assertWxgateError(lambda: self.wx.code2session("sidebar", "code0001"),
                               grpc.StatusCode.FAILED_PRECONDITION, "APP_KIND_MISMATCH",
                               app="sidebar")
        self.assertWxgateError(lambda: self.wx.sign_agent_config("news", "https://news.example.com/"),
                               grpc.StatusCode.FAILED_PRECONDITION, "APP_KIND_MISMATCH",
                               app="news")

    def test_error_without_error_info(self):
        # gRPC's own errors (here: nothing listens) have no ErrorInfo: reason "".
        with wxgate_client.WxgateClient(f"127.0.0.1:{closed_port()}", timeout=5.0) as dead:
            with self.assertRaises(wxgate_client.WxgateError) as caught:
                dead.get_access_token("news")
        self.assertEqual(caught.exception.code, grpc.StatusCode.UNAVAILABLE, str(caught.exception))
        self.assertEqual((caught.exception.reason, caught.exception.metadata), ("", {}))


def closed_port():
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_args(argv):
    return harness.parse_test_args(argv, __doc__.splitlines()[0], SOURCE_DIR)


def main(argv):
    global ARGS, grpc, wxgate_client
    ARGS, rest = parse_args(argv[1:])
    problems = [f"{what} not found at {path} (build it: cmake --build {ARGS.build})"
                for what, path in (("wxgate", ARGS.wxgate), ("wxgate-emulator", ARGS.emulator),
                                   ("generated stubs", os.path.join(ARGS.gen, "wxgate", "v1",
                                                                    "identity_pb2_grpc.py")))
                if not os.path.exists(path)]
    if problems:
        print("python_client_test FAILED to start:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    os.environ["WXGATE_PY_GEN"] = ARGS.gen
    sys.path.insert(0, ARGS.client)
    try:
        import grpc  # noqa: F401
        import wxgate_client  # noqa: F401
    except ImportError as error:
        print(f"python_client_test FAILED: cannot import the client with {sys.executable}: {error}"
              "\n  (Debian: apt-get install python3-grpcio python3-protobuf; run with "
              "/usr/bin/python3)", file=sys.stderr)
        return 1

    program = unittest.main(module=sys.modules[__name__], argv=[argv[0], *rest], exit=False,
                            verbosity=2)
    result = program.result
    if not result.wasSuccessful():
        print("\npython_client_test FAILED: "
              f"{len(result.failures)} failure(s), {len(result.errors)} error(s) "
              f"of {result.testsRun} test(s); see above.", file=sys.stderr)
        if ENV is not None and ENV.wxgate is not None:
            print("---- wxgate's log ----\n" + ENV.wxgate.text(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
