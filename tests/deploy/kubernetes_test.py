#!/usr/bin/python3
"""deploy/kubernetes/, parsed as YAML, for the fields that matter.

Every manifest is well-formed Kubernetes (apiVersion, kind, name). The
Deployment's pods run non-root as the image's user, read-only, without
privileges; they have CPU and memory requests and limits; their startup,
readiness and liveness probes are the kubelet's native gRPC probes on the
health port the config sets; they expose the metrics port the config sets,
with scrape annotations naming it. The Service and the PodDisruptionBudget
select those pods; the Service carries the gRPC and metrics ports; the
ServiceMonitor selects that Service, scrapes its metrics port at /metrics and
labels the job "wxgate".

(tests/integration/deploy_test.cc checks what wxgate itself must accept: the
ConfigMap's config passes --check_config, every secret it names is provided,
the store is the Redis Service, and stop timeouts outlast the drain.)

    /usr/bin/python3 tests/deploy/kubernetes_test.py [-v]
"""

import os
import re
import sys
import unittest

import yaml

sys.dont_write_bytecode = True
import deploy_support as support  # noqa: E402

DIR = support.source("deploy", "kubernetes")


def documents(name):
    with open(os.path.join(DIR, name), encoding="utf-8") as f:
        return [doc for doc in yaml.safe_load_all(f) if doc is not None]


def one(name, kind):
    found = [doc for doc in documents(name) if doc["kind"] == kind]
    assert len(found) == 1, f"{name} should hold one {kind}, holds {len(found)}"
    return found[0]


def config():
    return one("configmap.yaml", "ConfigMap")["data"]["wxgate.textproto"]


def config_port(field):
    """The port of a host:port field of the ConfigMap's wxgate config."""
    active = "\n".join(line.split("#", 1)[0] for line in config().splitlines())
    m = re.search(rf'\b{field}:\s*"[^"]*:(\d+)"', active)
    assert m, f"the ConfigMap's config sets no {field}"
    return int(m.group(1))


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


class KubernetesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.deployment = one("deployment.yaml", "Deployment")
        cls.pod = cls.deployment["spec"]["template"]
        cls.container = next(c for c in cls.pod["spec"]["containers"] if c["name"] == "wxgate")
        cls.ports = {p["name"]: p["containerPort"] for p in cls.container["ports"]}

    def test_every_manifest_is_kubernetes(self):
        for name in sorted(os.listdir(DIR)):
            if not name.endswith(".yaml"):
                continue
            for doc in documents(name):
                self.assertIn("apiVersion", doc, name)
                self.assertIn("kind", doc, name)
                if doc["kind"] != "Kustomization":
                    self.assertRegex(doc["metadata"]["name"], r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")

    def test_pods_run_unprivileged_as_the_image_user(self):
        pod_security = self.pod["spec"]["securityContext"]
        self.assertIs(pod_security["runAsNonRoot"], True)
        self.assertEqual(pod_security["seccompProfile"]["type"], "RuntimeDefault")
        image_user = re.search(r"^USER (\d+):(\d+)$", support.read("deploy", "Dockerfile"), re.M)
        self.assertEqual(pod_security["runAsUser"], int(image_user.group(1)))
        self.assertEqual(pod_security["runAsGroup"], int(image_user.group(2)))
        security = self.container["securityContext"]
        self.assertIs(security["allowPrivilegeEscalation"], False)
        self.assertIs(security["readOnlyRootFilesystem"], True)
        self.assertEqual(security["capabilities"]["drop"], ["ALL"])
        self.assertIs(self.pod["spec"]["automountServiceAccountToken"], False)

    def test_resources_are_requested_and_limited(self):
        for workload in ("deployment.yaml", "redis.yaml"):
            pod = one(workload, "Deployment")["spec"]["template"]["spec"]
            for container in pod["containers"]:
                resources = container["resources"]
                for bound in ("requests", "limits"):
                    self.assertEqual(set(resources[bound]), {"cpu", "memory"},
                                     f"{workload} {container['name']} {bound}")

    def test_native_grpc_probes_on_the_health_port(self):
        health = config_port("health_address")
        self.assertEqual(self.ports["probes"], health)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            spec = self.container[probe]
            # The kubelet's own gRPC health check: no exec of a client, no
            # TCP-only check that a draining server would still pass.
            self.assertEqual(set(spec) & {"grpc", "exec", "tcpSocket", "httpGet"}, {"grpc"}, probe)
            self.assertEqual(spec["grpc"]["port"], health, probe)
            self.assertNotIn("service", spec["grpc"], f"{probe}: wxgate answers only ''")

    def test_metrics_port_is_exposed_and_annotated(self):
        metrics = config_port("metrics_address")
        self.assertEqual(self.ports["metrics"], metrics)
        annotations = self.pod["metadata"]["annotations"]
        self.assertEqual(annotations["prometheus.io/scrape"], "true")
        self.assertEqual(annotations["prometheus.io/port"], str(metrics))
        self.assertEqual(annotations["prometheus.io/path"], "/metrics")

    def test_service_and_budget_select_the_pods(self):
        labels = self.pod["metadata"]["labels"]
        service = one("service.yaml", "Service")
        self.assertTrue(selects({"matchLabels": service["spec"]["selector"]}, labels))
        budget = one("pdb.yaml", "PodDisruptionBudget")
        self.assertTrue(selects(budget["spec"]["selector"], labels))
        self.assertTrue(selects(self.deployment["spec"]["selector"], labels))
        ports = {p["name"]: p for p in service["spec"]["ports"]}
        self.assertEqual(ports["grpc"]["port"], config_port("listen_address"))
        self.assertEqual(ports["grpc"]["targetPort"], "grpc")
        self.assertEqual(ports["metrics"]["targetPort"], "metrics")
        for port in ports.values():
            self.assertIn(port["targetPort"], self.ports)

    def test_service_monitor_scrapes_the_metrics_port_as_job_wxgate(self):
        monitor = one("servicemonitor.yaml", "ServiceMonitor")
        self.assertEqual(monitor["apiVersion"], "monitoring.coreos.com/v1")
        service = one("service.yaml", "Service")
        self.assertTrue(selects(monitor["spec"]["selector"], service["metadata"]["labels"]))
        redis = one("redis.yaml", "Service")
        self.assertFalse(selects(monitor["spec"]["selector"], redis["metadata"]["labels"]))
        (endpoint,) = monitor["spec"]["endpoints"]
        self.assertIn(endpoint["port"], [p["name"] for p in service["spec"]["ports"]])
        self.assertEqual(endpoint["port"], "metrics")
        self.assertEqual(endpoint["path"], "/metrics")
        # The job it labels the series with is the Service's name label.
        self.assertEqual(service["metadata"]["labels"][monitor["spec"]["jobLabel"]], "wxgate")


if __name__ == "__main__":
    unittest.main()
