#!/usr/bin/python3
"""deploy/Dockerfile, checked without building it (no image builder runs
here).

The build stage starts from Debian 12 and installs only packages
scripts/lib.sh installs for the suite, so what builds here builds there. The
runtime stage starts from Debian 12 slim, copies only what the build stage
put in /out, runs as a numeric non-root user, and installs runtime libraries
alone: every shared library `ldd` lists for the built wxgate and wxgate-cli
belongs to a Debian package (`dpkg -S`) that the stage installs or that one
of its packages depends on, directly or not (`dpkg-query`, the packages
installed here); every package it installs owns one of those libraries,
ca-certificates aside (and, in a sanitizer build, the allocator the sanitizer
replaces); no compiler, build tool or -dev package. It exposes
the gRPC, health and metrics ports of deploy/kubernetes/configmap.yaml, and
its HEALTHCHECK asks the health port.

    /usr/bin/python3 tests/deploy/image_test.py --wxgate=PATH --cli=PATH [-v]
"""

import argparse
import os
import re
import sys
import unittest

sys.dont_write_bytecode = True
import deploy_support as support  # noqa: E402

ARGS = None

# Installed in the runtime stage for something other than a library.
NOT_LIBRARIES = {"ca-certificates": "TLS to WeChat is verified against the system store"}
# Runtime libraries a sanitizer build (--sanitized) does not link, its runtime
# standing in for them.
SANITIZER_REPLACES = {"libtcmalloc-minimal4": "the allocator: the sanitizers bring their own"}


class Stage:
    def __init__(self, image, name):
        self.image = image
        self.name = name
        self.instructions = []  # (INSTRUCTION, arguments)


def stages():
    """The Dockerfile's stages, its instructions joined across line
    continuations, comments left out."""
    out, logical = [], ""
    for line in support.read("deploy", "Dockerfile").splitlines():
        if not logical and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.lstrip().startswith("#"):  # a comment inside a continued RUN
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        instruction, _, args = logical.strip().partition(" ")
        logical = ""
        instruction = instruction.upper()
        if instruction == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", args.strip(), re.I)
            out.append(Stage(m.group(1), m.group(2)))
        else:
            out[-1].instructions.append((instruction, args.strip()))
    return out


def apt_installed(stage):
    """The packages `apt-get install` installs in a stage."""
    packages = []
    for instruction, args in stage.instructions:
        if instruction != "RUN":
            continue
        for command in re.split(r"&&|;", args):
            words = command.split()
            if words[:2] == ["apt-get", "install"]:
                packages += [w for w in words[2:] if not w.startswith("-")]
    return packages


def libraries(binary):
    """The shared libraries `ldd` resolves for a binary, as paths; with
    --sanitized, without the sanitizer runtimes (libasan, libubsan, libtsan)
    that only an instrumented build links."""
    code, out = support.run(["ldd", binary])
    assert code == 0, out
    missing = re.findall(r"^\s*(\S+) => not found", out, re.M)
    assert not missing, f"{binary}: unresolved {missing}"
    found = set(re.findall(r"=> (/\S+)", out))
    if ARGS.sanitized:
        found = {lib for lib in found
                 if not re.match(r"lib(a|ub|t|l)san\.so", os.path.basename(lib))}
    return sorted(found)


def owners(paths):
    """{library path: the Debian package that installed it}. With /lib merged
    into /usr/lib, dpkg knows each file under one of its spellings."""
    spellings = {}
    for path in paths:
        for p in (path, os.path.realpath(path)):
            for spelling in (p, p[len("/usr"):] if p.startswith("/usr/") else "/usr" + p):
                spellings.setdefault(spelling, path)
    # Exit 1 when some spelling is unknown; the others are still listed.
    _, out = support.run(["dpkg", "-S"] + sorted(spellings))
    found = {}
    for line in out.splitlines():
        m = re.match(r"^([^:\s]+)(?::\w+)?: (/\S+)$", line)
        if m and m.group(2) in spellings:
            found.setdefault(spellings[m.group(2)], m.group(1))
    missing = set(paths) - set(found)
    assert not missing, f"no Debian package owns {sorted(missing)}"
    return found


def installed_packages():
    """{package: the installed packages it needs (Depends, Pre-Depends)},
    over every package installed here, each alternative and virtual package
    resolved to what is installed."""
    code, out = support.run(["dpkg-query", "-W",
                             "-f=${Package}\t${Status}\t${Depends}, ${Pre-Depends}\t${Provides}\n"])
    assert code == 0, out
    rows = [line.split("\t") for line in out.splitlines()]
    rows = [row for row in rows if row[1] == "install ok installed"]
    names = lambda field: {re.sub(r"\(.*?\)|:\w+", "", n).strip()
                           for n in re.split(r"[,|]", field)} - {""}
    providers = {}
    for package, _, _, provides in rows:
        providers.setdefault(package, set()).add(package)
        for virtual in names(provides):
            providers.setdefault(virtual, set()).add(package)
    return {package: set().union(*(providers.get(n, set()) for n in names(needs)))
            for package, _, needs, _ in rows}


