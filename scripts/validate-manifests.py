#!/usr/bin/env python3
"""Validate the deployment manifests: deploy/kubernetes/*.yaml and compose.yaml.

1. Every Kubernetes object is validated against the official OpenAPI schemas of the oldest and the
   newest Kubernetes version we support, in strict mode (unknown fields are errors), with the
   schemas bundled in the PyPI package kubernetes-validate (no network, no cluster); compose.yaml
   against the Compose Specification schema bundled in the PyPI package check-jsonschema.
2. The properties the service relies on are checked: probes on the right health endpoints,
   resources, the hardened security context, a grace period that covers preStop + drain, read-only
   model volume, Service/HPA/PDB pointing at the Deployment, and every EMBEDSERVE_* variable being a
   real setting (a misspelt variable would be silently ignored by the binary).

usage: scripts/validate-manifests.py [REPO_ROOT]     (scripts/validate-manifests.sh installs the
                                                       dependency first)
Exit status 0 when everything holds; otherwise each problem is printed with its file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema

# preStop.sleep needs 1.30 (beta, on by default); the bundled schemas end at the newest release.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# Variables the binary reads besides the settings of config/default.toml.
EXTRA_VARIABLES = {"EMBEDSERVE_CONFIG", "EMBEDSERVE_HEALTHCHECK_ADDR"}
HEALTH_LIVE, HEALTH_READY = "/health/live", "/health/ready"
# The ConfigMap holding the settings file of models and stores, which running pods reload.
CATALOG_CONFIG_MAP, CATALOG = "embedserve-catalog", "ConfigMap (catalog)"
# Startup may take this long (seconds) before the pod is restarted: mapping a large model.
MIN_STARTUP_BUDGET_SECS = 120
DEFAULT_DRAIN_TIMEOUT_SECS = 30


class Report:
    """Collects problems, each tagged with the file it was found in."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checks = 0

    def check(self, ok: bool, where: str, message: str) -> bool:
        self.checks += 1
        if not ok:
            self.problems.append(f"{where}: {message}")
        return ok


def known_variables(root: Path) -> set[str]:
    """EMBEDSERVE_<KEY> for every key documented in config/default.toml."""
    import tomllib

    with open(root / "config" / "default.toml", "rb") as f:
        keys = tomllib.load(f).keys()
    # Commented-out keys (optional settings without a default) are settings too.
    text = (root / "config" / "default.toml").read_text()
    commented = {
        line[1:].split("=")[0].strip()
        for line in text.splitlines()
        if line.startswith("# ") and " = " in line and line[2:].split(" = ")[0].isidentifier()
    }
    return {f"EMBEDSERVE_{k.upper()}" for k in set(keys) | commented} | EXTRA_VARIABLES


def load_resources(kube_dir: Path, report: Report) -> dict[str, tuple[str, dict]]:
    """The objects named by kustomization.yaml, keyed by kind, with their file names."""
    kustomization = yaml.safe_load((kube_dir / "kustomization.yaml").read_text())
    listed = kustomization.get("resources", [])
    present = sorted(p.name for p in kube_dir.glob("*.yaml") if p.name != "kustomization.yaml")
    report.check(sorted(listed) == present, "kustomization.yaml",
                 f"resources {sorted(listed)} differ from the files {present}")
    resources: dict[str, tuple[str, dict]] = {}
    for name in listed:
        path = kube_dir / name
        if not report.check(path.is_file(), "kustomization.yaml", f"{name} does not exist"):
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is None:
                continue
            kind = doc.get("kind", "?")
            # The catalog of models and stores is a ConfigMap of its own, mounted as a file.
            if kind == "ConfigMap" and doc.get("metadata", {}).get("name") == CATALOG_CONFIG_MAP:
                kind = CATALOG
            report.check(kind not in resources, name, f"second {kind}: one of each is expected")
            resources[kind] = (name, doc)
    check_kustomize_images(kustomization, resources, report)
    return resources


def check_kustomize_images(kustomization: dict, resources: dict, report: Report) -> None:
    images = {entry.get("name") for entry in kustomization.get("images", [])}
    if "Deployment" in resources:
        name, deployment = resources["Deployment"]
        for c in pod_spec(deployment).get("containers", []):
            report.check(c.get("image") in images, "kustomization.yaml",
                         f"images has no entry for the container image {c.get('image')!r} of {name}")


