#!/usr/bin/env bash
# The Python tools the test harness uses, in virtualenvs (gitignored): moto server (an independent
# AWS API emulator) and cfn-lint (CloudFormation linter) in .venv; checkov (security scanner of the
# packaged templates, .ci/checkov.sh) in .venv-checkov, on its own because it pins older boto3 and
# networkx than moto and cfn-lint use. checkov is pinned: a new release brings new checks, and a
# finding must change CI only when we change the pin (README, "Security").
# Idempotent; prints the versions it ends with.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOV_VERSION=3.3.30
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check 'moto[server]>=5.2.5' cfn-lint
.venv/bin/python -c 'import moto; print("moto", moto.__version__)'
.venv/bin/cfn-lint --version
[ -x .venv-checkov/bin/python ] || python3 -m venv .venv-checkov
.venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check "checkov==${CHECKOV_VERSION}"
echo "checkov $(CKV_SKIP_PACKAGE_UPDATE_CHECK=true .venv-checkov/bin/checkov --version)"
