#!/usr/bin/python3
"""wxgate driven with no .proto file, as grpcurl drives it: npm's
grpc-js-reflection-client (reflection_client.js) lists, describes, calls
SignJsapiConfig with a JSON request and decodes a refused call's
google.rpc.ErrorInfo through reflection alone, once over
grpc.reflection.v1alpha (the client's default) and once over v1.

The pinned packages (package-lock.json) are installed with `npm ci` into
BUILD/tests/reflection/node, again only when the lockfile changed.

    /usr/bin/python3 tests/reflection/reflection_client_test.py --build=build [-v]
"""

import os
import shutil
import subprocess
import sys
import unittest

sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))
import harness  # noqa: E402

OA_ID = "wxr00000000000a001"
APPS = f"""
apps {{
  name: "news"
  official_account {{ app_id: "{OA_ID}" secret {{ value: "reflection-news-secret" }} }}
  allowed_page_hosts: "news.example.com"
}}
"""
ARGS = None


def install_packages(build):
    """node_modules for the pinned lockfile under the build tree; its path."""
    home = os.path.join(build, "tests", "reflection", "node")
    os.makedirs(home, exist_ok=True)
    lock = os.path.join(HERE, "package-lock.json")
    installed = os.path.join(home, "installed-package-lock.json")
    with open(lock, "rb") as wanted:
        wanted_bytes = wanted.read()
    if os.path.exists(installed):
        with open(installed, "rb") as have:
            if have.read() == wanted_bytes:
                return os.path.join(home, "node_modules")
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(os.path.join(HERE, name), os.path.join(home, name))
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline"],
                   cwd=home, check=True, stdout=subprocess.DEVNULL, timeout=300)
    shutil.copyfile(lock, installed)
    return os.path.join(home, "node_modules")


class ReflectionClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node_modules = install_packages(ARGS.build)
        started = []
        cls.addClassCleanup(lambda: [stack.close() for stack in started])
        cls.stack = harness.Stack(ARGS.wxgate, ARGS.emulator, APPS, started,
                                  prefix="wxgate-reflection-")

    def run_client(self, version):
        env = dict(os.environ, NODE_PATH=self.node_modules)
        done = subprocess.run(
            ["node", os.path.join(HERE, "reflection_client.js"), self.stack.target, version,
             "news", "https://news.example.com/article?id=1"],
            env=env, capture_output=True, text=True, timeout=120)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)

    def test_v1alpha(self):
        self.run_client("v1alpha")

    def test_v1(self):
        self.run_client("v1")


if __name__ == "__main__":
    ARGS, rest = harness.parse_test_args(sys.argv[1:], __doc__, SOURCE_DIR)
    unittest.main(argv=[sys.argv[0], *rest])
