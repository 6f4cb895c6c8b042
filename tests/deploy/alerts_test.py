#!/usr/bin/python3
"""deploy/prometheus/wxgate-alerts.yaml, as Prometheus will see it.

`promtool check rules` accepts the file; `promtool test rules` passes its unit
tests (wxgate-alerts.test.yaml), which hold for every alert a case where it
fires and one where it stays quiet, and both kinds are shown to matter: with
every expression made to never fire, or to always fire, the unit tests fail
for every alert. Every metric, label and label value the rules and their
test series name is one wxgate exposes, the scrape job they name is the one
deploy/kubernetes/servicemonitor.yaml gives, and every alert is explained in
the README's runbook.

    /usr/bin/python3 tests/deploy/alerts_test.py [-v]
"""

import copy
import os
import sys
import tempfile
import unittest

import yaml

sys.dont_write_bytecode = True
import deploy_support as support  # noqa: E402

RULES = support.source("deploy", "prometheus", "wxgate-alerts.yaml")
TESTS = support.source("deploy", "prometheus", "wxgate-alerts.test.yaml")


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def alert_rules():
    return [rule for group in load(RULES)["groups"] for rule in group["rules"] if "alert" in rule]


def promtool_test(rules_doc):
    """`promtool test rules` on the unit tests, against `rules_doc` written
    beside a copy of them. Returns (exit code, output)."""
    with tempfile.TemporaryDirectory(prefix="wxgate-alerts-") as tmp:
        tests = load(TESTS)
        rules_path = os.path.join(tmp, "rules.yaml")
        with open(rules_path, "w", encoding="utf-8") as f:
            yaml.safe_dump(rules_doc, f, sort_keys=False)
        tests["rule_files"] = ["rules.yaml"]
        tests_path = os.path.join(tmp, "tests.yaml")
        with open(tests_path, "w", encoding="utf-8") as f:
            yaml.safe_dump(tests, f, sort_keys=False)
        return support.run([support.tool("promtool"), "test", "rules", "tests.yaml"], cwd=tmp)


def with_every_expr(expr):
    doc = copy.deepcopy(load(RULES))
    for group in doc["groups"]:
        for rule in group["rules"]:
            rule["expr"] = expr
    return doc


class AlertRulesTest(unittest.TestCase):
    def test_promtool_check_rules_accepts_them(self):
        code, out = support.run([support.tool("promtool"), "check", "rules", RULES])
        self.assertEqual(code, 0, out)
        self.assertIn(f"SUCCESS: {len(alert_rules())} rules found", out)

    def test_promtool_unit_tests_pass(self):
        code, out = support.run([support.tool("promtool"), "test", "rules", TESTS],
                                cwd=os.path.dirname(TESTS))
        self.assertEqual(code, 0, out)
        self.assertIn("SUCCESS", out)

    def test_every_alert_has_a_firing_and_a_quiet_case(self):
        firing, quiet = set(), set()
        for case in load(TESTS)["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else quiet).add(check["alertname"])
        names = {rule["alert"] for rule in alert_rules()}
        self.assertEqual(firing, names, "alerts without a case where they fire, or unknown")
        self.assertEqual(quiet, names, "alerts without a case where they stay quiet, or unknown")

    def test_the_unit_tests_fail_for_each_alert_that_never_fires(self):
        code, out = promtool_test(with_every_expr("vector(0) > 1"))
        self.assertNotEqual(code, 0, out)
        for rule in alert_rules():
            self.assertRegex(out, rf"alertname: {rule['alert']},", "no firing case caught it")

    def test_the_unit_tests_fail_for_each_alert_that_always_fires(self):
        code, out = promtool_test(with_every_expr("vector(1)"))
        self.assertNotEqual(code, 0, out)
        for rule in alert_rules():
            self.assertRegex(out, rf"alertname: {rule['alert']},", "no quiet case caught it")

    def test_rules_and_test_series_name_only_what_wxgate_exposes(self):
        for rule in alert_rules():
            self.assertEqual(support.contract_errors(rule["expr"]), [], rule["alert"])
        for case in load(TESTS)["tests"]:
            for series in case["input_series"]:
                self.assertEqual(support.contract_errors(series["series"]), [], case["name"])

    def test_the_job_they_name_is_the_one_the_service_monitor_labels(self):
        with open(support.source("deploy", "kubernetes", "servicemonitor.yaml"),
                  encoding="utf-8") as f:
            monitor = yaml.safe_load(f)
        with open(support.source("deploy", "kubernetes", "service.yaml"), encoding="utf-8") as f:
            service = yaml.safe_load(f)
        job = service["metadata"]["labels"][monitor["spec"]["jobLabel"]]
        jobs = set()
        for rule in alert_rules():
            for selector in support.analyse(rule["expr"])[0]:
                jobs.update(v for label, _, v in selector.matchers if label == "job")
        self.assertEqual(jobs, {job})

    def test_every_alert_has_a_severity_and_its_runbook_entry(self):
        runbook = support.readme_section("Operating it")
        for rule in alert_rules():
            name = rule["alert"]
            self.assertIn(rule.get("labels", {}).get("severity"), ("critical", "warning"), name)
            annotations = rule.get("annotations", {})
            for key in ("summary", "description", "runbook"):
                self.assertIn(key, annotations, name)
            self.assertEqual(annotations["runbook"], f'README.md, "Operating it", {name}')
            self.assertRegex(runbook, rf"\*\*{name}\*\*",
                             f"the README's runbook does not explain {name}")


if __name__ == "__main__":
    unittest.main()
