#!/usr/bin/env bats
# tests/02-join-daemon.bats - lab 2: join (serial vs concurrent), Python's daemon process, a Unix
# daemon, thread join, daemon threads, the timing transcripts.  Runs at LAB_SECOND_MS=10 (test_helper).

load test_helper
LAB=02

# The lines a scenario printed from processes ("child 123: text", "main 123: text",
# "main program 123: text"), without the prefix.
proc_text() {
    printf '%s\n' "$output" | sed -n -E 's/^(child|main|main program) [0-9]+( \((non-)?daemon\))?: //p'
}

# The lines printed by threads ("Thread-1 (task): 132", "MainThread: 主", "T1: T1 start"), without the name.
thread_text() {
    printf '%s\n' "$output" | sed -n -E 's/^(MainThread|T1|Thread-[0-9]+( \([a-z_]+\))?): //p'
}


@test "--list names every scenario, 'name  description'" {
    run lab 02 --list
    assert_scenario_list join serial concurrent daemon_proc unix_daemon thread_join daemon_thread timing
}

@test "--help exits 0 and shows the options" {
    run lab 02 --help
    assert_success
    assert_output --partial "--children=N"
    assert_output --partial "--loops=N"
}

@test "join: the parent waits; exact transcript" {
    run lab 02 join
    assert_success
    assert_result join
    assert_field order_ok 1
    assert_field exitcode 0
    assert_field_at_least elapsed_units 3.0
    [ "$(proc_text)" = "$(printf '%s\n' 'zhao is running' 'zhao is over' '主进程')" ]
}

@test "serial: join inside the loop runs the children one after another (6 units)" {
    run lab 02 serial
    assert_success
    assert_result serial
    assert_field order_ok 1
    assert_field max_running 1
    assert_field children 3
    assert_field expected_units 6
    assert_field_at_least elapsed_units 5.7
    run_text="$(proc_text | head -n 6)"
    [ "$run_text" = "$(printf '%s\n' '子进程1 is running' '子进程1 is over' '子进程2 is running' '子进程2 is over' '子进程3 is running' '子进程3 is over')" ]
    proc_text | sed -n 7p | grep -Eq '^主 [0-9]+\.[0-9]$'
}

@test "concurrent: join after the loop overlaps the children (3 units); per-child order" {
    # The overlap is timing (children forked less than a unit apart), so a unit of 50 ms leaves a
    # loaded machine a wide margin.
    LAB_SECOND_MS=50 run lab 02 concurrent
    assert_success
    assert_result concurrent
    assert_field order_ok 1
    assert_field expected_units 3
    assert_field_at_least elapsed_units 2.85
    assert_field_at_least max_running 2
    text="$(proc_text)"
    for i in 1 2 3; do
        r=$(printf '%s\n' "$text" | grep -n "^子进程$i is running$" | cut -d: -f1)
        o=$(printf '%s\n' "$text" | grep -n "^子进程$i is over$" | cut -d: -f1)
        [ -n "$r" ]
        [ -n "$o" ]
        [ "$r" -lt "$o" ]
    done
    [ "$(printf '%s\n' "$text" | grep -c ' is running$')" -eq 3 ]
    [ "$(printf '%s\n' "$text" | grep -c ' is over$')" -eq 3 ]
}

@test "serial vs concurrent: the timeline draws a staircase (peak 1) and side by side (peak 3)" {
    run lab 02 serial
    assert_success
    assert_line --regexp '^timeline: one row each, time left to right, 64 columns = '
    [ "$(printf '%s\n' "$output" | grep -cE '^child [1-3] \(sleeps [1-3]\) +\|[ #]{64}\|$')" -eq 3 ]
    assert_line --regexp '^how many at once +\|[ 01]{64}\| peak 1$'
    run lab 02 concurrent
    assert_success
    assert_line --regexp '^how many at once +\|[ 0-3]{64}\| peak 3$'
}

