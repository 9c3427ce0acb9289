# Sourced by the scenario libraries (service, e2e, installer), after `set -euo pipefail`.
#
# A scenario that dies on `set -e` prints no FAIL line of its own: a Wine command that exits
# non-zero inside a helper function ends the script silently. This records every failing command
# with its call stack (ERR trap, inherited by functions through `set -E`) so that the scenario's
# EXIT trap can say which command failed and where.

set -E
SCENARIO_FAILED_COMMANDS=()
SCENARIO_EXPLAINED=0   # set by the libraries' fail functions: the scenario said why it failed

scenario_record_failure() {  # STATUS (the failing command's)
  local i where=""
  for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
    where+="${FUNCNAME[$i]}@${BASH_SOURCE[$i]##*/}:${BASH_LINENO[$((i - 1))]} "
  done
  SCENARIO_FAILED_COMMANDS+=("status $1: ${BASH_COMMAND}  [${where% }]")
  # Commands that fail inside `set +e` regions are recorded too: keep the last few only.
  ((${#SCENARIO_FAILED_COMMANDS[@]} <= 6)) || SCENARIO_FAILED_COMMANDS=("${SCENARIO_FAILED_COMMANDS[@]: -6}")
}
trap 'scenario_record_failure $?' ERR

# scenario_report_failures STATUS: for a scenario that failed (STATUS, its exit status, is not 0)
# without saying why, prints the recorded failing commands to stderr (most recent last). Status 0
# if it printed them. A scenario that passed prints nothing: the commands it expected to fail
# (inside `set +e` or `||`) are recorded too, and are no failure.
scenario_report_failures() {
  (($1 != 0 && !SCENARIO_EXPLAINED && ${#SCENARIO_FAILED_COMMANDS[@]} > 0)) || return 1
  printf '==== commands that failed (most recent last; the last one ended the scenario) ====\n' >&2
  printf '  %s\n' "${SCENARIO_FAILED_COMMANDS[@]}" >&2
}
