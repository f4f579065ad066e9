# Shared helpers for the scripts (sourced, not run).

# Runs a build command, keeping its full output in .build/logs and showing only the outcome
# (and the last lines of the log when it fails).
build_quietly() {
  mkdir -p .build/logs
  local log=".build/logs/$(echo "$*" | tr -c 'a-zA-Z0-9-' '_').log"
  local start=$SECONDS
  echo "  building: $* (full log: $log)"
  if "$@" >"$log" 2>&1; then
    echo "  built: $* ($((SECONDS - start))s)"
  else
    echo "build failed: $* — last lines of $log:" >&2
    tail -40 "$log" >&2
    return 1
  fi
}
