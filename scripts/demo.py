#!/usr/bin/env python3
"""Walks every wxgate flow against the WeChat/WeCom emulator, with wxgate-cli.

Started by ./scripts/demo after the build. The emulator stands in for the
client side too: it mints the login codes wx.login would return, the
encryptedData wx.getUserInfo would return, the phone codes of the
getPhoneNumber button and the customers of the WeCom sidebar. Everything else
is what a caller does: one wxgate-cli command per RPC, over gRPC.

With --redis: two replicas share one redis-server instead (the config's store
section): a login on one decrypts on the other, both sign with one fetched
token and ticket, and Redis holds nothing in clear.
"""

import argparse
import base64
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # harness is imported from the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "support"))
import harness  # noqa: E402
from harness import jsapi_signature  # noqa: E402

BOLD = "\033[1m" if sys.stdout.isatty() else ""
DIM = "\033[2m" if sys.stdout.isatty() else ""
RESET = "\033[0m" if sys.stdout.isatty() else ""


class DemoError(harness.HarnessError):
    pass


def section(title):
    print(f"\n{BOLD}== {title}{RESET}")


def note(text):
    print(f"   {text}")


def check(condition, what):
    if not condition:
        raise DemoError(f"unexpected: {what}")
    print(f"   ok: {what}")


class Cli:
    def __init__(self, binary, target, name=""):
        self.binary = binary
        self.target = target
        self.name = name  # the replica's, shown before each command

    def run(self, *args, expect_ok=True, quiet=False):
        argv = [self.binary, f"--target={self.target}", "--json", *args]
        shown = " ".join(a if len(a) <= 60 else a[:57] + "..." for a in args)
        if not quiet:
            where = f"[{self.name}] " if self.name else ""
            print(f"{DIM}   {where}$ wxgate-cli {shown}{RESET}")
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        out = json.loads(done.stdout) if done.stdout.strip() else {}
        if expect_ok and done.returncode != 0:
            raise DemoError(f"wxgate-cli {' '.join(args)} failed: {done.stdout}{done.stderr}")
        if not expect_ok and done.returncode == 0:
            raise DemoError(f"wxgate-cli {' '.join(args)} succeeded but should have failed")
        return out

    def show(self, result, *fields):
        for field in fields:
            value = result.get(field, "")
            if isinstance(value, (dict, list)):
                value = json.dumps(value, ensure_ascii=False)
            print(f"     {field}: {value}")

    def error(self, *args):
        result = self.run(*args, expect_ok=False)
        info = result.get("error_info") or {}
        print(f"     -> {result.get('code')} {info.get('reason', '')}: {result.get('message')}")
        return result


def load_apps(path):
    """The demo's apps: name -> app id (WeChat appid or WeCom corp id)."""
    text = "\n".join(line.split("#", 1)[0] for line in open(path, encoding="utf-8"))
    return dict(re.findall(r'name:\s*"([^"]+)".*?(?:app_id|corp_id):\s*"([^"]+)"', text, re.S))