def validate_schemas(resources: dict[str, tuple[str, dict]], report: Report) -> None:
    for kind, (name, doc) in resources.items():
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
                report.check(True, name, "")
            except kubernetes_validate.ValidationError as e:
                path = "/".join(str(p) for p in e.path)
                report.check(False, name, f"{kind} invalid for Kubernetes {version} at {path}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError:
                report.check(False, name, f"no schema for {doc.get('apiVersion')} {kind} in {version}")


def pod_spec(deployment: dict) -> dict:
    return deployment.get("spec", {}).get("template", {}).get("spec", {})


def pod_labels(deployment: dict) -> dict:
    return deployment.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})


def selects(selector: dict, labels: dict) -> bool:
    """Whether a non-empty label selector matches the labels."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def config_map_data(resources: dict) -> dict:
    return resources.get("ConfigMap", ("", {}))[1].get("data", {})


def check_probe(container: dict, probe: str, path: str, where: str, report: Report) -> dict:
    spec = container.get(probe) or {}
    report.check(spec.get("httpGet", {}).get("path") == path, where, f"{probe} must GET {path}")
    report.check(spec.get("httpGet", {}).get("port") in ("http", 8080), where,
                 f"{probe} must probe the http port")
    return spec


def check_deployment(resources: dict, known: set[str], report: Report) -> None:
    if not report.check("Deployment" in resources, "deploy/kubernetes", "no Deployment"):
        return
    where, deployment = resources["Deployment"]
    spec = pod_spec(deployment)
    report.check(selects(deployment["spec"].get("selector", {}).get("matchLabels", {}),
                         pod_labels(deployment)), where, "selector does not match the pod labels")
    report.check("replicas" not in deployment["spec"], where,
                 "replicas is set, but the HorizontalPodAutoscaler owns it")
    containers = spec.get("containers", [])
    if not report.check(len(containers) == 1, where, "exactly one container expected"):
        return
    container = containers[0]
    check_probes(container, where, report)
    check_resources(container, where, report)
    check_security(spec, container, where, report)
    check_shutdown(spec, container, config_map_data(resources), where, report)
    check_model_volume(spec, container, resources, where, report)
    check_environment(container, resources, where, report)
    check_catalog(spec, container, resources, where, report)
    check_variables([e["name"] for e in container.get("env", [])], known, where, report)


def check_probes(container: dict, where: str, report: Report) -> None:
    startup = check_probe(container, "startupProbe", HEALTH_READY, where, report)
    budget = startup.get("failureThreshold", 3) * startup.get("periodSeconds", 10)
    report.check(budget >= MIN_STARTUP_BUDGET_SECS, where,
                 f"startupProbe allows {budget} s, below {MIN_STARTUP_BUDGET_SECS} s for big models")
    check_probe(container, "livenessProbe", HEALTH_LIVE, where, report)
    check_probe(container, "readinessProbe", HEALTH_READY, where, report)


def check_resources(container: dict, where: str, report: Report) -> None:
    resources = container.get("resources", {})
    for section in ("requests", "limits"):
        for name in ("cpu", "memory"):
            report.check(name in resources.get(section, {}), where, f"resources.{section}.{name} missing")
    request = quantity_bytes(resources.get("requests", {}).get("memory", "0"))
    limit = quantity_bytes(resources.get("limits", {}).get("memory", "0"))
    report.check(request >= 2**30, where, "memory request below 1Gi: a Qwen-sized matrix alone maps 467 MB")
    report.check(limit >= request, where, "memory limit below the request")


def quantity_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity (binary or decimal suffix) in bytes."""
    suffixes = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
                "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
    for suffix, factor in suffixes.items():
        if str(quantity).endswith(suffix):
            return int(float(str(quantity)[: -len(suffix)]) * factor)
    return int(float(quantity))


