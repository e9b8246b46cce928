#!/usr/bin/env bash
# Runs a command with N processes beside it that each keep a core busy, the way
# a shared CI machine is loaded, and exits with the command's status. The busy
# processes end with the command, and on their own if this script is killed:
# each one spins on checking that the script is still there.
set -uo pipefail
if [ "$#" -lt 2 ] || ! [[ "$1" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/busy.sh N command [args...]" >&2
  exit 2
fi
n=$1
shift
pids=()
stop() {
  if [ "${#pids[@]}" -gt 0 ]; then
    kill "${pids[@]}" 2>/dev/null
    wait "${pids[@]}" 2>/dev/null
  fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
for ((i = 0; i < n; i++)); do
  sh -c 'while kill -0 "$0" 2>/dev/null; do :; done' "$$" &
  pids+=("$!")
done
echo "busy.sh: $n busy processes alongside: $*" >&2
"$@"
status=$?
exit "$status"
