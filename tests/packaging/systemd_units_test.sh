#!/usr/bin/env bash
# The shipped systemd units (packaging/systemd) stay hardened: `systemd-analyze security
# --offline=true --threshold=30` (exposure <= 3.0, systemd >= 250) passes for each unit, the
# sandbox keeps the lines the daemons rely on (the one writable folder, the audit log's
# `chattr +a` as root before start), and no unit grants a capability.
#   systemd_units_test.sh SOURCE_DIR
# Exits 77 (ctest: skipped) with the reason when systemd-analyze is missing or too old.
set -euo pipefail
SRC=$(realpath "$1")
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; exit 1; }
command -v systemd-analyze >/dev/null || skip "systemd-analyze is missing (Debian package systemd)"
version=$(systemd-analyze --version | sed -n 's/^systemd \([0-9]*\).*/\1/p')
[[ ${version:-0} -ge 250 ]] ||
  skip "systemd $version has no security --offline/--threshold (needs 250)"

check_unit() {  # unit, its only writable folder, its audit log ("" = one per job), its umask
  local unit=$1 rw=$2 audit=$3 umask=${4:-0077}
  local file=$SRC/packaging/systemd/$unit.service
  echo "--- $unit"
  # --offline reads the file itself; a scratch --root keeps the host's units out of it.
  local root out
  root=$(mktemp -d)
  mkdir -p "$root/etc/systemd/system"
  cp "$file" "$root/etc/systemd/system/"
  if ! out=$(systemd-analyze security --offline=true --root="$root" --threshold=30 --no-pager \
      "$unit.service" 2>&1); then
    rm -rf "$root"
    echo "$out"
    fail "$unit: exposure above 3.0 (or systemd-analyze failed)"
  fi
  rm -rf "$root"
  grep -E '✗|Overall' <<<"$out" || true
  local score
  score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
  [[ -n $score ]] || fail "$unit: no overall exposure level in the output"
  awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || fail "$unit: exposure $score > 3.0"
  grep -qx "ReadWritePaths=$rw" "$file" || fail "$unit: ReadWritePaths is not exactly $rw"
  [[ $(grep -c '^ReadWritePaths=' "$file") == 1 ]] || fail "$unit: more than one ReadWritePaths"
  if [[ -n $audit ]]; then
    grep -qx "ExecStartPre=-+/usr/bin/chattr +a $audit" "$file" ||
      fail "$unit: the audit log's chattr +a (as root, failure tolerated) is gone"
  fi
  grep -qx 'CapabilityBoundingSet=' "$file" || fail "$unit: CapabilityBoundingSet is not empty"
  grep -qx "UMask=$umask" "$file" || fail "$unit: UMask is not $umask"
  grep -q '^MemoryMax=' "$file" && grep -q '^TasksMax=' "$file" || fail "$unit: no resource caps"
  echo "$unit: exposure $score"
}
check_unit fedsmear-client /var/lib/fedsmear/state /var/lib/fedsmear/state/audit.jsonl
check_unit fedsmear-coordinator /var/lib/fedsmear/run /var/lib/fedsmear/run/audit.jsonl
# The service that takes jobs: job files group-readable for the operators' `fedsmear job`.
check_unit fedsmear-coordinator-jobs /var/lib/fedsmear/jobs "" 0007
grep -qx 'Conflicts=fedsmear-coordinator.service' \
  "$SRC/packaging/systemd/fedsmear-coordinator-jobs.service" ||
  fail "fedsmear-coordinator-jobs: does not conflict with the single-run unit"
echo "PASSED"
