#!/usr/bin/env bash
# The repository's one test command: `go test` in every Go module of the repository — the
# library (.), the monitoring module (dashboards/) and the comparison module (bench/), and any
# module added later — each with its own go.mod. `go test ./...` at the root stops at a nested
# module's go.mod (with or without a go.work), and a committed go.work would test the library
# against the union of every module's requirements instead of its own; so the modules are found
# here and tested one by one.
#
#   scripts/test.sh                       go test ./... in every module
#   scripts/test.sh -race -count=1        flags go to every go test
#   scripts/test.sh --list                print the module directories, one a line, and exit
#
# Every module is tested even when one fails; the exit status is 1 if any failed.
set -euo pipefail
cd "$(dirname "$0")/.."

modules() {
  find . \( -name .git -o -name node_modules -o -name testdata \) -prune -o -name go.mod -print |
    sed -e 's|^\./||' -e 's|/\?go\.mod$||' -e 's|^$|.|' | LC_ALL=C sort
}

if [ "${1:-}" = "--list" ]; then
  modules
  exit 0
fi

failed=()
for mod in $(modules); do
  echo "== go test $* ./... in $mod"
  (cd "$mod" && go test "$@" ./...) || failed+=("$mod")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED in: ${failed[*]}"
  exit 1
fi
