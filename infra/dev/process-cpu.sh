# Sourced by infra/dev/ghz.sh: the CPU (utime + stime, in clock ticks) that a group of processes used
# during a run, from /proc. The group is read again at the end of the run, not once at the start: a
# node:cluster worker replaced mid-run would otherwise be counted for the part of the run it lived (the
# old one) or not at all (the new one). A process that exited during the run is reported, since what it
# used after the first reading is lost with it: the group's figure is then a lower bound.
# ORRERY_PROC_ROOT stands in for /proc in the tests (apps/cli/src/ghz-script.test.ts).
PROC_ROOT="${ORRERY_PROC_ROOT:-/proc}"

# "pid ticks" of each pid given that is running.
cpu_readings() {
  local pid
  for pid in "$@"; do
    [[ -r "${PROC_ROOT}/${pid}/stat" ]] && echo "${pid} $(sed 's/.*) //' "${PROC_ROOT}/${pid}/stat" | awk '{ print $12 + $13 }')"
  done
  return 0
}

# "ticks started exited" between two files of cpu_readings: a process in both counts what it used in
# between, one only in the second (started during the run) all it used, one only in the first (exited)
# nothing more, and the number of each of those two.
cpu_used_between() {
  awk 'NR == FNR { before[$1] = $2; next }
       { seen[$1] = 1; if ($1 in before) used += $2 - before[$1]; else { used += $2; started++ } }
       END { for (pid in before) if (!(pid in seen)) exited++; printf "%d %d %d\n", used, started, exited }' "$1" "$2"
}

# Tells on stderr that group NAME's processes changed during a run: note_changed_processes NAME STARTED EXITED.
note_changed_processes() {
  local name="$1" started="$2" exited="$3"
  if [[ "${started}" -gt 0 || "${exited}" -gt 0 ]]; then
    echo "${name}: ${started} process(es) started during the run (counted from their start) and ${exited} exited (what they used after the run began is lost with them: ${name}'s CPU is a lower bound)" >&2
  fi
}