def post_json(url, body):
    """One HTTP/JSON call: (status, the decoded JSON answer)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def walk(emu, cli, apps, wxgate):
    shop_id = apps["shop"]
    news_id = apps["news"]
    corp_id = apps["sidebar"]
    site_id = apps["site"]
    app_id = apps["app"]

    section("wxgate is up")
    health = cli.run("health")
    check(health.get("status") == "SERVING", "grpc.health.v1 says SERVING")
    services = [s["name"] for s in cli.run("list").get("service", [])]
    note("services (server reflection): " + ", ".join(services))
    check(all(f"wxgate.v1.{s}" in services
              for s in ("IdentityService", "SignatureService", "TokenService")),
          "the three wxgate.v1 services are listed")

    section("Story 1: a mini-program user logs in; wxgate keeps the session_key")
    # The emulator derives Alice's ids: one OpenID per app, one UnionID per
    # Open Platform account (every demo app is bound to the company's).
    login = emu.post("/_emu/login", {"app_id": shop_id, "person": "alice"})
    note(f"wx.login on the phone gave the code {login['code'][:8]}... (single use, 5 minutes)")
    session = cli.run("code2session", "shop", login["code"])
    cli.show(session, "openid", "unionid")
    check(session["openid"] == login["openid"], "Code2Session returned the user's openid")
    check("session_key" not in json.dumps(session), "no session_key left the server")
    openid = session["openid"]
    unionid = session["unionid"]
    check(unionid == login["unionid"] != "", "and her UnionID: the mini program is bound")

    reused = cli.error("code2session", "shop", login["code"])
    check(reused["error_info"]["reason"] == "WECHAT_INVALID_CODE", "a reused code is refused")

    user_info = {"openId": openid, "nickName": "Alice", "gender": 2, "language": "zh_CN",
                 "unionId": unionid}
    sealed = emu.post("/_emu/encrypt", {"app_id": shop_id, "user": openid, "data": user_info})
    note("wx.getUserInfo on the phone gave encryptedData + iv, sealed with the session_key")
    decrypted = cli.run("decrypt", "shop", f"--openid={openid}", f"--data={sealed['encrypted_data']}",
                        f"--iv={sealed['iv']}")
    cli.show(decrypted, "openid", "unionid", "watermark_timestamp")
    check(json.loads(decrypted["json"])["nickName"] == "Alice",
          "DecryptUserData decrypted it with the server-held key and checked the watermark")

    raw = json.dumps({"nickName": "Alice", "gender": 2}, separators=(",", ":"))
    signed = emu.post("/_emu/sign_raw", {"app_id": shop_id, "user": openid, "raw_data": raw})
    cli.run("decrypt", "shop", f"--openid={openid}", f"--data={sealed['encrypted_data']}",
            f"--iv={sealed['iv']}", f"--raw_data={raw}", f"--signature={signed['signature']}")
    check(True, "the rawData signature sha1(rawData + session_key) verified")

    phone_code = emu.post("/_emu/phone_code", {"app_id": shop_id, "phone_number": "+86 13800138000",
                                                "pure_phone_number": "13800138000",
                                                "country_code": 86})["code"]
    phone = cli.run("phone", "shop", phone_code)
    cli.show(phone, "phone_number", "pure_phone_number", "country_code")
    check(phone["pure_phone_number"] == "13800138000", "GetPhoneNumber turned the code into a number")

    relogin = emu.post("/_emu/login", {"app_id": shop_id, "openid": openid})
    note("the user calls wx.login again: WeChat rotates the session_key")
    resealed = emu.post("/_emu/encrypt", {"app_id": shop_id, "user": openid, "data": user_info})
    stale = cli.error("decrypt", "shop", f"--openid={openid}",
                      f"--data={resealed['encrypted_data']}", f"--iv={resealed['iv']}")
    check(stale["error_info"]["reason"] == "SESSION_KEY_STALE",
          "data sealed under the new key is stale until Code2Session sees the new code")
    cli.run("code2session", "shop", relogin["code"])
    cli.run("decrypt", "shop", f"--openid={openid}", f"--data={resealed['encrypted_data']}",
            f"--iv={resealed['iv']}")
    check(True, "after Code2Session with the new code it decrypts")

    section("Story 2: the WeCom customer-service sidebar finds out who the customer is")
    page = "https://cs.example.com/sidebar?chat=42#/detail"
    config = cli.run("sign-jsapi", "sidebar", page)
    cli.show(config, "app_id", "timestamp", "nonce_str", "signature", "url")
    agent = cli.run("sign-agent", "sidebar", page)
    cli.show(agent, "app_id", "agent_id", "timestamp", "nonce_str", "signature")
    current = emu.get(f"/_emu/current?corp_id={corp_id}&agent_id=1000002")
    check(config["url"] == page.split("#")[0], "the fragment was stripped before signing")
    check(config["signature"] == jsapi_signature(current["jsapi_ticket"], config["nonce_str"],
                                                 config["timestamp"], config["url"]),
          "wx.config verifies with the corp jsapi_ticket")
    check(agent["signature"] == jsapi_signature(current["agent_ticket"], agent["nonce_str"],
                                                agent["timestamp"], agent["url"]),
          "wx.agentConfig verifies with the agent ticket, not the corp ticket")
    other = cli.run("sign-agent", "crm", "https://cs.example.com/crm")
    crm = emu.get(f"/_emu/current?corp_id={corp_id}&agent_id=1000003")
    check(other["signature"] == jsapi_signature(crm["agent_ticket"], other["nonce_str"],
                                                other["timestamp"], other["url"])
          and crm["agent_ticket"] != current["agent_ticket"],
          "a second agent of the corp signs with its own agent ticket")
    cli.error("sign-jsapi", "sidebar", "https://evil.example.net/phish")

    emu.post("/_emu/external_contacts", {
        "corp_id": corp_id, "external_userid": "wmCustomerAlice0001", "name": "Alice", "type": 1,
        "gender": 2, "person": "alice", "open_platform": "default",
        "follow_users": [{"userid": "agent.zhang", "remark": "VIP", "state": "mini-shop",
                          "tags": [{"group_name": "level", "tag_name": "gold", "type": 1}]}]})
    note("getCurExternalContact in the sidebar returned userId wmCustomerAlice0001")
    contact = cli.run("external-contact", "sidebar", "wmCustomerAlice0001")
    cli.show(contact, "external_userid", "name", "type", "unionid")
    check(contact["unionid"] == session["unionid"],
          "the customer's UnionID is the mini-program user's: the agent sees Alice from Story 1")
    missing = cli.error("external-contact", "sidebar", "wmNobody")
    check(missing["code"] in ("INVALID_ARGUMENT", "NOT_FOUND"), "an unknown customer is refused")

    section("Story 3: one person, every app: wherever Alice signs in, the same UnionID")
    h5 = emu.post("/_emu/oauth_code", {
        "app_id": news_id, "person": "alice", "scope": "snsapi_userinfo", "nickname": "Alice",
        "sex": 2, "city": "Shenzhen", "country": "CN",
        "headimgurl": "https://thirdwx.qlogo.cn/mmopen/alice/132"})
    note("Alice opens the news account's H5 page; after the consent page WeChat redirects to it "
         f"with ?code={h5['code'][:8]}... (scope snsapi_userinfo)")
    web = cli.run("oauth", "news", h5["code"], "--user_info")
    cli.show(web, "openid", "unionid", "scope", "user_info")
    check(web["unionid"] == unionid, "the Official Account's web authorization: Story 1's UnionID")
    check(web["openid"] != openid, "with an OpenID of its own (OpenIDs are per app)")
    check(web["user_info"]["nickname"] == "Alice",
          "and her profile, read with her own token, which never leaves wxgate")
    silent = emu.post("/_emu/oauth_code", {"app_id": news_id, "person": "alice",
                                           "scope": "snsapi_base"})
    base = cli.run("oauth", "news", silent["code"], "--user_info")
    check(base["openid"] == web["openid"] and "unionid" not in base and "user_info" not in base,
          "a silent snsapi_base code gives the OpenID only, and costs no doomed sns/userinfo call")

    qr = emu.post("/_emu/oauth_code", {"app_id": site_id, "person": "alice",
                                       "scope": "snsapi_login"})
    note("on the website Alice scans the login QR code (connect/qrconnect, snsapi_login)")
    site = cli.run("oauth", "site", qr["code"])
    cli.show(site, "openid", "unionid", "scope")
    check(site["unionid"] == unionid, "the website's QR login: the same UnionID")
    opensdk = emu.post("/_emu/oauth_code", {"app_id": app_id, "person": "alice"})
    note("in the mobile app Alice taps \"Sign in with WeChat\" (the OpenSDK's SendAuth)")
    mobile = cli.run("oauth", "app", opensdk["code"])
    cli.show(mobile, "openid", "unionid", "scope")
    check(mobile["unionid"] == unionid, "the mobile app's login: the same UnionID")
    reused = cli.error("oauth", "app", opensdk["code"])
    check(reused["error_info"]["reason"] == "WECHAT_INVALID_CODE", "codes are single-use here too")

    emu.post("/_emu/follow", {"app_id": news_id, "person": "alice",
                              "subscribe_scene": "ADD_SCENE_QR_CODE", "tag_ids": [2]})
    emu.post("/_emu/follow", {"app_id": news_id, "person": "bob", "subscribe": False})
    bob = emu.post("/_emu/person", {"person": "bob", "app_id": news_id})
    note("Alice follows the news account; Bob followed and left")
    follower = cli.run("follower", "news", web["openid"])
    cli.show(follower, "subscribed", "unionid", "subscribe_time", "subscribe_scene", "tag_ids")
    check(follower.get("subscribed") and follower["unionid"] == unionid,
          "a follower of the Official Account: the same UnionID, with the account's own token")
    both = cli.run("followers", "news", web["openid"], bob["openid"])
    check([f.get("subscribed", False) for f in both["followers"]] == [True, False],
          "BatchGetFollowers: Alice follows, Bob no longer does (not an error)")
    check(len({unionid, web["unionid"], site["unionid"], mobile["unionid"],
               follower["unionid"], contact["unionid"]}) == 1,
          "mini program, Official Account, website, mobile app, follower, WeCom sidebar: one person")

    section("More flows")
    wecom_login = emu.post("/_emu/wecom_login", {"corp_id": corp_id, "user_id": "zhangsan"})
    member = cli.run("wecom-code2session", "sidebar", wecom_login["code"])
    cli.show(member, "corp_id", "user_id")
    sealed = emu.post("/_emu/encrypt", {"corp_id": corp_id, "user": "zhangsan",
                                        "data": {"phoneNumber": "13900139000"}})
    decrypted = cli.run("decrypt", "sidebar", "--wecom_user_id=zhangsan",
                        f"--data={sealed['encrypted_data']}", f"--iv={sealed['iv']}")
    check(decrypted["phone_number"] == "13900139000",
          "a WeCom-mode mini program decrypts with the corp id as watermark")

    news = cli.run("sign-jsapi", "news", "https://news.example.com/article/7?from=timeline")
    oa = emu.get(f"/_emu/current?app_id={news_id}")
    check(news["signature"] == jsapi_signature(oa["ticket"], news["nonce_str"], news["timestamp"],
                                               news["url"]),
          "an official account signs wx.config with its own jsapi ticket")

    emu.post("/_emu/kf_customers", {"corp_id": corp_id, "external_userid": "wmKfBob0001",
                                    "nickname": "Bob", "unionid": "oUnion-Bob-0001",
                                    "scene": "qrcode", "scene_param": "ad-7"})
    kf = cli.run("kf-customers", "sidebar", "wmKfBob0001", "wmGone", "--context")
    check(kf["customers"][0]["unionid"] == "oUnion-Bob-0001" and
          kf["invalid_external_userids"] == ["wmGone"], "WeChat-KF customers with their UnionIDs")

    token = cli.run("token", "news")
    note(f"TokenService handed out news's access token ({token['access_token'][:10]}...), "
         f"valid until {token['expires_at']}")
    check(token["access_token"] == oa["access_token"], "it is the token WeChat holds as current")
    cli.error("token", "shop")
    cli.error("code2session", "nosuchapp", "code")
    cli.error("sign-jsapi", "news", "javascript:alert(1)")

    section("HTTP/JSON: the same RPCs for callers without gRPC")
    http_base = re.search(r"HTTP/JSON on (http://\S+)", wxgate.text()).group(1)
    note(f"POST {http_base}/wxgate.v1.SignatureService/SignJsapiConfig")
    status, signed = post_json(f"{http_base}/wxgate.v1.SignatureService/SignJsapiConfig",
                               {"app": "news", "url": "https://news.example.com/article/9"})
    check(status == 200 and signed["signature"] == jsapi_signature(
        oa["ticket"], signed["nonceStr"], signed["timestamp"], signed["url"]),
        "wx.config signed over HTTP/JSON with the same ticket")
    status, refused = post_json(f"{http_base}/wxgate.v1.IdentityService/DecryptUserData",
                                {"app": "shop", "openid": "oNobody",
                                 "encryptedData": "AAAAAAAAAAAAAAAAAAAAAA==",
                                 "iv": "AAAAAAAAAAAAAAAAAAAAAA=="})
    info = refused["details"][0]
    note(f"an error is HTTP {status} with the google.rpc.Status as JSON: "
         f"{info['reason']} {json.dumps(info['metadata'])}")
    check(status == 400 and refused["code"] == 9 and info["reason"] == "NO_SESSION",
          "FAILED_PRECONDITION is 400, the ErrorInfo intact")

    section("The cache: WeChat and WeCom see one fetch per credential")
    note("20 more wx.config signatures for news:")
    for _ in range(20):
        cli.run("sign-jsapi", "news", "https://news.example.com/article/8", quiet=True)
    stats = emu.get("/_emu/stats")["calls"]
    for endpoint in ("cgi-bin/token", "cgi-bin/ticket/getticket", "cgi-bin/gettoken",
                     "cgi-bin/get_jsapi_ticket", "cgi-bin/ticket/get"):
        note(f"{endpoint:28} {stats.get(endpoint, 0)} fetches")
    check(stats.get("cgi-bin/ticket/getticket") == 1,
          "21 wx.config signatures for the official account cost one ticket fetch")
    check(stats.get("cgi-bin/token") == 2, "one token fetch per WeChat app (shop, news)")

    section("Stopping")
    code = wxgate.stop()
    check(code == 0 and "stopped" in wxgate.text(), "wxgate drained and exited 0 on SIGTERM")
    logs = wxgate.text()
    check(all(secret not in logs for secret in ("demo-shop-secret", "demo-news-secret",
                                                "demo-sidebar-secret", "demo-crm-secret")),
          "no secret appears in wxgate's log")


def walk_redis(emu, redis, clis, replicas, apps, store_key):
    """Two replicas on one Redis: clis and replicas are A's and B's."""
    a, b = clis
    shop_id = apps["shop"]
    corp_id = apps["sidebar"]

    section("Two replicas, one Redis")
    for cli in clis:
        check(cli.run("health").get("status") == "SERVING", f"replica {cli.name} says SERVING")

    section("A user logs in on replica A and decrypts on replica B")
    login = emu.post("/_emu/login", {"app_id": shop_id, "unionid": "oUnion-Alice-0001"})
    session = a.run("code2session", "shop", login["code"])
    a.show(session, "openid", "unionid")
    openid = session["openid"]
    check(openid == login["openid"], "A answered Code2Session with the user's openid")
    user_info = {"openId": openid, "nickName": "Alice", "unionId": "oUnion-Alice-0001"}
    sealed = emu.post("/_emu/encrypt", {"app_id": shop_id, "user": openid, "data": user_info})
    decrypted = b.run("decrypt", "shop", f"--openid={openid}", f"--data={sealed['encrypted_data']}",
                      f"--iv={sealed['iv']}")
    check(json.loads(decrypted["json"])["nickName"] == "Alice",
          "B decrypted with the session_key A stored: no NO_SESSION")
    relogin = emu.post("/_emu/login", {"app_id": shop_id, "openid": openid})
    note("the user calls wx.login again (a new session_key), and this time lands on B")
    b.run("code2session", "shop", relogin["code"])
    resealed = emu.post("/_emu/encrypt", {"app_id": shop_id, "user": openid, "data": user_info})
    a.run("decrypt", "shop", f"--openid={openid}", f"--data={resealed['encrypted_data']}",
          f"--iv={resealed['iv']}")
    check(True, "A decrypted with the new session_key B stored")

    section("wx.config on both replicas: WeChat and WeCom see one fetch per credential")
    page = "https://cs.example.com/sidebar?chat=42"
    for cli in clis:
        config = cli.run("sign-jsapi", "sidebar", page)
        current = emu.get(f"/_emu/current?corp_id={corp_id}&agent_id=1000002")
        check(config["signature"] == jsapi_signature(current["jsapi_ticket"], config["nonce_str"],
                                                     config["timestamp"], config["url"]),
              f"{cli.name}'s wx.config verifies with the corp jsapi_ticket")
    note("20 wx.config signatures for news, 10 on each replica, all at once on cold caches:")
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        list(pool.map(lambda i: clis[i % 2].run("sign-jsapi", "news",
                                                "https://news.example.com/a/8", quiet=True),
                      range(20)))
    stats = emu.get("/_emu/stats")["calls"]
    for endpoint in ("cgi-bin/token", "cgi-bin/ticket/getticket", "cgi-bin/gettoken",
                     "cgi-bin/get_jsapi_ticket"):
        note(f"{endpoint:28} {stats.get(endpoint, 0)} fetches")
    check(stats.get("cgi-bin/gettoken") == 1 and stats.get("cgi-bin/get_jsapi_ticket") == 1,
          "the sidebar's token and ticket: one fetch each for both replicas")
    check(stats.get("cgi-bin/token") == 1 and stats.get("cgi-bin/ticket/getticket") == 1,
          "news's token and ticket: one fetch each, though both replicas missed at once")

    section("What Redis holds")
    keys = sorted(redis.cli("--scan").decode().split())
    note(f"$ redis-cli --scan   ({len(keys)} keys)")
    for key in keys:
        note(f"  {key}")
    held = b"".join(redis.cli("HGETALL" if redis.cli("TYPE", key).strip() == b"hash" else "GET",
                              key) for key in keys)
    news = emu.get(f"/_emu/current?app_id={apps['news']}")
    clear = [login["session_key"], relogin["session_key"], current["access_token"],
             current["jsapi_ticket"], news["access_token"], news["ticket"],
             "demo-shop-secret", "demo-news-secret", "demo-sidebar-secret", "demo-crm-secret"]
    clear = [v.encode() for v in clear] + [base64.b64decode(login["session_key"]),
                                           base64.b64decode(relogin["session_key"])]
    note("names carry app ids and secret fingerprints; values are sealed with AES-256-GCM")
    check(not any(v in held or v in " ".join(keys).encode() for v in clear),
          "no session_key, token, ticket or app secret in any name or value (HGETALL of each)")

    section("Stopping")
    for cli, replica in zip(clis, replicas):
        code = replica.stop()
        check(code == 0 and "stopped" in replica.text(), f"replica {cli.name} drained and exited 0")
    logs = "".join(replica.text() for replica in replicas)
    check(not any(secret in logs for secret in ("demo-shop-secret", "demo-news-secret",
                                                "demo-sidebar-secret", "demo-crm-secret",
                                                store_key)),
          "no app secret and not the store's encryption key in either replica's log")


def main_redis(binary, apps_file, apps):
    """The --redis demo: redis-server, the emulator and two replicas."""
    started, replicas = [], []
    with tempfile.TemporaryDirectory(prefix="wxgate-demo-") as state:
        try:
            redis = harness.Redis(state, die_with_parent=True)
            started.append(redis)
            emu = harness.Emulator(binary["emulator"], state, apps_file, die_with_parent=True)
            started.append(emu)
            store_key = base64.b64encode(os.urandom(32)).decode()  # fresh: nothing to leak
            config = os.path.join(state, "wxgate.textproto")
            harness.write_wxgate_config(config, emu, open(apps_file, encoding="utf-8").read(),
                                        extra=redis.store_section(store_key))
            version = redis.info("server")["redis_version"]
            print(f"{BOLD}wxgate demo, two replicas on Redis{RESET}: emulator of WeChat/WeCom at "
                  f"{emu.base_url}, redis-server {version} at {redis.address} (no persistence)")
            for name in "AB":
                replica = harness.start_wxgate([binary["wxgate"], f"--config={config}"],
                                               die_with_parent=True)
                started.append(replica)
                replicas.append(replica)
                print(f"replica {name} at {replica.target}: {replica.ready_line.split('; ', 1)[1]}")
            clis = [Cli(binary["cli"], r.target, name) for name, r in zip("AB", replicas)]
            walk_redis(emu, redis, clis, replicas, apps, store_key)
            print(f"\n{BOLD}demo complete{RESET}")
        except harness.HarnessError as error:
            print(f"\ndemo failed: {error}", file=sys.stderr)
            for name, replica in zip("AB", replicas):
                print(f"replica {name}'s log:\n" + replica.text(), file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130
        finally:
            for process in reversed(started):
                process.stop()
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--apps", required=True)
    parser.add_argument("--redis", action="store_true")
    args = parser.parse_args()
    binary = {
        "wxgate": os.path.join(args.build, "server", "wxgate"),
        "emulator": os.path.join(args.build, "tests", "emulator", "wxgate-emulator"),
        "cli": os.path.join(args.build, "client", "wxgate-cli"),
    }
    apps = load_apps(args.apps)
    if args.redis:
        return main_redis(binary, args.apps, apps)
    with tempfile.TemporaryDirectory(prefix="wxgate-demo-") as state:
        emu = harness.Emulator(binary["emulator"], state, args.apps)
        wxgate = None
        try:
            config = os.path.join(state, "wxgate.textproto")
            harness.write_wxgate_config(config, emu, open(args.apps, encoding="utf-8").read(),
                                        extra='server { http_address: "127.0.0.1:0" }\n')
            print(f"{BOLD}wxgate demo{RESET}: emulator of WeChat/WeCom at {emu.base_url} (TLS, own CA)")
            wxgate = harness.start_wxgate([binary["wxgate"], f"--config={config}"])
            print(f"wxgate at {wxgate.target}: {wxgate.ready_line.split('; ', 1)[1]}")
            walk(emu, Cli(binary["cli"], wxgate.target), apps, wxgate)
            print(f"\n{BOLD}demo complete{RESET}")
        except harness.HarnessError as error:
            print(f"\ndemo failed: {error}", file=sys.stderr)
            if wxgate is not None:
                print("wxgate's log:\n" + wxgate.text(), file=sys.stderr)
            return 1
        finally:
            if wxgate is not None:
                wxgate.stop()
            emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
