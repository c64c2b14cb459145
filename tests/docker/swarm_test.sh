#!/usr/bin/env bash
# The consortium as a Docker Swarm stack on this machine (ctest label `docker`): a single-node
# swarm (created by the test when the engine is in none, and left again afterwards), the node
# labelled for the coordinator and three sites, docker/swarm/stack.yml deployed by
# scripts/swarm-deploy with synthetic data, a site's container killed in round 2 (Swarm must
# start a new task, which rejoins the run), the coordinator's container killed after round 2
# (the new task must resume from the run volume), then the stack, its volume and the labels are
# removed. Exits 77 (ctest: skipped) with the reason when Docker or swarm mode is unavailable.
#   swarm_test.sh BUILD_DIR          (needs fedsmear:test, made by the docker.image test)
set -euo pipefail
BUILD=$(realpath "$1")
SRC=$(realpath "$(dirname "$0")/../..")
source "$SRC/scripts/docker-lib.sh"
IMAGE=fedsmear:test
STACK=fedsmear-swarm-test
RUN=$BUILD/docker-tests/swarm
ROUNDS=4

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; exit 1; }
docker info >/dev/null 2>&1 || skip "no Docker daemon answers (docker info failed)"
docker stack --help >/dev/null 2>&1 || skip "this docker client has no 'stack' command"
docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "$IMAGE is missing (did the docker.image test fail?)"

CREATED_SWARM=0 NODE="" ADDED_LABELS=()
cleanup() {
  local code=$?
  if [[ $code != 0 && $code != 77 && -n $NODE ]]; then
    echo "--- docker stack ps $STACK"
    docker stack ps --no-trunc --format '{{.Name}} {{.CurrentState}} {{.Error}}' "$STACK" 2>&1 || true
    for s in coordinator site-2; do
      echo "--- ${STACK}_$s log (last 30 lines)"
      docker service logs --tail 30 "${STACK}_$s" 2>&1 || true
    done
  fi
  if [[ -n $NODE ]]; then
    fedsmear_stack_rm "$STACK" 1 || true
    for l in "${ADDED_LABELS[@]}"; do docker node update --label-rm "$l" "$NODE" >/dev/null || true; done
  fi
  if [[ $CREATED_SWARM == 1 ]]; then
    docker swarm leave --force >/dev/null && echo "left the swarm this test created"
    # `swarm init` also made the docker_gwbridge network; leaving keeps it.
    [[ $HAD_GWBRIDGE == 1 ]] || docker network rm docker_gwbridge >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

HAD_GWBRIDGE=0
docker network inspect docker_gwbridge >/dev/null 2>&1 && HAD_GWBRIDGE=1
state=$(docker info -f '{{.Swarm.LocalNodeState}}')
case $state in
  inactive)
    # A node with several addresses needs --advertise-addr: then the default route's one.
    addr=$(ip -4 route get 1.1.1.1 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "src") print $(i+1)}')
    docker swarm init >/dev/null 2>&1 || docker swarm init --advertise-addr "${addr:-127.0.0.1}" >/dev/null ||
      skip "swarm mode is unavailable: docker swarm init failed"
    CREATED_SWARM=1
    echo "created a single-node swarm (docker swarm init); it is left at the end"
    ;;
  active) echo "this engine is already in a swarm; the test uses it and leaves it as it was" ;;
  *) skip "the engine's swarm state is '$state' (neither inactive nor active)" ;;
esac
fedsmear_swarm_manager || skip "this engine is a swarm worker; stack deploy needs a manager"
NODE=$(docker info -f '{{.Swarm.NodeID}}')
# Context for the endpoint mode (docker/swarm/stack.yml): a service VIP needs IPVS, which some
# kernels lack; the stack uses DNS round robin, which works either way.
if [[ -e /proc/net/ip_vs ]]; then
  echo "IPVS: loaded"
else
  echo "IPVS: not loaded (/proc/net/ip_vs missing); the stack does not need it (endpoint_mode dnsrr)"
fi

fedsmear_stack_rm "$STACK" 1
for l in fedsmear.coordinator fedsmear.site-1 fedsmear.site-2 fedsmear.site-3; do
  if [[ -z $(docker node inspect -f "{{index .Spec.Labels \"$l\"}}" "$NODE") ]]; then
    docker node update --label-add "$l=true" "$NODE" >/dev/null
    ADDED_LABELS+=("$l")
  fi