# A ratio of wall times is an upper bound: at 100 ms a unit, concurrent (about 3 units) has 180 ms
# of slack under 0.8 x serial (at least 6 units), more than a busy machine delays a fork or a wake-up.
@test "serial vs concurrent in the same run: concurrent < 0.8 x serial" {
    LAB_SECOND_MS=100 run lab 02 serial
    assert_success
    serial="$(field elapsed_units serial)"
    LAB_SECOND_MS=100 run lab 02 concurrent
    assert_success
    concurrent="$(field elapsed_units concurrent)"
    at_least "$serial" 5.7
    at_least "$concurrent" 2.85
    awk -v c="$concurrent" -v s="$serial" 'BEGIN { exit !(c < 0.8 * s) }'
}

@test "--children changes the sums: serial 1+..+5 = 15, concurrent 5" {
    run lab 02 serial --children=5
    assert_success
    assert_field expected_units 15
    assert_field children 5
    assert_field_at_least elapsed_units 14.25
    run lab 02 concurrent --children 1
    assert_success
    assert_field expected_units 1
    assert_field max_running 1
}

@test "daemon_proc: the daemon is SIGTERMed when the main code ends; the non-daemon child finishes" {
    run lab 02 daemon_proc
    assert_success
    assert_result daemon_proc
    assert_field daemon_first_line 1
    assert_field daemon_final_line 0
    assert_field daemon_term_signal 15
    assert_field nondaemon_finished 1
    assert_field set_after_start EINVAL
    assert_field start_twice EINVAL
    refute_output --partial "总管正常死亡"
    assert_line --regexp '^child [0-9]+ \(daemon\): zhangsan总管正常活着$'
    assert_line --regexp '^child [0-9]+ \(non-daemon\): lisi finished$'
    assert_line --regexp '^main program [0-9]+: 主进程$'
    # The main program announced the exit rule before the non-daemon child finished.
    rule=$(printf '%s\n' "$output" | grep -n 'main code ended' | cut -d: -f1)
    fin=$(printf '%s\n' "$output" | grep -n 'lisi finished' | cut -d: -f1)
    [ "$rule" -lt "$fin" ]
    # Forced in the program (the job starts once the main code has ended), so at any pace.
    LAB_SECOND_MS=1 run lab 02 daemon_proc
    assert_success
    assert_field daemon_final_line 0
    assert_field daemon_term_signal 15
    rule=$(printf '%s\n' "$output" | grep -n 'main code ended' | cut -d: -f1)
    fin=$(printf '%s\n' "$output" | grep -n 'lisi finished' | cut -d: -f1)
    [ "$rule" -lt "$fin" ]
    no_lab_processes
}

@test "unix_daemon: double fork, setsid, chdir /, umask 0, closed fds, pidfile; stopped and gone" {
    before="$(named_snapshot)"
    run lab 02 unix_daemon
    assert_success
    assert_result unix_daemon
    assert_field mode double
    assert_field ppid_not_lab 1
    assert_field session_leader 0
    assert_field sid first_child
    assert_field ctty 0
    assert_field cwd_root 1
    assert_field umask 000
    assert_field fds_only_std 1
    assert_field pidfile_ok 1
    assert_field ran_alone 1
    assert_field stopped 1
    assert_field pidfile_removed 1
    assert_field leftovers 0
    # The daemon is gone: no /proc entry, or a zombie waiting for the process that adopted it.
    pid=$(printf '%s\n' "$output" | sed -n -E 's/^lab: the pidfile says ([0-9]+)$/\1/p')
    [ -n "$pid" ]
    if [ -r "/proc/$pid/stat" ]; then
        state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null || echo X)
        [[ "$state" == [ZX] || -z "$state" ]]
    fi
    [ "$(named_snapshot)" = "$before" ]
    settle_lab_processes
    no_lab_processes
}

