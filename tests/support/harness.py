"""Child processes and wxgate-emulator for the Python harnesses.

scripts/demo.py, scripts/soak.py, scripts/bench.py and the polyglot test
(tests/polyglot) all start wxgate-emulator and wxgate (and, to share a store,
redis-server) on free loopback ports, wait for their ready lines, talk to the
emulator's control API and stop everything with SIGTERM. This module is that
part, once; standard library only.
"""

import hashlib
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


class HarnessError(Exception):
    """A child did not start, did not print what was awaited, or the emulator
    refused a control call."""


def _die_with_parent():
    """In the child: SIGKILL when the thread that started it dies (ctest
    timeout, SIGKILL of the harness), so nothing outlives the harness even when
    no cleanup could run. Linux."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Process:
    """A child whose stderr lines (and stdout lines, unless read_stdout=False
    leaves stdout to the caller) are collected by reader threads.

    keep_lines bounds the stderr lines kept to the first and the last
    keep_lines (None keeps all); log_path also writes every stderr line to a
    file. Subclasses see each stderr line in on_line, called by the reader
    thread with self.cond held. die_with_parent ties the child's life to the
    starting thread's (see _die_with_parent). prefix goes before argv, for
    commands that exec it (setsid, taskset): pid is then still argv's.
    """

    def __init__(self, argv, prefix=(), env=None, keep_lines=None, log_path=None,
                 read_stdout=True, die_with_parent=False):
        self.argv = argv
        self.name = os.path.basename(argv[0])
        self.keep = keep_lines
        self.killed = False
        self.log = open(log_path, "w", encoding="utf-8") if log_path else None
        self.cond = threading.Condition()
        self.lines = {"stdout": [], "stderr": []}
        self.ended = {"stdout": not read_stdout, "stderr": False}
        self.proc = subprocess.Popen([*prefix, *argv], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                     text=True,
                                     preexec_fn=_die_with_parent if die_with_parent else None)
        self.readers = [threading.Thread(target=self._read, args=(stream,), daemon=True)
                        for stream in ("stdout", "stderr") if not self.ended[stream]]
        for reader in self.readers:
            reader.start()

    def join(self, timeout=None):
        """Waits for the reader threads: then every line the child wrote is in."""
        for reader in self.readers:
            reader.join(timeout)

    def on_line(self, line):
        """A stderr line as it arrives, with self.cond held."""

    def _read(self, stream):
        lines = self.lines[stream]
        for line in getattr(self.proc, stream):
            line = line.rstrip("\n")
            if stream == "stderr" and self.log:
                self.log.write(line + "\n")
            with self.cond:
                if stream == "stderr":
                    self.on_line(line)
                lines.append(line)
                if self.keep and len(lines) > 2 * self.keep:
                    del lines[self.keep:len(lines) - self.keep]
                self.cond.notify_all()
        if stream == "stderr" and self.log:
            self.log.close()
        with self.cond:
            self.ended[stream] = True
            self.cond.notify_all()

    def wait_for_line(self, match, stream="stderr", timeout=60, what=None):
        """The first line of stream containing match (a string) or for which
        match (a callable) is true; HarnessError if the stream ends first or
        timeout seconds pass."""
        test = match if callable(match) else (lambda line: match in line)
        what = what or f"'{match}'"
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[stream]:
                    if test(line):
                        return line
                if self.ended[stream]:
                    raise HarnessError(f"{self.name} exited (status {self.proc.poll()}) "
                                       f"before printing {what}:\n{self.tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HarnessError(f"{self.name} did not print {what} in {timeout}s:\n"
                                       f"{self.tail()}")
                self.cond.wait(left)

    def text(self):
        """The stderr lines kept, as one text."""
        with self.cond:
            return "\n".join(self.lines["stderr"])

    def tail(self, n=40):
        with self.cond:
            return "\n".join(self.lines["stderr"][-n:])

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.poll() is None

    def cpu_seconds(self):
        """User + system CPU time so far, from /proc."""
        with open(f"/proc/{self.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def rss_kib(self):
        """VmRSS in KiB, 0 once the process is gone."""
        try:
            with open(f"/proc/{self.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def stop(self, timeout=30):
        """SIGTERM, then SIGKILL after timeout s. The exit status, or None when
        it had to be killed; a second call answers the same."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.killed = True
        return None if self.killed else self.proc.returncode


