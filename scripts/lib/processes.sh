# Sourced by scripts/run: start long-running children and stop them all on Ctrl-C.
#
# Children run in process groups of their own (job control, `set -m`), so a
# terminal's Ctrl-C reaches only this script, which then stops each child with
# one SIGTERM. Without it every child also got the SIGINT: two signals, and
# django-q's qcluster handles the second while stopping from the first
# (AttributeError on `stop_event`, a traceback and, at times, a hung worker).
set -m
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "Stopping…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' INT TERM  # Ctrl-C is how you stop it: not an error

start() {  # command...: run it in the background, stopped by cleanup
  "$@" &
  pids+=($!)
}
