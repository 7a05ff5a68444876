# Step bookkeeping for the GPU-machine scripts (gpu-e2e.sh, gpu-pods.sh), sourced after they set
# T0 (start, ns), BUDGET (s) and `declare -A RESULT NOTE`:
#   step N TITLE; pass [NOTE]; fail NOTE; skip NOTE     the STEP lines of the log and the summary
#   el / left / now_ms                                  seconds since T0, seconds of budget left, ms now
el() { echo $(( ($(date +%s%N) - T0) / 1000000000 )); }
left() { echo $(( BUDGET - $(el) )); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
hdr() { echo; echo "=================== [t=$(el)s] $* ==================="; }
step() { CUR=$1; STEP_T0=$(now_ms); hdr "STEP $1: $2"; }
pass() { RESULT[$CUR]=PASS; NOTE[$CUR]="${1:-} ($(( $(now_ms) - STEP_T0 )) ms)"; echo ">>> STEP $CUR: PASS ${1:-}"; }
fail() { RESULT[$CUR]=FAIL; NOTE[$CUR]="$1"; echo ">>> STEP $CUR: FAIL $1"; }
skip() { RESULT[$CUR]=SKIP; NOTE[$CUR]="$1"; echo ">>> STEP $CUR: SKIP $1"; }
