#!/usr/bin/env bash
# scripts/offline-deps resolves what a package needs against the target's list of installed
# packages (not this machine's): with an empty list it names the whole dependency chain, with a
# list that has libc6 only the missing library; the total counts the package itself. No download
# (--size-only), so it runs without network access, but it needs this machine's apt lists.
#   offline_deps_test.sh SOURCE_DIR
# Exits 77 (ctest: skipped) with the reason when dpkg-deb or the apt lists are missing.
set -euo pipefail
SRC=$(realpath "$1")
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; exit 1; }
command -v dpkg-deb >/dev/null || skip "dpkg-deb is missing (not a Debian machine)"
apt-cache show libjpeg62-turbo >/dev/null 2>&1 ||
  skip "apt knows no libjpeg62-turbo (run apt-get update)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A package that needs one library: libjpeg62-turbo, which needs libc6 and nothing else.
mkdir -p "$tmp/pkg/DEBIAN"
cat > "$tmp/pkg/DEBIAN/control" <<CONTROL
Package: fedsmear-offline-test
Version: 1.0
Architecture: all
Maintainer: fedsmear tests <fedsmear@localhost>
Installed-Size: 7
Depends: libjpeg62-turbo
Description: offline-deps test package
CONTROL
dpkg-deb --build "$tmp/pkg" "$tmp/test.deb" >/dev/null
run() { "$SRC/scripts/offline-deps" --size-only "$@" 2>"$tmp/table"; }

# Nothing installed: the whole chain down to libc6.
: > "$tmp/empty-status"
total=$(run --status "$tmp/empty-status" "$tmp/test.deb") || fail "offline-deps failed: $total"
echo "empty list: $total"
grep -q ' libjpeg62-turbo ' "$tmp/table" || fail "libjpeg62-turbo missing: $(cat "$tmp/table")"
grep -q ' libc6 ' "$tmp/table" || fail "libc6 missing with an empty list"
grep -q '^ *7 kB  fedsmear-offline-test 1.0$' "$tmp/table" || fail "the package itself not counted"
sum=$(awk '{s += $1} END {print s}' "$tmp/table")
[[ $total == *" $sum kB installed"* ]] || fail "total '$total' is not the sum $sum"

# libc6 (and what it needs) installed: only the library and the package remain.
[[ -f /var/lib/dpkg/status ]] || skip "no /var/lib/dpkg/status to take libc6 from"
awk -v RS= -v ORS='\n\n' '/^Package: (libc6|libgcc-s1|gcc-12-base)\n/' /var/lib/dpkg/status \
  > "$tmp/libc-status"
grep -q '^Package: libc6$' "$tmp/libc-status" || skip "libc6 is not installed here"
total=$(run --status "$tmp/libc-status" "$tmp/test.deb") || fail "offline-deps failed: $total"
echo "with libc6: $total"
[[ $total == "2 packages, "* ]] || fail "expected 2 packages: $(cat "$tmp/table")"
grep -q ' libc6 ' "$tmp/table" && fail "libc6 is on the target's list but counted"

# Usage errors.
if "$SRC/scripts/offline-deps" "$tmp/test.deb" 2>/dev/null; then fail "ran without --status"; fi
if "$SRC/scripts/offline-deps" --status "$tmp/empty-status" "$tmp/none.deb" 2>/dev/null; then
  fail "ran with a missing package file"
fi
echo "PASSED"
