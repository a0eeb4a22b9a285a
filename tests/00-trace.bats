#!/usr/bin/env bats
# tests/00-trace.bats - `--trace FILE` (common/trace.h): the Chrome trace-event JSON a student opens
# in Perfetto.  The file parses, every slice that begins ends (except the waits of a deadlock,
# which the watchdog ends: the trace shows both threads waiting), forked children's events are
# merged into the one file (none left beside it), the forced schedules' events come in the forced
# order, and a file is written also on Ctrl-C and on a watchdog exit.
# The checks read the JSON with scripts/trace-check (python3); without python3 they are skipped.
load test_helper
LAB=00

setup() {
    command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (it reads the JSON)"
    T="$BATS_TEST_TMPDIR/t.json"
}

check() { run "$ROOT/scripts/trace-check" "$@"; }

# No fragment of a child left beside the file.
no_fragments() {
    local left
    left=$(find "$(dirname "$T")" -name "$(basename "$T").*" | head -n 3)
    [ -z "$left" ] || { echo "left beside the trace: $left"; return 1; }
}

@test "trace: every lab's guided demo writes a trace that parses, slices balanced, arrows paired" {
    local n
    for n in $(LAB_ROOT="$ROOT" bash -c '. "$LAB_ROOT/scripts/lib.sh"; lab_numbers'); do
        run lab "$n" --trace "$T"
        assert_success
        check "$T"
        [ "$status" -eq 0 ] || { echo "lab$n: $output"; return 1; }
        assert_output --regexp 'processes, [0-9]+ tracks: ok$'
        no_fragments
    done
}

@test "trace: --trace=FILE works too, --help names it, a bad path is a usage error (exit 2)" {
    run lab 08 semaphore --mode=sem "--trace=$T"
    assert_success
    check "$T"
    assert_success
    run lab 08 --help
    assert_line --regexp '^  --trace=FILE +write a timeline'
    run --separate-stderr lab 08 semaphore --trace "$BATS_TEST_TMPDIR/no/such/dir/t.json"
    assert_usage_error "cannot write the trace file"
    run --separate-stderr lab 08 semaphore --trace
    assert_usage_error "'--trace' needs a file name"
}

@test "trace: lab 3 tickets: the buyer processes' events merged into one file, every read before any write without the lock" {
    run lab 03 tickets --mode=nolock --trace "$T"
    assert_success
    check "$T"
    assert_success
    no_fragments
    check "$T" --names ticket
    # Nine buyers, nine processes, each "read 1"; the forced schedule: all reads, then the writes.
    [ "$(grep -c ' i read 1$' <<<"$output")" -eq 9 ]
    [ "$(grep ' i read 1$' <<<"$output" | awk '{print $2}' | sort -u | wc -l)" -eq 9 ]
    run awk '/ i write /{w=1} / i read / && w {bad=1} END {exit bad}' <<<"$output"
    assert_success
    # With the lock: one buyer reads 1 and writes 0, all the others read 0 after it.
    run lab 03 tickets --mode=lock --trace "$T"
    assert_success
    check "$T" --names ticket
    run awk '{print $5, $6}' <<<"$output"
    assert_line --index 0 'read 1'
    assert_line --index 1 'write 0'
    [ "$(grep -c '^read 0$' <<<"$output")" -eq 8 ]
    check "$T" --holds 'hold lock: buy'
    assert_success
}

@test "trace: lab 3 money: the locked slices never overlap and count 100 down; without the lock all read 100 first" {
    run lab 03 money --mode=lock --threads=20 --trace "$T"
    assert_success
    check "$T"
    assert_success
    check "$T" --holds 'hold money_mutex'
    assert_success
    assert_output --partial "20 'hold money_mutex' slices, none overlapping"
    check "$T" --names money
    run awk '{print $5, $6}' <<<"$output"
    local i expect=()
    for ((i = 100; i > 80; i--)); do expect+=("read $i" "write $((i - 1))"); done
    [ "$output" = "$(printf '%s\n' "${expect[@]}")" ]
    run lab 03 money --mode=nolock --threads=20 --trace "$T"
    assert_success
    check "$T" --names money
    [ "$(head -n 20 <<<"$output" | grep -c ' read 100$')" -eq 20 ]
    [ "$(tail -n 20 <<<"$output" | grep -c ' write 99$')" -eq 20 ]
}

