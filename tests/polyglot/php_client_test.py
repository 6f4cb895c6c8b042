#!/usr/bin/python3
"""The PHP client (client/php) through stories.py, over HTTP/JSON.

PHP has no gRPC in Debian: client/php calls wxgate's HTTP/JSON gateway
(server.http_address) with Debian's php-cli and php-curl, nothing to build.
It runs Story 1 (mini-program login) and the error case, whose ErrorInfo it
reads from the JSON google.rpc.Status body of an HTTP 400.

    /usr/bin/python3 tests/polyglot/php_client_test.py --build=build
"""

import os
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
import stories  # noqa: E402


def command(_args):  # nothing to build
    if shutil.which("php") is None:
        raise stories.PrepareError("php is not on PATH (Debian: apt-get install php-cli php-curl)")
    if subprocess.run(["php", "-r", "exit(extension_loaded('curl') ? 0 : 1);"]).returncode != 0:
        raise stories.PrepareError("php has no curl extension (Debian: apt-get install php-curl)")
    return ["php", os.path.join(stories.SOURCE_DIR, "client", "php", "stories.php")], {}


if __name__ == "__main__":
    sys.exit(stories.main(sys.argv, "php", command, parts=("login", "error"), http=True))
