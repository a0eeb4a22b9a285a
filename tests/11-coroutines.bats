#!/usr/bin/env bats
# tests/11-coroutines.bats - lab 11: the context switch, greenlet's exact transcript, the guard page,
# the gevent hub (unpatched vs patched, LoopExit), the coroutine echo server, asyncio's callbacks.
load test_helper
LAB=11

teardown() {
    no_lab_processes
}

# transcript - the lines of $output that the coroutines printed (A0, B3, ...), space-separated.
transcript() { printf '%s\n' "$output" | grep -E '^[ABC][0-4]$' | tr '\n' ' ' | sed 's/ $//'; }
INTERLEAVED="A0 B0 C0 A1 B1 C1 A2 B2 C2 A3 B3 C3 A4 B4 C4"
SERIAL="A0 A1 A2 A3 A4 B0 B1 B2 B3 B4 C0 C1 C2 C3 C4"

# ---- the command line --------------------------------------------------------------------------

@test "lab11: --list names every scenario, in demo order" {
    run lab 11 --list
    assert_scenario_list greenlet overflow gevent_info gevent stall server asyncio
}

@test "lab11: bad modes and options exit 2 with one line, stdout empty" {
    run --separate-stderr lab 11 gevent --mode=monkey
    assert_usage_error "unknown mode 'monkey'"
    run --separate-stderr lab 11 server --clients=0
    assert_usage_error "bad value for --clients: 0 is out of range"
    run --separate-stderr lab 11 server --clients=501
    assert_usage_error "bad value for --clients"
    run --separate-stderr lab 11 server --msgs=x
    assert_usage_error "bad value for --msgs"
    run --separate-stderr lab 11 greenlet --clients=3
    assert_usage_error "option '--clients' does not apply to scenario 'greenlet'"
}

# ---- greenlet -----------------------------------------------------------------------------------

@test "lab11 greenlet: the exact 15-line transcript, a dead, b and c suspended, one thread" {
    run lab 11 greenlet
    assert_success
    assert_result greenlet
    [ "$(transcript)" = "$INTERLEAVED" ] || { echo "transcript: $(transcript)" >&2; return 1; }
    # the 15 lines are consecutive and come right before the summary and the RESULT line
    [ "$(printf '%s\n' "$output" | grep -A14 -x A0 | tr '\n' ' ' | sed 's/ $//')" = "$INTERLEAVED" ]
    assert_field lines 15
    assert_field a_dead 1
    assert_field b_dead 0
    assert_field c_dead 0
    assert_field sleeps 13
    assert_field stacks_left 0
    assert_field switch asm
    assert_field threads 1
    assert_field_at_least elapsed_units 2.6
}

@test "lab11 overflow: the guard page is hit, the coroutine is named, exit 1 (no bare crash)" {
    run --separate-stderr lab 11 overflow
    assert_failure 1
    assert_result overflow
    [[ "$stderr" == *"stack overflow in coroutine 'deep'"*"guard page"* ]] || { echo "stderr: $stderr" >&2; return 1; }
    assert_field coroutine deep
    assert_field guard_page_hit 1
    assert_field stack_kib 64
    refute_output --partial 'never printed'
}

# ---- gevent -------------------------------------------------------------------------------------

@test "lab11 gevent_info: unpatched runs info then msg (4 units); patched interleaves them (2 units)" {
    run lab 11 gevent_info --mode=unpatched
    assert_success
    assert_result gevent_info
    [ "$(printf '%s\n' "$output" | grep -E '^(哈哈哈|黑恶hi黑|英语|数学)$' | tr '\n' ' ')" = "哈哈哈 黑恶hi黑 英语 数学 " ]
    assert_field mode unpatched
    assert_field order serial
    assert_field threads 1
    assert_field_at_least elapsed_units 4.0
    run lab 11 gevent_info --mode=patched
    assert_success
    [ "$(printf '%s\n' "$output" | grep -E '^(哈哈哈|黑恶hi黑|英语|数学)$' | tr '\n' ' ')" = "哈哈哈 英语 黑恶hi黑 数学 " ]
    assert_field order interleaved
    assert_field lines 4
    assert_field threads 1
    assert_field_at_least elapsed_units 2.0
}

@test "lab11 gevent: A/B/C serial unpatched (3 units), interleaved patched (1 unit), exact transcripts" {
    run lab 11 gevent --mode=unpatched
    assert_success
    assert_result gevent
    [ "$(transcript)" = "$SERIAL" ] || { echo "transcript: $(transcript)" >&2; return 1; }
    assert_field order serial
    assert_field_at_least elapsed_units 3.0
    run lab 11 gevent --mode=patched
    assert_success
    [ "$(transcript)" = "$INTERLEAVED" ] || { echo "transcript: $(transcript)" >&2; return 1; }
    assert_field order interleaved
    assert_field lines 15
    assert_field threads 1
    assert_field_at_least elapsed_units 1.0
}

