"""What the deploy/ checks share: the source tree, the tools they run, the
metrics wxgate exposes (the README's "Metrics" section) and a reader of the
metric names and labels a PromQL expression uses.

The contract below is what dashboards and alerts may name. A panel or rule
that names anything else (a typo, a metric that was renamed, a label value
wxgate never sets) fails the test that reads it.
"""

import os
import re
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))

GRPC_CODES = (
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
    "UNAUTHENTICATED")


def _words(*words):
    return re.compile("|".join(re.escape(w) for w in words))


# name -> (type, {label: allowed values, or None for any value}).
METRICS = {
    "wxgate_build_info": ("gauge", {"version": None}),
    "wxgate_rpc_requests_total": ("counter", {"method": None, "code": _words(*GRPC_CODES)}),
    "wxgate_rpc_duration_seconds": ("histogram", {"method": None}),
    "wxgate_rpc_in_flight": ("gauge", {}),
    # result: ok, an errcode (-1 included), other, timeout, transport, cancelled.
    "wxgate_upstream_requests_total": (
        "counter", {"endpoint": None,
                    "result": re.compile(r"ok|other|timeout|transport|cancelled|-?\d+")}),
    "wxgate_upstream_duration_seconds": ("histogram", {"endpoint": None}),
    "wxgate_upstream_connections_opened_total": ("counter", {}),
    "wxgate_credential_fetches_total": (
        "counter", {"app": None, "credential": None, "result": _words("ok", "error")}),
    "wxgate_credential_expiry_timestamp_seconds": ("gauge", {"app": None, "credential": None}),
    "wxgate_cache_lookups_total": (
        "counter", {"credential": None, "result": _words("hit", "miss", "waited")}),
    "wxgate_sessions": ("gauge", {"app": None}),
    "wxgate_caller_requests_total": (
        "counter", {"caller": None,
                    "result": _words("admitted", "unknown", "not_allowed", "rate_limited")}),
    "wxgate_store_commands_total": ("counter", {"result": _words("ok", "error")}),
    "wxgate_store_up": ("gauge", {}),
    "wxgate_audit_lines_dropped_total": ("counter", {}),
    "wxgate_reloads_total": ("counter", {"result": _words("ok", "refused")}),
    "wxgate_config_last_reload_success_timestamp_seconds": ("gauge", {}),
    "process_cpu_seconds_total": ("counter", {}),
    "process_resident_memory_bytes": ("gauge", {}),
    "process_open_fds": ("gauge", {}),
    "process_start_time_seconds": ("gauge", {}),
}

# Labels Prometheus attaches to every scraped series.
TARGET_LABELS = frozenset(("job", "instance"))


def series_labels():
    """Every series name a query may select, with the labels it carries
    (target labels included) and their allowed values."""
    out = {"up": {}}  # written by Prometheus for each scrape
    for name, (kind, labels) in METRICS.items():
        if kind == "histogram":
            out[name + "_bucket"] = dict(labels, le=None)
            out[name + "_sum"] = dict(labels)
            out[name + "_count"] = dict(labels)
        else:
            out[name] = dict(labels)
    for labels in out.values():
        for label in TARGET_LABELS:
            labels.setdefault(label, None)
    return out


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<number>(?:\d+[smhdwy]+)+|\d*\.?\d+(?:[eE][+-]?\d+)?)
  | (?P<punct>=~|!~|!=|==|>=|<=|[-+*/%^<>=(){},@])
