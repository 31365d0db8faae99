#!/bin/sh
# Dependency audit: pip-audit over the project's dependencies as resolved in .venv.
#
# The project has no lock file: the "locked" set is what `make test` installed in .venv (runtime
# and dev dependencies, exact versions), frozen to build/audit-requirements.txt. pip-audit runs from
# its own virtualenv (build/audit-venv, installed from the package index) so that it audits the
# project's set, not its own dependencies. It needs a vulnerability service: PyPI's JSON API by
# default, or OSV with AUDIT_SERVICE=osv. Exit code: 0 every distribution audited and none
# vulnerable, 1 vulnerabilities found, 3 the audit is incomplete (the service could not be reached or
# did not know a distribution: pip-audit itself then still says "No known vulnerabilities found").
#
#   scripts/audit.sh            # PyPI advisory data
#   AUDIT_SERVICE=osv scripts/audit.sh
set -eu
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
AUDIT_VENV=build/audit-venv
SERVICE=${AUDIT_SERVICE:-pypi}
REQS=build/audit-requirements.txt

if [ ! -x "$VENV/bin/python" ]; then
    echo "audit: no $VENV; run 'make test' first" >&2
    exit 2
fi
mkdir -p build
if [ ! -x "$AUDIT_VENV/bin/pip-audit" ]; then
    python3 -m venv "$AUDIT_VENV"
    "$AUDIT_VENV/bin/python" -m pip install -q --upgrade pip
    "$AUDIT_VENV/bin/python" -m pip install -q pip-audit
fi
# every distribution in .venv except the project itself (installed editable)
"$VENV/bin/python" -m pip freeze --all --exclude-editable | grep -v '^diff-insight' > "$REQS"
echo "audit: $(wc -l < "$REQS") pinned distributions from $VENV ($(date -u +%Y-%m-%d)), service $SERVICE,"\
     "pip-audit $("$AUDIT_VENV/bin/pip-audit" --version | cut -d' ' -f2)" >&2
status=0
rm -f build/audit.json
"$AUDIT_VENV/bin/pip-audit" -r "$REQS" --no-deps --disable-pip --progress-spinner off \
    --vulnerability-service "$SERVICE" --desc on -f json -o build/audit.json || status=$?
if [ ! -s build/audit.json ]; then
    echo "audit: FAILED: pip-audit could not run (exit $status); see its message above" >&2
    exit 3
fi
# pip-audit says "No known vulnerabilities found" even when it could audit nothing: count the skips
"$VENV/bin/python" - build/audit.json <<'PY'
import json
import sys

data = json.load(open(sys.argv[1], encoding="utf-8"))
deps = data.get("dependencies", [])
skipped = [d for d in deps if d.get("skip_reason")]
vulns = [(d["name"], d["version"], v["id"], ", ".join(v.get("fix_versions") or []) or "no fix yet")
         for d in deps for v in d.get("vulns", [])]
for name, version, vid, fix in vulns:
    print(f"VULNERABLE {name} {version}: {vid} (fixed in: {fix})")
audited = len(deps) - len(skipped)
print(f"audit: {audited} of {len(deps)} distributions audited, {len(vulns)} known vulnerabilities")
if skipped:
    print(f"audit: INCOMPLETE: {len(skipped)} could not be audited, e.g. {skipped[0]['skip_reason']}")
sys.exit(1 if vulns else (3 if skipped else 0))
PY
