#!/usr/bin/python3
"""deploy/wxgate.service, as systemd will see it.

`systemd-analyze verify` reads a copy of the unit whose paths name files that
exist here (the built wxgate for /usr/bin/wxgate, a secrets file and
credential files in a temporary /etc/wxgate), and must print nothing: an
unknown directive, a value it cannot parse or a missing executable is a
warning there, not an error, so any output fails. `systemd-analyze security
--offline` rates the unit's hardening from the file alone: it must stay at
or under the rating it has, and the only exposures it reports are the ones
the unit explains (what wxgate needs: the network, AF_UNIX, ...).

Neither needs systemd running as PID 1.

    /usr/bin/python3 tests/deploy/systemd_test.py --wxgate=build/server/wxgate [-v]
"""

import argparse
import os
import re
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
import deploy_support as support  # noqa: E402

UNIT = support.source("deploy", "wxgate.service")

# `systemd-analyze security` rates a unit from 0 (nothing exposed) to 10.
# The unit scores this now; loosening any hardening directive raises it.
EXPOSURE_CEILING = 1.1

# What the rating still counts against the unit, each needed by wxgate (the
# unit's comments say why): its network (outbound HTTPS to WeChat, whose
# addresses are not fixed, and its listeners), AF_UNIX for name resolution,
# the host's file system (read-only), and the RTC ProtectClock= leaves
# readable.
ACCEPTED_EXPOSURES = {
    "RootDirectory=/RootImage=",
    "RestrictAddressFamilies=~AF_UNIX",
    "RestrictAddressFamilies=~AF_(INET|INET6)",
    "PrivateNetwork=",
    "IPAddressDeny=",
    "DeviceAllow=",
}

ARGS = None


def unit_text():
    with open(UNIT, encoding="utf-8") as f:
        return f.read()


def directives(text):
    """{key: [values]} of the unit's active lines."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def local_copy(tmp):
    """The unit with its paths pointing at files that exist: the built
    wxgate, and a secrets file and credential files under tmp. Returns the
    copy's path, named wxgate.service like the original."""
    text = unit_text()
    etc = os.path.join(tmp, "etc", "wxgate")
    os.makedirs(os.path.join(etc, "credentials"))
    for value in directives(text).get("EnvironmentFile", []):
        path = value.lstrip("-")
        assert path.startswith("/etc/wxgate/"), value
        with open(os.path.join(etc, path[len("/etc/wxgate/"):]), "w", encoding="utf-8") as f:
            f.write("WXGATE_EXAMPLE_SECRET=x\n")
    for value in directives(text).get("LoadCredential", []):
        _, path = value.split(":", 1)
        assert path.startswith("/etc/wxgate/credentials/"), value
        with open(os.path.join(etc, path[len("/etc/wxgate/"):]), "w", encoding="utf-8") as f:
            f.write("x\n")
    text = text.replace("/etc/wxgate/", etc + "/")
    text = text.replace("/usr/bin/wxgate ", os.path.abspath(ARGS.wxgate) + " ")
    unit = os.path.join(tmp, "wxgate.service")
    with open(unit, "w", encoding="utf-8") as f:
        f.write(text)
    return unit


class SystemdUnitTest(unittest.TestCase):
    def test_verify_prints_nothing(self):
        with tempfile.TemporaryDirectory(prefix="wxgate-unit-") as tmp:
            unit = local_copy(tmp)
            with open(unit, encoding="utf-8") as f:
                self.assertIn(os.path.abspath(ARGS.wxgate), f.read())
            code, out = support.run([support.tool("systemd-analyze"), "verify", unit])
        self.assertEqual(code, 0, out)
        self.assertEqual(out, "", "systemd-analyze verify warned")

    def test_verify_catches_what_it_should(self):
        # The check above means something only if verify speaks up on this
        # machine: a misspelt directive and a missing binary.
        with tempfile.TemporaryDirectory(prefix="wxgate-unit-") as tmp:
            unit = local_copy(tmp)
            with open(unit, encoding="utf-8") as f:
                text = f.read()
            with open(unit, "w", encoding="utf-8") as f:
                f.write(text.replace("ProtectSystem=strict", "ProtectSystem=stricter")
                        .replace("NoNewPrivileges=", "NoNewPrivilege="))
            _, out = support.run([support.tool("systemd-analyze"), "verify", unit])
            self.assertIn("stricter", out)
            self.assertIn("NoNewPrivilege", out)
            with open(unit, "w", encoding="utf-8") as f:
                f.write(text.replace(os.path.abspath(ARGS.wxgate), "/nonexistent/wxgate"))
            _, out = support.run([support.tool("systemd-analyze"), "verify", unit])
            self.assertIn("/nonexistent/wxgate", out)

    def test_security_rating_and_exposures(self):
        with tempfile.TemporaryDirectory(prefix="wxgate-unit-") as tmp:
            code, out = support.run([support.tool("systemd-analyze"), "security",
                                     "--offline=yes", "--no-pager", local_copy(tmp)])
        self.assertEqual(code, 0, out)
        m = re.search(r"Overall exposure level for wxgate\.service: (\d+\.\d+) (\w+)", out)
        self.assertIsNotNone(m, out)
        print(f"systemd-analyze security: {m.group(1)} {m.group(2)}", file=sys.stderr)
        self.assertLessEqual(float(m.group(1)), EXPOSURE_CEILING, out)
        exposed = set(re.findall(r"^✗ (\S+)", out, re.M))
        self.assertEqual(exposed - ACCEPTED_EXPOSURES, set(), out)

    def test_hardening_directives(self):
        d = directives(unit_text())
        for key, value in {
                "DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
                "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
                "CapabilityBoundingSet": "", "UMask": "0077"}.items():
            self.assertEqual(d.get(key), [value], key)
        # Secrets: read by systemd before it drops privileges, never in the
        # unit itself.
        self.assertTrue(d.get("LoadCredential"))
        self.assertNotIn("Environment", d)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wxgate", required=True, help="the built wxgate binary")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
