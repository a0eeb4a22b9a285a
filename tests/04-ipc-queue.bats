#!/usr/bin/env bats
# tests/04-ipc-queue.bats - lab 4: the process queue (common/pqueue.c), parent/child and
# child/child queues, Pipe() vs os.pipe(), the five IPC kinds, limits, thread queues.
load test_helper
LAB=04

SCENARIOS=(queue_api parent_child child_child pipe subprocess pipe_deadlock kinds limits manager thread_queues)

teardown() {
    no_lab_processes
}

# The RESULT line of one kind in the kinds scenario.
kind_line() {
    printf '%s\n' "$output" | grep -E "^RESULT l4\.kinds kind=$1( |$)"
}

# leftovers_in TEXT - what the run that printed TEXT left behind.  Every name it printed carries
# its pid (lab04_<pid>_...), and it printed the id of each System V queue (they have no names).
# Scoped to that run, so other programs using IPC at the same time cannot disturb the check.
leftovers_in() {
    local id
    objects_left lab04 $(printf '%s\n' "$1" | grep -o 'lab04_[0-9]*_' | sed 's/lab04_\([0-9]*\)_/\1/' | sort -u)
    for id in $(printf '%s\n' "$1" | sed -n 's/.*msgget(IPC_PRIVATE) -> id \([0-9]*\).*/\1/p'); do
        ipcs -q -i "$id" 2>&1 | grep -q 'not found' || echo "sysv-msg:$id"
    done
}

# assert_nothing_left - after `run`: the run printed its object names and ids, and none is left.
assert_nothing_left() {
    printf '%s\n' "$output" | grep -q 'lab04_[0-9]*_' || { echo "no object names in the output" >&2; return 1; }
    printf '%s\n' "$output" | grep -q 'msgget(IPC_PRIVATE) -> id [0-9]' || { echo "no System V id in the output" >&2; return 1; }
    local left
    left="$(leftovers_in "$output")"
    [ -z "$left" ] || { printf 'left behind:\n%s\n' "$left" >&2; return 1; }
}

# ---- the command line --------------------------------------------------------------------

@test "lab04: --list names every scenario (name, two spaces, description), in demo order" {
    run lab 04 --list
    assert_scenario_list "${SCENARIOS[@]}"
}

@test "lab04: --help prints the usage (modes, options, the bench) and exits 0" {
    run lab 04 --help
    assert_success
    assert_line --regexp '^Usage: lab04 '
    assert_output --partial 'noclose,close'
    assert_output --partial '--messages'
    assert_output --partial '--bench'
}

@test "lab04: its own bad input exits 2: a mode, an option of another scenario, --messages out of range" {
    run --separate-stderr lab 04 pipe --mode=x
    assert_usage_error "unknown mode 'x'"
    run --separate-stderr lab 04 kinds --mode=close
    assert_usage_error "has no modes"
    run --separate-stderr lab 04 child_child --messages=abc
    assert_usage_error "not a whole number"
    run --separate-stderr lab 04 child_child --messages=0
    assert_usage_error "out of range"
    run --separate-stderr lab 04 child_child --messages=100001
    assert_usage_error "out of range"
    run --separate-stderr lab 04 queue_api --messages=3
    assert_usage_error "does not apply to scenario 'queue_api'"
}

@test "lab04: a slower LAB_SECOND_MS makes get(timeout=3) wait longer (thread_queues: 3 units at 200 ms)" {
    local t0 t1
    t0=$(date +%s%N)
    LAB_SECOND_MS=200 run lab 04 thread_queues
    t1=$(date +%s%N)
    assert_success
    assert_field fifo_timeout EMPTY
    assert_field_at_least fifo_waited_units 3.0
    at_least "$(( (t1 - t0) / 1000000 ))" 600       # ms: 3 units x 200 ms, a lower bound only
}

# ---- the process queue -------------------------------------------------------------------

@test "lab04 queue_api: Queue(5) exactly: FIFO, full/empty/qsize, Full/Empty, get(timeout=3) waits 3 units" {
    run lab 04 queue_api
    assert_success
    assert_result queue_api
    assert_field maxsize 5
    assert_field fifo 1
    assert_field full_after_3 0
    assert_field empty_after_3 0          # exact: Python's empty() said True here
    assert_field full_after_5 1
    assert_field qsize_after_5 5
    assert_field nowait_put FULL
    assert_field timeout_put FULL
    assert_field blocked_put 1            # put(666) on the full queue waited for the parent's get
    assert_field nowait_get EMPTY
    assert_field timeout_get EMPTY
    assert_field_at_least timeout_waited_units 3.0
    assert_line 'q.get() x6 -> 111 222 333 444 555 666'
}

