#!/usr/bin/env bash
# The two Python tools the test harness uses, in a virtualenv at .venv (gitignored):
# moto server (an independent AWS API emulator) and cfn-lint (CloudFormation linter).
# Idempotent; prints the versions it ends with.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check 'moto[server]>=5.2.5' cfn-lint
.venv/bin/python -c 'import moto; print("moto", moto.__version__)'
.venv/bin/cfn-lint --version