@test "unix_daemon --mode=single (daemon(3)): a session leader, sid == its own pid" {
    run lab 02 unix_daemon --mode=single
    assert_success
    assert_result unix_daemon
    assert_field mode single
    assert_field ppid_not_lab 1
    assert_field session_leader 1
    assert_field sid own
    assert_field ctty 0
    assert_field pidfile_ok 1
    assert_field stopped 1
    assert_field leftovers 0
    settle_lab_processes
    no_lab_processes
}

@test "thread_join: exact transcript T1 start / T1 finished / all done" {
    run lab 02 thread_join
    assert_success
    assert_result thread_join
    assert_field order_ok 1
    assert_field loops 10
    assert_field_at_least elapsed_units 10
    [ "$(thread_text)" = "$(printf '%s\n' 'T1 start' 'T1 finished' 'all done')" ]
    run lab 02 thread_join --loops=2
    assert_success
    assert_field_at_least elapsed_units 2
}

@test "thread_join: a slower LAB_SECOND_MS makes it longer (5 units at 200 ms: >= 1000 ms)" {
    # Above the default pace (100), so a program that ignored LAB_SECOND_MS (500 ms) fails too.
    local t0 t1
    t0=$(date +%s%N)
    LAB_SECOND_MS=200 run lab 02 thread_join --loops=5
    t1=$(date +%s%N)
    assert_success
    assert_field loops 5
    at_least $(( (t1 - t0) / 1000000 )) 1000
}

@test "daemon_thread: zhao is cut off; 132/456/主 then end123, end465; errors after start" {
    run lab 02 daemon_thread
    assert_success
    assert_result daemon_thread
    assert_field daemon_over_printed 0
    assert_field nondaemon_over_printed 1
    assert_field end123_printed 1
    assert_field order_ok 1
    assert_field set_after_start EINVAL
    assert_field start_twice EINVAL
    text="$(thread_text)"
    printf '%s\n' "$text" | grep -qx 'zhao is running'
    [ -z "$(printf '%s\n' "$text" | grep -x 'zhao is over')" ]
    # Example 2: the lines after the first 主.
    ex2="$(printf '%s\n' "$text" | sed '1,/^主$/d')"
    [ "$(printf '%s\n' "$ex2" | head -n 3 | sort | tr '\n' ' ')" = "$(printf '%s\n' 132 456 主 | sort | tr '\n' ' ')" ]
    [ "$(printf '%s\n' "$ex2" | sed -n '4,5p' | tr '\n' ' ')" = "end123 end465 " ]
    # The order is forced in the program (t1 sleeps only after 456 and 主), at any pace.
    LAB_SECOND_MS=1 run lab 02 daemon_thread
    assert_success
    assert_field order_ok 1
}

@test "timing: lower bounds of the sleeps; the run(n) countdown from line 3 on is exact" {
    run lab 02 timing
    assert_success
    assert_result timing
    assert_field run_n_text_ok 1
    assert_field_at_least sorry_serial_units 4.75
    assert_field_at_least sorry_threads_units 0.95
    assert_field_at_least two_procs_units 1.9
    assert_field_at_least two_threads_units 1.9
    assert_field_at_least run_n_units 3.8
    [ "$(thread_text | grep -c '^Sorry$')" -eq 10 ]
    [ "$(printf '%s\n' "$output" | grep -c '结果: 1152921504606846976$')" -eq 4 ]
    countdown="$(printf '%s\n' "$output" | sed -n -E 's/^Thread-[0-9]+ \(run\): //p')"
    [ "$(printf '%s\n' "$countdown" | head -n 2 | sort | tr '\n' ' ')" = "task t1 task t2 " ]
    [ "$(printf '%s\n' "$countdown" | sed -n '3,8p' | tr '\n' ' ')" = "2s 2s 1s 1s 0s 0s " ]
    # The pairs are forced (a barrier after each line), so they hold at any pace.
    LAB_SECOND_MS=1 run lab 02 timing
    assert_success
    assert_field run_n_text_ok 1
}