@test "trace: lab 7 deadlock: written on the watchdog's exit, both threads of the cycle still waiting at the end" {
    run lab 07 deadlock --trace "$T"
    [ "$status" -eq 3 ]
    check "$T"
    assert_success
    check "$T" --open
    # Each of the two holds one lock and waits for the other: the cycle, as the report says.
    assert_line --regexp '^Thread-[0-9]+: hold mutexA > wait mutexB$'
    assert_line --regexp '^Thread-[0-9]+: hold mutexB > wait mutexA$'
    # The cure: every slice ends.
    run lab 07 ordered --trace "$T"
    assert_success
    check "$T" --open
    assert_output ''
}

@test "trace: lab 8: at most five threads hold a permit at once; lab 6: the GIL held by one thread at a time" {
    run lab 08 semaphore --mode=sem --trace "$T"
    assert_success
    run python3 -c '
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("cat") == "sem" or e["ph"] == "E"]
stack, now, top = {}, 0, 0
for e in sorted(ev, key=lambda e: (e["ts"], e["ph"] == "B")):
    k = (e["pid"], e["tid"])
    if e["ph"] == "B":
        stack.setdefault(k, []).append(e["name"])
        if e["name"].startswith("inside"):
            now += 1; top = max(top, now)
    elif stack.get(k):
        if stack[k].pop().startswith("inside"):
            now -= 1
print(top)' "$T"
    assert_output 5
    run lab 06 gil --mode=py3 --trace "$T"
    assert_success
    check "$T" --holds 'hold GIL'
    assert_success
}

@test "trace: lab 4 and lab 5: every get is the head of an arrow from its put, across processes too" {
    run lab 05 threads --trace "$T"
    assert_success
    check "$T"
    assert_success
    run python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
s = [e for e in ev if e["ph"] == "s"]; f = [e for e in ev if e["ph"] == "f"]
print(len(s), len(f), len(s) == len(f) > 0)' "$T"
    assert_output --regexp ' True$'
    run lab 04 --trace "$T"
    assert_success
    check "$T"
    assert_success
    run python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
s = {e["id"]: e["pid"] for e in ev if e["ph"] == "s"}
print(sum(1 for e in ev if e["ph"] == "f" and e["id"] in s and s[e["id"]] != e["pid"]) > 0)' "$T"
    assert_output True
}

@test "trace: lab 13: the simulated schedules on tracks of their own, one slice per CPU stretch" {
    run lab 13 schedule --trace "$T"
    assert_success
    check "$T"
    assert_success
    run python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
names = [e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name" and "simulated" in e["args"]["name"]]
print(len(names), sum(1 for e in ev if e["ph"] == "X"))' "$T"
    assert_output --regexp '^[1-9][0-9]* [1-9][0-9]*$'
}

@test "trace: Ctrl-C writes the file too, with the children's events merged and nothing left beside it" {
    LAB=03
    export LAB_SECOND_MS=200
    signal_on_line INT '买票成功' "$BATS_TEST_TMPDIR/out" tickets --mode=lock --trace "$T"
    [ "$sig_status" -eq 130 ]
    check "$T" --cut
    assert_success
    assert_output --regexp ' ([2-9]|[1-9][0-9]+) processes'
    no_fragments
    no_lab_processes
}

@test "trace: make trace-lab-N writes build/trace/labNN.json" {
    run make -C "$ROOT" -s trace-lab-8 ARGS="semaphore --mode=sem"
    assert_success
    assert_line --regexp "trace: .*/trace/lab08.json \(open it in https://ui.perfetto.dev"
    check "$ROOT/build/trace/lab08.json"
    assert_success
}

@test "trace: labs 11 and 12: the guided demo's trace parses, every switch and connection drawn, under 5 MB" {
    local n size
    for n in 11 12; do
        run lab "$n" --trace "$T"
        assert_success
        check "$T"
        assert_success
        no_fragments
        size=$(stat -c %s "$T")
        [ "$size" -lt 5000000 ] || { echo "lab$n: the demo's trace has $size bytes"; return 1; }
        # lab 11: the switches' arrows; lab 12: the connections' reads and the client's arrows into them
        check "$T" --names "$([ "$n" = 11 ] && echo switch || echo request)"
        [ "$(grep -c ' f ' <<<"$output")" -gt 100 ] || { echo "lab$n: too few arrows"; return 1; }
    done
}
