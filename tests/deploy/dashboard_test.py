#!/usr/bin/python3
"""deploy/grafana/wxgate-dashboard.json: a dashboard that works on import.

Every panel query is PromQL promtool accepts (written, with Grafana's
variables filled in, as recording rules of a temporary rules file and checked
with `promtool check rules`) and names only metrics, labels and label values
wxgate exposes; it uses only variables the dashboard defines; panels have
unique ids and do not overlap; and the panels an operator looks at first are
there: calls and errors by method and code, latency p50 and p99, calls in
flight, upstream results by endpoint, time left on each credential, cache hit
ratio, credential fetches, sessions and callers refused.

    /usr/bin/python3 tests/deploy/dashboard_test.py [-v]
"""

import json
import os
import re
import sys
import tempfile
import unittest

import yaml

sys.dont_write_bytecode = True
import deploy_support as support  # noqa: E402

DASHBOARD = support.source("deploy", "grafana", "wxgate-dashboard.json")

# Grafana's own variables, as a value promtool can parse in their place.
BUILTINS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}
VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)")


def load():
    with open(DASHBOARD, encoding="utf-8") as f:
        return json.load(f)


def panels(dashboard):
    """Every panel, those inside rows included, rows left out."""
    out = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            out += panel.get("panels", [])
        else:
            out.append(panel)
    return out


def queries(dashboard):
    """(panel title, refId, expr) of every panel query."""
    return [(p["title"], t["refId"], t["expr"]) for p in panels(dashboard) for t in p["targets"]]


def variables(dashboard):
    return {v["name"] for v in dashboard["templating"]["list"]}


def filled(expr):
    """`expr` with Grafana's variables replaced: built-ins by a duration, the
    dashboard's own (used inside label matchers) by a regex."""
    return VARIABLE.sub(lambda m: BUILTINS.get(m.group(1) or m.group(2), ".+"), expr)


class DashboardTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dashboard = load()
        cls.queries = queries(cls.dashboard)

    def test_promtool_accepts_every_query(self):
        rules = [{"record": f"dashboard:panel_{i}", "expr": filled(expr)}
                 for i, (_, _, expr) in enumerate(self.queries)]
        self.assertGreater(len(rules), 10)
        with tempfile.TemporaryDirectory(prefix="wxgate-dashboard-") as tmp:
            path = os.path.join(tmp, "queries.yaml")
            with open(path, "w", encoding="utf-8") as f:
                yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
            code, out = support.run([support.tool("promtool"), "check", "rules", path])
        self.assertEqual(code, 0, out)
        self.assertIn(f"SUCCESS: {len(rules)} rules found", out)

    def test_promtool_check_would_catch_a_broken_query(self):
        # The check above parses for real: a query with a stray bracket fails.
        with tempfile.TemporaryDirectory(prefix="wxgate-dashboard-") as tmp:
            path = os.path.join(tmp, "queries.yaml")
            with open(path, "w", encoding="utf-8") as f:
                yaml.safe_dump({"groups": [{"name": "d", "rules": [
                    {"record": "dashboard:broken", "expr": filled(self.queries[0][2]) + ")"}]}]}, f)
            code, _ = support.run([support.tool("promtool"), "check", "rules", path])
        self.assertNotEqual(code, 0)

    def test_queries_name_only_what_wxgate_exposes(self):
        for title, ref, expr in self.queries:
            self.assertEqual(support.contract_errors(expr), [], f"{title} {ref}")
        for variable in self.dashboard["templating"]["list"]:
            if variable["type"] != "query":
                continue
            m = re.fullmatch(r"label_values\((.*), (\w+)\)", variable["definition"])
            self.assertIsNotNone(m, variable["name"])
            self.assertEqual(variable["query"]["query"], variable["definition"])
            self.assertEqual(support.contract_errors(m.group(1)), [], variable["name"])

    def test_queries_use_only_defined_variables(self):
        defined = variables(self.dashboard) | set(BUILTINS)
        for title, ref, expr in self.queries:
            for m in VARIABLE.finditer(expr):
                self.assertIn(m.group(1) or m.group(2), defined, f"{title} {ref}")
        for panel in panels(self.dashboard):
            self.assertEqual(panel["datasource"], {"type": "prometheus", "uid": "${datasource}"},
                             panel["title"])

    def test_panels_have_unique_ids_and_do_not_overlap(self):
        ids = [p["id"] for p in self.dashboard["panels"]]
        self.assertEqual(len(ids), len(set(ids)))
        cells = {}
        for panel in self.dashboard["panels"]:
            g = panel["gridPos"]
            self.assertLessEqual(g["x"] + g["w"], 24, panel["title"])
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    self.assertNotIn((x, y), cells,
                                     f"{panel['title']} overlaps {cells.get((x, y))}")
                    cells[(x, y)] = panel["title"]
        for panel in panels(self.dashboard):
            refs = [t["refId"] for t in panel["targets"]]
            self.assertEqual(len(refs), len(set(refs)), panel["title"])
            self.assertTrue(panel.get("description"), panel["title"])

    def test_the_panels_an_operator_looks_at_first(self):
        def panel_with(pattern):
            found = [title for title, _, expr in self.queries if re.search(pattern, expr)]
            self.assertTrue(found, f"no panel query matches {pattern}")

        panel_with(r"sum by \(method\) \(rate\(wxgate_rpc_requests_total\{")
        panel_with(r"sum by \(method, code\) \(rate\(wxgate_rpc_requests_total\{[^}]*code!=\"OK\"")
        for quantile in ("0.5", "0.99"):
            panel_with(rf"histogram_quantile\({quantile}, sum by \(le, method\) "
                       r"\(rate\(wxgate_rpc_duration_seconds_bucket\{")
        panel_with(r"wxgate_rpc_in_flight\{")
        panel_with(r"sum by \(endpoint, result\) \(rate\(wxgate_upstream_requests_total\{")
        panel_with(r"wxgate_credential_expiry_timestamp_seconds\{[^}]*\}\) - time\(\)")
        panel_with(r"wxgate_cache_lookups_total\{[^}]*result=\"hit\"[^}]*\}.*/.*"
                   r"wxgate_cache_lookups_total\{")
        panel_with(r"by \([^)]*result[^)]*\) \(increase\(wxgate_credential_fetches_total\{")
        panel_with(r"wxgate_sessions\{")
        panel_with(r"wxgate_caller_requests_total\{[^}]*result!=\"admitted\"")


if __name__ == "__main__":
    unittest.main()
