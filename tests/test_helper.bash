# tests/test_helper.bash - loaded by every Bats file: `load test_helper`.
#
# - bats-support and bats-assert (Debian: bats-assert, bats-support) via bats_load_library;
# - every lab program runs under `timeout -k` (Bats 1.8 does not kill a test when
#   BATS_TEST_TIMEOUT runs out), so nothing can hang the suite;
# - every lab program run (lab, run_readme_commands, signal_on_line) may write at most
#   LAB_OUTPUT_CAP bytes (default 4 MiB) on stdout and on stderr: a program that prints without end
#   is stopped and the run fails with "output cap of N bytes exceeded" (status 250);
# - every test exports its own LAB_TEST_TOKEN, which every process it starts inherits: the leftover
#   checks (no_lab_processes, settle_lab_processes) look only at processes that carry it;
# - every test has a TMPDIR of its own, so ipc_snapshot sees only the temp entries of its own runs;
# - a fast time scale (LAB_SECOND_MS), a fixed seed, no colours.
bats_require_minimum_version 1.5.0
# Bats loads this file again in every test's own process, so it costs once per test: the libraries'
# load.bash runs `$(dirname ...)` (a subshell and a process) for each of its fifteen files, about
# 40 ms a test, a third of the suite's Bats time.  Source their files directly (functions only,
# no process), and fall back on bats_load_library where the layout is not the Debian one.
_lab_load_library() {
    local d f
    for d in ${BATS_LIB_PATH//:/ } /usr/lib/bats /usr/local/lib/bats "$HOME/.local/lib/bats"; do
        [ -f "$d/$1/load.bash" ] && [ -d "$d/$1/src" ] || continue
        for f in "$d/$1"/src/*.bash; do
            # shellcheck disable=SC1090
            source "$f"
        done
        return 0
    done
    bats_load_library "$1"
}
_lab_load_library bats-support
_lab_load_library bats-assert

ROOT="${BATS_TEST_DIRNAME%/tests}"   # absolute (Bats makes it so); no subshell
BUILD="${LAB_BUILD:-$ROOT/build}"
# The ThreadSanitizer build (`make tsan`), for the graded race-detector checks.
TSAN_BUILD="${LAB_TSAN_BUILD:-$ROOT/build/tsan}"
export LAB_SECOND_MS="${TEST_SECOND_MS:-10}"
export LAB_SEED=1
export NO_COLOR=1
unset LAB_PORT
# Seconds a single program run may take before it is killed (and the test fails).
LAB_TIMEOUT="${LAB_TIMEOUT:-30}"
# Bytes a single program run may write on stdout, and on stderr, before it is stopped.
LAB_OUTPUT_CAP="${LAB_OUTPUT_CAP:-4194304}"
# The status of a run stopped by the cap (no lab exits with it).
LAB_CAP_STATUS=250
# A TMPDIR of this test's own (of this file's own in setup_file): the leftover checks compare the
# lab's temp entries before and after a run, and a lab program that another Bats file (or another
# checkout's suite) runs at the same moment makes entries of the same lab in a shared TMPDIR.
# Bats removes the directory after the test.
_lab_tmp="${BATS_TEST_TMPDIR:-${BATS_FILE_TMPDIR:-}}"
if [ -n "$_lab_tmp" ]; then
    export TMPDIR="$_lab_tmp/tmp"
    [ -d "$TMPDIR" ] || mkdir -p "$TMPDIR"
fi
unset _lab_tmp
# This test's mark on the processes it starts (a new one in every test: Bats loads this file in
# each test's own process).
if [ -n "${BATS_TEST_NUMBER:-}" ]; then
    export LAB_TEST_TOKEN="${BATS_ROOT_PID:-0}.${BATS_TEST_NUMBER}.$$.$RANDOM"
fi

# _cap_stream CAP COUNTFILE - copy stdin to stdout, at most CAP+1 bytes; then stop reading, so that
# a writer that goes on gets SIGPIPE (or EPIPE).  The number of bytes copied goes to COUNTFILE.
_cap_stream() {
    head -c "$(($1 + 1))" | LC_ALL=C dd bs=65536 2>"$2"
}

# _cap_count COUNTFILE - REPLY = the number of bytes dd copied (0 if it said nothing).
_cap_count() {
    local line
    REPLY=0
    while IFS= read -r line; do
        if [[ "$line" =~ ^([0-9]+)\ bytes ]]; then REPLY="${BASH_REMATCH[1]}"; return; fi
    done <"$1" 2>/dev/null
}

# capped CMD ARGS... - run CMD with its stdout and its stderr each capped at LAB_OUTPUT_CAP bytes.
# Its exit status is CMD's, or LAB_CAP_STATUS with "output cap of N bytes exceeded" on stderr when
# it wrote more.  When stdout and stderr are one file (`run` without --separate-stderr) they stay
# one stream, in the order CMD wrote them; otherwise they stay apart (`run --separate-stderr`).
capped() {
    local cap="$LAB_OUTPUT_CAP" d rc="" f over="" tmp=""
    # In a test, files of this run beside the test's own (Bats removes that directory): no mktemp,
    # no rm, two processes fewer for each of the suite's thousand runs.
    if [ -n "${BATS_TEST_TMPDIR:-}" ]; then
        d="$BATS_TEST_TMPDIR/capped.$BASHPID.$RANDOM$RANDOM"
    else
        tmp="$(mktemp "${TMPDIR:-/tmp}/capped.XXXXXX")" || return 1
        d="$tmp"
    fi
    if [ /dev/stdout -ef /dev/stderr ]; then
        { "$@" 2>&1; echo "$?" >"$d.rc"; } | _cap_stream "$cap" "$d.out"
    else
        { { "$@" 2>&1 1>&3 3>&-; echo "$?" >"$d.rc"; } | _cap_stream "$cap" "$d.err" >&2; } 3>&1 |
            _cap_stream "$cap" "$d.out"
    fi
    { read -r rc <"$d.rc"; } 2>/dev/null
    for f in out err; do
        [ -f "$d.$f" ] && _cap_count "$d.$f" && [ "$REPLY" -gt "$cap" ] && over+=" std$f"
    done
    [ -z "$tmp" ] || rm -f "$tmp" "$tmp".*
    if [ -n "$over" ]; then
        printf '\noutput cap of %s bytes exceeded (on%s; stopped, status %s): %s\n' "$cap" "$over" "${rc:-?}" "$*" >&2
        return "$LAB_CAP_STATUS"
    fi
    return "${rc:-1}"
}

# lab NN ARGS... - run build/labNN with a bound on its time and on its output: `run lab 01 zombie`.
lab() {
    local n="$1"
    shift
    capped timeout -k 5 "$LAB_TIMEOUT" "$BUILD/lab$n" "$@"
}

# _field KEY [SCENARIO] - REPLY = the value of KEY in the last RESULT line of l<N>.SCENARIO in
# $output (the last RESULT line if no scenario), or empty.  Bash only, no process: tests look up
# about a thousand fields.  Needs LAB (the two-digit lab number) set in the Bats file.
_field() {
    local key="$1" scen="${2:-}" l line="" w n
    local -a words
    [ -z "$scen" ] || n=$((10#$LAB))
    while IFS= read -r l; do
        if [ -n "$scen" ]; then
            [[ "$l" =~ ^RESULT\ l$n\.$scen( |$) ]] && line="$l"
        else
            [[ "$l" == "RESULT "* ]] && line="$l"
        fi
    done <<<"$output"
    REPLY=""
    [ -n "$key" ] || { REPLY="$line"; return 0; }
    read -r -a words <<<"$line"
    for w in "${words[@]}"; do
        if [[ "$w" == "$key="* ]]; then REPLY="${w#"$key="}"; return 0; fi
    done
    return 0
}

# result_line SCENARIO - print the RESULT line of l<N>.SCENARIO from $output (the last one).
result_line() {
    _field "" "$1"
    [ -z "$REPLY" ] || printf '%s\n' "$REPLY"
}

# field KEY [SCENARIO] - the value of KEY in that RESULT line (the last RESULT line if no scenario).
field() {
    _field "$1" "${2:-}"
    [ -z "$REPLY" ] || printf '%s\n' "$REPLY"
}

# assert_field KEY EXPECTED [SCENARIO]
assert_field() {
    _field "$1" "${3:-}"
    if [ "$REPLY" != "$2" ]; then
        printf 'RESULT field %s: expected %s, got "%s"\n' "$1" "$2" "$REPLY" >&2
        printf '%s\n' "$output" | grep '^RESULT' >&2
        return 1
    fi
}

# assert_result SCENARIO - the last stdout line is the RESULT line of that scenario.
assert_result() {
    local n=$((10#$LAB))
    assert_line --index -1 --regexp "^RESULT l$n\.$1( |$)"
}

# assert_scenario_list NAME... - after `run lab NN --list`: exit 0, exactly these scenarios in this
# order (the guided demo's order), each line "name  description".
assert_scenario_list() {
    assert_success
    [ "${#lines[@]}" -eq "$#" ] || { printf 'expected %d scenarios, got %d:\n%s\n' "$#" "${#lines[@]}" "$output" >&2; return 1; }
    local i=0 name
    for name in "$@"; do
        [[ "${lines[$i]}" =~ ^$name\ \ [^\ ] ]] || { printf 'line %d: expected "%s  description", got "%s"\n' "$i" "$name" "${lines[$i]}" >&2; return 1; }
        i=$((i + 1))
    done
}

# assert_usage_error PATTERN - after `run --separate-stderr lab NN ...`: exit 2, nothing on stdout,
# exactly two stderr lines: the error (matching PATTERN) and the hint to --help.
assert_usage_error() {
    if [ "$status" -ne 2 ]; then
        printf 'expected exit 2, got %s\nstdout: %s\nstderr: %s\n' "$status" "$output" "$stderr" >&2
        return 1
    fi
    [ -z "$output" ] || { printf 'stdout should be empty, got: %s\n' "$output" >&2; return 1; }
    [ "${#stderr_lines[@]}" -eq 2 ] || { printf 'expected 2 stderr lines, got:\n%s\n' "$stderr" >&2; return 1; }
    [[ "${stderr_lines[0]}" =~ $1 ]] || { printf 'stderr line 1 does not match /%s/: %s\n' "$1" "${stderr_lines[0]}" >&2; return 1; }
    [[ "${stderr_lines[1]}" == *"--help"* ]] || { printf 'no hint to --help: %s\n' "${stderr_lines[1]}" >&2; return 1; }
}

# readme_commands DIR - the commands shown in DIR/README.md: lines "$ command" inside fenced blocks.
readme_commands() {
    awk '/^```/{inblock=!inblock; next} inblock && /^\$ /{sub(/^\$ /,""); print}' "$1/README.md"
}

# run_readme_commands DIR - run every README command from the top of the tree, each under a bound.
# A command ending in "# exit N" must exit N; the others must exit 0.  Long-running commands are
# sped up with the suite's LAB_SECOND_MS unless they set their own.
run_readme_commands() {
    local dir="$1" cmd want count=0
    while IFS= read -r cmd; do
        want=0
        if [[ "$cmd" =~ \#\ exit\ ([0-9]+)[[:space:]]*$ ]]; then want="${BASH_REMATCH[1]}"; fi
        run capped timeout -k 5 120 bash -c "cd '$ROOT' && $cmd"
        if [ "$status" -ne "$want" ]; then
            printf 'README command failed (exit %s, expected %s): %s\n%s\n' "$status" "$want" "$cmd" "$output" >&2
            return 1
        fi
        count=$((count + 1))
    done < <(readme_commands "$dir")
    [ "$count" -gt 0 ] || { echo "no commands found in $dir/README.md" >&2; return 1; }
}

# objects_left PREFIX PID... - the named objects of the runs with these pids that are still there:
# each entry of /dev/shm, /dev/mqueue and TMPDIR whose name holds PREFIX_PID_ (a lab names its
# objects so: /lab03_<pid>_tickets is /dev/shm/sem.lab03_<pid>_tickets).  Scoped by pid, so the
# objects of another copy of the suite, running at the same time, are not this test's leftovers.
objects_left() {
    local prefix="$1" pid
    shift
    for pid in "$@"; do
        ls -d "${TMPDIR:-/tmp}/${prefix}_${pid}_"* /dev/shm/*"${prefix}_${pid}_"* \
            /dev/mqueue/*"${prefix}_${pid}_"* 2>/dev/null
    done
    return 0
}

# ipc_snapshot - the named kernel objects and temp entries of this lab (names carry "labNN",
# LAB=NN set by the Bats file), plus every System V object (they have no names): compare a
# snapshot taken before a run with one taken after it.  Scoped to the lab so that Bats files of
# different labs can run at the same time.
ipc_snapshot() {
    {
        ls /dev/shm 2>/dev/null | grep "lab$LAB" | sed 's/^/shm:/'
        ls /dev/mqueue 2>/dev/null | grep "lab$LAB" | sed 's/^/mq:/'
        ipcs -m 2>/dev/null | awk 'NR>3 && $2 ~ /^[0-9]+$/ {print "sysv-shm:" $2}'
        ipcs -q 2>/dev/null | awk 'NR>3 && $2 ~ /^[0-9]+$/ {print "sysv-msg:" $2}'
        ipcs -s 2>/dev/null | awk 'NR>3 && $2 ~ /^[0-9]+$/ {print "sysv-sem:" $2}'
        ls -d "${TMPDIR:-/tmp}"/lab"$LAB"* 2>/dev/null | sed 's/^/tmp:/'
    } | sort
}

# _has_token PID - the process PID carries this test's LAB_TEST_TOKEN in its environment (so it
# was started, directly or not, by this test).  Without a token (the helper used outside Bats),
# every process counts as this test's.
_has_token() {
    [ -n "${LAB_TEST_TOKEN:-}" ] || return 0
    local e
    local -a env=()
    mapfile -d '' -t env 2>/dev/null </proc/"$1"/environ || return 1
    for e in "${env[@]}"; do
        [ "$e" = "LAB_TEST_TOKEN=$LAB_TEST_TOKEN" ] && return 0
    done
    return 1
}

# no_lab_processes - fails if a process of this lab's program that this test started is still
# running: $BUILD/labNN, or build/labNN started from this tree (as the README commands start it),
# carrying this test's LAB_TEST_TOKEN (another test's run of the same program, say the top README's
# `build/lab02 serial` run by 00-project.bats at the same time, is not this test's leftover).
# Matches the start of the command line only, so a Valgrind run of the same program is not taken
# for a leftover either.
no_lab_processes() {
    local left="" pid line
    while read -r pid line; do
        [ -n "$pid" ] || continue
        if [[ "$line" == build/* ]] && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" != "$ROOT" ]; then
            continue
        fi
        _has_token "$pid" || continue
        left+="$pid $line"$'\n'
    done < <(pgrep -a -f "^($BUILD/|build/)lab$LAB( |\$)" || true)
    [ -z "$left" ] || { printf 'processes left behind:\n%s' "$left" >&2; return 1; }
}

# settle_lab_processes - children of a killed lab are reaped by whoever adopts them (a stopped Unix
# daemon by init), which may take a moment on a loaded machine: wait up to 2.5 s for them to go.
# Call no_lab_processes afterwards; it still fails on anything left.
settle_lab_processes() {
    local _
    for _ in $(seq 1 50); do no_lab_processes 2>/dev/null && return 0; sleep 0.05; done
}

# _over_cap FILE - FILE reached LAB_OUTPUT_CAP bytes (the program writing it was stopped there).
_over_cap() {
    local size
    size="$(stat -c %s "$1" 2>/dev/null)" || return 1
    [ "$size" -ge "$LAB_OUTPUT_CAP" ]
}

# signal_on_line SIG REGEX OUT ARGS... - start the lab with ARGS in the background (stdout and
# stderr to OUT), wait (at most 10 s) for a line matching REGEX, send SIG, and wait (at most 10 s)
# for the lab to end.  Sets sig_status to its exit status.  Waiting for the line, not a fixed
# delay, makes the signal land at the same point of the scenario on a loaded machine too.
# OUT may not grow past LAB_OUTPUT_CAP bytes (a file size limit stops the lab with SIGXFSZ there).
signal_on_line() {
    local sig="$1" regex="$2" out="$3" pid _
    shift 3
    # Emptied here, not by the redirection below (which runs in the child, after the fork): a line
    # of an earlier run into the same OUT must never pass for this run's.  The signal would then
    # come before the lab set its handlers, while the background job still ignores SIGINT.
    : >"$out"
    (
        ulimit -f "$((LAB_OUTPUT_CAP / 1024))"
        exec "$BUILD/lab$LAB" "$@"
    ) >"$out" 2>&1 3>&- &
    pid=$!
    for _ in $(seq 1 200); do grep -Eq -- "$regex" "$out" && break; _over_cap "$out" && break; sleep 0.05; done
    if _over_cap "$out" || ! grep -Eq -- "$regex" "$out"; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        if _over_cap "$out"; then
            printf 'output cap of %s bytes exceeded (lab%s %s): stopped\n' "$LAB_OUTPUT_CAP" "$LAB" "$*" >&2
        else
            printf 'no line /%s/ within 10 s:\n%s\n' "$regex" "$(cat "$out")" >&2
        fi
        return 1
    fi
    kill -s "$sig" "$pid"
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        echo "the lab did not end within 10 s of SIG$sig" >&2
        return 1
    fi
    sig_status=0
    wait "$pid" || sig_status=$?
    if _over_cap "$out"; then
        printf 'output cap of %s bytes exceeded (lab%s %s): stopped\n' "$LAB_OUTPUT_CAP" "$LAB" "$*" >&2
        return 1
    fi
}

# at_least VALUE MIN - VALUE >= MIN as numbers (decimals allowed); says why when not.
at_least() {
    awk -v v="$1" -v m="$2" 'BEGIN { exit !(v != "" && v + 0 >= m + 0) }' ||
        { echo "'$1' is not >= $2" >&2; return 1; }
}

# assert_field_at_least KEY MIN [SCENARIO] - a RESULT field as a number, at least MIN (waited
# times: lower bounds only, never upper ones).
assert_field_at_least() {
    local got
    _field "$1" "${3:-}"
    got="$REPLY"
    at_least "$got" "$2" || { echo "RESULT field $1: expected >= $2, got '$got'" >&2; return 1; }
}

# named_snapshot - the named objects and temp entries of this lab (ipc_snapshot without the System
# V objects, which have no names and may belong to anyone): compare one before a run with one after.
named_snapshot() { ipc_snapshot | grep -v '^sysv-' || true; }

# assert_fields_where KEY=VALUE KEY=VALUE... - among the RESULT lines of $output (several
# scenarios' or several parts' lines), the one whose first pair matches (say algo=FCFS or
# level=counter) has every other pair exactly: `assert_fields_where algo=SJF total_waiting=16`.
assert_fields_where() {
    local sel="$1" line kv got
    shift
    line="$(printf '%s\n' "$output" | grep -E "^RESULT l[0-9]+\.[a-z_0-9]+ (.* )?${sel}( |\$)" | tail -n 1)"
    [ -n "$line" ] || { printf 'no RESULT line with %s\n' "$sel" >&2; return 1; }
    for kv in "$@"; do
        got="$(printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^${kv%%=*}=//p" | head -n 1)"
        [ "$got" = "${kv#*=}" ] || { printf '%s: %s expected %s, got "%s"\n' "$sel" "${kv%%=*}" "${kv#*=}" "$got" >&2; return 1; }
    done
}