class Emulator:
    """wxgate-emulator on a free loopback port and its control API (/_emu/...),
    over one kept-alive TLS connection per thread."""

    def __init__(self, binary, state_dir, apps_file, extra_args=(), **process_options):
        self.process = Process([binary, "--listen=127.0.0.1:0", f"--state-dir={state_dir}",
                                f"--config={apps_file}", "--quiet", *extra_args],
                               **process_options)
        try:
            info = json.loads(self.process.wait_for_line(lambda line: line.startswith("{"),
                                                         "stdout", what="its JSON ready line"))
        except HarnessError:
            self.process.stop()
            raise
        self.port = info["port"]
        self.base_url = info["base_url"]
        self.ca_file = info["ca_file"]
        self.tls = ssl.create_default_context(cafile=self.ca_file)
        self.local = threading.local()

    def call(self, method, path, body=None):
        """The JSON answer of a control call; HarnessError unless HTTP 200. A
        kept-alive connection the emulator closed meanwhile is reopened once."""
        data = json.dumps(body) if body is not None else None
        for attempt in range(2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.tls,
                                                   timeout=30)
                self.local.conn = conn
            try:
                conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                text = response.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                self.local.conn = None
                if attempt == 1:
                    raise
                continue
            if response.status != 200:
                raise HarnessError(f"emulator {method} {path}: HTTP {response.status} "
                                   f"{text[:300].decode(errors='replace')}")
            return json.loads(text)

    def post(self, path, body):
        return self.call("POST", path, body)

    def get(self, path):
        return self.call("GET", path)

    def stop(self):
        self.process.stop()


class Redis:
    """Debian's redis-server on a free loopback port, with no persistence, as
    tests/support/redis_server.cc starts it; redis-cli and INFO against it."""

    def __init__(self, state_dir, **process_options):
        for attempt in range(5):
            with socket.socket() as probe:  # a port free now; another process may take it first
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
            self.process = Process(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                                    "--save", "", "--appendonly", "no", "--dir", state_dir,
                                    "--daemonize", "no"], **process_options)
            try:
                self.process.wait_for_line("Ready to accept connections", "stdout")
                break
            except HarnessError:
                self.process.stop()
                out = self.process.lines["stdout"]
                taken = any("Address already in use" in line for line in out)
                if not taken or attempt == 4:
                    raise HarnessError("redis-server did not start:\n" +
                                       "\n".join(out[-20:])) from None
        self.address = f"127.0.0.1:{self.port}"
        self.conn = None

    def store_section(self, encryption_key):
        """wxgate's config section that shares its state through this Redis."""
        return (f'store {{ redis {{ address: "{self.address}" }} '
                f'encryption_key {{ value: "{encryption_key}" }} }}\n')

    def cli(self, *args):
        """redis-cli --raw's output, as bytes (values may be binary)."""
        done = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), "--raw",
                               *args], capture_output=True, timeout=30)
        if done.returncode != 0:
            raise HarnessError(f"redis-cli {' '.join(args)}: "
                               f"{done.stderr.decode(errors='replace')}")
        return done.stdout

    def info(self, *sections):
        """INFO's fields as a dict, over one kept-open connection: each call
        adds exactly one command and one read to Redis's own counters."""
        if self.conn is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            self.conn = self.sock.makefile("rwb")
        self.conn.write(f"INFO {' '.join(sections)}\r\n".encode())
        self.conn.flush()
        header = self.conn.readline()
        if not header.startswith(b"$"):
            raise HarnessError(f"redis INFO answered {header!r}")
        text = self.conn.read(int(header[1:]) + 2).decode()
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    def stop(self):
        if self.conn is not None:
            self.conn.close()
            self.sock.close()
            self.conn = None
        return self.process.stop()


