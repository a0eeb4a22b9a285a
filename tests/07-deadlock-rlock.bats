#!/usr/bin/env bats
# tests/07-deadlock-rlock.bats - lab 7: the forced A/B deadlock and its watchdog, the cures
# (rlock, ordered, backoff, timeout, watchdog_restart), lockdep, self_deadlock, forgot_unlock,
# the dining philosophers, Helgrind on the lock order, the CLI contract and the README.
load test_helper
LAB=07

# elapsed_ms CMD... - run CMD (through `run`) and put its wall time in ms into $elapsed.
elapsed_ms() {
    local t0 t1
    t0=$(date +%s%N)
    run "$@"
    t1=$(date +%s%N)
    elapsed=$(((t1 - t0) / 1000000))
}

# ==== deadlock ====

@test "deadlock: deadlocks every run, the watchdog prints the wait-for report and RESULT, exit 3" {
    run -3 lab 07 deadlock
    assert_result deadlock
    assert_field threads 10
    assert_field deadlocked 1
    assert_field lock_lines 4
    assert_field blocked 10
    assert_field cycle 'mutexA->mutexB->mutexA'
    assert_field lockdep 1
    assert_field watchdog_ms 300
    # The notes' four lines, in the order the forced schedule makes certain.
    run -0 bash -c "printf '%s\n' \"\$1\" | grep '抢到'" _ "$output"
    assert_equal "${lines[0]}" "Thread-1 抢到A锁"
    assert_equal "${lines[1]}" "Thread-1 抢到B锁"
    assert_equal "${lines[2]}" "Thread-1 抢到B锁"
    assert_equal "${lines[3]}" "Thread-2 抢到A锁"
    assert_equal "${#lines[@]}" 4
}

@test "deadlock: the report names holders, waiters and the cycle" {
    run -3 lab 07 deadlock --watchdog-ms=50
    assert_line --regexp '^WATCHDOG: no progress for [0-9]+ ms'
    assert_line --regexp '^  Thread-1 +BLOCKED +holds mutexB +waits for mutexA \(held by Thread-2\)$'
    assert_line --regexp '^  Thread-2 +BLOCKED +holds mutexA +waits for mutexB \(held by Thread-1\)$'
    assert_line --regexp '^  Thread-10 +BLOCKED +holds - +waits for mutexA \(held by Thread-2\)$'
    assert_line 'cycle: mutexA->mutexB->mutexA'
    assert_line '  Thread-1 waits for mutexA, held by Thread-2'
    assert_line '  Thread-2 waits for mutexB, held by Thread-1'
    assert_line 'lockdep: Thread-1 is trying to acquire mutexA'
    no_lab_processes
}

@test "deadlock: --watchdog-ms bounds the wait (at least that long), --threads=2" {
    elapsed_ms lab 07 deadlock --watchdog-ms=60 --threads=2
    [ "$status" -eq 3 ]
    assert_field watchdog_ms 60
    assert_field threads 2
    assert_field blocked 2
    assert_field deadlocked 1
    [ "$elapsed" -ge 60 ]
}

@test "deadlock: a watchdog that fires before the deadlock has formed still reports it (the report waits)" {
    # 1 ms is shorter than the setup and than Thread-1's hold (--hold=20: the notes' time.sleep(2),
    # 20 ms here): the watchdog fires while the schedule is still forming (that it does is timing,
    # and not asserted); the verdict is forced: the report waits until every thread is blocked.
    run -3 lab 07 deadlock --watchdog-ms=1 --hold=20
    assert_field deadlocked 1
    assert_field blocked 10
    assert_field cycle 'mutexA->mutexB->mutexA'
    assert_field lockdep 1
    refute_line --partial 'did not settle'
    refute_line --partial 'slow, not deadlocked'
    run -3 lab 07 philosophers --mode=deadlock --watchdog-ms=1
    assert_field deadlocked 1
    assert_field blocked 5
    assert_field cycle 'fork0->fork1->fork2->fork3->fork4->fork0'
    refute_line --partial 'did not settle'
}

# ==== cures ====

