#!/usr/bin/python3
"""wxgate's /metrics, scraped as Prometheus scrapes it, after known calls.

Starts wxgate-emulator and wxgate (server.metrics_address on a free loopback
port) and drives calls through the Python client, then reads /metrics over
HTTP and parses it with python3-prometheus-client's parser, the one
Prometheus' own client library uses: the exposition must parse, and the
values must be what the calls made. A second wxgate shares a Redis store and
checks callers, for the store and caller families. No label may carry a user
id, token, secret or session_key.

    /usr/bin/python3 tests/metrics/metrics_scrape_test.py --build=build [-v]
"""

import base64
import hashlib
import os
import re
import signal
import sys
import tempfile
import time
import unittest
import urllib.request

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))
import harness  # noqa: E402

SHOP_ID = "wxm00000000000a001"
NEWS_ID = "wxm00000000000b002"
GHOST_ID = "wxm00000000000d004"  # configured in wxgate, unknown to the emulator
APPS = f"""
apps {{ name: "shop" mini_program {{ app_id: "{SHOP_ID}" secret {{ value: "m-shop-secret" }} }} }}
apps {{
  name: "news"
  official_account {{ app_id: "{NEWS_ID}" secret {{ value: "m-news-secret" }} }}
  allowed_page_hosts: "news.example.com"
}}
"""
GHOST = f"""
apps {{
  name: "ghost"
  official_account {{ app_id: "{GHOST_ID}" secret {{ value: "m-ghost-secret" }} }}
  allowed_page_hosts: "news.example.com"
}}
"""
SECRETS = ("m-shop-secret", "m-news-secret", "m-ghost-secret")
CALLER_TOKEN = "metrics-test-caller-token-0123456789"
SIGN = "wxgate.v1.SignatureService/SignJsapiConfig"
CODE2SESSION = "wxgate.v1.IdentityService/Code2Session"

ARGS = None
ENV = None
grpc = None
wxgate_client = None
parser = None


def project_version():
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt"), encoding="utf-8") as cmake:
        return re.search(r"project\(wxgate VERSION ([0-9.]+)", cmake.read()).group(1)


class Scrape:
    """One /metrics answer: its raw text and samples by (name, labels)."""

    def __init__(self, address):
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as answer:
            self.status = answer.status
            self.content_type = answer.headers["Content-Type"]
            self.text = answer.read().decode("utf-8")
        self.families = {f.name: f for f in parser.text_string_to_metric_families(self.text)}
        self.samples = {}
        for family in self.families.values():
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name, default=0.0, **labels):
        return self.samples.get((name, frozenset(labels.items())), default)

    def series(self, name):
        """{labels dict as sorted tuple: value} of one sample name."""
        return {tuple(sorted(dict(labels).items())): value
                for (sample, labels), value in self.samples.items() if sample == name}


def metrics_address(process):
    line = process.wait_for_line("metrics on http://", what="'metrics on http://HOST:PORT'")
    return re.search(r"metrics on http://([^/\s]+)/metrics", line).group(1)


class Environment(harness.Stack):
    """Emulator, then wxgate with metrics and a short upstream timeout (a hung
    upstream is then a timeout well within the caller's deadline)."""

    def __init__(self, args, started):
        super().__init__(args.wxgate, args.emulator, APPS, started, prefix="wxgate-metrics-",
                         wxgate_apps=APPS + GHOST, upstream="timeout { seconds: 2 }",
                         extra='server { metrics_address: "127.0.0.1:0" }\n')
        self.metrics = metrics_address(self.wxgate)
        self.client = wxgate_client.WxgateClient(self.target, timeout=20.0)


def setUpModule():
    global ENV
    started = []
    unittest.addModuleCleanup(lambda: [env.close() for env in started])
    ENV = Environment(ARGS, started)


class MetricsTestCase(unittest.TestCase):
    def setUp(self):
        self.emu = ENV.emulator
        self.wx = ENV.client
        self.emu.call("DELETE", "/_emu/faults")

    def scrape(self):
        return Scrape(ENV.metrics)

    def failing(self, call):
        with self.assertRaises(wxgate_client.WxgateError) as caught:
            call()
        return caught.exception


