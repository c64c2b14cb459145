#!/usr/bin/env bash
# The Debian packages in containers (ctest label `docker`): builds the three .deb files from
# BUILD_DIR with CPack, installs them with apt into one image on the offline base image
# (docker/offline-base.sh; the runtime libraries come from the Debian mirror), then runs a
# 2-site round between three containers of that image: the packages make no keys; the
# coordinator makes its own with `fedsmear keygen`, each site enrols with a kit from
# `fedsmear kit make` (its keys made by `fedsmear enrol`), the operator admits it with the
# fingerprint it printed (the second site while the coordinator runs: the allowlist reloads),
# `fedsmear doctor` checks each site against the running coordinator, and the daemons run as the
# packaged units under a booted systemd, in their sandbox: the round completes, the coordinator
# unit ends with success, the site units stay up for the next run, and `systemd-analyze
# security` rates each running unit <= 3.0; then the jobs service runs a second run as a job,
# served by the same site daemons. Where a container cannot boot systemd (privileged,
# the host's cgroups), or with FEDSMEAR_PACKAGE_TEST_SYSTEMD=0, the daemons run as the packages'
# `fedsmear` user with runuser instead, and the test says so.
#   package_test.sh BUILD_DIR
# Exits 77 (ctest: skipped) with the reason when no Docker daemon answers or dpkg-dev is absent.
set -euo pipefail
BUILD=$(realpath "$1")
SRC=$(realpath "$(dirname "$0")/../..")
skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; exit 1; }
docker info >/dev/null 2>&1 || skip "no Docker daemon answers (docker info failed)"
command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps is missing (Debian package dpkg-dev)"

WORK=$BUILD/package-test
IMAGE=fedsmear-packages:test
NET=fedsmear-pkg-test
NAMES=(fedsmear-pkg-coord fedsmear-pkg-hospital-a fedsmear-pkg-hospital-b)
rm -rf "$WORK"
mkdir -p "$WORK/context"