@test "rlock: mutexA = mutexB = RLock(): 40 lines, ABBA per thread, pairs adjacent, EPERM for a non-owner" {
    run -0 lab 07 rlock
    assert_result rlock
    assert_field threads 10
    assert_field completed 10
    assert_field lock_lines 40
    assert_field per_thread_ABBA 10
    assert_field pairs_adjacent 1
    assert_field owner_count_max 2
    assert_field nonowner_release EPERM
    assert_field nonowner_acquire EBUSY
    assert_field over_release EPERM
    assert_field lockdep 0
    assert_field deadlock 0
    assert_field breaks second_resource
    # serialised by the one lock: at least threads x hold (10 x 0.5)
    assert_field_at_least elapsed_units 5.0
    assert_line --regexp '^Thread-1 抢到B锁   <locked RLock owner=Thread-1 count=2>$'
    assert_line 'MainThread: acquire(); acquire()   <locked RLock owner=MainThread count=2>'
}

@test "ordered: address order, the same forced schedule completes" {
    run -0 lab 07 ordered
    assert_result ordered
    assert_field threads 10
    assert_field completed 10
    assert_field lock_lines 40
    assert_field first mutexA
    assert_field lockdep 0
    assert_field deadlock 0
    assert_field breaks circular_wait
    assert_field_at_least elapsed_units 5.0
}

@test "backoff: trylock + release + retry: everyone finishes, at least one retry" {
    run -0 lab 07 backoff --threads=6
    assert_result backoff
    assert_field threads 6
    assert_field completed 6
    assert_field pairs 12
    assert_field lockdep 0
    assert_field deadlock 0
    assert_field breaks hold_and_wait
    assert_field_at_least retries 1
    # Thread-2's first try always meets Thread-1 holding B; it gets both locks on a later try.
    assert_line --regexp '^Thread-2 抢不到B锁: 放开A锁, 退避 '
    assert_line --regexp '^Thread-2 抢到A锁 \(after [0-9]+ back-offs?\)$'
    # Every failed try is counted once: the "after N back-offs" of the successful tries add up to retries.
    local sum
    sum=$(printf '%s\n' "$output" | sed -n 's/^Thread-[0-9]* 抢到.锁 (after \([0-9]*\) back-offs*)$/\1/p' |
        awk '{ s += $1 } END { print s + 0 }')
    [ "$sum" -eq "$(field retries)" ]
}

@test "timeout: acquire(timeout) gives up after the delay, trylock EBUSY, the pair completes" {
    run -0 lab 07 timeout
    assert_result timeout
    assert_field acquired 0
    assert_field err ETIMEDOUT
    assert_field trylock EBUSY
    assert_field completed 2
    assert_field deadlock 0
    assert_field breaks hold_and_wait
    assert_field_at_least waited_units 0.2
    assert_field_at_least timeouts 1
}

@test "watchdog_restart: deadlock, watchdog, exec itself in ordered mode (same pid), completes" {
    run -0 lab 07 watchdog_restart --threads=4
    assert_result watchdog_restart
    assert_field generation 1
    assert_field restarts 1
    assert_field final_mode ordered
    assert_field completed 4
    assert_field lock_lines 16
    assert_field deadlock 0
    assert_field recovered_by restart
    assert_field breaks circular_wait
    assert_line 'cycle: mutexA->mutexB->mutexA'
    assert_line --regexp '^WATCHDOG: restarting itself: pid [0-9]+ execs lab07 watchdog_restart --generation=1'
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT ')" -eq 1 ]
    pid0=$(printf '%s\n' "$output" | sed -n 's/^generation 0 (pid \([0-9]*\)).*/\1/p')
    pid1=$(printf '%s\n' "$output" | sed -n 's/^generation 1 (pid \([0-9]*\),.*/\1/p')
    [ -n "$pid0" ] && [ "$pid0" = "$pid1" ]
    no_lab_processes
}

@test "watchdog_restart --generation=1 runs the ordered program directly (no recursion)" {
    run -0 lab 07 watchdog_restart --generation=1 --threads=3
    assert_field restarts 1
    assert_field completed 3
    refute_line --partial 'WATCHDOG'
}

# ==== lockdep ====

