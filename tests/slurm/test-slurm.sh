#!/usr/bin/env bash
# The SLURM acceptance test (issue 8) on a real one-node cluster (tests/slurm/local-cluster.sh):
#   1. single process:   ensemble run --config C output.path=W/single;  ensemble merge --input W/single
#   2. 2 srun tasks:     scripts/slurm/submit.sh C --tasks 2  (+ merge job, afterok)
#   3. 2-element array:  scripts/slurm/submit.sh C --array 2  (+ merge job, afterok)
#   4. kill and resume:  2 srun tasks without merge; rank 1's process is SIGKILLed once it has finished one of its
#                        work items but not all; the job fails; merging then must fail;
#                        only rank 1 is resubmitted (submit.sh --only 1) with the merge chained
# and requires 2, 3 and 4 to give the single-process statistics and fields byte for byte.
#
#   tests/slurm/test-slurm.sh [--bin ENSEMBLE] [--config RUN_CONFIG.yaml]
#
# Without a config it first makes a tiny real campaign with the same executable (ensemble world simulate,
# ensemble train ×2, a run config with 8 work items).
#
# Environment: ENSEMBLE_BIN, ENSEMBLE_SLURM_CONFIG (same as the options); ENSEMBLE_SLURM_TIMEOUT (seconds per
# wait, default 1200); ENSEMBLE_SLURM_WORKLOAD=standin runs tests/slurm/standin-ensemble.sh instead of the engine (machinery only);
# ENSEMBLE_SLURM_KEEP_WORK=1 keeps the work folder. The run config's output.path is overridden per run
# (output.path=DIR), so the config may point anywhere.
# Exit: 0 passed (or "SKIP: ..." when the Debian SLURM packages cannot be installed), 1 failed.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cluster="$repo/tests/slurm/local-cluster.sh"
submit="$repo/scripts/slurm/submit.sh"
bin="${ENSEMBLE_BIN:-}" config="${ENSEMBLE_SLURM_CONFIG:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    *) echo "usage: $0 [--bin ENSEMBLE] [--config RUN_CONFIG.yaml]" >&2; exit 64 ;;
  esac
done
timeout_s="${ENSEMBLE_SLURM_TIMEOUT:-1200}"

say() { echo "test-slurm: $*" >&2; }
t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 )) s"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/ensemble-slurm-test.XXXXXX")"
if [ "${ENSEMBLE_SLURM_WORKLOAD:-}" = standin ]; then
  [ -n "$bin" ] && export ENSEMBLE_REAL_BIN="$bin"   # each stand-in process also runs the real `ensemble doctor`
  bin="$repo/tests/slurm/standin-ensemble.sh"
  config="$work/standin.yaml"
  printf 'items: 7\nseconds_per_item: 1\noutput:\n  path: %s/unused\n' "$work" >"$config"
