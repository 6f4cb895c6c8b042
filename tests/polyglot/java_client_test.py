#!/usr/bin/python3
"""The Java client (client/java) through the stories of stories.py.

Builds it with client/java/build.sh into BUILD/client/java (protoc and Debian's
grpc-java plugin, then javac against /usr/share/java; again only what changed),
then runs `java -cp ... dev.wxgate.example.StoriesMain`. Missing Debian
packages are installed through scripts/lib.sh's ensure_packages; on a machine
that cannot install them (not root, no sudo) the test is skipped (status 77)
with the list.

    /usr/bin/python3 tests/polyglot/java_client_test.py --build=build
"""

import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
import stories  # noqa: E402

CLIENT = os.path.join(stories.SOURCE_DIR, "client", "java")
BUILD_SH = os.path.join(CLIENT, "build.sh")
LIB_SH = os.path.join(stories.SOURCE_DIR, "scripts", "lib.sh")
SKIPPED = 77  # ctest's SKIP_RETURN_CODE for this test


class Skip(Exception):
    """The Java packages are missing and this machine cannot install them."""


def can_install():
    if os.geteuid() == 0:
        return True
    return (shutil.which("sudo") is not None
            and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0)


def build(args):
    if subprocess.run([BUILD_SH, "--check"], capture_output=True, text=True).returncode != 0:
        packages = subprocess.run([BUILD_SH, "--packages"], capture_output=True, text=True,
                                  check=True).stdout.split()
        if not can_install():
            raise Skip(" ".join(packages))
        stories.run_step("apt-get install of the Java packages",
                         ["bash", "-c", 'source "$0" && ensure_packages "$@"', LIB_SH]
                         + packages)
    out = os.path.join(args.build, "client", "java")
    stories.run_step("codegen + javac (only what changed)", [BUILD_SH, out])
    with open(os.path.join(out, "classpath")) as f:
        classpath = f.read().strip()
    # A short run: C1 alone and the serial collector start the JVM faster.
    return ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", classpath,
            "dev.wxgate.example.StoriesMain"], {}


if __name__ == "__main__":
    try:
        sys.exit(stories.main(sys.argv, "java", build))
    except Skip as missing:
        print(f"java_client_test SKIPPED: Debian's Java packages are missing and this machine "
              f"cannot install them (not root, no sudo): apt-get install {missing}",
              file=sys.stderr)
        sys.exit(SKIPPED)