@test "lockdep --mode=lucky: no deadlock, yet the inversion is reported with both paths" {
    run -0 lab 07 lockdep --mode=lucky
    assert_result lockdep
    assert_field mode lucky
    assert_field deadlocked 0
    assert_field reports 1
    assert_field seen 'mutexA->mutexB'
    assert_field inverted 'mutexB->mutexA'
    assert_line 'lockdep: WARNING: possible circular locking dependency detected'
    assert_line --regexp '^lockdep: Thread-[0-9]+ \(ld_thread\) is trying to acquire mutexA$'
    assert_line --regexp '^lockdep:   while holding mutexB'
    assert_line --regexp '^lockdep:   Thread-[0-9]+ \(ld_thread\) asked for mutexB while holding mutexA$'
}

@test "lockdep --mode=ordered: the same order in both threads, no report" {
    run -0 lab 07 lockdep --mode=ordered
    assert_field reports 0
    assert_field seen -
    refute_line --partial 'WARNING'
}

# ==== one lock, one thread ====

@test "self_deadlock: plain hangs (timed: ETIMEDOUT), errorcheck EDEADLK, recursive counts to 2" {
    run -0 lab 07 self_deadlock --mode=plain
    assert_field mode plain
    assert_field second_lock ETIMEDOUT
    assert_field hung 1
    assert_field count_max 1
    assert_field extra_unlock -
    run -0 lab 07 self_deadlock --mode=errorcheck
    assert_field mode errorcheck
    assert_field second_lock EDEADLK
    assert_field count_max 1
    assert_field extra_unlock EPERM
    assert_field nonowner_unlock EPERM
    assert_field hung 0
    run -0 lab 07 self_deadlock --mode=recursive
    assert_field mode recursive
    assert_field second_lock OK
    assert_field hung 0
    assert_field count_max 2
    assert_field extra_unlock EPERM
    assert_result self_deadlock
}

@test "forgot_unlock: a timed lock detects the dead holder; a robust mutex recovers" {
    run -0 lab 07 forgot_unlock --mode=plain
    assert_result forgot_unlock
    assert_field mode plain
    assert_field detected 1
    assert_field holder_alive 0
    assert_field err ETIMEDOUT
    assert_field unlock_by_other EPERM
    assert_field recovered 0
    run -0 lab 07 forgot_unlock --mode=robust
    assert_field mode robust
    assert_field detected 1
    assert_field holder_alive 0
    assert_field err EOWNERDEAD
    assert_field unlock_by_other -
    assert_field recovered 1
    assert_line 'MainThread: lock() again -> OK: the lock is usable again'
}

# ==== philosophers ====

@test "philosophers --mode=deadlock: all five hold a fork, the watchdog reports the 5-cycle, exit 3" {
    run -3 lab 07 philosophers --mode=deadlock --watchdog-ms=100
    assert_result philosophers
    assert_field mode deadlock
    assert_field philosophers 5
    assert_field deadlocked 1
    assert_field fed 0
    assert_field blocked 5
    assert_field cycle 'fork0->fork1->fork2->fork3->fork4->fork0'
    assert_field watchdog_ms 100
    assert_field lockdep 1
    assert_line --regexp '^  philosopher-4 +BLOCKED +holds fork4 +waits for fork0 \(held by philosopher-0\)$'
}

@test "philosophers: ordered forks and the waiter feed everyone" {
    run -0 lab 07 philosophers --mode=ordered
    assert_result philosophers
    assert_field mode ordered
    assert_field philosophers 5
    assert_field fed 5
    assert_field meals 15
    assert_field deadlocked 0
    assert_field lockdep 0
    assert_field breaks circular_wait
    run -0 lab 07 philosophers --mode=waiter --meals=2
    assert_field mode waiter
    assert_field philosophers 5
    assert_field deadlocked 0
    assert_field breaks circular_wait
    assert_field fed 5
    assert_field meals 10
    assert_field max_seated 4
    # lockdep cannot see the waiter: it still sees the fork order cycle, and the output says why
    # that warning is a false alarm in this cure
    assert_field lockdep 1
    assert_line --partial "will warn"
    assert_line --regexp '^the lockdep warning is a false alarm here: '
}

# ==== the pace ====

