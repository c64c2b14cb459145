#!/usr/bin/env bash
# Builds a Debian bookworm base image without a container registry: debootstrap from a Debian
# archive into a temporary folder, then `docker import`. For air-gapped hospital networks (point
# --mirror at the local Debian mirror) and for machines whose Docker engine has no images.
#
#   docker/offline-base.sh [--tag NAME] [--mirror URL] [--force]
#     --tag     image name (default fedsmear/bookworm-base:latest)
#     --mirror  Debian archive URL (default: the first deb URI in this host's apt sources,
#               else http://deb.debian.org/debian)
#     --force   rebuild even when the image already exists
# Needs root (debootstrap) and the debootstrap package. Prints the image name on success.
set -euo pipefail

TAG=fedsmear/bookworm-base:latest
MIRROR=""
FORCE=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tag) TAG=$2; shift 2 ;;
    --mirror) MIRROR=$2; shift 2 ;;
    --force) FORCE=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "offline-base.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [[ $FORCE == 0 ]] && docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "$TAG"
  exit 0
fi
command -v debootstrap >/dev/null ||
  { echo "offline-base.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "offline-base.sh: debootstrap needs root" >&2; exit 1; }

# The host's own Debian archive: deb822 .sources files first, then one-line sources.list.
host_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' "$f"
  done | head -n1
  { grep -hs '^deb ' /etc/apt/sources.list || true; } | awk '$2 !~ /security/ {print $2; exit}'
}
if [[ -z $MIRROR ]]; then
  MIRROR=$(host_mirror | head -n1 || true)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi
SECURITY=${MIRROR%/debian}/debian-security
[[ $SECURITY == "$MIRROR/debian-security" ]] && SECURITY=http://deb.debian.org/debian-security

root=$(mktemp -d /tmp/fedsmear-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "offline-base.sh: debootstrap bookworm from $MIRROR (a few minutes)" >&2
debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$MIRROR" >&2

cat >"$root/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY bookworm-security main
SOURCES
# Slim like debian:bookworm-slim: no apt lists, caches, docs or man pages in the image.
printf 'path-exclude /usr/share/doc/*\npath-exclude /usr/share/man/*\npath-exclude /usr/share/info/*\n' \
  >"$root/etc/dpkg/dpkg.cfg.d/docker-slim"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*

tar -C "$root" --numeric-owner -c . |
  docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
    --message "debootstrap bookworm from $MIRROR" - "$TAG" >&2
echo "$TAG"
