#!/usr/bin/env bats
# tests/08-semaphore.bats - lab 8: Semaphore(5), BoundedSemaphore, process semaphores, ownership.
load test_helper
LAB=08

# Nothing left by the run in $output: its named semaphore (/dev/shm/sem.lab08_<pid>_sem, the pid
# read from its "main PID:" lines) is gone, and so are its main process and every child it
# printed.  Checked by pid, so that other copies of the suite running at the same time (their
# own lab08_<pid> names, their own System V objects) do not matter.
no_leftovers() {
    local pid c left
    pid="$(printf '%s\n' "$output" | sed -nE 's/^main ([0-9]+): .*/\1/p' | head -n 1)"
    [ -n "$pid" ] || { echo "no 'main PID:' line in the output"; return 1; }
    left="$(objects_left lab08 "$pid")"
    [ -z "$left" ] || { echo "left behind: $left"; return 1; }
    # A pid that is alive again must not be ours: on a busy machine it may belong to some other
    # program by now, so look at what it runs (a lab08 child runs its parent's command line).
    for c in "$pid" $(printf '%s\n' "$output" | sed -nE 's/^child ([0-9]+): .*/\1/p'); do
        if kill -0 "$c" 2>/dev/null && tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null | grep -q 'lab08'; then
            echo "process $c is still there: $(tr '\0' ' ' <"/proc/$c/cmdline")"
            return 1
        fi
    done
    no_lab_processes
}

# The 正在忙 lines of a run, one per thread.
busy_lines() { printf '%s\n' "$output" | grep -c '正在忙 (inside=[0-9]*)$'; }

@test "lab08 semaphore --mode=sem: forced peak of exactly 5 holders of 5 permits, all 20 complete, every run" {
    run lab 08 semaphore --mode=sem
    assert_success
    assert_result semaphore
    assert_field mode sem
    assert_field permits 5
    assert_field threads 20
    assert_field max_concurrent 5
    assert_field completed 20
    [ "$(busy_lines)" -eq 20 ]
    # No 正在忙 line ever reports more than 5 inside.
    refute_output --regexp 'inside=([6-9]|[1-9][0-9])\)$'
    # The lines come in the order the count changed: inside=1, 2, 3, 4, 5 first.
    [ "$(printf '%s\n' "$output" | sed -n 's/.*正在忙 (inside=\([0-9]*\))$/\1/p' | head -5 | tr '\n' ' ')" = "1 2 3 4 5 " ]
    # The semaphore counted: 0 left while the first 5 were inside, all 5 back at the end.
    refute_output --partial 'did not count them'
    refute_output --partial 'acquire and release do not match'
}

@test "lab08 semaphore --mode=nosem: without a semaphore all 20 are inside at once (forced)" {
    run lab 08 semaphore --mode=nosem
    assert_success
    assert_result semaphore
    assert_field mode nosem
    assert_field max_concurrent 20
    assert_field completed 20
    [ "$(busy_lines)" -eq 20 ]
}

@test "lab08 semaphore: the default mode is the bad case (nosem)" {
    run lab 08 semaphore --threads=6
    assert_success
    assert_field mode nosem
    assert_field max_concurrent 6
}

@test "lab08 semaphore: --permits and --threads (peak is min(permits, threads))" {
    run lab 08 semaphore --mode=sem --permits=3 --threads=7
    assert_success
    assert_field permits 3
    assert_field threads 7
    assert_field max_concurrent 3
    assert_field completed 7
    run lab 08 semaphore --mode=sem --permits 8 --threads 4
    assert_success
    assert_field max_concurrent 4
    assert_field completed 4
    run lab 08 semaphore --mode=sem --permits=1 --threads=3
    assert_success
    assert_field max_concurrent 1
}

@test "lab08 semaphore --mode=sem: forced peak holds on one CPU too (taskset -c 0)" {
    run taskset -c 0 timeout -k 5 "$LAB_TIMEOUT" "$BUILD/lab08" semaphore --mode=sem
    assert_success
    assert_field max_concurrent 5
    assert_field completed 20
}

@test "lab08 bounded: Semaphore allows an over-release, BoundedSemaphore rejects it with ValueError" {
    run lab 08 bounded
    assert_success
    assert_result bounded
    assert_field plain_over_release allowed
    assert_field plain_value 2
    assert_field plain_admits 2
    assert_field bounded_over_release rejected
    assert_field bounded_value 1
    assert_field bounded_admits 1
    assert_output --partial 'ValueError: Semaphore released too many times'
}

