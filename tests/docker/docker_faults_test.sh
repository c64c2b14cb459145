#!/usr/bin/env bash
# Fault tests against real containers (ctest label `docker`): a coordinator and three sites of
# docker/compose.yaml on a private network, with one fault each.
#   docker_faults_test.sh image|kill_site|disconnect|restart_coordinator|wrong_key BUILD_DIR
# `image` builds fedsmear:test from BUILD_DIR's programs (the fixture the others need). Exits 77
# (ctest: skipped) with the reason when no Docker daemon or compose tool answers.
set -euo pipefail
CASE=$1
BUILD=$(realpath "$2")
SRC=$(realpath "$(dirname "$0")/../..")
source "$SRC/scripts/docker-lib.sh"
IMAGE=fedsmear:test

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; exit 1; }
docker info >/dev/null 2>&1 || skip "no Docker daemon answers (docker info failed)"
fedsmear_compose_cmd >/dev/null || skip "neither 'docker compose' nor docker-compose is installed"

if [[ $CASE == image ]]; then
  "$SRC/scripts/docker-image" --prebuilt "$BUILD" --tag "$IMAGE"
  exit 0
fi
docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "$IMAGE is missing (did the docker.image test fail?)"

RUN=$BUILD/docker-tests/$CASE
PROJECT=fedsmear-test-${CASE//_/-}
export FEDSMEAR_IMAGE=$IMAGE
mkdir -p "$RUN"
fedsmear_clear_run "$IMAGE" "$RUN" "$PROJECT"
METRICS=$RUN/docker/run/metrics.jsonl
cleanup() {
  local code=$?
  if [[ $code != 0 && $code != 77 && -f $RUN/docker/compose.yaml ]]; then
    echo "--- coordinator log (last 40 lines)"
    docker logs --tail 40 "$(cid coordinator)" 2>&1 || true
  fi
  fedsmear_compose_down "$RUN" "$PROJECT"
}
trap cleanup EXIT
cid() { fedsmear_cid "$RUN" "$PROJECT" "$1"; }
rows() { [[ -f $METRICS ]] && wc -l <"$METRICS" || echo 0; }
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND until it succeeds.
wait_for() {
  local limit=$1 what=$2 start=$SECONDS
  shift 2
  until "$@"; do
    (( SECONDS - start < limit )) || fail "timed out after ${limit} s waiting for $what"
    sleep 0.5
  done
}
# grep reads the whole log (no -q): under pipefail, grep -q leaving early made `docker logs`
# die of SIGPIPE and the pipeline fail although the line was there.
logged() { docker logs "$(cid "$1")" 2>&1 | grep -F -- "$2" >/dev/null; }
coordinator_logged() { logged coordinator "$1"; }
rows_at_least() { (( $(rows) >= $1 )); }
# metrics_true EXPR: whether a Python expression holds over metrics.jsonl, with `rows` (list
# of dicts), `by` (round -> row), rep(k) / sel(k) (sets of sites reported / selected in round k).
metrics_true() {
  [[ -f $METRICS ]] || return 1
  python3 - "$METRICS" "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {r["round"]: r for r in rows}
rep = lambda k: set(by[k]["sites_reported"])
sel = lambda k: set(by[k]["sites_selected"])
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}
# check EXPR WHAT: metrics_true or fail; prints the per-round table first.
check() {
  docker run --rm --network none -v "$RUN/docker/run:/r:ro" "$IMAGE" fedsmear rounds /r
  metrics_true "$1" || fail "check failed: $2"
  echo "ok: $2"
}
finish() {
  local code
  code=$(fedsmear_wait_exit "$(cid coordinator)" 300)
  [[ $code == 0 ]] || fail "coordinator ended with '$code'"
}
layout() {
  # Plain rounds: these cases leave two of the three sites, fewer than a secure round takes
  # (SecAgg+ dropouts are tested in process: tests/tools/simulate_inproc_test.cc).
  fedsmear_layout "$IMAGE" "$RUN" --sites 3 --synthetic wbc --per-class 120 --local-epochs 3 \
    --arch bdn-tiny --input-size 32 --secure-aggregation off "$@"
}

case $CASE in
  kill_site)
    # Rounds of this tiny task take 5-7 s and a loaded machine can notice round 2 a few rounds
    # late: 8 rounds keep the run going when the kill comes.
    layout --rounds 8
    fedsmear_up "$IMAGE" "$RUN" "$PROJECT"
    wait_for 180 "round 2 to start" coordinator_logged "round 2: 3 site(s) selected"
    docker kill "$(cid site-2)" >/dev/null
    echo "killed site-2 in round 2"
    finish
    check 'sorted(by) == list(range(1, 9)) and len(rows) == 8' "every round recorded once"
    # The kill lands in round 2, or on a loaded machine later: in a round that selected site-2
    # or between rounds (dropped at the evaluation, then no longer selected). Either way rounds
    # complete with the other two.
    check 'any(rep(k) == {"site-1", "site-3"} for k in by if k >= 2)' \
      "rounds after the kill completed with the other two"
    check 'rep(8) == {"site-1", "site-3"}' "the run went on without site-2"
    ;;
  disconnect)
    # 14 rounds: site-3 needs a few rounds after reconnecting (a fresh socket, then the next
    # round's selection), and a loaded machine can notice round 2 late.
    layout --rounds 14
    fedsmear_up "$IMAGE" "$RUN" "$PROJECT"
    net=$(docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' "$(cid site-3)")
    wait_for 180 "round 2 to start" coordinator_logged "round 2: 3 site(s) selected"
    docker network disconnect "$net" "$(cid site-3)"
    echo "disconnected site-3 from $net in round 2"
    wait_for 120 "a round to close without site-3" \
      metrics_true 'any(rep(k) == {"site-1", "site-2"} for k in by if k >= 2)'
    sleep 5
    docker network connect "$net" "$(cid site-3)"
    echo "reconnected site-3 after round $(rows)"
    finish
    check 'sorted(by) == list(range(1, 15))' "every round recorded once"
    check 'any(rep(k) == {"site-1", "site-2"} for k in by if k >= 2)' \
      "rounds closed with the two sites still connected"
    first_without='min(k for k in by if k >= 2 and rep(k) == {"site-1", "site-2"})'
    check "any('site-3' in rep(k) for k in by if k > $first_without)" \
      "site-3 rejoined and reported later"
    ;;
  restart_coordinator)
    layout --rounds 5
    fedsmear_up "$IMAGE" "$RUN" "$PROJECT"
    wait_for 180 "round 2 to finish" rows_at_least 2
    docker restart "$(cid coordinator)" >/dev/null
    echo "restarted the coordinator after round $(rows)"
    finish
    coordinator_logged "resumed run" || fail "the restarted coordinator did not resume its run"
    check 'sorted(by) == [1, 2, 3, 4, 5] and len(rows) == 5' \
      "no completed round lost or repeated across the restart"
    check 'all(len(rep(k)) == 3 for k in by)' "every site took part in every round"
    ;;
  wrong_key)
    layout --rounds 3
    # site-3 gets a key pair of its own making: not the one in the coordinator's allowlist.
    docker run --rm --user 10001 --network none -v "$RUN/docker/site-3/keys:/k" "$IMAGE" \
      fedsmear keygen --name site-3 --out /k --force >/dev/null
    sed -i 's/^start_sites: .*/start_sites: 2/' "$RUN/docker/coordinator/coordinator.yaml"
    fedsmear_up "$IMAGE" "$RUN" "$PROJECT"
    finish
    coordinator_logged "ZAP: refused unknown key" || fail "the coordinator did not log the refusal"
    logged site-3 "refused this site's key" ||
      fail "site-3 was not told that its key was refused"
    check 'sorted(by) == [1, 2, 3]' "the run finished"
    check 'all("site-3" not in sel(k) | rep(k) for k in by)' "site-3 never took part"
    ;;
  *) fail "unknown case $CASE" ;;
esac
echo "PASSED: $CASE"