def closure(packages):
    """`packages` and every package they need, directly or not."""
    needs = installed_packages()
    seen, todo = set(), list(packages)
    while todo:
        package = todo.pop()
        if package in seen:
            continue
        assert package in needs, f"{package} is not installed here"
        seen.add(package)
        todo += sorted(needs[package] - seen)
    return seen


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stages = stages()
        cls.build, cls.runtime = cls.stages[0], cls.stages[-1]
        cls.owners = owners(libraries(ARGS.wxgate) + libraries(ARGS.cli))

    def test_two_stages_on_debian_12(self):
        self.assertEqual(len(self.stages), 2)
        self.assertIn(self.build.image, ("debian:12", "debian:bookworm"))
        self.assertIsNotNone(self.build.name)
        self.assertIn(self.runtime.image, ("debian:12-slim", "debian:bookworm-slim"))

    def test_build_stage_installs_what_the_suite_builds_with(self):
        lib_sh = "\n".join(line.split("#", 1)[0]
                            for line in support.read("scripts", "lib.sh").splitlines())
        listed = set(re.search(r"WXGATE_PACKAGES=\((.*?)\)", lib_sh, re.S).group(1).split())
        self.assertIn("libgrpc++-dev", listed)
        installed = apt_installed(self.build)
        self.assertTrue(installed)
        self.assertEqual(set(installed) - listed, set())

    def test_runtime_stage_copies_only_the_build_output(self):
        copies = [args for instruction, args in self.runtime.instructions
                  if instruction in ("COPY", "ADD")]
        self.assertEqual(copies, [f"--from={self.build.name} /out/ /"])
        installs = [args for instruction, args in self.build.instructions
                    if instruction == "RUN" and "/out/" in args]
        self.assertTrue(installs)
        out_files = re.findall(r"(/out/\S+)", " ".join(
            args for instruction, args in self.build.instructions
            if instruction in ("RUN", "COPY")))
        for path in out_files:
            self.assertRegex(path, r"^/out/usr/(bin/wxgate(-cli)?|share/doc/wxgate/\S+)$")

    def test_runtime_user_is_numeric_and_not_root(self):
        users = [args for instruction, args in self.runtime.instructions if instruction == "USER"]
        self.assertEqual(len(users), 1)
        m = re.fullmatch(r"(\d+)(?::(\d+))?", users[0])
        self.assertIsNotNone(m, f"USER {users[0]}: numeric, so that runAsNonRoot can check it")
        self.assertNotEqual(int(m.group(1)), 0)
        if m.group(2) is not None:
            self.assertNotEqual(int(m.group(2)), 0)

    def test_runtime_packages_provide_every_library(self):
        listed = apt_installed(self.runtime)
        provided = closure(set(listed) - set(NOT_LIBRARIES))
        missing = {lib: pkg for lib, pkg in self.owners.items() if pkg not in provided}
        self.assertEqual(missing, {}, "libraries no runtime package brings")

    def test_runtime_packages_are_libraries_the_binaries_use(self):
        listed = apt_installed(self.runtime)
        needed = set(self.owners.values())
        for package in listed:
            self.assertFalse(re.search(r"-dev$|^(g\+\+|gcc|clang|cmake|ninja-build|make|"
                                       r"pkg-config|protobuf-compiler.*|build-essential)$",
                                       package), package)
            if package in NOT_LIBRARIES or (ARGS.sanitized and package in SANITIZER_REPLACES):
                continue
            self.assertIn(package, needed, f"{package} provides no library wxgate uses")

    def test_exposes_the_configured_ports(self):
        exposed = set()
        for instruction, args in self.runtime.instructions:
            if instruction == "EXPOSE":
                exposed.update(int(p.split("/")[0]) for p in args.split())
        config = support.read("deploy", "kubernetes", "configmap.yaml")
        for field in ("listen_address", "health_address", "metrics_address"):
            m = re.search(rf'\b{field}:\s*"[^"]*:(\d+)"', config)
            self.assertIsNotNone(m, field)
            self.assertIn(int(m.group(1)), exposed, field)
        # The health check asks the plaintext health-only port.
        (check,) = [args for instruction, args in self.runtime.instructions
                    if instruction == "HEALTHCHECK"]
        health = re.search(r'\bhealth_address:\s*"[^"]*:(\d+)"', config).group(1)
        self.assertIn(f'"--target=127.0.0.1:{health}"', check)
        self.assertTrue(check.endswith('"health"]'), check)


def main():
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wxgate", required=True, help="the built wxgate binary")
    parser.add_argument("--cli", required=True, help="the built wxgate-cli binary")
    parser.add_argument("--sanitized", action="store_true",
                        help="the binaries are a sanitizer build: leave its runtime out")
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