@test "pace: a slower LAB_SECOND_MS makes the holds take longer (ordered, 2 threads x 0.5 notes-seconds)" {
    # Both func2s hold mutexA for --hold=5 (0.5 notes-seconds) one after the other: at least
    # 1 notes-second, 200 ms at LAB_SECOND_MS=200 (a program that ignored it would take 10 or 100).
    LAB_SECOND_MS=200 elapsed_ms lab 07 ordered --threads=2 --hold=5
    [ "$status" -eq 0 ]
    assert_field completed 2
    assert_field_at_least elapsed_units 1.0
    at_least "$elapsed" 200
}

# ==== Helgrind ====

# The cures run with a long watchdog here: Helgrind slows every step, and on a loaded machine a
# healthy run must not look stuck (the tests assert what Helgrind says, not the watchdog).
helgrind() {
    command -v valgrind >/dev/null || skip "valgrind not installed"
    run timeout -k 5 30 valgrind -q --tool=helgrind --suppressions="$ROOT/tests/helgrind.supp" --error-exitcode=99 "$BUILD/lab07" "$@"
}

@test "helgrind: reports the lock-order violation of the lucky run" {
    helgrind lockdep --mode=lucky
    [ "$status" -eq 99 ]
    assert_output --regexp 'lock order "0x[0-9A-F]+ before 0x[0-9A-F]+" violated'
    assert_line --partial 'RESULT l7.lockdep mode=lucky'
}

@test "helgrind: silent on ordered and rlock" {
    helgrind ordered --threads=3 --hold=1 --watchdog-ms=20000
    [ "$status" -eq 0 ]
    refute_output --partial 'lock order'
    assert_line --regexp '^RESULT l7.ordered threads=3 completed=3 lock_lines=12 '
    helgrind rlock --threads=3 --hold=1 --watchdog-ms=20000
    [ "$status" -eq 0 ]
    refute_output --partial 'lock order'
    assert_line --regexp '^RESULT l7.rlock threads=3 completed=3 lock_lines=12 '
}

@test "helgrind: cannot tell the trylock back-off from the bug (reports a lock order)" {
    helgrind backoff --threads=3 --hold=1 --watchdog-ms=20000
    [ "$status" -eq 99 ]
    assert_output --partial 'lock order'
    assert_line --regexp '^RESULT l7.backoff threads=3 completed=3 pairs=6 '
}

@test "helgrind: the timed lock of timeout is followed (a lock order, no unlock of a not-locked lock)" {
    helgrind timeout
    [ "$status" -eq 99 ]
    assert_output --partial 'lock order'
    refute_output --partial 'not-locked'
    assert_line --regexp '^RESULT l7.timeout '
}

@test "tsan: silent on the cures, the timed lock of timeout and the robust recovery included" {
    [ -x "$TSAN_BUILD/lab07" ] || { echo "no $TSAN_BUILD/lab07: run make tsan" >&2; return 1; }
    local s
    for s in "ordered --threads=3" "rlock --threads=3" "backoff --threads=3" timeout "forgot_unlock --mode=robust"; do
        run timeout -k 5 60 "$TSAN_BUILD/lab07" $s
        [ "$status" -eq 0 ] || { echo "$s: status $status"; false; }
        refute_output --partial 'WARNING: ThreadSanitizer'
        assert_line --regexp "^RESULT l7\.${s%% *} "
    done
}

# ==== the CLI contract ====

@test "--list names every scenario" {
    run -0 lab 07 --list
    assert_equal "${#lines[@]}" 10
    for s in deadlock rlock ordered backoff timeout watchdog_restart lockdep self_deadlock forgot_unlock philosophers; do
        assert_line --regexp "^$s  [^ ]"
    done
}

@test "--help exits 0 and shows options" {
    run -0 lab 07 --help
    assert_line --partial '--watchdog-ms=N'
    assert_line --partial 'modes: deadlock,ordered,waiter'
}