echo "--- packages"
(cd "$BUILD" && cpack -G DEB -B "$WORK/cpack" >/dev/null)
cp "$WORK"/cpack/*.deb "$WORK/context/"
ls "$WORK/context"
for deb in "$WORK"/context/*.deb; do
  depends=$(dpkg-deb -f "$deb" Depends)
  echo "$(basename "$deb"): Depends: $depends"
  [[ $depends != *-dev* ]] || fail "$(basename "$deb") depends on a -dev package"
done
dpkg-deb -f "$WORK"/context/fedsmear-client_*.deb Depends | grep -q libtorch ||
  fail "fedsmear-client does not depend on LibTorch's runtime package"
dpkg-deb --ctrl-tarfile "$WORK"/context/fedsmear-client_*.deb | tar -xO ./conffiles |
  grep -qx /etc/fedsmear/client.yaml || fail "client.yaml is not a conffile"
# The listing is read whole first: `grep -q` stopping early would break dpkg-deb's pipe.
coordinator_files=$(dpkg-deb -c "$WORK"/context/fedsmear-coordinator_*.deb)
for f in fedsmear-dashboard.json fedsmear-alerts.yml fedsmear-alerts.test.yml; do
  grep -q "/usr/share/fedsmear/monitoring/$f\$" <<<"$coordinator_files" ||
    fail "fedsmear-coordinator does not ship monitoring/$f"
done

echo "--- image (apt install of the packages on the offline base image)"
BASE=${FEDSMEAR_BASE_IMAGE:-}
if [[ -z $BASE ]]; then
  if docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
    BASE=debian:bookworm-slim
  else
    BASE=$("$SRC/docker/offline-base.sh")
  fi
fi
# systemd first (a hospital's machine has it), so that the packages' own install log is theirs.
cat >"$WORK/context/Dockerfile" <<DOCKERFILE
FROM $BASE
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd systemd-sysv \\
        >/dev/null \\
 && rm -rf /var/lib/apt/lists/*
COPY *.deb /tmp/debs/
RUN apt-get update \\
 && { DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends /tmp/debs/*.deb \\
        >/fedsmear-install.log 2>&1 || { cat /fedsmear-install.log; exit 1; }; } \\
 && rm -rf /var/lib/apt/lists/* /tmp/debs
STOPSIGNAL SIGRTMIN+3
DOCKERFILE
docker build -q -t "$IMAGE" "$WORK/context" >/dev/null
# What an administrator reads while installing: the maintainer scripts' own lines, no warnings.
install_log=$(docker run --rm --network none "$IMAGE" cat /fedsmear-install.log)
if grep -E "^(W|E): |[Ww]arning: |can't be accessed" <<<"$install_log"; then
  fail "installing the packages printed the warnings above"
fi
grep -q "fedsmear-client: no site key yet" <<<"$install_log" ||
  fail "the site package did not say how to make its key"

cleanup() {
  local code=$?
  if [[ $code != 0 && $code != 77 ]]; then
    for n in "${NAMES[@]}"; do
      echo "--- $n log"
      if [[ $SYSTEMD == 1 ]]; then
        docker exec "$n" journalctl --no-pager -n 30 -u 'fedsmear-*' 2>/dev/null || true
      else
        docker exec "$n" sh -c 'tail -n 30 /var/lib/fedsmear/*.log' 2>/dev/null || true
      fi
    done
  fi
  docker rm -f "${NAMES[@]}" >/dev/null 2>&1 || true
  docker network rm "$NET" >/dev/null 2>&1 || true
}
trap cleanup EXIT
docker rm -f "${NAMES[@]}" >/dev/null 2>&1 || true
docker network rm "$NET" >/dev/null 2>&1 || true
docker network create "$NET" >/dev/null
SYSTEMD=${FEDSMEAR_PACKAGE_TEST_SYSTEMD:-1}
# start_containers: each container boots systemd (SYSTEMD=1) or idles for docker exec.
start_containers() {
  for n in "${NAMES[@]}"; do
    if [[ $SYSTEMD == 1 ]]; then
      # CAP_SYS_ADMIN: systemd sets up the units' user and mount namespaces (PrivateUsers,
      # ProtectSystem, ...); this machine's Docker cannot grant --privileged.
      docker run -d --name "$n" --hostname "$n" --network "$NET" --cap-add SYS_ADMIN \
        --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:ro "$IMAGE" /sbin/init \
        >/dev/null
    else
      docker run -d --name "$n" --hostname "$n" --network "$NET" "$IMAGE" sleep infinity >/dev/null
    fi
  done
}
start_containers
COORD=${NAMES[0]}
x() { docker exec "$@"; }
if [[ $SYSTEMD == 1 ]]; then
  for n in "${NAMES[@]}"; do
    state=$(timeout 120 docker exec "$n" systemctl is-system-running --wait 2>&1 || true)
    if [[ $state != running && $state != degraded ]]; then
      echo "NOTE: $n could not boot systemd ($state): the daemons run with runuser instead"
      docker logs "$n" 2>&1 | tail -n 5
      docker rm -f "${NAMES[@]}" >/dev/null 2>&1 || true
      SYSTEMD=0
      start_containers
      break
    fi
  done
fi
if [[ $SYSTEMD == 1 ]]; then
  echo "--- containers booted systemd: the daemons run as the packaged units"
  # One relaxation, for containers only: inside the unit's user namespace (PrivateUsers) the
  # kernel refuses a fresh /proc (ProtectProc=invisible) while Docker's masks cover parts of the
  # container's own. On a host the shipped units run as they are.
  for n in "${NAMES[@]}"; do
    for unit in fedsmear-client fedsmear-coordinator fedsmear-coordinator-jobs; do
      x "$n" sh -c "mkdir -p /etc/systemd/system/$unit.service.d && printf '[Service]\nProtectProc=default\n' > /etc/systemd/system/$unit.service.d/container.conf"
    done
    x "$n" systemctl daemon-reload
  done
fi
# start_daemon CONTAINER PROGRAM CONFIG: the packaged unit, or the program as fedsmear.
start_daemon() {
  if [[ $SYSTEMD == 1 ]]; then
    x "$1" systemctl start "$2"
  else
    x -d "$1" sh -c "runuser -u fedsmear -- $2 --config $3 > /var/lib/fedsmear/$2.log 2>&1"
  fi
}
daemon_log() {  # CONTAINER PROGRAM
  if [[ $SYSTEMD == 1 ]]; then
    x "$1" journalctl --no-pager -o cat -u "$2"
  else
    x "$1" cat "/var/lib/fedsmear/$2.log"
  fi
}

echo "--- what the packages installed"
x "$COORD" getent passwd fedsmear | grep -q nologin || fail "no fedsmear system user"
for n in "${NAMES[@]}"; do
  x "$n" sh -c '! ls /etc/fedsmear/keys/*.key 2>/dev/null' >/dev/null ||
    fail "$n: the package made keys at install time"
done
[[ $(x "$COORD" stat -c '%U' /var/lib/fedsmear/run) == fedsmear ]] || fail "no run folder"
x "$COORD" test -f /lib/systemd/system/fedsmear-coordinator.service || fail "no coordinator unit"
x "$COORD" grep -q '^ProtectSystem=strict' /lib/systemd/system/fedsmear-client.service ||
  fail "the client unit is not sandboxed"

echo "--- coordinator: keys, held-out data, config"
x "$COORD" fedsmear keygen --out /etc/fedsmear/keys --name coordinator >/dev/null
x "$COORD" chown fedsmear:fedsmear /etc/fedsmear/keys/coordinator.key /etc/fedsmear/keys/coordinator.sign.key
[[ $(x "$COORD" stat -c '%U %a' /etc/fedsmear/keys/coordinator.key) == "fedsmear 600" ]] ||
  fail "coordinator.key is not fedsmear's, mode 600"
x "$COORD" install -o root -g fedsmear -m 0640 /dev/null /etc/fedsmear/keys/allowed_sites
x "$COORD" fedsmear synth --task rbc --per-class 10 --size 64 --seed 7 --out /srv/fedsmear/holdout >/dev/null
classes=$(x "$COORD" ls /srv/fedsmear/holdout | paste -sd, -)
x "$COORD" sed -i -e 's|^bind: .*|bind: tcp://0.0.0.0:7878|' -e 's|^rounds: .*|rounds: 1|' \
  -e 's|^min_sites: .*|min_sites: 2|' -e 's|^  arch: .*|  arch: bdn-tiny|' \
  -e 's|^secure_aggregation: .*|secure_aggregation: off|' \
  -e "s|^  class_names: .*|  class_names: [$classes]|" -e 's|^  local_epochs: .*|  local_epochs: 1|' \
  -e 's|^round_deadline_s: .*|round_deadline_s: 300|' /etc/fedsmear/coordinator.yaml
x "$COORD" chown -R fedsmear:fedsmear /srv/fedsmear

echo "--- sites: kit, enrolment, admission"
# admit SITE_CONTAINER: the operator admits the site's request with the fingerprint it printed.
admit() {
  local n=$1 site=${1#fedsmear-pkg-} fp
  fp=$(sed -n "s/^this site's fingerprint: \([0-9a-f-]*\).*/\1/p" "$WORK/enrol-$n.txt")
  [[ $fp =~ ^[0-9a-f]{4}(-[0-9a-f]{4}){4}$ ]] || fail "$n: fedsmear enrol printed no fingerprint"
  x "$n" cat /etc/fedsmear/keys/site.request | x -i "$COORD" sh -c "cat > /tmp/$site.request"
  x "$COORD" fedsmear kit admit "/tmp/$site.request" --fingerprint "$fp"
}
seed=1
for n in "${NAMES[@]:1}"; do
  site=${n#fedsmear-pkg-}
  x "$COORD" fedsmear kit make --site-id "$site" --coordinator-endpoint "tcp://$COORD:7878" \
    --out "/tmp/kit-$site" > "$WORK/kit-$n.txt"
  cat "$WORK/kit-$n.txt"
  coord_fp=$(sed -n 's/^coordinator fingerprint: //p' "$WORK/kit-$n.txt")
  x "$COORD" tar -C "/tmp/kit-$site" -cf - . | x -i "$n" sh -c 'mkdir -p /tmp/kit && tar -C /tmp/kit -xf -'
  x "$n" fedsmear enrol --kit /tmp/kit --coordinator-fingerprint "$coord_fp" > "$WORK/enrol-$n.txt"
  cat "$WORK/enrol-$n.txt"
  [[ $(x "$n" stat -c '%U %a' /etc/fedsmear/keys/site.key) == "fedsmear 600" ]] ||
    fail "$n: enrol did not make a private site key"
  x "$n" grep -qx "site_id: $site" /etc/fedsmear/client.yaml || fail "$n: the config lacks its id"
  x "$n" fedsmear synth --task rbc --per-class 12 --size 64 --seed $((seed++)) \
    --out /srv/fedsmear/images >/dev/null
  x "$n" chown -R fedsmear:fedsmear /srv/fedsmear
  # Two sites cannot run secure aggregation (a round needs 3): plain rounds, one thread.
  x "$n" sed -i -e 's|^policy:|policy:\n  require_secure_aggregation: false|' -e '$a threads: 1' \
    /etc/fedsmear/client.yaml
done
admit "${NAMES[1]}"
x "$COORD" grep -q "^hospital-a " /etc/fedsmear/keys/allowed_sites || fail "hospital-a not admitted"
x "$COORD" fedsmear doctor --config /etc/fedsmear/coordinator.yaml
start_daemon "$COORD" fedsmear-coordinator /etc/fedsmear/coordinator.yaml
# The second site is admitted while the coordinator runs: it reloads its allowlist by itself.
sleep 2
admit "${NAMES[2]}"

# Sites run only approved training plans (policy.require_plan_approval, on by default): the
# consortium publishes its plan's hash and each hospital's configuration management approves it.
plan_hash=$(x "$COORD" fedsmear plan show --config /etc/fedsmear/coordinator.yaml --format hash)
[[ $plan_hash =~ ^[0-9a-f]{64}$ ]] || fail "no plan hash from fedsmear plan show: $plan_hash"
for n in "${NAMES[@]:1}"; do
  x "$n" sh -c "printf '%s  # approved by the package test\n' $plan_hash \
    > /var/lib/fedsmear/state/approved_plans && chown fedsmear:fedsmear /var/lib/fedsmear/state/approved_plans"
done

echo "--- sites: doctor against the running coordinator, then start"
for n in "${NAMES[@]:1}"; do
  ok=0
  for _ in $(seq 30); do
    if x "$n" runuser -u fedsmear -- fedsmear doctor --config /etc/fedsmear/client.yaml --timeout 5 > "$WORK/doctor-$n.txt"; then
      ok=1; break
    fi
    sleep 2
  done
  cat "$WORK/doctor-$n.txt"
  [[ $ok == 1 ]] || fail "$n: fedsmear doctor found problems"
  grep -q 'accepted the encrypted connection' "$WORK/doctor-$n.txt" || fail "$n: no handshake"
  start_daemon "$n" fedsmear-client /etc/fedsmear/client.yaml
done

echo "--- the round"
for _ in $(seq 300); do
  x "$COORD" test -f /var/lib/fedsmear/run/final.model && break
  sleep 2
done
x "$COORD" test -f /var/lib/fedsmear/run/final.model || fail "the run did not finish within 10 minutes"
line=$(x "$COORD" cat /var/lib/fedsmear/run/metrics.jsonl)
echo "$line"
reported=$(sed -n 's/.*"sites_reported":\[\([^]]*\)\].*/\1/p' <<<"$line")
[[ $reported == *'"hospital-a"'* && $reported == *'"hospital-b"'* ]] ||
  fail "round 1 lacks an update of both sites (reported: $reported)"
daemon_log "$COORD" fedsmear-coordinator | grep -q "reloaded the allowlist" ||
  fail "the coordinator did not log the allowlist's reload"
if [[ $SYSTEMD == 0 ]]; then
  echo "PASSED: packages installed with apt; sites enrolled with kits; 2-site round between three containers (daemons run with runuser: no systemd in the containers)"
  exit 0
fi

echo "--- the units under systemd"
# unit_exposure CONTAINER UNIT: systemd-analyze's overall exposure of the loaded unit.
unit_exposure() {
  local out score
  out=$(x "$1" systemd-analyze security --no-pager "$2" 2>&1) || true
  score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
  [[ -n $score ]] || { echo "$out" | tail -n 5; fail "$1: no exposure level for $2"; }
  awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || fail "$1: $2 exposure $score > 3.0"
  echo "$1: $2 exposure $score (systemd-analyze security, running unit)"
}
for _ in $(seq 30); do
  [[ $(x "$COORD" systemctl show -p ActiveState --value fedsmear-coordinator) == inactive ]] && break
  sleep 1
done
result=$(x "$COORD" systemctl show -p Result --value fedsmear-coordinator)
[[ $result == success ]] || fail "the coordinator unit ended with '$result', not success"
unit_exposure "$COORD" fedsmear-coordinator.service
for n in "${NAMES[@]:1}"; do
  [[ $(x "$n" systemctl is-active fedsmear-client) == active ]] ||
    fail "$n: the site unit stopped when the run ended"
  pid=$(x "$n" systemctl show -p MainPID --value fedsmear-client)
  [[ $(x "$n" stat -c %U "/proc/$pid") == fedsmear ]] || fail "$n: the site daemon is not fedsmear's"
  unit_exposure "$n" fedsmear-client.service
done

echo "--- the jobs service: a second run for the same site daemons"
x "$COORD" systemctl start fedsmear-coordinator-jobs
x "$COORD" fedsmear job submit /etc/fedsmear/coordinator.yaml --name second --jobs /var/lib/fedsmear/jobs
state=""
for _ in $(seq 150); do
  state=$(x "$COORD" fedsmear job status job-0001 --jobs /var/lib/fedsmear/jobs | sed -n 's/^job-0001: //p')
  [[ $state == queued || $state == running ]] || break
  sleep 2
done
if [[ $state != completed ]]; then
  x "$COORD" fedsmear job logs job-0001 --jobs /var/lib/fedsmear/jobs | tail -n 20 || true
  fail "job-0001 of the jobs service ended '$state', not completed"
fi
x "$COORD" fedsmear job list --jobs /var/lib/fedsmear/jobs
[[ $(x "$COORD" systemctl is-active fedsmear-coordinator-jobs) == active ]] ||
  fail "the jobs service stopped after its job"
unit_exposure "$COORD" fedsmear-coordinator-jobs.service
for n in "${NAMES[@]:1}"; do
  [[ $(x "$n" systemctl show -p NRestarts --value fedsmear-client) == 0 ]] ||
    fail "$n: the site unit restarted between the two runs"
done
echo "PASSED: packages installed with apt; sites enrolled with kits; 2-site round between three containers, the daemons as the packaged units under systemd; a second run as a job of the jobs service, served by the same site daemons"
