# tests/test_helper.bash - loaded by every Bats file: `load test_helper`.
#
# - bats-support and bats-assert (Debian: bats-assert, bats-support) via bats_load_library;
# - every lab program runs under `timeout -k` (Bats 1.8 does not kill a test when
#   BATS_TEST_TIMEOUT runs out), so nothing can hang the suite;
# - a fast time scale (LAB_SECOND_MS), a fixed seed, no colours.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
BUILD="${LAB_BUILD:-$ROOT/build}"
# The ThreadSanitizer build (`make tsan`), for the graded race-detector checks.
TSAN_BUILD="${LAB_TSAN_BUILD:-$ROOT/build/tsan}"
export LAB_SECOND_MS="${TEST_SECOND_MS:-10}"
export LAB_SEED=1
export NO_COLOR=1
unset LAB_PORT
# Seconds a single program run may take before it is killed (and the test fails).
LAB_TIMEOUT="${LAB_TIMEOUT:-30}"

# lab NN ARGS... - run build/labNN with a bound: `run lab 01 zombie`.
lab() {
    local n="$1"
    shift
    timeout -k 5 "$LAB_TIMEOUT" "$BUILD/lab$n" "$@"
}

# result_line SCENARIO - print the RESULT line of l<N>.SCENARIO from $output (the last one).
# Needs LAB (the two-digit lab number) set in the Bats file.
result_line() {
    local n=$((10#$LAB))
    printf '%s\n' "$output" | grep -E "^RESULT l$n\.$1( |$)" | tail -n 1
}

# field KEY [SCENARIO] - the value of KEY in that RESULT line (the last RESULT line if no scenario).
field() {
    local line
    if [ -n "${2:-}" ]; then line="$(result_line "$2")"; else line="$(printf '%s\n' "$output" | grep '^RESULT ' | tail -n 1)"; fi
    printf '%s\n' "$line" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# assert_field KEY EXPECTED [SCENARIO]
assert_field() {
    local got
    got="$(field "$1" "${3:-}")"
    if [ "$got" != "$2" ]; then
        printf 'RESULT field %s: expected %s, got "%s"\n' "$1" "$2" "$got" >&2
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
        run timeout -k 5 120 bash -c "cd '$ROOT' && $cmd"
        if [ "$status" -ne "$want" ]; then
            printf 'README command failed (exit %s, expected %s): %s\n%s\n' "$status" "$want" "$cmd" "$output" >&2
            return 1
        fi
        count=$((count + 1))
    done < <(readme_commands "$dir")
    [ "$count" -gt 0 ] || { echo "no commands found in $dir/README.md" >&2; return 1; }
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

# no_lab_processes - fails if a process of this lab's program is still running: $BUILD/labNN, or
# build/labNN started from this tree (as the README commands start it).  Matches the start of the
# command line only, so a Valgrind run of the same program (make test runs memcheck beside the
# Bats files) is not taken for a leftover, nor is another checkout's run.
no_lab_processes() {
    local left="" pid line
    while read -r pid line; do
        [ -n "$pid" ] || continue
        if [[ "$line" == build/* ]] && [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" != "$ROOT" ]; then
            continue
        fi
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

# signal_on_line SIG REGEX OUT ARGS... - start the lab with ARGS in the background (stdout and
# stderr to OUT), wait (at most 10 s) for a line matching REGEX, send SIG, and wait (at most 10 s)
# for the lab to end.  Sets sig_status to its exit status.  Waiting for the line, not a fixed
# delay, makes the signal land at the same point of the scenario on a loaded machine too.
signal_on_line() {
    local sig="$1" regex="$2" out="$3" pid _
    shift 3
    "$BUILD/lab$LAB" "$@" >"$out" 2>&1 3>&- &
    pid=$!
    for _ in $(seq 1 200); do grep -Eq -- "$regex" "$out" && break; sleep 0.05; done
    if ! grep -Eq -- "$regex" "$out"; then
        kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
        printf 'no line /%s/ within 10 s:\n%s\n' "$regex" "$(cat "$out")" >&2
        return 1
    fi
    kill -s "$sig" "$pid"
    for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
        echo "the lab did not end within 10 s of SIG$sig" >&2
        return 1
    fi
    sig_status=0
    wait "$pid" || sig_status=$?
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
    got="$(field "$1" "${3:-}")"
    at_least "$got" "$2" || { echo "RESULT field $1: expected >= $2, got '$got'" >&2; return 1; }
}

# named_snapshot - the named objects and temp entries of this lab (ipc_snapshot without the System
# V objects, which have no names and may belong to anyone): compare one before a run with one after.
named_snapshot() { ipc_snapshot | grep -v '^sysv-' || true; }
