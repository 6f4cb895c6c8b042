#!/usr/bin/python3
"""The Go client (client/go) through the stories of stories.py.

Builds BUILD/client/go/wxgate-go-client with client/go/build.sh (grpc-go from
Debian's packages, GOPATH mode, stubs generated into the build tree; Go's build
cache makes a rebuild cheap), then runs it.

    /usr/bin/python3 tests/polyglot/go_client_test.py --build=build
"""

import os
import sys

sys.dont_write_bytecode = True
import stories  # noqa: E402


def build(args):
    out = os.path.join(args.build, "client", "go")
    stories.run_step("client/go/build.sh",
                     [os.path.join(stories.SOURCE_DIR, "client", "go", "build.sh"), out])
    return [os.path.join(out, "wxgate-go-client")], {}


if __name__ == "__main__":
    sys.exit(stories.main(sys.argv, "go", build))