@test "guided demo: every part behaves (deadlocks exit 3 in a child), every RESULT present" {
    run -0 lab 07
    for s in deadlock rlock ordered backoff timeout watchdog_restart; do
        assert_line --regexp "^RESULT l7\.$s "
    done
    for m in lucky ordered; do assert_line --regexp "^RESULT l7\.lockdep mode=$m "; done
    for m in plain errorcheck recursive; do assert_line --regexp "^RESULT l7\.self_deadlock mode=$m "; done
    for m in plain robust; do assert_line --regexp "^RESULT l7\.forgot_unlock mode=$m "; done
    for m in deadlock ordered waiter; do assert_line --regexp "^RESULT l7\.philosophers mode=$m "; done
    assert_line 'demo: 16 parts, every one behaved as the lesson says'
    # Each part is one program: the notes' Thread-1 and Thread-2 in every A/B part, the deadlock's
    # and both generations of watchdog_restart; no name counts on from an earlier part.
    [ "$(printf '%s\n' "$output" | grep -c '^Thread-1 抢到A锁')" -ge 6 ]
    assert_line --regexp '^Thread-1 抢到A锁   <locked RLock owner=Thread-1 count=1>$'
    assert_line --regexp '^Thread-1 \(ld_thread\)'
    refute_output --regexp 'Thread-(1[4-9]|[2-9][0-9])'
    no_lab_processes
}

@test "guided demo: Ctrl-C to the demo while its deadlock child waits for the watchdog leaves no process" {
    # At LAB_SECOND_MS=1000 the child's watchdog would fire only after 3.5 s: anything of it still
    # running shortly after the demo's exit was left behind by the interrupt.
    local line fifo="$BATS_TEST_TMPDIR/fifo" out="$BATS_TEST_TMPDIR/out" seen=0
    mkfifo "$fifo"
    LAB_SECOND_MS=1000 "$BUILD/lab07" >"$fifo" 2>&1 &
    local pid=$!
    exec 4<"$fifo"
    while IFS= read -r -t 10 line <&4; do
        printf '%s\n' "$line" >>"$out"
        [[ "$line" == "Thread-2 抢到A锁" ]] && { seen=1; break; }
    done
    kill -INT "$pid"
    timeout 10 cat <&4 >>"$out" || true
    exec 4<&-
    local rc=0
    wait "$pid" || rc=$?
    [ "$seen" -eq 1 ] || { cat "$out"; return 1; }
    [ "$rc" -eq 130 ] || { echo "exit $rc"; cat "$out"; return 1; }
    local i
    for i in $(seq 20); do
        pgrep -f "^([^ ]*/)?lab07( |\$)" >/dev/null || break
        sleep 0.05
    done
    no_lab_processes
    run grep -c '^RESULT' "$out"
    assert_output 0
}

@test "usage errors of lab 7's modes and options: exit 2 with one line and a hint" {
    run --separate-stderr lab 07 lockdep --mode=unlucky
    assert_usage_error "unknown mode 'unlucky'"
    run --separate-stderr lab 07 deadlock --mode=ordered
    assert_usage_error "has no modes"
    run --separate-stderr lab 07 deadlock --threads=ten
    assert_usage_error "not a whole number"
    run --separate-stderr lab 07 deadlock --threads=1
    assert_usage_error "out of range"
    run --separate-stderr lab 07 rlock --threads=33
    assert_usage_error "out of range"
    run --separate-stderr lab 07 ordered --hold=101
    assert_usage_error "out of range"
    run --separate-stderr lab 07 deadlock --watchdog-ms=-1
    assert_usage_error "out of range"
    run --separate-stderr lab 07 watchdog_restart --generation=2
    assert_usage_error "out of range"
    run --separate-stderr lab 07 deadlock --meals=2
    assert_usage_error "does not apply"
    run --separate-stderr lab 07 philosophers --threads=5
    assert_usage_error "does not apply"
}

@test "README: every command shown runs as documented" {
    run_readme_commands "$ROOT/labs/07-deadlock-rlock"
    no_lab_processes
}

@test "watchdog without a cycle: a slow healthy run says 'slow, not deadlocked', never DEADLOCK" {
    run lab 07 ordered --hold=20 --watchdog-ms=20
    [ "$status" -eq 3 ]
    assert_line --regexp '^slow, not deadlocked: no cycle in the wait-for graph '
    refute_line --partial "DEADLOCK detected"
    assert_field deadlocked 0 ordered
}