""", re.X)

_AGGREGATIONS = frozenset((
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile"))
_KEYWORDS = frozenset(("bool", "and", "or", "unless", "offset", "atan2", "inf", "nan"))
_GROUPING = frozenset(("by", "without", "on", "ignoring", "group_left", "group_right"))
_MATCH_OPS = frozenset(("=", "!=", "=~", "!~"))


def _tokens(expr):
    pos, out = 0, []
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"cannot read PromQL at {expr[pos:pos + 20]!r} in {expr!r}")
        pos = m.end()
        if m.lastgroup != "space":
            out.append((m.lastgroup, m.group()))
    return out


def _unquote(text):
    if text[0] == "`":
        return text[1:-1]
    return re.sub(r"\\(.)", r"\1", text[1:-1])


class Selector:
    """A vector selector: its metric name and (label, op, value) matchers."""

    def __init__(self, name, matchers):
        self.name = name
        self.matchers = matchers

    def __repr__(self):
        return f"{self.name}{{{', '.join(''.join(m) for m in self.matchers)}}}"


def analyse(expr):
    """The selectors of a PromQL expression and the labels it groups or
    matches by (by, without, on, ignoring, group_left, group_right)."""
    toks = _tokens(expr)
    selectors, grouping = [], set()
    i = 0

    def matchers(start):  # toks[start] is "{"
        found, j = [], start + 1
        while toks[j][1] != "}":
            if toks[j][0] == "ident" and toks[j + 1][1] in _MATCH_OPS:
                found.append((toks[j][1], toks[j + 1][1], _unquote(toks[j + 2][1])))
                j += 3
            else:
                j += 1
        return found, j + 1

    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if kind == "ident":
            word = text.lower()
            if word in _GROUPING and nxt == "(":
                j = i + 2
                while toks[j][1] != ")":
                    if toks[j][0] == "ident":
                        grouping.add(toks[j][1])
                    j += 1
                i = j + 1
            elif word in _GROUPING or word in _KEYWORDS or word in _AGGREGATIONS or nxt == "(":
                i += 1
            elif nxt == "{":
                found, i = matchers(i + 1)
                selectors.append(Selector(text, found))
            else:
                selectors.append(Selector(text, []))
                i += 1
        elif text == "{":
            found, i = matchers(i)
            selectors.append(Selector(None, found))
        else:
            i += 1
    return selectors, grouping


def contract_errors(expr):
    """What `expr` names that wxgate does not expose, as messages; [] if
    nothing. Checks metric names, matcher labels and their values, and the
    labels grouped or matched by."""
    known = series_labels()
    errors = []
    selectors, grouping = analyse(expr)
    if not selectors:
        errors.append(f"selects no metric: {expr}")
    available = set()
    for sel in selectors:
        if sel.name not in known:
            errors.append(f"{sel.name!r} is not a wxgate metric (in {expr})")
            continue
        labels = known[sel.name]
        available.update(labels)
        for label, op, value in sel.matchers:
            if label not in labels:
                errors.append(f"{sel.name} has no label {label!r} (in {expr})")
                continue
            allowed = labels[label]
            if allowed is None or value.startswith("$"):
                continue
            alternatives = value.split("|") if op in ("=~", "!~") else [value]
            for alt in alternatives:
                if alt and not allowed.fullmatch(alt):
                    errors.append(f"{sel.name}{{{label}}} is never {alt!r} (in {expr})")
    for label in grouping - available:
        errors.append(f"no selected metric has label {label!r} to group by (in {expr})")
    return errors


def tool(name):
    """The path of a tool the suite installs (scripts/lib.sh), or a failure
    that says which package to install."""
    path = shutil.which(name, path="/usr/bin:/bin:/usr/sbin:/sbin")
    if path is None:
        raise AssertionError(
            f"{name} not found: ./scripts/test installs it (scripts/lib.sh WXGATE_PACKAGES)")
    return path


def run(argv, **kwargs):
    """Runs a command, returning (exit code, stdout + stderr)."""
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=120, **kwargs)
    return done.returncode, done.stdout


def source(*parts):
    return os.path.join(SOURCE_DIR, *parts)


def read(*parts):
    with open(source(*parts), encoding="utf-8") as f:
        return f.read()


def readme_section(title):
    """The README's `## title` section, up to the next `## ` heading."""
    text = read("README.md")
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.M | re.S)
    if not m:
        raise AssertionError(f"README.md has no '## {title}' section")
    return m.group(1)
