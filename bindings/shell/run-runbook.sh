#!/usr/bin/env bash
# run-runbook.sh — start a runbook and drive it to the end the way an orchestrator would: one `ferry-step` per
# tick, sleeping until the run's next wake-up between ticks, approving the gates you name when they are reached.
# It is the cron loop of the README compressed into one process, and what the test suite runs.
#
# Usage: run-runbook.sh WORKFLOW.yaml INPUTS.json [--approve GATE[=PAYLOAD_JSON]]...
# Environment: as ferry-step (FERRY, FERRY_CONFIG, FERRY_BUDGET, FERRY_SECRET_<NAME>), plus FERRY_MAX_TICKS
# (default 200). Exit code: ferry-step's last one (0 succeeded, 1 failed, 4 a gate nobody approved, 5 attention).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
FERRY=${FERRY:-ferry}
workflow=${1:?usage: run-runbook.sh WORKFLOW INPUTS.json [--approve GATE[=PAYLOAD]]...}
inputs=${2:?usage: run-runbook.sh WORKFLOW INPUTS.json [--approve GATE[=PAYLOAD]]...}
shift 2
declare -A approve=()
while [ $# -gt 0 ]; do
  case $1 in
    --approve) spec=${2:?--approve needs GATE[=PAYLOAD]}; approve[${spec%%=*}]=$([[ $spec == *=* ]] && echo "${spec#*=}" || echo null); shift 2 ;;
    *) echo "run-runbook.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
: "${FERRY_CONFIG:?set FERRY_CONFIG to the engine config file}"

secret_args=()
# Secrets go by variable name (--secret-env), so their values never appear in argv (ps, /proc/PID/cmdline).
while read -r name; do
  secret=${name#FERRY_SECRET_}
  secret_args+=(--secret-env "$(printf '%s' "$secret" | tr '[:upper:]' '[:lower:]')=$name")
done < <(compgen -e | grep '^FERRY_SECRET_' || true)

# `ferry start` records the run (exit 3: it has work to do) and prints its status.
started=$("$FERRY" start "$workflow" --config "$FERRY_CONFIG" --inputs "$inputs" "${secret_args[@]}")
code=$?
if [ $code -ne 3 ]; then echo "run-runbook.sh: ferry start exited $code" >&2; printf '%s\n' "$started"; exit $code; fi
run_id=$(printf '%s' "$started" | "$FERRY" query run_id | tr -d '"')
echo "run-runbook.sh: started $run_id" >&2

for ((tick = 1; tick <= ${FERRY_MAX_TICKS:-200}; tick++)); do
  status=$("$here/ferry-step" "$run_id")
  code=$?
  case $code in
    3)  # waiting: sleep until next_wake_at (a cron job would simply run again on its next minute)
        wake=$(printf '%s' "$status" | "$FERRY" query next_wake_at)
        now=$(date +%s.%N)
        delay=$(awk -v w="$wake" -v n="$now" 'BEGIN { d = w - n; if (d < 0) d = 0; if (d > 60) d = 60; printf "%.3f", d }')
        sleep "$delay" ;;
    4)  gate=$(printf '%s' "$status" | "$FERRY" query waiting_on.gate | tr -d '"')
        if [ -z "${approve[$gate]+set}" ]; then printf '%s\n' "$status"; exit 4; fi
        echo "run-runbook.sh: approving gate '$gate'" >&2
        # `ferry signal` exits with the run's state: 4 while the gate has not consumed the signal yet.
        "$FERRY" signal "$run_id" "$gate" --config "$FERRY_CONFIG" --payload "${approve[$gate]}" > /dev/null
        code=$?
        if [ $code -ne 4 ] && [ $code -ne 3 ] && [ $code -ne 0 ]; then exit $code; fi ;;
    *)  printf '%s\n' "$status"; exit $code ;;
  esac
done
echo "run-runbook.sh: $run_id still not done after $FERRY_MAX_TICKS ticks" >&2
exit 3
