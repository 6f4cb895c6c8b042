#!/usr/bin/python3
"""The Node.js client (client/node) through the stories of stories.py.

Installs client/node's locked dependencies with `npm ci` into BUILD/client/node
(never into the source tree; again only when the lockfile changed), then runs
`node client/node/stories.js` with NODE_PATH pointing there.

    /usr/bin/python3 tests/polyglot/node_client_test.py --build=build
"""

import filecmp
import os
import shutil
import sys

sys.dont_write_bytecode = True
import stories  # noqa: E402

CLIENT = os.path.join(stories.SOURCE_DIR, "client", "node")


def install(args):
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise stories.PrepareError(f"{tool} is not on PATH (Debian: apt-get install nodejs npm)")
    prefix = os.path.join(args.build, "client", "node")
    os.makedirs(prefix, exist_ok=True)
    installed = os.path.join(prefix, "installed-package-lock.json")
    lock = os.path.join(CLIENT, "package-lock.json")
    if not (os.path.exists(installed) and filecmp.cmp(lock, installed, shallow=False)):
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(os.path.join(CLIENT, name), os.path.join(prefix, name))
        # --ignore-scripts: no dependency needs its install script, and none runs.
        stories.run_step("npm ci", ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund",
                                    "--prefer-offline", "--loglevel=error"], cwd=prefix)
        shutil.copyfile(lock, installed)
    return (["node", os.path.join(CLIENT, "stories.js")],
            {"NODE_PATH": os.path.join(prefix, "node_modules")})


if __name__ == "__main__":
    sys.exit(stories.main(sys.argv, "node", install))
