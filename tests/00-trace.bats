#!/usr/bin/env bats
# tests/00-trace.bats - `--trace FILE` (common/trace.h): the Chrome trace-event JSON a student opens
# in Perfetto.  The file parses, every slice that begins ends (except the waits of a deadlock,
# which the watchdog ends: the trace shows both threads waiting), forked children's events are
# merged into the one file (none left beside it), the forced schedules' events come in the forced
# order, and a file is written also on Ctrl-C and on a watchdog exit.  The traces of every lab's
# guided demo are checked in tests/00-classroom.bats, from the one run of each demo it makes.
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
    # After the first sale the other 8 buyers hold the lock 0.1-0.3 units each: at 1000 ms a unit
    # the run goes on for at least 0.8 s, so a busy machine that delays the signal still cuts it.
    export LAB_SECOND_MS=1000
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

# ---- labs 9 and 10: who woke whom, which worker ran what ----

# woken FILE WAITER_RE SLICE SETTER_RE: each slice SLICE on a thread named like WAITER_RE holds
# the head of an arrow whose tail is on a thread named like SETTER_RE, drawn after the slice began
# and before it ended.  Prints "N waits, K woken by an arrow from SETTER_RE".
woken() {
    run python3 -c '
import json, re, sys
path, waiter_re, slice_name, setter_re = sys.argv[1:5]
ev = json.load(open(path))["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
tails = {e["id"]: e for e in ev if e["ph"] == "s"}
heads = [e for e in ev if e["ph"] == "f"]
waits = woken = 0
for key, name in names.items():
    if not re.search(waiter_re, name):
        continue
    st = []
    for e in sorted((e for e in ev if (e["pid"], e["tid"]) == key and e["ph"] in "BE"),
                    key=lambda e: (e["ts"], 0 if e["ph"] == "E" else 1)):
        if e["ph"] == "B":
            st.append(e)
            continue
        b = st.pop()
        if b.get("name") != slice_name:
            continue
        waits += 1
        for f in heads:
            s = tails.get(f["id"])
            if (s and (f["pid"], f["tid"]) == key and b["ts"] <= f["ts"] <= e["ts"]
                    and re.search(setter_re, names.get((s["pid"], s["tid"]), ""))
                    and b["ts"] <= s["ts"] <= f["ts"]):
                woken += 1
                break
print(f"{waits} waits, {woken} woken by an arrow from {setter_re}")' "$@"
}

@test "trace: lab 9 event: each car's wait() ends after the light's set(), an arrow from the set() to it" {
    run lab 09 event --trace "$T"
    assert_success
    check "$T"
    assert_success
    woken "$T" '\(car\)$' 'wait: event.wait()' '\(light\)$'
    assert_output '20 waits, 20 woken by an arrow from \(light\)$'
    # The flag as a counter track: 0 before 绿灯亮, 1 after.
    run python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
print([e["args"]["value"] for e in sorted((e for e in ev if e["ph"] == "C" and e["name"] == "event.is_set()"), key=lambda e: e["ts"])])' "$T"
    assert_output '[1]'
}

@test "trace: lab 9 traffic, condition, wait_notify: every wait a notify ended holds its arrow" {
    run lab 09 traffic --trace "$T"
    assert_success
    check "$T"
    assert_success
    # The car blocks on red once a cycle; the light's set() (green) wakes it.
    woken "$T" '\(car\)$' 'wait: event.wait()' '\(lighter\)$'
    assert_output '2 waits, 2 woken by an arrow from \(lighter\)$'
    run python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
print(" ".join(str(e["args"]["value"]) for e in sorted((e for e in ev if e["ph"] == "C" and e["name"] == "event.is_set()"), key=lambda e: e["ts"])))' "$T"
    # green, then 5 red ticks (one clear() each), green again, and so on: 2 cycles
    assert_output '1 0 0 0 0 0 1 0 0 0 0 0 1'
    # notify(2) wakes 2 waiters, notify_all() the other 3: 5 arrows from MainThread, none missing.
    run lab 09 condition --trace "$T"
    assert_success
    woken "$T" '\(waiter\)$' 'wait: cond.wait()' '^MainThread$'
    assert_output '5 waits, 5 woken by an arrow from ^MainThread$'
    # if: notifyAll wakes both consumers (two arrows); while: the second goes back to sleep and
    # the later notify() wakes it (a third).
    run lab 09 wait_notify --mode=if --trace "$T"
    assert_success
    woken "$T" '\(take_one\)$' 'wait: m.wait()' '^MainThread$'
    assert_output '2 waits, 2 woken by an arrow from ^MainThread$'
    run lab 09 wait_notify --mode=while --trace "$T"
    assert_success
    check "$T" --names cond
    [ "$(grep -c ' f cond$' <<<"$output")" -eq 3 ]
    assert_line --regexp ' i nothing for me: back to sleep$'
}

# tasks FILE: each "task #N" slice of lab 10 sits on a worker's track (a ThreadPoolExecutor thread or
# a ForkPoolWorker process), begins after its submit()/apply_async() (the tail of its arrow), holds
# that arrow's head, and ends before the first result()/get() that got its value (the head of the
# arrow from the task's end, drawn inside the slice).  Prints "N tasks, K on a worker between
# submit and get".
tasks() {
    run python3 -c '
import json, re, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
procs = {e["pid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "process_name"}
flows = {(e["ph"], e["id"]): e for e in ev if e["ph"] in "sf"}
base = 10 << 48
n = good = 0
for key in names:
    st = []
    for e in sorted((e for e in ev if (e["pid"], e["tid"]) == key and e["ph"] in "BE"),
                    key=lambda e: (e["ts"], 0 if e["ph"] == "E" else 1)):
        if e["ph"] == "B":
            st.append(e)
            continue
        b = st.pop()
        m = re.match(r"task #([0-9]+)(:|$)", b.get("name", ""))
        if not m:
            continue
        n += 1
        k = int(m.group(1))
        worker = names[key].startswith("ThreadPoolExecutor-") or "ForkPoolWorker-" in procs.get(key[0], "")
        submit, take = flows.get(("s", base | k << 1)), flows.get(("f", base | k << 1))
        done, get = flows.get(("s", base | k << 1 | 1)), flows.get(("f", base | k << 1 | 1))
        ok = (worker and submit and take and done and get and submit["ts"] <= b["ts"] <= take["ts"] <= e["ts"]
              and take["ts"] <= done["ts"] <= e["ts"] <= get["ts"]
              and (take["pid"], take["tid"]) == key)
        if not ok:
            at = [f and f["ts"] for f in (submit, take, done, get)]
            print("task #%d on %s (%s): submit, take, done, get at %s; slice %s..%s"
                  % (k, names[key], procs.get(key[0]), at, b["ts"], e["ts"]))
        good += bool(ok)
print(f"{n} tasks, {good} on a worker between submit and get")' "$1"
}

# in_order FILE: the tracks of lab 10's workers (ThreadPoolExecutor threads, ForkPoolWorker
# processes' own threads) and of the result thread hold their slices in the order recorded: no
# slice (a queue's 1 us arrow slice, say) still open when the next one begins and ending inside it,
# which would pair the ends wrong.  Prints "N tracks, K out of order".
in_order() {
    run python3 -c '
import json, re, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
names = {(e["pid"], e["tid"]): e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
procs = {e["pid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "process_name"}
n = bad = 0
for key, name in names.items():
    if not (name.startswith("ThreadPoolExecutor-") or "_handle_results" in name
            or ("ForkPoolWorker-" in procs.get(key[0], "") and not name.startswith("_"))):
        continue
    mine = [e for e in ev if (e["pid"], e["tid"]) == key and e["ph"] in "BE"]
    by_time = sorted(mine, key=lambda e: (e["ts"], 0 if e["ph"] == "E" else 1))
    n += 1
    if [id(e) for e in mine] != [id(e) for e in by_time]:
        bad += 1
        print("out of order on", name, procs.get(key[0]))
print(f"{n} tracks, {bad} out of order")' "$1"
}

@test "trace: lab 10: every task a slice on the worker that ran it, between its submit and its get" {
    run lab 10 threadpool --workers=3 --tasks=7 --trace "$T"
    assert_success
    check "$T"
    assert_success
    tasks "$T"
    assert_output '7 tasks, 7 on a worker between submit and get'
    in_order "$T"
    assert_output '3 tracks, 0 out of order'
    run lab 10 procpool --workers=2 --tasks=6 --trace "$T"
    assert_success
    check "$T"
    assert_success
    no_fragments
    tasks "$T"
    assert_output '6 tasks, 6 on a worker between submit and get'
    # The queue's own arrows (common/pqueue: a 1 us slice each) on the tracks _inqueue and
    # _outqueue: the workers' and the result thread's slices are recorded in order.
    in_order "$T"
    assert_output --regexp '^[3-9] tracks, 0 out of order$'
    check "$T" --names queue
    [ "$(grep -c ' f queue$' <<<"$output")" -ge 12 ]
    # The callbacks run in the parent's result thread, each a slice there.
    check "$T" --names pool
    [ "$(grep -c ' B callback #' <<<"$output")" -eq 6 ]
    run lab 10 pool_async --trace "$T"
    assert_success
    tasks "$T"
    assert_output '7 tasks, 7 on a worker between submit and get'
    in_order "$T"
    assert_output --regexp ' tracks, 0 out of order$'
}

@test "trace: lab 10 crash: the dead worker marked, its task's get() reached from the result thread, the new worker a track" {
    run lab 10 crash --mode=kill --trace "$T"
    assert_success
    check "$T"
    assert_success
    tasks "$T"
    assert_output '4 tasks, 4 on a worker between submit and get'
    check "$T" --names pool
    assert_line --regexp ' i worker [0-9]+ died of signal 9$'
    local new
    new=$(sed -n 's/.* i worker [0-9]* replaced by a new one, pid \([0-9]*\)$/\1/p' <<<"$output")
    [ -n "$new" ]
    # The replacement is a worker process of its own in the file (named as Python names it).
    run python3 -c '
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
print(*[e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "process_name" and e["pid"] == int(sys.argv[2])])' "$T" "$new"
    assert_output --regexp "^lab10 ForkPoolWorker-[0-9]+ \(pid $new\)$"
    # Task 1 died with its worker: the result thread draws the arrow to its get().
    check "$T" --names result
    assert_line --regexp ' B task #1 failed: its worker died$'
}