@test "lab11 stall: waiters nobody wakes: 'no runnable coroutine: 2 stalled' with their names, exit 1" {
    run lab 11 stall --mode=forgot
    assert_failure 1
    assert_result stall
    assert_line 'no runnable coroutine: 2 stalled: waiter-1 (event wait), waiter-2 (event wait)'
    assert_field stalled 2
    assert_field exit 1
}

@test "lab11 stall --mode=set: the setter wakes both waiters, nothing stalls" {
    run lab 11 stall --mode=set
    assert_success
    assert_line 'waiter-1: the event is set, go on'
    assert_line 'waiter-2: the event is set, go on'
    refute_output --partial 'no runnable coroutine'
    assert_field stalled 0
    assert_field exit 0
}

# ---- server and asyncio -------------------------------------------------------------------------

@test "lab11 server: 200 client threads x 5 messages, every reply upper-cased, the server in one thread" {
    run lab 11 server
    assert_success
    assert_line --index 1 --regexp '^LISTENING port=[0-9]+$'
    assert_result server
    assert_line 'client Thread-1 sent "Thread-1 (client) say hello 1", got "THREAD-1 (CLIENT) SAY HELLO 1"'
    assert_field clients 200
    assert_field msgs 1000
    assert_field ok 1000
    assert_field bad 0
    assert_field connected 200
    assert_field server_threads 1
    assert_field client_exit 0
}

@test "lab11 server: --clients and --msgs change the load" {
    run lab 11 server --clients=7 --msgs=30
    assert_success
    assert_field clients 7
    assert_field msgs 210
    assert_field ok 210
    assert_field server_threads 1
}

@test "lab11 server: Ctrl-C stops the server and its client process, nothing left listening" {
    local out="$BATS_TEST_TMPDIR/server.out"
    LAB_SECOND_MS=10 signal_on_line INT '^LISTENING port=' "$out" server --clients=50 --msgs=10000
    [ "$sig_status" -ne 0 ]
    settle_lab_processes
    local port
    port="$(sed -n 's/^LISTENING port=//p' "$out")"
    run bash -c "ss -ltn 2>/dev/null | grep -c ':$port ' || true"
    assert_output 0
}

@test "lab11 asyncio: hello MainThread four times, two tasks, one unit, one thread" {
    run lab 11 asyncio
    assert_success
    assert_result asyncio
    [ "$(printf '%s\n' "$output" | grep -c -x 'hello MainThread')" -eq 4 ]
    assert_field tasks 2
    assert_field lines 4
    assert_field threads 1
    assert_field_at_least elapsed_units 1.0
}

# ---- --trace: the switches in Perfetto -----------------------------------------------------------

# trace_runs FILE [WHO] - from a --trace file: the coroutines' runs in time order (one word each,
# main included unless WHO=coroutines), then "chained" when every switch is an arrow from the run
# that ends to the run that begins next, on their own tracks; otherwise what breaks the chain.
trace_runs() {
    python3 - "$@" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
seq = sorted((e for e in ev if (e["ph"] == "B" and e.get("cat") == "coroutine") or e.get("cat") == "switch"),
             key=lambda e: e["ts"])
runs, broken, track, tail = [], [], None, None
for e in seq:
    t = (e["pid"], e["tid"])
    if e["ph"] == "B":
        runs.append(e["name"])
        want = "MainThread" if e["name"] == "main" else "coroutine " + e["name"]
        if names.get(t) != want:
            broken.append(f"run of {e['name']} on track {names.get(t)}")
        track = t
    elif e["ph"] == "s":
        if t != track:
            broken.append(f"arrow {e['id']} leaves from another track than the run's")
        tail = e["id"]
    elif e["ph"] == "f" and (e["id"] != tail or t != track):
        broken.append(f"arrow {e['id']} does not enter the run that follows it")
arrows = sum(1 for e in seq if e["ph"] == "f")
if len(sys.argv) > 2:
    runs = [r for r in runs if r != "main"]
print(" ".join(runs))
print("chained" if not broken and arrows == sum(1 for e in seq if e["ph"] == "s") else "; ".join(broken[:3]) or "unpaired")
PY
}

@test "lab11 greenlet --trace: a track per coroutine, the runs in the printed order, an arrow per switch" {
    command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (it reads the JSON)"
    local t="$BATS_TEST_TMPDIR/t.json"
    run lab 11 greenlet --trace "$t"
    assert_success
    local printed
    printed="$(transcript | sed -E 's/([ABC])[0-4]/\1/g' | tr 'ABC' 'abc')"
    run "$ROOT/scripts/trace-check" "$t"
    assert_success
    run trace_runs "$t"
    # main switches to a; A0 B0 C0 ... C4, each letter printed in its own run; c switches to a, which
    # ends and goes back to its parent, main
    assert_line --index 0 "main $printed a main"
    assert_line --index 0 "main a b c a b c a b c a b c a b c a main"
    assert_line --index 1 chained
}