@test "lab08 proc_semaphore --mode=named: 6 processes, never more than 2 inside, exactly 2 reached (forced); sem unlinked" {
    run lab 08 proc_semaphore --mode=named
    assert_success
    assert_result proc_semaphore
    assert_field mode named
    assert_field permits 2
    assert_field procs 6
    assert_field max_concurrent 2
    assert_field completed 6
    assert_output --regexp 'sem_open\("/lab08_[0-9]+_sem"'
    [ "$(printf '%s\n' "$output" | grep -c '^child [0-9]*: got a permit')" -eq 6 ]
    refute_output --regexp 'inside=[3-9]\)$'
    # One counter for all: 0 left while the first 2 were inside, both back at the end.
    refute_output --partial 'did not share one counter'
    refute_output --partial 'permits, not 2'
    no_leftovers
}

@test "lab08 proc_semaphore --mode=private: a forked copy of a thread semaphore limits nobody (all 6 inside, forced)" {
    run lab 08 proc_semaphore --mode=private
    assert_success
    assert_field mode private
    assert_field max_concurrent 6
    assert_field completed 6
    run lab 08 proc_semaphore --mode=private --procs=3
    assert_success
    assert_field procs 3
    assert_field max_concurrent 3
    run lab 08 proc_semaphore --mode=named --procs=1
    assert_success
    assert_field max_concurrent 1
    assert_field completed 1
}

@test "lab08 proc_semaphore: SIGINT in the middle removes the named semaphore and every child" {
    local pid
    LAB_SECOND_MS=2000 timeout -k 5 20 "$BUILD/lab08" proc_semaphore --mode=named >"$BATS_TEST_TMPDIR/out" 2>&1 &
    pid=$!
    # Wait (bounded) until the semaphore exists and a child is inside.
    local i
    for i in $(seq 100); do
        grep -q 'got a permit' "$BATS_TEST_TMPDIR/out" && break
        sleep 0.05
    done
    grep -q 'got a permit' "$BATS_TEST_TMPDIR/out"
    # timeout runs the lab as its child: signal the lab itself.
    local labpid
    labpid="$(pgrep -P "$pid" -f "$BUILD/lab08" | head -n 1)"
    [ -n "$labpid" ]
    [ -e "/dev/shm/sem.lab08_${labpid}_sem" ]
    kill -INT "$labpid"
    local rc=0
    wait "$pid" || rc=$?
    [ "$rc" -eq 130 ]   # timeout passes on the lab's death by SIGINT as 128+2
    output="$(cat "$BATS_TEST_TMPDIR/out")"
    no_leftovers
}

@test "lab08 mutex_vs_semaphore: another thread may release a semaphore; an error-checking mutex says EPERM" {
    run lab 08 mutex_vs_semaphore
    assert_success
    assert_result mutex_vs_semaphore
    assert_field sem_release_by_other allowed
    assert_field sem_value 1
    assert_field mutex_unlock_by_other EPERM
    assert_field mutex_unlock_by_owner ok
    assert_output --partial 'Operation not permitted'
}

@test "lab08 --list names every scenario, in demo order" {
    run lab 08 --list
    assert_success
    [ "${#lines[@]}" -eq 4 ]
    assert_line --index 0 --regexp '^semaphore  [^ ]'
    assert_line --index 1 --regexp '^bounded  [^ ]'
    assert_line --index 2 --regexp '^proc_semaphore  [^ ]'
    assert_line --index 3 --regexp '^mutex_vs_semaphore  [^ ]'
}

@test "lab08 --help exits 0 and shows the modes and options" {
    run lab 08 --help
    assert_success
    assert_line --regexp '^Usage: lab08 '
    assert_output --partial 'nosem,sem'
    assert_output --partial 'private,named'
    assert_output --partial '--permits=N'
}