fi
[ -n "$bin" ] || { say "no ensemble executable: give --bin or ENSEMBLE_BIN"; exit 1; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
[ -x "$bin" ] || { say "$bin is not executable"; exit 1; }

# Without a config: a tiny real campaign made with the CLI — a 16×32 world (12 days from 2000-01-01, all of it in
# valid/; train/ links the same year: the checkpoints only need to exist, not to be good) and two 1-layer
# checkpoints; 2 checkpoints × 2 initial times × 2 pair blocks = 8 work items.
make_campaign() {
  local d="$work/campaign" k
  mkdir -p "$d"
  sed -e 's/^nlat:.*/nlat: 16/' -e 's/^nlon:.*/nlon: 32/' -e 's/^lmax:.*/lmax: 11/' -e 's/^mmax:.*/mmax: 11/' \
      -e 's/^dt:.*/dt: 1800/' -e 's/^spinup_days:.*/spinup_days: 2/' -e 's/^days:.*/days: 12/' \
      -e 's/^start:.*/start: 2000-01-01T00:00:00Z/' -e 's/^  stirring_lmin:.*/  stirring_lmin: 4/' \
      -e 's/^  stirring_lmax:.*/  stirring_lmax: 9/' "$repo/configs/world-small.yaml" >"$d/world.yaml"
  "$bin" world simulate --config "$d/world.yaml" --output "$d/world" --validation-from-year 2000 >"$d/world.log" 2>&1 \
    || { tail -20 "$d/world.log" >&2; return 1; }
  mkdir -p "$d/world/train" && ln -sf ../valid/2000.h5 "$d/world/train/2000.h5"
  for k in 0 1; do
    "$bin" train --config "$repo/configs/train-small.yaml" --data "$d/world" --seed $((k + 1)) --output "$d/ckpt$k" \
      --device cpu model.embed_dim=8 model.num_layers=1 "training.stages=[{epochs: 1, rollout_steps: 1, learning_rate: 3.0e-3}]" \
      training.steps_per_epoch=2 training.validation_samples=2 training.batch_size=2 >"$d/train$k.log" 2>&1 \
      || { tail -20 "$d/train$k.log" >&2; return 1; }
  done
  cat >"$d/run.yaml" <<EOF
name: slurm-test
seed: 11
models: ['$d/ckpt0/package', '$d/ckpt1/package']
initial_conditions:
  path: '$d/world/valid'
  times: ['2000-01-05T00:00:00', '2000-01-06T00:00:00']
steps: 4
members: {pairs: 2, control: true}
pairs_per_item: 1
batch_size: 2
device: cpu
perturbation:
  method: gaussian
  amplitudes: {z: 5.0, u: 0.5, v: 0.5}
output: {path: '$work/unused', format: zarr, variables: [z, u]}
EOF
  echo "$d/run.yaml"
}

export ENSEMBLE_SLURM_DIR="$work/cluster"
cleanup() {
  local rc=$?
  "$cluster" stop || true
  if [ "${ENSEMBLE_SLURM_KEEP_WORK:-0}" = 1 ] || [ "$rc" != 0 ]; then say "work folder kept: $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'say "FAIL: unexpected error at line $LINENO (exit $?)"' ERR
trap 'exit 130' INT TERM

# This test may itself run inside a SLURM job (or an MPI launcher): the reference run must be one process.
for v in $(compgen -e | grep -E '^(SLURM_|OMPI_COMM_WORLD_)|^(RANK|WORLD_SIZE|LOCAL_RANK)$' || true); do unset "$v"; done

rc=0; "$cluster" start || rc=$?
if [ "$rc" = 3 ]; then echo "SKIP: the Debian packages slurmctld, slurmd and slurm-client cannot be installed here"; trap - EXIT; rm -rf "$work"; exit 0; fi
[ "$rc" = 0 ] || { say "could not start the local cluster"; exit 1; }
eval "$("$cluster" env)"
say "cluster up after $(elapsed); work folder $work; ensemble $bin"
# (After the cluster: where SLURM cannot be installed the test skips before spending time on the campaign.)
if [ -z "$config" ]; then
  say "no run config given: making a tiny campaign with $bin ..."
  config="$(make_campaign)" || { say "could not make the tiny campaign"; exit 1; }
  say "tiny campaign ready after $(elapsed): $config"
fi
config="$(cd "$(dirname "$config")" && pwd)/$(basename "$config")"
[ -f "$config" ] || { say "$config not found"; exit 1; }
say "config $config"

passed=0 failed=0
pass() { passed=$((passed + 1)); say "PASS $*"; }
fail() { failed=$((failed + 1)); say "FAIL $*"; }

job_states() { scontrol show job -o "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort -u | tr '\n' ' '; }
job_reason() { scontrol show job -o "$1" 2>/dev/null | grep -o 'Reason=[A-Za-z_]*' | cut -d= -f2 | sort -u | tr '\n' ' '; }
# Waits until every record of job $1 (all elements of an array) has ended; prints the final states.
wait_job() {
  local job=$1 deadline=$(( $(date +%s) + timeout_s )) states
  while :; do
    states="$(job_states "$job")"
    if [ -n "$states" ] && ! grep -qE 'PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|RESIZING|SUSPENDED' <<<"$states"; then
      echo "$states"; return 0
    fi
    if grep -q PENDING <<<"$states" && grep -q DependencyNeverSatisfied <<<"$(job_reason "$job")"; then
      echo "DEPENDENCY_NEVER_SATISFIED"; return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "TIMEOUT($states)"; return 0; fi
    sleep 1
  done
}
show_logs() { local f; for f in "$work"/*.out; do [ -f "$f" ] && { echo "----- $f" >&2; tail -40 "$f" >&2; }; done; return 0; }

# Byte-for-byte comparison of what the runs produced: statistics/ and the fields store (run.json, state/ and
# summary.json hold ranks and timings and differ legitimately).
compare_runs() {
  local ref=$1 got=$2 what=$3 item n=0 bad=0 stray
  for item in statistics fields.zarr fields.nc; do
    [ -e "$ref/$item" ] || [ -e "$got/$item" ] || continue
    if [ ! -e "$ref/$item" ] || [ ! -e "$got/$item" ]; then say "$what: $item exists in only one of $ref, $got"; bad=1; continue; fi
    # Temp files of a killed writer (renamed into place only when complete) are not results.
    if ! diff -r -q -x '*.tmp' -x '*.tmp.*' "$ref/$item" "$got/$item" >&2; then bad=1; fi
    n=$(( n + $(find "$ref/$item" -type f ! -name '*.tmp' ! -name '*.tmp.*' | wc -l) ))
    stray="$(find "$got/$item" -type f \( -name '*.tmp' -o -name '*.tmp.*' \) | head -3)"
    [ -z "$stray" ] || say "$what: note: temp files left by a killed process (ignored): $(echo $stray)"
  done
  [ "$n" -gt 0 ] || { say "$what: no statistics or fields files to compare in $ref"; bad=1; }
  if [ "$bad" = 0 ]; then pass "$what: $n files identical to the single-process run"; else fail "$what: differs from the single-process run"; fi
}

cd "$work"

# 1. The single-process reference.
say "single-process run ..."
if "$bin" run --config "$config" "output.path=$work/single" >"$work/single-run.out" 2>&1 \
   && "$bin" merge --input "$work/single" >"$work/single-merge.out" 2>&1; then
  pass "single-process run and merge ($(elapsed))"
else
  fail "single-process run or merge"; tail -40 "$work"/single-*.out >&2; exit 1
fi

# 2. and 3. Two srun tasks, and a 2-element job array, each with its merge job.
for mode in tasks array; do
  flag="--$mode"; partition=$([ "$mode" = tasks ] && echo tasks || echo arrays)
  ids="$(ENSEMBLE_RUN_ARGS="output.path=$work/$mode" "$submit" "$config" "$flag" 2 --bin "$bin" \
        --run-dir "$work/$mode" --partition "$partition")" || { fail "$mode: submission"; continue; }
  run_job="$(awk '$1 == "run" { print $2 }' <<<"$ids")"; merge_job="$(awk '$1 == "merge" { print $2 }' <<<"$ids")"
  say "$mode: run job $run_job, merge job $merge_job"
  run_state="$(wait_job "$run_job")"; merge_state="$(wait_job "$merge_job")"
  if [ "$run_state" = "COMPLETED " ] && [ "$merge_state" = "COMPLETED " ]; then
    pass "$mode: run job $run_job and merge job $merge_job completed ($(elapsed))"
    compare_runs "$work/single" "$work/$mode" "$mode"
  else
    fail "$mode: run job $run_job $run_state, merge job $merge_job $merge_state"; show_logs
  fi
done

# 4. Kill rank 1 of 2 mid-run, resubmit only rank 1, merge.
say "kill and resume ..."
ids="$(ENSEMBLE_RUN_ARGS="output.path=$work/killed" "$submit" "$config" --tasks 2 --no-merge --bin "$bin" --partition tasks)"
job="$(awk '$1 == "run" { print $2 }' <<<"$ids")"
out="$work/ensemble-run-$job.out"
deadline=$(( $(date +%s) + timeout_s )); pid=""
while [ -z "$pid" ] && [ "$(date +%s)" -lt "$deadline" ]; do
  # The task wrapper logs its pid, then execs the engine in that same process (srun --label prefixes "1: ").
  pid="$( { sed -n 's/^ *1: ensemble-task: .* pid \([0-9]*\):.*/\1/p' "$out" 2>/dev/null || true; } | head -1)"
  [ -n "$pid" ] || sleep 0.2
done
# Rank 1 of 2 owns items [⌈N/2⌉, N) (N from run.json): kill it once it has finished at least one of them, so
# the kill lands mid-run, between items or inside one.
rank1_done() {
  local n per k c=0
  n="$( { grep -o '"items": *[0-9]*' "$work/killed/run.json" 2>/dev/null || true; } | grep -o '[0-9]*$' || true)"
  [ -n "$n" ] || { echo "0 ?"; return; }
  per=$(( (n + 1) / 2 ))
  for (( k = per; k < n; k++ )); do [ -e "$(printf '%s/killed/state/item_%06d.done' "$work" "$k")" ] && c=$((c + 1)); done
  echo "$c $(( n - per ))"
}
killed=0 done_items=0 total_items="?"
if [ -n "$pid" ]; then
  while [ "$(date +%s)" -lt "$deadline" ] && [ -d "/proc/$pid" ]; do
    read -r done_items total_items < <(rank1_done)
    [ "$done_items" -ge 1 ] && break
    sleep 0.1
  done
  # Only if it is still rank 1 of this job (its environment says so) and still running.
  if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "SLURM_JOB_ID=$job" \
     && tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "SLURM_PROCID=1"; then
    kill -KILL "$pid" && killed=1
    read -r done_items total_items < <(rank1_done)
    say "killed rank 1 (pid $pid) of job $job with $done_items of its $total_items items done"
    [ "$done_items" != "$total_items" ] || { say "rank 1 had already finished all its items"; killed=0; }
  fi
fi
state="$(wait_job "$job")"
if [ "$killed" = 1 ] && grep -qE 'FAILED|CANCELLED' <<<"$state"; then
  pass "kill: rank 1 of job $job killed mid-run, job ended $state"
  # The campaign is not complete: merging now must fail.
  if "$bin" merge --input "$work/killed" >"$work/killed-early-merge.out" 2>&1; then
    fail "kill: merging the incomplete run succeeded"
  else
    pass "kill: merge of the incomplete run refused ($(tail -1 "$work/killed-early-merge.out"))"
  fi
  ids="$(ENSEMBLE_RUN_ARGS="output.path=$work/killed" "$submit" "$config" --tasks 2 --only 1 --bin "$bin" \
        --run-dir "$work/killed" --partition tasks)"
  rerun_job="$(awk '$1 == "run" { print $2 }' <<<"$ids")"; merge_job="$(awk '$1 == "merge" { print $2 }' <<<"$ids")"
  rerun_state="$(wait_job "$rerun_job")"; merge_state="$(wait_job "$merge_job")"
  if [ "$rerun_state" = "COMPLETED " ] && [ "$merge_state" = "COMPLETED " ]; then
    pass "resume: rank 1 alone (job $rerun_job) and merge (job $merge_job) completed ($(elapsed))"
    grep -q '^0: ensemble-task: rank 1 of 2' "$work/ensemble-run-$rerun_job.out" \
      && pass "resume: the re-run task ran as rank 1 of 2" || fail "resume: the re-run task did not run as rank 1 of 2"
    # It repeated only what was unfinished: the runner reports "N work item(s) run, K already done" (K ≥ 1 here).
    grep -qE '[1-9][0-9]* already done|already done, skipped' "$work/ensemble-run-$rerun_job.out" \
      && pass "resume: the item finished before the kill was skipped" || fail "resume: no finished item was skipped"
    compare_runs "$work/single" "$work/killed" "kill and resume"
  else
    fail "resume: rerun job $rerun_job $rerun_state, merge job $merge_job $merge_state"; show_logs
  fi
else
  fail "kill: could not kill rank 1 mid-run (pid '${pid:-none}', job $job ended $state); a bigger campaign helps"
  show_logs
fi

say "done in $(elapsed)"
echo "slurm: $passed passed, $failed failed"
if [ "$failed" != 0 ]; then exit 1; fi