@test "lab11 gevent --trace: patched, the hub wakes a, b, c after each sleep and resumes them in turn" {
    command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (it reads the JSON)"
    local t="$BATS_TEST_TMPDIR/t.json"
    run lab 11 gevent --mode=patched --trace "$t"
    assert_success
    run trace_runs "$t" coroutines
    assert_line --index 0 "$(printf 'a b c %.0s' 1 2 3 4 5 6 | sed 's/ $//')"
    assert_line --index 1 chained
    run "$ROOT/scripts/trace-check" "$t" --names hub
    [ "$(grep -c ' i wake [abc] (sleep)$' <<<"$output")" -eq 15 ]
    [ "$(grep ' i wake [abc] (sleep)$' <<<"$output" | awk '{print $6}' | tr -d '\n')" = "abcabcabcabcabc" ]
    [ "$(grep -c ' B hub: wait (epoll)$' <<<"$output")" -ge 5 ]
    # unpatched: time.sleep blocks the thread, each greenlet runs once, start to end
    run lab 11 gevent --mode=unpatched --trace "$t"
    assert_success
    run trace_runs "$t" coroutines
    assert_line --index 0 "a b c"
    run "$ROOT/scripts/trace-check" "$t" --names hub
    refute_output --partial '(sleep)'
}

@test "lab11 server --trace: each connection accepted on the server's track, echoed and closed on its own" {
    command -v python3 >/dev/null 2>&1 || skip "python3 is not installed (it reads the JSON)"
    local t="$BATS_TEST_TMPDIR/t.json"
    run lab 11 server --clients=5 --msgs=3 --trace "$t"
    assert_success
    run "$ROOT/scripts/trace-check" "$t"
    assert_success
    run python3 - "$t" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
conn = sorted((e for e in ev if e.get("cat") in ("conn", "coroutine") and e["ph"] in "Bi"), key=lambda e: e["ts"])
for n in range(1, 6):
    me = f"conn-{n}"
    acc = [e["ts"] for e in conn if e["name"].startswith(f"accept {me} ") and names[(e["pid"], e["tid"])] == "coroutine server"]
    mine = [e for e in conn if names[(e["pid"], e["tid"])] == f"coroutine {me}"]
    print(me, len(acc), acc and mine and acc[0] < mine[0]["ts"], mine and mine[-1]["name"].startswith("close "))
print("echoed", sum(int(e["name"].split()[1]) for e in conn if e["name"].startswith("echo ")))
PY
    for n in 1 2 3 4 5; do assert_line "conn-$n 1 True True"; done
    assert_line "echoed $((15 * 29))"   # "Thread-N (client) say hello K": 29 bytes, 15 of them
}

# ---- the whole lab ------------------------------------------------------------------------------

@test "lab11: the guided demo runs every part and says so" {
    run lab 11
    assert_success
    assert_line --index -1 'demo: 10 parts, every one behaved as the lesson says'
    assert_output --partial 'RESULT l11.overflow coroutine=deep'
    assert_output --partial 'RESULT l11.stall mode=forgot stalled=2'
}

@test "lab11: every command of the README runs as it says" {
    run_readme_commands "$ROOT/labs/11-coroutines"
}

@test "lab11: a slower LAB_SECOND_MS takes longer (asyncio's sleep(1) at 300 ms: >= 285 ms)" {
    # Lower bounds only: comparing a fast run's wall time with a slow one's fails when the fast run
    # waits for a CPU (a soak run on one CPU caught it).  A run that ignores the pace (the default
    # is 100 ms a notes-second, or any faster one) ends sooner than 285 ms here and fails.
    local t0 t1
    LAB_SECOND_MS=5 run lab 11 asyncio
    assert_success
    assert_field_at_least elapsed_units 0.95
    t0=$(date +%s%N)
    LAB_SECOND_MS=300 run lab 11 asyncio
    t1=$(date +%s%N)
    assert_success
    assert_field_at_least elapsed_units 0.95
    at_least "$(( (t1 - t0) / 1000000 ))" 285
}

@test "lab11: nothing left behind (no temp file, no named object)" {
    local before after
    before="$(named_snapshot)"
    run lab 11 stall --mode=forgot
    run lab 11 server --clients=5 --msgs=2
    assert_success
    after="$(named_snapshot)"
    [ "$before" = "$after" ]
}

@test "lab11: the tsan build (ucontext + fiber annotations) is silent on the fixed modes (ThreadSanitizer)" {
    [ -x "$TSAN_BUILD/lab11" ] || { echo "no $TSAN_BUILD/lab11: run make tsan" >&2; return 1; }
    local s
    for s in "greenlet" "gevent --mode=patched" "stall --mode=set" "server --clients=20 --msgs=5" "asyncio"; do
        run --separate-stderr timeout -k 5 60 "$TSAN_BUILD/lab11" $s
        assert_success
        [[ "$stderr" != *ThreadSanitizer* ]] || { echo "$s: $stderr"; false; }
        [ "$(field threads)$(field server_threads)" = 1 ]
    done
    run --separate-stderr timeout -k 5 60 "$TSAN_BUILD/lab11" greenlet
    assert_field switch ucontext
    assert_field a_dead 1
}