@test "lab04 queue_api: the queue's edge cases (ring wrap, EMSGSIZE, small buffer, bytes full, JoinableQueue)" {
    run lab 04 queue_api
    assert_success
    assert_field wrap_ok 1
    assert_field oversize_put EMSGSIZE
    assert_field small_buffer_get EMSGSIZE
    assert_field kept 1
    assert_field bytes_full_put FULL
    assert_field join_before ETIMEDOUT
    assert_field task_done_extra EINVAL
    assert_field join_after OK
}

@test "lab04 parent_child: 燕子李三 and [42, None, 'hello'] child->parent, a message parent->child" {
    run lab 04 parent_child
    assert_success
    assert_result parent_child
    assert_field child_to_parent 1
    assert_field parent_to_child 1
    assert_field yanzi_bytes 12
    assert_field child_exit 0
    assert_line --regexp "^parent [0-9]+: print\(q.get\(\)\) -> 燕子李三$"
    assert_line --regexp "^parent [0-9]+: print\(q.get\(\)\) -> \[42, None, 'hello'\]$"
    assert_line --regexp "^child [0-9]+: q.put\('燕子李三'\); print\('hello'\) -> hello$"
}

@test "lab04 child_child: producer and consumer children, in order, nothing left" {
    run lab 04 child_child
    assert_success
    assert_result child_child
    assert_field sent 10
    assert_field received 10
    assert_field in_order 1
    assert_field left 0
    assert_field producer_exit 0
    assert_field consumer_exit 0
    assert_line --regexp '^consumer [0-9]+: print\(q.get\(\)\) -> 燕子李三$'
    # The elided messages are said to be elided, and a put's line comes before its get's.
    assert_line --regexp '^producer [0-9]+: … \(6 more puts not shown\)$'
    assert_line --regexp '^consumer [0-9]+: … \(6 more gets not shown\)$'
    local m put got
    for m in 燕子李三 'message 1 ~' 'message 2 ~~' 'message 9 ~~~~~~~~~'; do
        put=$(printf '%s\n' "$output" | grep -nF "q.put('$m')" | cut -d: -f1)
        got=$(printf '%s\n' "$output" | grep -nF "print(q.get()) -> $m" | cut -d: -f1)
        [ -n "$put" ] && [ -n "$got" ] && [ "$put" -lt "$got" ] || { echo "'$m': put at line $put, get at line $got"; return 1; }
    done
}

@test "lab04 child_child: 20000 variable-length messages through a Queue(4) between two children" {
    run lab 04 child_child --messages=20000
    assert_success
    assert_field sent 20000
    assert_field received 20000
    assert_field in_order 1
    assert_field left 0
}

# ---- pipes -------------------------------------------------------------------------------

@test "lab04 pipe --mode=noclose: duplex socketpair, one-way pipe, no EOF while the reader holds a write end" {
    run lab 04 pipe --mode=noclose
    assert_success
    assert_result pipe
    assert_field mode noclose
    assert_field duplex 1
    assert_field duplex_is_socket 1
    assert_field msg_ok 1
    assert_field boundaries 1
    assert_field eof_after_close 1
    assert_field oneway_is_fifo 1
    assert_field oneway_write_on_read_end EBADF
    assert_field eof 0
    assert_field eof_after_all_closed 1
    assert_line "parent: print(parent_conn.recv()) -> [42, None, 'hello']"
    assert_line --regexp '^child [0-9]+: no EOF after [0-9.]+ units'
}

@test "lab04 pipe --mode=close: the reader closes its copy of the write end and sees EOF" {
    run lab 04 pipe --mode=close
    assert_success
    assert_field mode close
    assert_field duplex 1
    assert_field oneway_write_on_read_end EBADF
    assert_field eof 1
    assert_field eof_after_all_closed 1
    refute_line --regexp 'no EOF'
}

# ---- the five kinds and the limits -------------------------------------------------------

@test "lab04 kinds: one RESULT line per kind, each ok and removed (checked), nothing left behind" {
    run lab 04 kinds
    assert_success
    assert_result kinds
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT l4\.kinds ')" -eq 6 ]
    local k
    for k in pipe fifo posix_mq sysv_msg sem shm; do
        kind_line "$k" | grep -q ' ok=1 ' || { echo "kind $k:"; kind_line "$k"; return 1; }
        kind_line "$k" | grep -qE ' removed=1$' || { echo "kind $k not removed"; return 1; }
    done
    kind_line fifo | grep -q ' enxio_without_reader=1 unrelated=1 '
    kind_line posix_mq | grep -q ' priority_first=1 '
    kind_line sysv_msg | grep -q ' type_selective=1 outlived_sender=1 '
    kind_line sem | grep -q ' carries_data=0 '
    kind_line shm | grep -q ' guarded=1 '
    assert_line --regexp '^  child [0-9]+: msgrcv\(type=1\) -> \[42, None, '"'"'hello'"'"'\]$'
    assert_line --regexp '^  fifo peer [0-9]+ \(exec'"'"'d, ppid [0-9]+\): read\(lab04_[0-9]+_fifo\) -> \[42'
    assert_nothing_left
}

