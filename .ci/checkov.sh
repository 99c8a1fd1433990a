#!/usr/bin/env bash
# checkov on CloudFormation templates, with the one configuration file of the repository
# (.checkov.yaml: the frameworks, and every waiver with its reason). Fails on any finding that is
# neither fixed nor waived, and on a template that does not exist (a scan of nothing is no pass).
#
#   bash .ci/checkov.sh TEMPLATE...
#
# Besides the templates named, it scans every template (*.json, *.yaml, *.yml) under
# $CHECKOV_EXTRA_TEMPLATES (default .serverless/forwarders), if that directory exists: whatever
# else the build generates (the forwarder stacks, once they exist) goes there and is scanned
# without changing CI. Needs .venv-checkov (bash .ci/python-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
checkov=.venv-checkov/bin/checkov
[ -x "$checkov" ] || { echo "checkov: $checkov missing: run bash .ci/python-tools.sh" >&2; exit 2; }
templates=("$@")
extra=${CHECKOV_EXTRA_TEMPLATES:-.serverless/forwarders}
if [ -d "$extra" ]; then
  while IFS= read -r -d '' f; do templates+=("$f"); done < <(find "$extra" -type f \( -name '*.json' -o -name '*.yaml' -o -name '*.yml' \) -print0 | sort -z)
fi
[ "${#templates[@]}" -gt 0 ] || { echo "checkov: no template to scan" >&2; exit 2; }
status=0
for t in "${templates[@]}"; do
  [ -s "$t" ] || { echo "checkov: $t: no such template" >&2; status=1; continue; }
  echo "-- checkov $t"
  out=$(CKV_SKIP_PACKAGE_UPDATE_CHECK=true "$checkov" --config-file .checkov.yaml --file "$t" 2>&1) && rc=0 || rc=$?
  echo "$out" | grep -v '^\s*$' || true
  # checkov prints one summary per framework that found something to check; the template's must be there.
  echo "$out" | grep -q 'Passed checks: [1-9]' || { echo "checkov: $t: no check ran (not a CloudFormation template?)" >&2; rc=1; }
  [ "$rc" -eq 0 ] || status=1
done
# Waived checks are not run (checkov does not count them as skipped): say which they are.
echo "checkov: waived in .checkov.yaml, not run: $(sed -n 's/^ *- \(CKV[0-9A-Z_]*\) *$/\1/p' .checkov.yaml | paste -sd, - | sed 's/,/, /g')"
[ "$status" -eq 0 ] && echo "checkov: ${#templates[@]} template(s), no finding that is neither fixed nor waived (.checkov.yaml)"
exit "$status"