@test "guided demo: exit 0, every scenario's RESULT, concurrent's three overlap (forced), nothing left" {
    before="$(named_snapshot)"
    # 30 ms a unit: the speed-up check below keeps a margin of tens of ms on a loaded machine.
    LAB_SECOND_MS=30 run lab 02
    assert_success
    for s in join serial concurrent daemon_proc unix_daemon thread_join daemon_thread timing; do
        [ -n "$(result_line "$s")" ]
    done
    assert_line --index -1 --partial "every one behaved as the lesson says"
    # Python's names, one counter per program: each daemon_thread example is its own program (a
    # child process); timing's five programs are one scenario, so its threads count on.
    assert_line 'Thread-1 (task): zhao is running'
    assert_line 'Thread-1 (task): 132'
    assert_line 'Thread-2 (func): 456'
    assert_line 'Thread-1 (sorry): Sorry'
    assert_line 'Thread-6 (long_time_task): 当前子线程: Thread-6 (long_time_task) 任务1'
    assert_line 'Thread-8 (run): task t1'
    refute_output --regexp 'Thread-(1[0-9]|[2-9][0-9])'
    # concurrent's overlap: forced, so certain; its wall time against serial's is the test above,
    # at a pace with room for a busy machine.
    assert_line --regexp '^RESULT l2\.concurrent .* max_running=3 '
    [ "$(named_snapshot)" = "$before" ]
    settle_lab_processes
    no_lab_processes
}

@test "SIGINT in the middle of daemon_proc leaves no process behind" {
    # Ctrl-C while the daemon child sleeps and the main program has ended its main code.
    LAB_SECOND_MS=1000 signal_on_line INT '^main program [0-9]+: 主进程$' "$BATS_TEST_TMPDIR/out" daemon_proc
    [ "$sig_status" -eq 130 ]
    settle_lab_processes
    no_lab_processes
}

@test "SIGINT while the Unix daemon runs: the lab stops it and removes its directory" {
    before="$(named_snapshot)"
    out="$BATS_TEST_TMPDIR/out"
    LAB_SECOND_MS=2000 signal_on_line INT '^lab: the pidfile says [0-9]+$' "$out" unix_daemon
    [ "$sig_status" -eq 130 ]
    pid=$(sed -n -E 's/^lab: the pidfile says ([0-9]+)$/\1/p' "$out")
    [ -n "$pid" ]
    settle_lab_processes
    no_lab_processes
    if [ -r "/proc/$pid/stat" ]; then
        state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$pid/stat" 2>/dev/null || echo X)
        [[ "$state" == [ZX] || -z "$state" ]]
    fi
    [ "$(named_snapshot)" = "$before" ]
}

@test "usage errors of this lab: a mode, an option of another scenario, bad and out-of-range numbers" {
    # (unknown scenarios and options, LAB_SECOND_MS and LAB_SEED: tests/00-project.bats)
    run --separate-stderr lab 02 join --mode=fast
    assert_usage_error "has no modes"
    run --separate-stderr lab 02 unix_daemon --mode=triple
    assert_usage_error "unknown mode 'triple'"
    run --separate-stderr lab 02 serial --children=abc
    assert_usage_error "bad value for --children: 'abc' is not a whole number"
    run --separate-stderr lab 02 serial --children=9
    assert_usage_error "bad value for --children: 9 is out of range"
    run --separate-stderr lab 02 concurrent --children=0
    assert_usage_error "bad value for --children: 0 is out of range"
    run --separate-stderr lab 02 thread_join --loops=0
    assert_usage_error "out of range"
    run --separate-stderr lab 02 thread_join --loops=61
    assert_usage_error "out of range"
    run --separate-stderr lab 02 join --children=2
    assert_usage_error "does not apply to scenario 'join'"
}

@test "README commands run as shown" {
    run_readme_commands "$ROOT/labs/02-join-daemon"
}
