#!/usr/bin/env bash
# One process of a sharded ensemble campaign: runs `ensemble run --config $ENSEMBLE_CONFIG` in an srun task
# (ensemble-tasks.sbatch) or a job-array element (ensemble-array.sbatch). The runner resolves its own rank:
# RANK/WORLD_SIZE, else SLURM_PROCID/SLURM_NTASKS, else the array (SLURM_ARRAY_TASK_ID − MIN of COUNT); it
# skips work items another (or an earlier, killed) process already finished, so re-running this is safe.
#
# Environment (exported by submit.sh; sbatch passes the submitter's environment on):
#   ENSEMBLE_CONFIG     run config YAML (required)
#   ENSEMBLE_BIN        the ensemble executable (default: `ensemble` on PATH)
#   ENSEMBLE_RUN_ARGS   extra arguments for `ensemble run`, split on blanks (e.g. config overrides key=value)
#   ENSEMBLE_RANKS      re-running chosen ranks only: comma list; task i (SLURM_PROCID) becomes RANK=<i-th entry>
#   ENSEMBLE_WORLD_SIZE with ENSEMBLE_RANKS (or an array re-run): the campaign's original number of ranks
set -euo pipefail

: "${ENSEMBLE_CONFIG:?ENSEMBLE_CONFIG (the run config YAML) is not set}"
bin="${ENSEMBLE_BIN:-ensemble}"

if [ -n "${ENSEMBLE_RANKS:-}" ]; then
  : "${ENSEMBLE_WORLD_SIZE:?ENSEMBLE_RANKS needs ENSEMBLE_WORLD_SIZE (the original number of ranks)}"
  IFS=, read -r -a ranks <<<"$ENSEMBLE_RANKS"
  i="${SLURM_PROCID:-0}"
  [ "$i" -lt "${#ranks[@]}" ] || { echo "ensemble-task: task $i has no entry in ENSEMBLE_RANKS=$ENSEMBLE_RANKS" >&2; exit 2; }
  export RANK="${ranks[$i]}" WORLD_SIZE="$ENSEMBLE_WORLD_SIZE"
fi

args=(run --config "$ENSEMBLE_CONFIG")
# The device is the config's (`device: auto` = cuda:(SLURM_LOCALID mod visible GPUs), so a task that Slurm bound
# to one GPU with --gpus-per-task=1 uses it as cuda:0). It is not overridden here: the config, device included,
# is hashed into run.json, and every rank and every re-run must present the same one.
# libtorch's CPU threads: the cores Slurm gave this task, not every core of the node (shared by the node's tasks).
if [ -n "${SLURM_CPUS_PER_TASK:-}" ] && [ -z "${OMP_NUM_THREADS:-}" ]; then export OMP_NUM_THREADS="$SLURM_CPUS_PER_TASK"; fi
extra=()
[ -n "${ENSEMBLE_RUN_ARGS:-}" ] && read -r -a extra <<<"$ENSEMBLE_RUN_ARGS"

if [ -n "${RANK:-}" ]; then where="rank $RANK of ${WORLD_SIZE:-?} (RANK/WORLD_SIZE)"
elif [ -n "${SLURM_ARRAY_TASK_ID:-}" ] && [ -z "${SLURM_NTASKS:-}" ]; then
  where="array element $SLURM_ARRAY_TASK_ID of ${SLURM_ARRAY_TASK_COUNT:-?} (job ${SLURM_ARRAY_JOB_ID:-?})"
else where="task ${SLURM_PROCID:-0} of ${SLURM_NTASKS:-1}"; fi
echo "ensemble-task: $where, job ${SLURM_JOB_ID:-none}, host $(hostname -s), local id ${SLURM_LOCALID:-0}," \
     "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-unset}, pid $$: $bin ${args[*]} ${extra[*]}" >&2
exec "$bin" "${args[@]}" "${extra[@]}"
