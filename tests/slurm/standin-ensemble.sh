#!/usr/bin/env bash
# A stand-in for `ensemble run` / `ensemble merge` with the runner's sharding contract, for exercising the SLURM
# machinery alone (ENSEMBLE_SLURM_WORKLOAD=standin tests/slurm/test-slurm.sh). It is real for the machinery:
# every process resolves its rank the way the runner does (RANK/WORLD_SIZE → SLURM_PROCID/SLURM_NTASKS →
# OMPI → SLURM_ARRAY_TASK_ID − MIN of COUNT → 0 of 1), takes the contiguous block r·⌈N/W⌉ … of N work items,
# skips items whose marker exists, writes each item's result to a temp name and renames it, and the merge
# concatenates the items in order. If ENSEMBLE_REAL_BIN is set, each process first runs `$ENSEMBLE_REAL_BIN
# doctor` (the real engine loading libtorch inside the task).
#
#   standin-ensemble.sh run --config F [output.path=DIR] [items=N] [seconds_per_item=S]
#   standin-ensemble.sh merge --input DIR
# Config F: YAML-like `key: value` lines; keys items, seconds_per_item, output.path (nested `output:`/`  path:`).
set -euo pipefail

die() { echo "standin: $*" >&2; exit 2; }

resolve_rank() {
  if [ -n "${RANK:-}" ] && [ -n "${WORLD_SIZE:-}" ]; then rank=$RANK world=$WORLD_SIZE src=RANK
  elif [ -n "${SLURM_PROCID:-}" ] && [ -n "${SLURM_NTASKS:-}" ]; then rank=$SLURM_PROCID world=$SLURM_NTASKS src=SLURM_PROCID
  elif [ -n "${OMPI_COMM_WORLD_RANK:-}" ] && [ -n "${OMPI_COMM_WORLD_SIZE:-}" ]; then rank=$OMPI_COMM_WORLD_RANK world=$OMPI_COMM_WORLD_SIZE src=OMPI
  elif [ -n "${SLURM_ARRAY_TASK_ID:-}" ] && [ -n "${SLURM_ARRAY_TASK_COUNT:-}" ]; then
    rank=$(( SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-0} )) world=$SLURM_ARRAY_TASK_COUNT src=SLURM_ARRAY
  else rank=0 world=1 src=single; fi
  [ "$rank" -ge 0 ] && [ "$rank" -lt "$world" ] || die "$src: rank $rank outside 0 … $((world - 1))"
}

cmd_run() {
  local config="" items="" seconds="" path=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --config) config="$2"; shift 2 ;;
      output.path=*) path="${1#*=}"; shift ;;
      items=*) items="${1#*=}"; shift ;;
      seconds_per_item=*) seconds="${1#*=}"; shift ;;
      device=*) shift ;;
      *) die "run: unknown argument $1" ;;
    esac
  done
  [ -f "$config" ] || die "config '$config' not found"
  [ -n "$items" ] || items="$(awk -F': *' '$1 == "items" { print $2 }' "$config")"
  [ -n "$seconds" ] || seconds="$(awk -F': *' '$1 == "seconds_per_item" { print $2 }' "$config")"
  [ -n "$path" ] || path="$(awk '/^output:/ { o = 1; next } o && /^[[:space:]]+path:/ { sub(/^[[:space:]]+path:[[:space:]]*/, ""); print; exit }' "$config")"
  [ -n "$items" ] && [ -n "$path" ] || die "$config: items and output.path are required"
  resolve_rank
  [ -n "${ENSEMBLE_REAL_BIN:-}" ] && "$ENSEMBLE_REAL_BIN" doctor >&2
  local per=$(( (items + world - 1) / world )) start end k done_dir="$path/state" item_dir="$path/statistics/items"
  start=$(( rank * per )); [ "$start" -gt "$items" ] && start=$items
  end=$(( start + per )); [ "$end" -gt "$items" ] && end=$items
  mkdir -p "$done_dir" "$item_dir"
  printf '{"items": %d}\n' "$items" >"$path/run.json.$$" && mv -f "$path/run.json.$$" "$path/run.json"
  echo "standin: rank $rank of $world ($src), items $start … $((end - 1)) of $items, pid $$" >&2
  for (( k = start; k < end; k++ )); do
    local marker; marker="$(printf '%s/item_%06d.done' "$done_dir" "$k")"
    if [ -e "$marker" ]; then echo "standin: item $k already done, skipped" >&2; continue; fi
    sleep "${seconds:-0}"
    # Deterministic content that does not depend on the rank: a hash chain seeded by the item index.
    local h="item $k" i
    for i in 1 2 3 4 5 6 7 8; do h="$(printf '%s' "$h" | sha256sum | cut -c1-64)"; done
    local out; out="$(printf '%s/item_%06d.stats' "$item_dir" "$k")"
    printf 'item %d\nsum %s\n' "$k" "$h" >"$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
    : >"$marker.tmp.$$" && mv -f "$marker.tmp.$$" "$marker"
  done
  printf '{"rank": %d, "world_size": %d, "source": "%s"}\n' "$rank" "$world" "$src" >"$done_dir/rank_$(printf %04d "$rank").json"
}

cmd_merge() {
  [ "${1:-}" = --input ] && [ -n "${2:-}" ] || die "merge: usage merge --input DIR"
  local dir="$2" f n=0
  [ -f "$dir/run.json" ] || die "$dir: no run.json (nothing ran)"
  local items k; items="$(grep -o '[0-9][0-9]*' "$dir/run.json")"
  for (( k = 0; k < items; k++ )); do
    [ -e "$(printf '%s/state/item_%06d.done' "$dir" "$k")" ] || die "$dir: item $k of $items is not finished"
  done
  mkdir -p "$dir/statistics/merged"
  local out="$dir/statistics/merged/sums.txt"
  : >"$out.tmp"
  for f in "$dir"/statistics/items/item_*.stats; do cat "$f" >>"$out.tmp"; n=$((n + 1)); done
  mv -f "$out.tmp" "$out"
  echo "standin: merged $n items into $out" >&2
}

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  merge) shift; cmd_merge "$@" ;;
  *) die "usage: $0 run --config F [key=value ...] | merge --input DIR" ;;
esac