class ExpositionTest(MetricsTestCase):
    def test_parses_with_help_and_type_for_every_family(self):
        scrape = self.scrape()
        self.assertEqual(scrape.status, 200)
        self.assertEqual(scrape.content_type, "text/plain; version=0.0.4; charset=utf-8")
        for name in ("wxgate_build_info", "wxgate_rpc_requests", "wxgate_rpc_duration_seconds",
                     "wxgate_rpc_in_flight", "wxgate_upstream_requests",
                     "wxgate_upstream_duration_seconds", "wxgate_upstream_connections_opened",
                     "wxgate_credential_fetches", "wxgate_credential_expiry_timestamp_seconds",
                     "wxgate_cache_lookups", "wxgate_sessions", "wxgate_caller_requests",
                     "wxgate_store_commands", "wxgate_audit_lines_dropped", "wxgate_reloads",
                     "wxgate_config_last_reload_success_timestamp_seconds", "process_cpu_seconds",
                     "process_resident_memory_bytes", "process_open_fds",
                     "process_start_time_seconds"):
            self.assertIn(name, scrape.families, f"{name} is not exposed")
            self.assertTrue(scrape.families[name].documentation, f"{name} has no HELP")
        types = {name: family.type for name, family in scrape.families.items()}
        self.assertEqual(types["wxgate_rpc_requests"], "counter")
        self.assertEqual(types["wxgate_rpc_duration_seconds"], "histogram")
        self.assertEqual(types["wxgate_rpc_in_flight"], "gauge")
        self.assertEqual(scrape.value("wxgate_build_info", version=project_version()), 1)
        self.assertGreater(scrape.value("process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(scrape.value("process_open_fds"), 3)
        self.assertLessEqual(scrape.value("process_start_time_seconds"), time.time())

    def test_anything_but_metrics_is_not_found(self):
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(f"http://{ENV.metrics}/", timeout=10)
        self.assertEqual(caught.exception.code, 404)


class RpcTest(MetricsTestCase):
    def test_calls_counted_by_method_and_code_and_timed(self):
        page = "https://news.example.com/a/1"
        self.wx.sign_jsapi_config("news", page)  # the ticket is cached from here on
        before = self.scrape()
        for _ in range(5):
            self.wx.sign_jsapi_config("news", page)
        self.failing(lambda: self.wx.sign_jsapi_config("nobody", page))
        self.failing(lambda: self.wx.sign_jsapi_config("news", "javascript:alert(1)"))
        after = self.scrape()

        def delta(name, **labels):
            return after.value(name, **labels) - before.value(name, **labels)

        self.assertEqual(delta("wxgate_rpc_requests_total", method=SIGN, code="OK"), 5)
        self.assertEqual(delta("wxgate_rpc_requests_total", method=SIGN, code="NOT_FOUND"), 1)
        self.assertEqual(delta("wxgate_rpc_requests_total", method=SIGN,
                               code="INVALID_ARGUMENT"), 1)
        self.assertEqual(delta("wxgate_rpc_duration_seconds_count", method=SIGN), 7)
        self.assertEqual(delta("wxgate_rpc_duration_seconds_bucket", method=SIGN, le="+Inf"), 7)
        self.assertGreater(delta("wxgate_rpc_duration_seconds_sum", method=SIGN), 0)
        # Cache hits of the ticket, one per signed call; nothing fetched.
        self.assertEqual(delta("wxgate_cache_lookups_total", credential="wechat_jsapi_ticket",
                               result="hit"), 5)
        self.assertEqual(delta("wxgate_cache_lookups_total", credential="wechat_jsapi_ticket",
                               result="miss"), 0)
        self.assertEqual(delta("wxgate_credential_fetches_total", app="news",
                               credential="wechat_jsapi_ticket", result="ok"), 0)
        self.assertEqual(after.value("wxgate_rpc_in_flight"), 0)
        # Every method shows OK from the start, called or not.
        self.assertIn((("code", "OK"), ("method", "wxgate.v1.IdentityService/GetFollower")),
                      after.series("wxgate_rpc_requests_total"))
        # Callers are not checked here: every call is the anonymous caller's.
        self.assertEqual(delta("wxgate_caller_requests_total", caller="anonymous",
                               result="admitted"), 7)


class UpstreamTest(MetricsTestCase):
    def code2session(self, **fault):
        login = self.emu.post("/_emu/login", {"app_id": SHOP_ID})
        if fault:
            self.emu.post("/_emu/faults", {"endpoint": "sns/jscode2session", **fault})
        return self.wx.code2session("shop", login["code"])

    def test_results_by_endpoint_errcode_and_failure(self):
        endpoint = "sns/jscode2session"
        before = self.scrape()
        self.code2session()
        self.failing(lambda: self.code2session(errcode=40029))   # a known errcode
        self.failing(lambda: self.code2session(errcode=61234))   # an unknown one
        self.failing(lambda: self.code2session(hang=True))        # upstream.timeout: 2 s
        self.failing(lambda: self.code2session(http_status=502))  # nginx's error page
        after = self.scrape()

        def delta(result):
            labels = {"endpoint": endpoint, "result": result}
            return (after.value("wxgate_upstream_requests_total", **labels) -
                    before.value("wxgate_upstream_requests_total", **labels))

        self.assertEqual({r: delta(r) for r in ("ok", "40029", "other", "timeout", "transport")},
                         {"ok": 1, "40029": 1, "other": 1, "timeout": 1, "transport": 1})
        self.assertNotIn("61234", str(after.series("wxgate_upstream_requests_total")))
        self.assertEqual(after.value("wxgate_upstream_duration_seconds_count", endpoint=endpoint) -
                         before.value("wxgate_upstream_duration_seconds_count", endpoint=endpoint),
                         5)
        # The hung request took the whole upstream timeout: above the 1 s bucket.
        self.assertEqual(after.value("wxgate_upstream_duration_seconds_bucket", endpoint=endpoint,
                                     le="1") -
                         before.value("wxgate_upstream_duration_seconds_bucket",
                                      endpoint=endpoint, le="1"), 4)
        self.assertEqual(after.value("wxgate_rpc_requests_total", method=CODE2SESSION,
                                     code="INVALID_ARGUMENT") -
                         before.value("wxgate_rpc_requests_total", method=CODE2SESSION,
                                      code="INVALID_ARGUMENT"), 1)
        self.assertGreaterEqual(after.value("wxgate_upstream_connections_opened_total"), 1)

    def test_sessions_held_per_app(self):
        before = self.scrape().value("wxgate_sessions", app="shop")
        self.code2session()
        self.code2session()
        self.assertEqual(self.scrape().value("wxgate_sessions", app="shop"), before + 2)


class CredentialTest(MetricsTestCase):
    def test_fetches_and_expiry_by_app_and_credential(self):
        self.wx.sign_jsapi_config("news", "https://news.example.com/")
        scrape = self.scrape()
        for credential in ("wechat_token", "wechat_jsapi_ticket"):
            self.assertGreaterEqual(scrape.value("wxgate_credential_fetches_total", app="news",
                                                 credential=credential, result="ok"), 1)
            expiry = scrape.value("wxgate_credential_expiry_timestamp_seconds", default=None,
                                  app="news", credential=credential)
            self.assertIsNotNone(expiry, f"no expiry for news {credential}")
            # WeChat hands out two-hour credentials.
            self.assertGreater(expiry, time.time() + 3600)
            self.assertLessEqual(expiry, time.time() + 7200 + 60)
        # An app not used yet has nothing cached: no expiry to show.
        self.assertIsNone(scrape.value("wxgate_credential_expiry_timestamp_seconds", default=None,
                                       app="shop", credential="wechat_token"))

    def test_failed_fetch_counted_as_error(self):
        labels = {"app": "ghost", "credential": "wechat_token", "result": "error"}
        before = self.scrape().value("wxgate_credential_fetches_total", **labels)
        self.failing(lambda: self.wx.sign_jsapi_config("ghost", "https://news.example.com/"))
        scrape = self.scrape()
        self.assertEqual(scrape.value("wxgate_credential_fetches_total", **labels), before + 1)
        self.assertGreaterEqual(scrape.value("wxgate_upstream_requests_total",
                                             endpoint="cgi-bin/token", result="40013"), 1)


class ReloadTest(MetricsTestCase):
    def test_reloads_counted_ok_and_refused(self):
        before = self.scrape()
        ENV.wxgate.proc.send_signal(signal.SIGHUP)
        ENV.wxgate.wait_for_line("reload: ")
        with open(ENV.config, encoding="utf-8") as config:
            good = config.read()
        try:
            with open(ENV.config, "w", encoding="utf-8") as config:
                config.write(good + "\nnot a field: 1\n")
            ENV.wxgate.proc.send_signal(signal.SIGHUP)
            ENV.wxgate.wait_for_line("reload refused")
        finally:
            with open(ENV.config, "w", encoding="utf-8") as config:
                config.write(good)
        after = self.scrape()
        self.assertEqual(after.value("wxgate_reloads_total", result="ok") -
                         before.value("wxgate_reloads_total", result="ok"), 1)
        self.assertEqual(after.value("wxgate_reloads_total", result="refused") -
                         before.value("wxgate_reloads_total", result="refused"), 1)
        self.assertGreaterEqual(
            after.value("wxgate_config_last_reload_success_timestamp_seconds"),
            before.value("wxgate_config_last_reload_success_timestamp_seconds"))


class NoPersonalDataTest(MetricsTestCase):
    def test_labels_carry_no_user_id_token_or_secret(self):
        login = self.emu.post("/_emu/login", {"app_id": SHOP_ID, "unionid": "oUnion-Metrics-01"})
        session = self.wx.code2session("shop", login["code"])
        self.wx.sign_jsapi_config("news", "https://news.example.com/")
        current = self.emu.get(f"/_emu/current?app_id={NEWS_ID}")
        text = self.scrape().text
        for value in (session.openid, session.unionid, login["code"], login["session_key"],
                      current["access_token"], current["ticket"], *SECRETS):
            self.assertNotIn(value, text)


class StoreAndCallersTest(unittest.TestCase):
    """A second wxgate with a Redis store and a configured caller."""

    def test_store_and_caller_families(self):
        tmp = tempfile.TemporaryDirectory(prefix="wxgate-metrics-redis-")
        self.addCleanup(tmp.cleanup)
        redis = harness.Redis(tmp.name, die_with_parent=True)
        self.addCleanup(redis.stop)
        digest = hashlib.sha256(CALLER_TOKEN.encode()).hexdigest()
        extra = ('server { metrics_address: "127.0.0.1:0" }\n' +
                 redis.store_section(base64.b64encode(b"metrics-test-store-key-32-bytes!").decode()) +
                 f'callers {{ name: "orders" bearer_token_sha256: "{digest}" '
                 f'allow {{ apps: "news" methods: "*" }} }}\n')
        config = os.path.join(tmp.name, "wxgate.textproto")
        harness.write_wxgate_config(config, ENV.emulator, APPS, extra=extra)
        wxgate = harness.start_wxgate([ARGS.wxgate, f"--config={config}"], die_with_parent=True)
        self.addCleanup(wxgate.stop)
        address = metrics_address(wxgate)
        client = wxgate_client.WxgateClient(wxgate.target, timeout=20.0)
        self.addCleanup(client.close)
        auth = (("authorization", f"Bearer {CALLER_TOKEN}"),)
        wrong = (("authorization", "Bearer not-the-token"),)
        page = "https://news.example.com/"
        client.sign_jsapi_config("news", page, metadata=auth)
        client.sign_jsapi_config("news", page, metadata=auth)
        with self.assertRaises(wxgate_client.WxgateError):
            client.sign_jsapi_config("shop", page, metadata=auth)  # not granted
        with self.assertRaises(wxgate_client.WxgateError):
            client.sign_jsapi_config("news", page, metadata=wrong)

        scrape = Scrape(address)
        self.assertEqual(scrape.value("wxgate_caller_requests_total", caller="orders",
                                      result="admitted"), 2)
        self.assertEqual(scrape.value("wxgate_caller_requests_total", caller="orders",
                                      result="not_allowed"), 1)
        self.assertEqual(scrape.value("wxgate_caller_requests_total", caller="",
                                      result="unknown"), 1)
        self.assertNotIn(CALLER_TOKEN, scrape.text)
        self.assertNotIn("not-the-token", scrape.text)
        self.assertEqual(scrape.value("wxgate_store_up"), 1)
        self.assertGreater(scrape.value("wxgate_store_commands_total", result="ok"), 0)
        # Sessions live in Redis, shared: this process holds none to count.
        self.assertEqual(scrape.series("wxgate_sessions"), {})


def parse_args(argv):
    return harness.parse_test_args(argv, __doc__.splitlines()[0], SOURCE_DIR)


def main(argv):
    global ARGS, grpc, wxgate_client, parser
    ARGS, rest = parse_args(argv[1:])
    os.environ["WXGATE_PY_GEN"] = ARGS.gen
    sys.path.insert(0, ARGS.client)
    try:
        import grpc  # noqa: F401
        import wxgate_client  # noqa: F401
        from prometheus_client import parser  # noqa: F401
    except ImportError as error:
        print(f"metrics_scrape_test FAILED: {error} (Debian: apt-get install python3-grpcio "
              "python3-protobuf python3-prometheus-client; run with /usr/bin/python3)",
              file=sys.stderr)
        return 1
    program = unittest.main(module=sys.modules[__name__], argv=[argv[0], *rest], exit=False,
                            verbosity=2)
    if not program.result.wasSuccessful():
        if ENV is not None and ENV.wxgate is not None:
            print("---- wxgate's log ----\n" + ENV.wxgate.text(), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