done

mkdir -p "$RUN"
fedsmear_clear_run "$IMAGE" "$RUN" "$STACK"
fedsmear_layout "$IMAGE" "$RUN" --sites 3 --synthetic wbc --per-class 120 --local-epochs 3 \
  --arch bdn-tiny --input-size 32 --rounds "$ROUNDS"
"$SRC/scripts/swarm-deploy" --stack "$STACK" --image "$IMAGE" --node-dir "$RUN/docker" "$RUN/docker"

# tasks SERVICE: one line per task of the service, "state exit-code container-id".
tasks() {
  docker service ps -q "${STACK}_$1" | xargs -r docker inspect | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    c = t["Status"].get("ContainerStatus") or {}
    print(t["Status"]["State"], c.get("ExitCode", "-"), c.get("ContainerID") or "-")'
}
running_cid() { tasks "$1" | awk '$1 == "running" && $3 != "-" {print $3; exit}'; }
# The coordinator's log over all its tasks (the service log outlives a killed container).
coordinator_logged() { docker service logs --raw "${STACK}_coordinator" 2>&1 | grep -F -- "$1" >/dev/null; }
METRICS=$RUN/metrics.jsonl
# Copies metrics.jsonl out of the run volume (only containers of the image may read it).
fetch_metrics() {
  docker run --rm --network none -v "${STACK}_run:/r:ro" "$IMAGE" sh -c \
    'cat /r/metrics.jsonl 2>/dev/null || true' >"$METRICS"
}
rows() { fetch_metrics; grep -c . "$METRICS" || true; }
wait_for() {
  local limit=$1 what=$2 start=$SECONDS
  shift 2
  until "$@"; do
    (( SECONDS - start < limit )) || fail "timed out after ${limit} s waiting for $what"
    sleep 1
  done
}
rows_at_least() { (( $(rows) >= $1 )); }
metrics_true() {
  python3 - "$METRICS" "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {r["round"]: r for r in rows}
rep = lambda k: set(by[k]["sites_reported"])
sys.exit(0 if eval(sys.argv[2]) else 1)
PY
}
check() { metrics_true "$1" || fail "check failed: $2"; echo "ok: $2"; }

wait_for 300 "round 2 to start with all three sites" coordinator_logged "round 2: 3 site(s) selected"
killed=$(running_cid site-2)
[[ -n $killed ]] || fail "no running site-2 task"
docker kill "$killed" >/dev/null
echo "killed site-2's container ${killed:0:12} in round 2"
restarted() {
  local cid
  cid=$(running_cid site-2)
  [[ -n $cid && $cid != "$killed" ]] && docker logs "$cid" 2>&1 | grep -F "joined run" >/dev/null
}
wait_for 120 "Swarm to start a new site-2 task that rejoins the run" restarted
echo "Swarm started a new site-2 task, which rejoined the run; site-2's tasks:"
tasks site-2
tasks site-2 | grep -q '^failed 137 ' || fail "the killed site-2 task is not recorded as failed (137)"

wait_for 300 "round 2 to finish" rows_at_least 2
coord=$(running_cid coordinator)
[[ -n $coord ]] || fail "no running coordinator task"
docker kill "$coord" >/dev/null
echo "killed the coordinator's container ${coord:0:12} after round $(rows)"

coordinator_done() { tasks coordinator | grep -q '^complete 0 '; }
wait_for 600 "the coordinator to complete the run" coordinator_done
echo "coordinator tasks:"
tasks coordinator
tasks coordinator | grep -q '^failed 137 ' || fail "the killed coordinator task is not recorded as failed"
coordinator_logged "resumed run" || fail "the new coordinator task did not resume the run"
echo "ok: the new coordinator task resumed the run from the volume"
fetch_metrics
docker run --rm --network none -v "${STACK}_run:/r:ro" "$IMAGE" fedsmear rounds /r
check "sorted(by) == list(range(1, $ROUNDS + 1)) and len(rows) == $ROUNDS" \
  "every round recorded once across the coordinator's restart"
check "rep($ROUNDS) == {'site-1', 'site-2', 'site-3'}" \
  "the restarted site-2 reported in the last round"
echo "PASSED: swarm"
