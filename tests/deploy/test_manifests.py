"""deploy/ agrees with the product: the Kubernetes manifests name real settings, routes and
commands, and the Helm values give Dagster the instance settings the embedded set-up uses."""

from __future__ import annotations

import tomllib
from typing import Any

import yaml

from ingest_api.app import create_app
from pipelines.dagster_home import INSTANCE_SETTINGS
from storage.settings import EngageSettings
from tests.support.deploy_files import (
    HELM_VALUES,
    KUBERNETES,
    PROJECT_ROOT,
    container,
    kubernetes_objects,
    pod_spec,
    yaml_file,
)

OBJECT_STORE_VARIABLES = {
    "AWS_REGION",
    "AWS_CONDITIONAL_PUT",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}
"""Read by delta-rs and polars themselves (object_store's names)."""

OBJECTS = kubernetes_objects()
CONFIG = OBJECTS[("ConfigMap", "engage-config")]
SECRET = yaml_file(KUBERNETES / "secret.example.yaml")
INTAKE = OBJECTS[("Deployment", "engage-intake")]
MIGRATE = OBJECTS[("Job", "engage-migrate")]
VALUES = yaml_file(HELM_VALUES)
[CODE_LOCATION] = VALUES["dagster-user-deployments"]["deployments"]


def test_every_variable_the_deployment_sets_is_one_the_product_reads() -> None:
    settings = {f"ENGAGE_{name.upper()}" for name in EngageSettings.model_fields}
    names = set(CONFIG["data"]) | set(SECRET["stringData"])
    unknown = {name for name in names if name not in settings | OBJECT_STORE_VARIABLES}
    assert unknown == set()
    # What must be secret is in the Secret, not in the ConfigMap.
    assert {"ENGAGE_DATABASE_URL", "ENGAGE_GDPR_HASH_KEY", "AWS_SECRET_ACCESS_KEY"} <= set(
        SECRET["stringData"]
    )
    assert not {name for name in CONFIG["data"] if "PASSWORD" in name or "SECRET" in name}


def test_pods_run_the_product_image_with_the_shared_configuration() -> None:
    image = yaml_file(KUBERNETES / "kustomization.yaml")["images"][0]
    for workload in (INTAKE, MIGRATE):
        spec = container(workload)
        assert spec["image"] == image["name"]
        assert spec["envFrom"] == [
            {"configMapRef": {"name": CONFIG["metadata"]["name"]}},
            {"secretRef": {"name": SECRET["metadata"]["name"]}},
        ]
        assert pod_spec(workload)["securityContext"]["runAsNonRoot"] is True
    # The code location and the run pods: the same image, settings and secrets.
    assert CODE_LOCATION["image"]["repository"] == image["newName"]
    assert CODE_LOCATION["image"]["tag"] == image["newTag"]
    launcher = VALUES["runLauncher"]["config"]["k8sRunLauncher"]
    for holder in (CODE_LOCATION, launcher):
        assert holder["envConfigMaps"] == [{"name": "engage-config"}]
        assert holder["envSecrets"] == [{"name": "engage-secrets"}]


def test_the_intake_probes_and_service_point_at_what_serve_answers() -> None:
    spec = container(INTAKE)
    command = spec["command"]
    assert command[:2] == ["engage-orders", "serve"]
    port = int(command[command.index("--port") + 1])
    [declared] = spec["ports"]
    assert declared["containerPort"] == port
    routes = set(create_app().openapi()["paths"])
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        check = spec[probe]["httpGet"]
        assert check["path"] in routes
        assert check["port"] == declared["name"]
    assert spec["readinessProbe"]["httpGet"]["path"] == "/readyz"
    service = OBJECTS[("Service", "engage-intake")]
    labels = INTAKE["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] == declared["name"]
    assert INTAKE["spec"]["selector"]["matchLabels"].items() <= labels.items()
    budget = OBJECTS[("PodDisruptionBudget", "engage-intake")]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    scaler = OBJECTS[("HorizontalPodAutoscaler", "engage-intake")]
    assert scaler["spec"]["scaleTargetRef"]["name"] == INTAKE["metadata"]["name"]
    assert scaler["spec"]["minReplicas"] >= 2
    assert MIGRATE["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "engage-orders",
        "migrate",
    ]


def test_the_code_location_loads_the_definitions_the_project_declares() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    module = project["tool"]["dagster"]["module_name"]
    assert CODE_LOCATION["dagsterApiGrpcArgs"] == ["--module-name", module]
    assert VALUES["runLauncher"]["type"] == "K8sRunLauncher"
    assert "dagster-k8s" in " ".join(project["project"]["optional-dependencies"]["kubernetes"])


def test_the_helm_values_give_dagster_the_embedded_instance_settings() -> None:
    """The chart writes Dagster's instance configuration from these values; the embedded
    set-up writes dagster.yaml itself (pipelines/dagster_home.py). Both must agree."""
    embedded: dict[str, Any] = yaml.safe_load(INSTANCE_SETTINGS)
    daemon = VALUES["dagsterDaemon"]
    concurrency = VALUES["concurrency"]
    assert concurrency["enabled"] is True
    assert concurrency["pools"]["defaultLimit"] == embedded["concurrency"]["pools"]["default_limit"]
    runs = embedded["concurrency"]["runs"]
    assert concurrency["runs"]["maxConcurrentRuns"] == runs["max_concurrent_runs"]
    assert concurrency["runs"]["tagConcurrencyLimits"] == runs["tag_concurrency_limits"]
    coordinator = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert coordinator == {
        "dequeueIntervalSeconds": embedded["run_coordinator"]["config"]["dequeue_interval_seconds"],
        "dequeueUseThreads": embedded["run_coordinator"]["config"]["dequeue_use_threads"],
    }
    monitoring = embedded["run_monitoring"]
    assert daemon["runMonitoring"] == {
        "enabled": monitoring["enabled"],
        "freeSlotsAfterRunEndSeconds": monitoring["free_slots_after_run_end_seconds"],
    }
    assert daemon["runRetries"] == {
        "enabled": embedded["run_retries"]["enabled"],
        "maxRetries": embedded["run_retries"]["max_retries"],
    }
    for kind in ("sensors", "schedules"):
        assert daemon[kind] == {
            "useThreads": embedded[kind]["use_threads"],
            "numWorkers": embedded[kind]["num_workers"],
        }
    assert VALUES["telemetry"] == embedded["telemetry"]
