# lib-dockerd.sh: process, mount and cgroup handling for the scripts that drive a
# private dockerd on a loop-mounted image (make-docker-fixtures.sh,
# make-large-docker-host.sh). Source it after W, PIDFILE, DNS, LOOP, CG_IDS and
# CG_PRE are set; the caller defines workdir_reset (called at the end of
# preclean, once nothing is mounted below $W any more).

# ---------------------------------------------------------------- process / mount handling

# pids living in our daemon's private mount namespace (dockerd, containerd, shims).
ns_pids() {
    [ -n "$DNS" ] || return 0
    [ "$DNS" != "$(readlink /proc/$$/ns/mnt)" ] || return 0   # never match the host ns
    local d
    for d in /proc/[0-9]*; do
        [ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$DNS" ] && echo "${d#/proc/}"
    done
    return 0
}

wait_gone() { # pids...: wait up to 20 s for them to exit
    local i p alive
    for i in $(seq 1 200); do
        alive=0
        for p in "$@"; do [ -d "/proc/$p" ] && alive=1; done
        [ $alive = 0 ] && return 0
        sleep 0.1
    done
    return 1
}

# Simulate a crash: SIGKILL dockerd, then containerd and the shims, then the containers.
kill_hard() {
    local dpid="" pids c
    # processes of running containers (they live outside the daemon's namespace)
    if [ -n "$DNS" ] && $DOCKER version >/dev/null 2>&1; then
        for c in $($DOCKER ps -q --no-trunc 2>/dev/null); do
            CT_PIDS+=("$($DOCKER inspect -f '{{.State.Pid}}' "$c")")
        done
    fi
    [ -f "$PIDFILE" ] && dpid=$(cat "$PIDFILE")
    if [ -n "$dpid" ] && [ -d "/proc/$dpid" ]; then kill -9 "$dpid" 2>/dev/null || true; fi
    pids=$(ns_pids)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    local p
    for p in "${CT_PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    # shellcheck disable=SC2046
    wait_gone $dpid $pids "${CT_PIDS[@]}" || log "warning: some processes did not exit"
    CT_PIDS=()
    DNS=""
}

# Clean shutdown: SIGTERM dockerd (it stops its containerd), then sweep leftovers.
stop_clean() {
    local dpid="" pids
    [ -f "$PIDFILE" ] && dpid=$(cat "$PIDFILE")
    if [ -n "$dpid" ] && [ -d "/proc/$dpid" ]; then
        kill -TERM "$dpid"
        wait_gone "$dpid" || { log "dockerd ignored SIGTERM, killing"; kill -9 "$dpid" || true; }
    fi
    pids=$(ns_pids)
    # shellcheck disable=SC2086
    if [ -n "$pids" ]; then kill -TERM $pids 2>/dev/null || true; wait_gone $pids || kill -9 $pids 2>/dev/null || true; fi
    DNS=""
}

umount_under() { # dir: unmount everything below it, deepest first
    local mp
    while read -r mp; do
        [ -n "$mp" ] || continue
        umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || log "cannot umount $mp"
    done < <(awk -v m="$1/" 'index($2, m) == 1 { print $2 }' /proc/mounts | sort -r)
}

cgroup_cleanup() {
    local id d
    for id in "${CG_IDS[@]}"; do
        for d in /sys/fs/cgroup/*/docker/"$id" /sys/fs/cgroup/docker/"$id"; do
            [ -d "$d" ] && rmdir "$d" 2>/dev/null || true
        done
    done
    CG_IDS=()
    for d in /sys/fs/cgroup/*/docker /sys/fs/cgroup/docker; do   # parents our dockerd created
        [ -d "$d" ] || continue
        grep -qxF "$d" <<<"$CG_PRE" && continue
        find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
        rmdir "$d" 2>/dev/null || true
    done
}

detach_loops() {
    local dev back
    while read -r dev back; do
        case "$back" in "$W"/*) losetup -d "$dev" 2>/dev/null || true ;; esac
    done < <(losetup -n -l -O NAME,BACK-FILE 2>/dev/null || true)
    LOOP=""
}

cleanup() {
    set +e
    if [ -n "$DNS" ]; then kill_hard; fi
    sync
    umount_under "$W"
    detach_loops
    cgroup_cleanup
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

# Leftovers of an earlier, interrupted run of this script.
preclean() {
    if [ -f "$PIDFILE" ]; then
        local p; p=$(cat "$PIDFILE")
        if [ -d "/proc/$p" ] && [ "$(basename "$(readlink /proc/$p/exe)")" = dockerd ]; then
            DNS=$(readlink "/proc/$p/ns/mnt"); kill_hard
        fi
    fi
    umount_under "$W"
    detach_loops
    if awk -v m="$W/" 'index($2, m) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
        die "something is still mounted below $W"
    fi
    workdir_reset
}