@test "lab04 kinds: SIGINT in the middle of each kind leaves no object, no child" {
    local marker line out="$BATS_TEST_TMPDIR/out" fifo="$BATS_TEST_TMPDIR/fifo"
    mkfifo "$fifo"
    # Read the run's output as it comes (the read builtin: no process per line, so no lag) and
    # interrupt it right after the line that follows the creation of each kind's object (each
    # kind then pauses 0.3 units: 300 ms at this scale, so a busy machine that delays this loop
    # still interrupts the kind it means to; after the last one the run would end).
    for marker in 'pipe: pipe2' 'fifo: open' 'posix_mq: sent' 'sysv_msg: msgsnd' 'sem: sem_open' 'shm: shm_open'; do
        LAB_SECOND_MS=1000 "$BUILD/lab04" kinds >"$fifo" 2>&1 3>&- &
        local pid=$!
        exec 4<"$fifo"
        : >"$out"
        while IFS= read -r -t 10 line <&4; do
            printf '%s\n' "$line" >>"$out"
            [[ "$line" == "$marker"* ]] && break
        done
        kill -INT "$pid"
        timeout 10 cat <&4 >>"$out" || true     # EOF: the run and its children are gone
        exec 4<&-
        kill -KILL "$pid" 2>/dev/null || true   # only if it hung
        local rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 130 ] || { echo "at '$marker': exit $rc"; cat "$out"; return 1; }
        local left
        left="$(leftovers_in "lab04_${pid}_ $(cat "$out")")"     # its pid, and the ids it printed
        [ -z "$left" ] || { echo "at '$marker' left: $left"; cat "$out"; return 1; }
    done
}

@test "lab04 limits: too-big messages get EMSGSIZE/EINVAL, reported, not crashed on" {
    run lab 04 limits
    assert_success
    assert_result limits
    assert_field mq_oversize EMSGSIZE
    assert_field sysv_oversize EINVAL
    assert_field pq_max_message 1016
    assert_field pq_oversize EMSGSIZE
    assert_field pq_small_buffer EMSGSIZE
    assert_field pq_kept 1
    assert_field removed 1
    [[ "$(field mq_msgsize)" =~ ^[0-9]+$ ]]
    assert_nothing_left
}

# ---- thread queues -----------------------------------------------------------------------

@test "lab04 thread_queues: 1, 2, Empty after 3 units; LIFO 2; (0, '333'); ties by text; threads" {
    run lab 04 thread_queues
    assert_success
    assert_result thread_queues
    assert_field fifo_first 1
    assert_field fifo_nowait 2
    assert_field fifo_timeout EMPTY
    assert_field_at_least fifo_waited_units 3.0
    assert_field lifo_first 2
    assert_field prio_first "(0,'333')"
    assert_field tie_first "(1,'a')"
    assert_field threads_received 10
    assert_field per_producer_order 1
    assert_line --regexp "print\(q.get\(\)\) -> \(0, '333'\)$"
    # Cause before effect: every q.get() -> N line comes after the q.put(N) line (each is printed
    # inside the queue's lock).  Run it a few times: the order of the threads varies.
    local k v put got
    for k in 1 2 3; do
        run lab 04 thread_queues
        assert_success
        for v in 100 101 102 103 104 200 201 202 203 204; do
            put=$(printf '%s\n' "$output" | grep -n ": q.put($v)$" | cut -d: -f1)
            got=$(printf '%s\n' "$output" | grep -n ": q.get() -> $v$" | cut -d: -f1)
            [ -n "$put" ] && [ -n "$got" ] && [ "$put" -lt "$got" ] || { echo "run $k, item $v: put at line $put, get at line $got"; return 1; }
        done
    done
}

# ---- subprocess ----------------------------------------------------------------------------

@test "lab04 subprocess: run() output and status, communicate(), a timeout that kills and reaps" {
    run lab 04 subprocess
    assert_success
    assert_result subprocess
    assert_field run_stdout hello
    assert_field run_returncode 3
    assert_field communicate HELLO
    assert_field timeout_expired 1
    assert_field timeout_returncode -9
    assert_field zombie 0
    local pid
    pid=$(printf '%s\n' "$output" | sed -n "s/^subprocess.run(\['sh'.*: pid \([0-9]*\)$/\1/p")
    [ -n "$pid" ]
}