@test "lab08 guided demo: every scenario and mode, bad case first, exit 0" {
    run lab 08
    assert_success
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT l8\.')" -eq 6 ]
    # nosem before sem, private before named.
    [ "$(printf '%s\n' "$output" | grep '^RESULT l8\.semaphore' | head -n 1 | grep -c 'mode=nosem')" -eq 1 ]
    [ "$(printf '%s\n' "$output" | grep '^RESULT l8\.proc_semaphore' | head -n 1 | grep -c 'mode=private')" -eq 1 ]
    assert_line --regexp '^RESULT l8\.semaphore mode=sem .*max_concurrent=5 completed=20$'
    assert_line --regexp '^RESULT l8\.bounded .*bounded_over_release=rejected'
    assert_line --regexp '^RESULT l8\.proc_semaphore mode=named .*max_concurrent=2 completed=6$'
    assert_line --regexp '^RESULT l8\.mutex_vs_semaphore .*mutex_unlock_by_other=EPERM'
    assert_line --index -1 --partial 'every one behaved as the lesson says'
    no_leftovers
}

# Unknown scenarios and options, --list with more, bad LAB_SECOND_MS and LAB_SEED: the project's
# Bats file checks those for every lab.  These are lab 8's own.
@test "lab08 error paths: a mode of another scenario, modes where there are none, out-of-range and malformed options, an option of another scenario" {
    run --separate-stderr lab 08 semaphore --mode=bounded
    assert_usage_error "unknown mode 'bounded'"
    run --separate-stderr lab 08 bounded --mode=sem
    assert_usage_error "has no modes"
    run --separate-stderr lab 08 semaphore --permits=five
    assert_usage_error "bad value for --permits: 'five' is not a whole number"
    run --separate-stderr lab 08 semaphore --permits=0
    assert_usage_error "bad value for --permits: 0 is out of range"
    run --separate-stderr lab 08 semaphore --threads=201
    assert_usage_error "bad value for --threads: 201 is out of range"
    run --separate-stderr lab 08 proc_semaphore --procs=33
    assert_usage_error "bad value for --procs: 33 is out of range"
    run --separate-stderr lab 08 semaphore --procs=3
    assert_usage_error "option '--procs' does not apply to scenario 'semaphore'"
    run --separate-stderr lab 08 proc_semaphore --mode
    assert_usage_error "needs a value"
    run --separate-stderr lab 08 semaphore --threads=1x
    assert_usage_error "bad value for --threads: '1x' is not a whole number"
    run --separate-stderr lab 08 proc_semaphore --mode=sem
    assert_usage_error "unknown mode 'sem'"
}

@test "lab08 LAB_SECOND_MS sets the pace: at 200 ms, 3 processes through 2 permits take at least 2 notes-seconds (400 ms)" {
    # Each child is inside for 1 notes-second; the third can only get in after one of the first
    # two has left, so the run lasts at least 2 of them, whatever the machine.  The suite runs at
    # 10 ms and the default is 100 ms: a program that ignored LAB_SECOND_MS would end far sooner.
    local t0 t1
    t0=$(date +%s%N)
    LAB_SECOND_MS=200 run lab 08 proc_semaphore --mode=named --procs=3
    t1=$(date +%s%N)
    assert_success
    assert_field max_concurrent 2
    assert_field completed 3
    at_least $(((t1 - t0) / 1000000)) 400
}

@test "lab08 README commands run as shown" {
    run_readme_commands "$ROOT/labs/08-semaphore"
}

@test "lab08 leaves nothing behind (no /dev/shm entries, no processes)" {
    run lab 08 proc_semaphore --mode=named --procs=3
    assert_success
    no_leftovers
    run lab 08 proc_semaphore --mode=private --procs=3
    assert_success
    no_leftovers
}

@test "lab08 semaphore: the timeline shows who waited and who was inside, and the peak at once" {
    run lab 08 semaphore --mode=sem
    assert_success
    assert_line --regexp '^timeline: one row each, time left to right, 64 columns = '
    [ "$(printf '%s\n' "$output" | grep -cE '^Thread-[0-9]+ \(task\) +\|[ .#]{64}\|$')" -eq 20 ]
    assert_line --regexp '^how many at once +\|[ 0-5]{64}\| peak 5$'
    # forced: the marks are made under the room's lock with the count, so the whole first wave is
    # drawn inside before anyone's '#' ends, however late a thread runs after the rendezvous
    run lab 08 semaphore --mode=nosem
    assert_success
    assert_line --regexp '^how many at once +\|.{64}\| peak 20$'
    # more threads than rows fit: no picture, the rest is the same
    run lab 08 semaphore --mode=sem --threads=30
    assert_success
    refute_line --regexp '^timeline: '
}
