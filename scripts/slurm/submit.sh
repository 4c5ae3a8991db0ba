#!/usr/bin/env bash
# Submit a sharded ensemble campaign to SLURM and chain its merge job.
#
#   scripts/slurm/submit.sh CONFIG (--tasks N | --array N[%K]) [options] [-- sbatch arguments for the run job]
#
#   --tasks N            one job with N srun tasks (ensemble-tasks.sbatch); rank = SLURM_PROCID
#   --array N[%K]        an N-element job array (ensemble-array.sbatch), at most K running at once;
#                        rank = SLURM_ARRAY_TASK_ID
#   --only K[,K...]      re-run only these ranks of the N (after a failure); finished items are skipped anyway
#   --gpus-per-task G    G GPUs per rank (GPU nodes: 1); default 0 (CPU)
#   --cpus-per-task C    CPU cores per rank (default: the cluster's default, 1)
#   --mem-per-cpu MB     memory per core (default: the cluster's DefMemPerCPU)
#   --partition P        partition of the run job (default: the cluster's default)
#   --merge-partition P  partition of the merge job (default: as --partition)
#   --time T             time limit of the run job (sbatch format, e.g. 1:30:00)
#   --run-dir DIR        the run directory to merge (default: output.path read from CONFIG)
#   --no-merge           do not submit the merge job
#   --dry-run            print the sbatch commands instead of running them
#   --bin PATH           the ensemble executable (default: $ENSEMBLE_BIN, else `ensemble` on PATH)
#
# Prints `run <job id>` and `merge <job id>` (one per line) on stdout. Jobs run in the current directory, so a
# relative output.path means the same folder for the run and the merge. Extra `ensemble run` arguments (config
# overrides key=value) go in ENSEMBLE_RUN_ARGS.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
die() { echo "submit: $*" >&2; exit 2; }

[ $# -ge 1 ] || usage
config="$1"; shift
[ "$config" = -h ] || [ "$config" = --help ] && usage
[ -f "$config" ] || die "config $config not found"
config="$(cd "$(dirname "$config")" && pwd)/$(basename "$config")"

mode="" count="" only="" gpus=0 cpus="" mem="" partition="" merge_partition="" time_limit="" run_dir=""
merge=1 dry=0 bin="${ENSEMBLE_BIN:-ensemble}"
while [ $# -gt 0 ]; do
  case "$1" in
    --tasks) mode=tasks; count="${2:?--tasks needs N}"; shift 2 ;;
    --array) mode=array; count="${2:?--array needs N}"; shift 2 ;;
    --only) only="${2:?--only needs ranks}"; shift 2 ;;
    --gpus-per-task) gpus="${2:?}"; shift 2 ;;
    --cpus-per-task) cpus="${2:?}"; shift 2 ;;
    --mem-per-cpu) mem="${2:?}"; shift 2 ;;
    --partition) partition="${2:?}"; shift 2 ;;
    --merge-partition) merge_partition="${2:?}"; shift 2 ;;
    --time) time_limit="${2:?}"; shift 2 ;;
    --run-dir) run_dir="${2:?}"; shift 2 ;;
    --no-merge) merge=0; shift ;;
    --dry-run) dry=1; shift ;;
    --bin) bin="${2:?}"; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[ -n "$mode" ] || die "give --tasks N or --array N"
limit=""
if [ "$mode" = array ] && [[ "$count" == *%* ]]; then limit="%${count#*%}"; count="${count%%%*}"; fi
[[ "$count" =~ ^[1-9][0-9]*$ ]] || die "the number of ranks must be a positive integer, got '$count'"
if [ -n "$only" ]; then
  [[ "$only" =~ ^[0-9]+(,[0-9]+)*$ ]] || die "--only takes a comma list of ranks, got '$only'"
  for r in ${only//,/ }; do [ "$r" -lt "$count" ] || die "--only rank $r is outside 0 … $((count - 1))"; done
fi
[[ "$gpus" =~ ^[0-9]+$ ]] || die "--gpus-per-task must be an integer"

# The run directory the merge reads: output.path of the config (a two-level YAML block) unless given.
if [ -z "$run_dir" ] && [ "$merge" = 1 ]; then
  run_dir="$(awk '
    /^output:[[:space:]]*(#.*)?$/ { inside = 1; next }
    inside && /^[^[:space:]#]/ { inside = 0 }
    inside && /^[[:space:]]+path:/ { sub(/^[[:space:]]+path:[[:space:]]*/, ""); sub(/[[:space:]]+#.*$/, "");
                                      gsub(/^["'\'']|["'\'']$/, ""); print; exit }' "$config")"
  [ -n "$run_dir" ] || die "could not read output.path from $config: give --run-dir"
fi
if [ "$bin" != ensemble ] || ! command -v ensemble >/dev/null; then
  [ -x "$bin" ] || command -v "$bin" >/dev/null || die "ensemble executable '$bin' not found (--bin or ENSEMBLE_BIN)"
fi

export ENSEMBLE_CONFIG="$config" ENSEMBLE_BIN="$bin" ENSEMBLE_SLURM_SCRIPTS="$here"
unset ENSEMBLE_RANKS ENSEMBLE_WORLD_SIZE
run=(sbatch --parsable)
[ -n "$partition" ] && run+=(--partition="$partition")
[ -n "$time_limit" ] && run+=(--time="$time_limit")
per_rank=()
[ -n "$cpus" ] && per_rank+=(--cpus-per-task="$cpus")
[ -n "$mem" ] && per_rank+=(--mem-per-cpu="$mem")
if [ "$mode" = tasks ]; then
  ranks="$count"
  if [ -n "$only" ]; then
    ranks=$(( $(tr -cd , <<<"$only" | wc -c) + 1 ))
    export ENSEMBLE_RANKS="$only" ENSEMBLE_WORLD_SIZE="$count"
  fi
  run+=(--ntasks="$ranks" "${per_rank[@]}")
  [ "$gpus" -gt 0 ] && run+=(--gpus-per-task="$gpus")
  run+=("$@" "$here/ensemble-tasks.sbatch")
else
  if [ -n "$only" ]; then
    run+=(--array="$only$limit"); export ENSEMBLE_WORLD_SIZE="$count"
  else
    run+=(--array="0-$((count - 1))$limit")
  fi
  run+=("${per_rank[@]}")
  [ "$gpus" -gt 0 ] && run+=(--gpus="$gpus")
  run+=("$@" "$here/ensemble-array.sbatch")
fi

if [ "$dry" = 1 ]; then
  echo "ENSEMBLE_CONFIG=$ENSEMBLE_CONFIG ENSEMBLE_BIN=$ENSEMBLE_BIN ${ENSEMBLE_RANKS:+ENSEMBLE_RANKS=$ENSEMBLE_RANKS }${ENSEMBLE_WORLD_SIZE:+ENSEMBLE_WORLD_SIZE=$ENSEMBLE_WORLD_SIZE }${run[*]}"
  [ "$merge" = 1 ] && echo "ENSEMBLE_RUN_DIR=$run_dir sbatch --parsable --dependency=afterok:<run> $here/ensemble-merge.sbatch"
  exit 0
fi
job="$("${run[@]}")"
job="${job%%;*}"    # --parsable prints "id" or "id;cluster"
echo "run $job"
if [ "$merge" = 1 ]; then
  mp="${merge_partition:-$partition}"
  export ENSEMBLE_RUN_DIR="$run_dir"
  mjob="$(sbatch --parsable --dependency="afterok:$job" ${mp:+--partition="$mp"} "$here/ensemble-merge.sbatch")"
  echo "merge ${mjob%%;*}"
fi