def jsapi_signature(ticket, nonce, timestamp, url):
    """wx.config's signature as WeChat's JS-SDK documents it: the tests' oracle,
    written apart from wxgate's signer."""
    text = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(text.encode()).hexdigest()


def write_wxgate_config(path, emu, apps_text, upstream="", extra=""):
    """wxgate's config: a free port, the emulator as both upstreams (trusting
    its CA), upstream's extra fields, extra top-level text, then the apps."""
    with open(path, "w", encoding="utf-8") as out:
        out.write('listen_address: "127.0.0.1:0"\n')
        out.write(f'upstream {{ wechat_base_url: "{emu.base_url}" wecom_base_url: "{emu.base_url}"'
                  f' ca_file: "{emu.ca_file}" {upstream}}}\n')
        out.write(extra)
        out.write(apps_text)


def start_wxgate(argv, process_class=Process, **process_options):
    """wxgate, once it listens: the Process, with .target (HOST:PORT) and
    .ready_line (its start line) set."""
    wxgate = process_class(argv, **process_options)
    try:
        wxgate.ready_line = wxgate.wait_for_line("listening on ", what="'listening on HOST:PORT'")
    except HarnessError:
        wxgate.stop()
        raise
    wxgate.target = wxgate.ready_line.split("listening on ", 1)[1].split(";", 1)[0].strip()
    return wxgate


class Stack:
    """wxgate-emulator with apps_text's apps registered, then wxgate over it
    (write_wxgate_config with wxgate_apps, default the same apps, upstream and
    extra), in a temporary directory; close() stops them in reverse order,
    after closing .client if the caller set one. Appends itself to started
    first, so a failure half-way still stops what runs."""

    def __init__(self, wxgate, emulator, apps_text, started, prefix="wxgate-",
                 wxgate_apps=None, upstream="", extra=""):
        started.append(self)
        self.tmp = tempfile.TemporaryDirectory(prefix=prefix)
        self.emulator = self.wxgate = self.client = None
        apps_file = os.path.join(self.tmp.name, "apps.textproto")
        with open(apps_file, "w", encoding="utf-8") as out:
            out.write(apps_text)
        self.emulator = Emulator(emulator, os.path.join(self.tmp.name, "emu"), apps_file,
                                 die_with_parent=True)
        self.config = os.path.join(self.tmp.name, "wxgate.textproto")
        write_wxgate_config(self.config, self.emulator,
                            apps_text if wxgate_apps is None else wxgate_apps,
                            upstream=upstream, extra=extra)
        self.wxgate = start_wxgate([wxgate, f"--config={self.config}"], die_with_parent=True)
        self.target = self.wxgate.target

    def close(self):
        """Stops everything (idempotent); returns wxgate's exit status."""
        status = None
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.wxgate is not None:
            status = self.wxgate.stop()
        if self.emulator is not None:
            self.emulator.stop()
        self.tmp.cleanup()
        return status


def parse_test_args(argv, description, source_dir):
    """The command line the Python tests run by ctest share: --build, and the
    binaries, generated stubs and client directory, defaulting into the build
    (and $WXGATE_PY_GEN). Returns (args, what is left for unittest)."""
    import argparse
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--build", default=os.path.join(source_dir, "build"),
                        help="the CMake build directory")
    parser.add_argument("--wxgate", help="default: BUILD/server/wxgate")
    parser.add_argument("--emulator", help="default: BUILD/tests/emulator/wxgate-emulator")
    parser.add_argument("--gen", help="generated modules; default: $WXGATE_PY_GEN or BUILD/python")
    parser.add_argument("--client", default=os.path.join(source_dir, "client", "python"),
                        help="the directory of wxgate_client.py")
    args, rest = parser.parse_known_args(argv)
    args.wxgate = args.wxgate or os.path.join(args.build, "server", "wxgate")
    args.emulator = args.emulator or os.path.join(args.build, "tests", "emulator",
                                                  "wxgate-emulator")
    args.gen = args.gen or os.environ.get("WXGATE_PY_GEN") or os.path.join(args.build, "python")
    return args, rest