def check_security(spec: dict, container: dict, where: str, report: Report) -> None:
    pod_ctx, ctx = spec.get("securityContext", {}), container.get("securityContext", {})
    report.check(ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")) is True, where, "runAsNonRoot must be true")
    seccomp = ctx.get("seccompProfile", pod_ctx.get("seccompProfile", {}))
    report.check(seccomp.get("type") == "RuntimeDefault", where, "seccompProfile must be RuntimeDefault")
    report.check(ctx.get("readOnlyRootFilesystem") is True, where, "readOnlyRootFilesystem must be true")
    report.check(ctx.get("allowPrivilegeEscalation") is False, where, "allowPrivilegeEscalation must be false")
    report.check("ALL" in ctx.get("capabilities", {}).get("drop", []), where, "capabilities must drop ALL")
    report.check(not ctx.get("capabilities", {}).get("add"), where, "no capability may be added")


def check_shutdown(spec: dict, container: dict, config: dict, where: str, report: Report) -> None:
    pre_stop = container.get("lifecycle", {}).get("preStop", {})
    sleep = pre_stop.get("sleep", {}).get("seconds", 0)
    report.check(sleep > 0, where, "preStop must sleep so endpoints update before the server drains")
    drain = int(config.get("EMBEDSERVE_DRAIN_TIMEOUT_SECS", DEFAULT_DRAIN_TIMEOUT_SECS))
    grace = spec.get("terminationGracePeriodSeconds", 30)
    report.check(grace > sleep + drain, where,
                 f"terminationGracePeriodSeconds {grace} must exceed preStop {sleep} s + drain {drain} s")


def check_model_volume(spec: dict, container: dict, resources: dict, where: str, report: Report) -> None:
    mounts = {m["name"]: m for m in container.get("volumeMounts", [])}
    for name, mount in mounts.items():
        report.check(mount.get("readOnly") is True, where, f"volume mount {name} must be readOnly")
    claims = [v for v in spec.get("volumes", []) if "persistentVolumeClaim" in v]
    report.check(bool(claims), where, "the models volume must be a PersistentVolumeClaim")
    pvc_name, pvc = resources.get("PersistentVolumeClaim", ("", {}))
    for volume in claims:
        claim = volume["persistentVolumeClaim"]
        report.check(claim.get("readOnly") is True, where, f"claim of volume {volume['name']} must be readOnly")
        report.check(claim.get("claimName") == pvc.get("metadata", {}).get("name"), where,
                     f"claim {claim.get('claimName')} is not the PersistentVolumeClaim of {pvc_name}")
        report.check(volume["name"] in mounts, where, f"volume {volume['name']} is not mounted")
    report.check("ReadOnlyMany" in pvc.get("spec", {}).get("accessModes", []), pvc_name or where,
                 "the models claim must be ReadOnlyMany so every replica can mount it")


def check_environment(container: dict, resources: dict, where: str, report: Report) -> None:
    config_name = resources.get("ConfigMap", ("", {}))[1].get("metadata", {}).get("name")
    refs = [e.get("configMapRef", {}).get("name") for e in container.get("envFrom", [])]
    report.check(config_name in refs, where, f"envFrom must reference the ConfigMap {config_name}")
    listen = config_map_data(resources).get("EMBEDSERVE_LISTEN", "")
    ports = {p.get("name"): p.get("containerPort") for p in container.get("ports", [])}
    report.check(listen.startswith("0.0.0.0:"), where, "EMBEDSERVE_LISTEN must bind 0.0.0.0 in a pod")
    report.check(listen.rsplit(":", 1)[-1] == str(ports.get("http")), where,
                 f"EMBEDSERVE_LISTEN {listen!r} does not match the http containerPort {ports.get('http')}")


def check_catalog(spec: dict, container: dict, resources: dict, where: str, report: Report) -> None:
    """The catalog ConfigMap is mounted whole (a subPath mount never sees updates, so a reload would
    read the old list) and EMBEDSERVE_CONFIG names its file."""
    if CATALOG not in resources:
        return
    catalog_name, catalog = resources[CATALOG]
    volumes = [v["name"] for v in spec.get("volumes", [])
               if v.get("configMap", {}).get("name") == CATALOG_CONFIG_MAP]
    mounts = [m for m in container.get("volumeMounts", []) if m["name"] in volumes]
    if not report.check(len(mounts) == 1, where, f"the ConfigMap {CATALOG_CONFIG_MAP} must be mounted once"):
        return
    report.check("subPath" not in mounts[0], where, f"{CATALOG_CONFIG_MAP} must be mounted without subPath")
    files = [f"{mounts[0]['mountPath']}/{key}" for key in catalog.get("data", {})]
    config = config_map_data(resources).get("EMBEDSERVE_CONFIG")
    report.check(config in files, where, f"EMBEDSERVE_CONFIG {config!r} is not a file of {catalog_name}: {files}")


def check_variables(names: list[str], known: set[str], where: str, report: Report) -> None:
    for name in names:
        report.check(name in known, where, f"{name} is not a setting of embedserve (see config/default.toml)")


def check_service(resources: dict, report: Report) -> None:
    if not report.check("Service" in resources, "deploy/kubernetes", "no Service"):
        return
    where, service = resources["Service"]
    spec = service.get("spec", {})
    report.check(spec.get("type", "ClusterIP") == "ClusterIP", where, "the Service must be ClusterIP")
    ports = spec.get("ports", [])
    report.check(any(p.get("port") == 80 and p.get("targetPort") in ("http", 8080) for p in ports),
                 where, "the Service must forward port 80 to the http port (8080)")
    labels = pod_labels(resources.get("Deployment", ("", {}))[1])
    report.check(selects(spec.get("selector", {}), labels), where, "selector does not match the pods")


def check_autoscaler(resources: dict, report: Report) -> None:
    if not report.check("HorizontalPodAutoscaler" in resources, "deploy/kubernetes", "no HorizontalPodAutoscaler"):
        return
    where, hpa = resources["HorizontalPodAutoscaler"]
    spec = hpa.get("spec", {})
    report.check(hpa.get("apiVersion") == "autoscaling/v2", where, "use autoscaling/v2")
    target = spec.get("scaleTargetRef", {})
    deployment_name = resources.get("Deployment", ("", {}))[1].get("metadata", {}).get("name")
    report.check(target.get("kind") == "Deployment" and target.get("name") == deployment_name, where,
                 "scaleTargetRef must name the Deployment")
    report.check(any(m.get("resource", {}).get("name") == "cpu" for m in spec.get("metrics", [])), where,
                 "no CPU metric")
    report.check(spec.get("minReplicas", 1) >= 2, where, "minReplicas below 2 leaves no replica during a disruption")


def check_disruption_budget(resources: dict, report: Report) -> None:
    if not report.check("PodDisruptionBudget" in resources, "deploy/kubernetes", "no PodDisruptionBudget"):
        return
    where, pdb = resources["PodDisruptionBudget"]
    labels = pod_labels(resources.get("Deployment", ("", {}))[1])
    report.check(selects(pdb.get("spec", {}).get("selector", {}).get("matchLabels", {}), labels), where,
                 "selector does not match the pods")


def check_compose(root: Path, known: set[str], report: Report) -> None:
    where = "compose.yaml"
    compose = yaml.safe_load((root / where).read_text())
    schema = get_builtin_schema("vendor.compose-spec")
    validator = jsonschema.validators.validator_for(schema)(schema)
    for error in validator.iter_errors(compose):
        path = "/".join(str(p) for p in error.path)
        report.check(False, where, f"not a valid Compose file at {path}: {error.message}")
    for name, service in compose.get("services", {}).items():
        report.check(service.get("read_only") is True, where, f"{name}: read_only must be true")
        report.check(bool(service.get("healthcheck", {}).get("test")), where, f"{name}: no healthcheck")
        for volume in service.get("volumes", []):
            ro = volume.get("read_only") is True if isinstance(volume, dict) else volume.endswith(":ro")
            report.check(ro, where, f"{name}: volume {volume} must be read-only")
        environment = service.get("environment", {})
        names = list(environment) if isinstance(environment, dict) else [e.split("=")[0] for e in environment]
        check_variables(names, known, where, report)


def main() -> int:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
    report = Report()
    known = known_variables(root)
    resources = load_resources(root / "deploy" / "kubernetes", report)
    validate_schemas(resources, report)
    check_deployment(resources, known, report)
    check_variables(list(config_map_data(resources)), known, resources.get("ConfigMap", ("configmap",))[0], report)
    check_service(resources, report)
    check_autoscaler(resources, report)
    check_disruption_budget(resources, report)
    check_compose(root, known, report)
    for problem in report.problems:
        print(f"error: {problem}", file=sys.stderr)
    verdict = "FAILED" if report.problems else "ok"
    print(f"validate-manifests: {verdict}: {len(resources)} Kubernetes objects against "
          f"{' and '.join(KUBERNETES_VERSIONS)}, {report.checks} checks, {len(report.problems)} problems")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