@test "lab04 subprocess: SIGINT during the timeout leaves no sleep child behind" {
    local out="$BATS_TEST_TMPDIR/out"
    LAB_SECOND_MS=4000 "$BUILD/lab04" subprocess >"$out" 2>&1 &
    local pid=$! i
    for i in $(seq 200); do pgrep -P "$pid" -x sleep >/dev/null && break; sleep 0.02; done
    local child
    child=$(pgrep -P "$pid" -x sleep)
    [ -n "$child" ] || { cat "$out"; return 1; }
    kill -INT "$pid"
    wait "$pid" || true
    for i in $(seq 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.02; done
    run kill -0 "$child"
    assert_failure
}

@test "lab04 pipe_deadlock --mode=deadlock: both 64 KiB pipes full, stuck every run, cat killed" {
    run lab 04 pipe_deadlock --mode=deadlock
    assert_success
    assert_result pipe_deadlock
    assert_field pipe_size 65536
    assert_field bytes 1048576
    assert_field stuck 1
    assert_field same 0
    assert_field received 0
    assert_field returncode -9
    local sent
    sent=$(field sent)
    [ "$sent" -ge 65536 ] && [ "$sent" -lt 1048576 ]
    assert_line --regexp '^stuck: the parent wrote [0-9]+ of 1048576 bytes and cannot write more; cat \(state S\) is blocked$'
}

@test "lab04 pipe_deadlock --mode=poll: communicate() polls both pipes: all 1 MiB back, the same" {
    run lab 04 pipe_deadlock --mode=poll
    assert_success
    assert_field stuck 0
    assert_field sent 1048576
    assert_field received 1048576
    assert_field same 1
    assert_field returncode 0
}

# ---- Manager() -----------------------------------------------------------------------------

# manager_socket - the socket path the manager run in $output printed.
manager_socket() {
    # The path may be wrapped onto the next line (100 columns), indented.
    printf '%s\n' "$output" | sed -n -e 's/^m = Manager(): .* serves a dict and a list on \(..*\)$/\1/p' \
        -e '/^m = Manager(): .* serves a dict and a list on$/{n;s/^ *//p}'
}

@test "lab04 manager --mode=nolock: GET then SET through the proxy loses 9 of 10 updates, every run" {
    run lab 04 manager --mode=nolock
    assert_success
    assert_result manager
    assert_field mode nolock
    assert_field processes 10
    assert_field count 1
    assert_field lost 9
    assert_field max_in_window 10
    assert_field list_len 10
    assert_field manager_exit 0
    assert_field socket_left 0
    local sock
    sock="$(manager_socket)"
    [ -n "$sock" ]
    [ ! -e "$sock" ] && [ ! -e "$(dirname "$sock")" ]
}

@test "lab04 manager --mode=lock: a process lock around GET+SET: exact, one process in the window" {
    run lab 04 manager --mode=lock
    assert_success
    assert_field mode lock
    assert_field count 10
    assert_field lost 0
    assert_field max_in_window 1
    assert_field list_len 10
    assert_field manager_exit 0
    assert_field socket_left 0
    [ ! -e "$(dirname "$(manager_socket)")" ]
}

@test "lab04 manager: SIGINT while the manager serves leaves no socket, no directory, no process" {
    local out="$BATS_TEST_TMPDIR/out"
    LAB_SECOND_MS=2000 "$BUILD/lab04" manager --mode=lock >"$out" 2>&1 &
    local pid=$! i
    for i in $(seq 100); do grep -q 'serves a dict' "$out" && break; sleep 0.02; done
    kill -INT "$pid"
    local rc=0
    wait "$pid" || rc=$?
    local sock
    output="$(cat "$out")"
    sock="$(manager_socket)"
    [ -n "$sock" ] || { cat "$out"; return 1; }
    [ ! -e "$sock" ] && [ ! -e "$(dirname "$sock")" ]
}

# ---- the guided demo, the README ---------------------------------------------------------

@test "lab04: the guided demo runs every scenario and exits 0" {
    run lab 04
    assert_success
    local s
    for s in "${SCENARIOS[@]}"; do
        assert_line --regexp "^RESULT l4\.$s "
    done
    assert_line --regexp '^RESULT l4\.pipe mode=noclose '
    assert_line --regexp '^RESULT l4\.pipe mode=close '
    assert_nothing_left
}

@test "lab04: every command in the README runs as documented" {
    run_readme_commands "$ROOT/labs/04-ipc-queue"
}
