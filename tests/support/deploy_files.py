"""The files under deploy/ and the Dockerfile, read the way Kubernetes, Helm and Docker read
them, for tests that run what they describe."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = PROJECT_ROOT / "deploy" / "kubernetes"
HELM_VALUES = PROJECT_ROOT / "deploy" / "helm" / "dagster-values.yaml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"


def yaml_file(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def kubernetes_objects() -> dict[tuple[str, str], dict[str, Any]]:
    """Every object kustomization.yaml applies, by (kind, name)."""
    kustomization = yaml_file(KUBERNETES / "kustomization.yaml")
    objects = {}
    for resource in kustomization["resources"]:
        for document in yaml.safe_load_all((KUBERNETES / resource).read_text(encoding="utf-8")):
            objects[(document["kind"], document["metadata"]["name"])] = document
    return objects


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def container(workload: dict[str, Any]) -> dict[str, Any]:
    [only] = pod_spec(workload)["containers"]
    return only


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        current += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(text.split(" ", 1)[0].upper(), text.split(" ", 1)[1]) for text in logical]


def build_context_copies() -> list[str]:
    """What the build stage copies from the build context (COPY without --from)."""
    sources = []
    for instruction, arguments in dockerfile_instructions():
        words = shlex.split(arguments)
        if instruction == "COPY" and not any(word.startswith("--from") for word in words):
            sources.extend(words[:-1])
    return sources


def uv_sync_arguments() -> list[str]:
    """The arguments of the image's last `uv sync`, the one that installs the product."""
    syncs = []
    for instruction, arguments in dockerfile_instructions():
        if instruction == "RUN" and "uv sync" in arguments:
            command = arguments.split("uv sync", 1)[1].split("&&", 1)[0]
            syncs.append(shlex.split(command))
    return syncs[-1]
