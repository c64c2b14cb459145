# Shell helpers shared by scripts/docker-sim and the Docker fault tests (tests/docker).
# Source it; it defines functions only.

# `docker compose` (v2 plugin) or `docker-compose` (v1), whichever this machine has.
fedsmear_compose_cmd() {
  if docker compose version >/dev/null 2>&1; then
    echo "docker compose"
  elif command -v docker-compose >/dev/null 2>&1; then
    echo "docker-compose"
  else
    return 1
  fi
}

# docker/compose.yaml (or TEMPLATE) with each site-1 block, between "# site-begin" and
# "# site-end" lines, repeated for site-1 .. site-N.
fedsmear_render_compose() {
  local sites=$1 root template=${2:-}
  root=$(dirname "${BASH_SOURCE[0]}")/..
  awk -v n="$sites" '
    /# site-begin/ { inblock = 1; block = ""; next }
    /# site-end/ { inblock = 0; for (k = 1; k <= n; k++) { b = block; gsub(/site-1/, "site-" k, b); printf "%s", b }; next }
    inblock { block = block $0 "\n"; next }
    { print }' "${template:-$root/docker/compose.yaml}"
}

# Empties RUN for a new run. Refuses (returns 1) when RUN holds something else than an earlier
# run, so that a mistyped --out never deletes a user's files.
fedsmear_clear_run() {
  local image=$1 run=$2 project=$3
  [[ -n $(ls -A "$run") ]] || return 0
  if [[ ! -f $run/coordinator.yaml || ! -d $run/docker ]]; then
    echo "$run is not empty and not an earlier container run; choose another folder" >&2
    return 1
  fi
  fedsmear_compose_down "$run" "$project"
  # Old results belong to the container user: remove them from inside a container.
  docker run --rm --user 0 --network none -v "$run:$run" "$image" find "$run" -mindepth 1 -delete
}

# Lays out RUN/docker with `fedsmear simulate --layout docker ARGS...` run inside IMAGE (data
# folders given with --data are mounted read-only at the same path), makes it the container
# user's, and renders RUN/docker/compose.yaml for the number of sites in the layout.
fedsmear_layout() {
  local image=$1 run=$2
  shift 2
  local mounts=(-v "$run:$run") args=("$@") i
  for ((i = 0; i < ${#args[@]}; i++)); do
    [[ ${args[i]} == --data ]] && mounts+=(-v "${args[i+1]}:${args[i+1]}:ro")
  done
  docker run --rm --user 0 --network none "${mounts[@]}" "$image" sh -c \
    'fedsmear simulate --layout docker --out "$@" && chown -R 10001:10001 "$0/docker"' \
    "$run" "$run" "${args[@]}" >&2
  local sites
  sites=$(find "$run/docker" -mindepth 1 -maxdepth 1 -name 'site-*' | wc -l)
  fedsmear_render_compose "$sites" >"$run/docker/compose.yaml"
}

# Starts the project in the background.
fedsmear_up() {
  local image=$1 run=$2 project=$3 compose
  compose=$(fedsmear_compose_cmd) || { echo "neither 'docker compose' nor docker-compose found" >&2; return 1; }
  FEDSMEAR_IMAGE=$image $compose -p "$project" -f "$run/docker/compose.yaml" up -d >&2
}

# Container id of a service of a running project.
fedsmear_cid() {
  local run=$1 project=$2 service=$3 compose
  compose=$(fedsmear_compose_cmd)
  FEDSMEAR_IMAGE=${FEDSMEAR_IMAGE:-fedsmear:latest} \
    $compose -p "$project" -f "$run/docker/compose.yaml" ps -q "$service"
}

# Stops and removes a project's containers and network (no-op when none are up).
fedsmear_compose_down() {
  local run=$1 project=$2 compose
  compose=$(fedsmear_compose_cmd) || return 0
  [[ -f $run/docker/compose.yaml ]] || return 0
  FEDSMEAR_IMAGE=${FEDSMEAR_IMAGE:-fedsmear:latest} \
    $compose -p "$project" -f "$run/docker/compose.yaml" down --timeout 5 >/dev/null 2>&1 || true
}

# Waits until container $1 has exited and is not restarting; prints its exit code, or
# "timeout" after $2 seconds.
fedsmear_wait_exit() {
  local cid=$1 limit=$2 start=$SECONDS state
  while (( SECONDS - start < limit )); do
    state=$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$cid" 2>/dev/null) || {
      echo gone; return; }
    if [[ $state == "exited 0" ]]; then
      echo 0
      return
    elif [[ $state == exited* ]]; then
      # A failed container may be about to restart (restart: on-failure): look again.
      sleep 3
      if [[ $(docker inspect -f '{{.State.Status}}' "$cid" 2>/dev/null) == exited ]]; then
        echo "${state#exited }"
        return
      fi
    fi
    sleep 2
  done
  echo timeout
}

# Succeeds when this Docker engine is a manager of an active swarm; says why not otherwise.
fedsmear_swarm_manager() {
  local state
  state=$(docker info -f '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null) || {
    echo "no Docker daemon answers" >&2; return 1; }
  case $state in
    "active true") return 0 ;;
    "active false") echo "this node is a swarm worker; run this on a manager" >&2 ;;
    *) echo "this engine is not in a swarm (state: ${state% *}); see docker swarm init" >&2 ;;
  esac
  return 1
}

# Removes stack $1 and waits (up to 120 s) until its containers and networks are gone; with $2 =
# 1 also deletes its volumes (the coordinator's run directory) on this node.
fedsmear_stack_rm() {
  local stack=$1 volumes=${2:-0} start=$SECONDS ns
  ns=com.docker.stack.namespace=$stack
  docker stack rm "$stack" >/dev/null 2>&1 || true
  while [[ -n $(docker ps -aq --filter "label=$ns") || -n $(docker network ls -q --filter "label=$ns") ]]; do
    (( SECONDS - start < 120 )) || { echo "stack $stack: containers still there after 120 s" >&2; return 1; }
    sleep 1
  done
  if [[ $volumes == 1 ]]; then
    docker volume ls -q --filter "label=$ns" | xargs -r docker volume rm >/dev/null
  fi
}
