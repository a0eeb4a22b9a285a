#!/usr/bin/env bats
# tests/01-processes.bats - lab 1: processes (start, terminate, subclass, spawn vs fork, join,
# pids, zombie, orphan, isolation) and thread basics (creation, sharing, introspection, results).
load test_helper
LAB=01

SCENARIOS=(start terminate subclass spawn_vs_fork join_all pids zombie orphan thread_create isolation
    thread_share threads same_api thread_results start_join low_thread old_names daemon_env cost)

teardown() {
    no_lab_processes
}


# ---- the command line --------------------------------------------------------------------

@test "lab01: --list names every scenario (name, two spaces, description), in demo order" {
    run lab 01 --list
    assert_scenario_list "${SCENARIOS[@]}"
}

@test "lab01: --help prints the usage and exits 0" {
    run lab 01 --help
    assert_success
    assert_line --regexp '^Usage: lab01 '
    assert_line --partial 'join_all'
}

@test "lab01: the lab's own bad input exits 2 with one line and a hint" {
    # (unknown scenarios and options, --list extra, LAB_SECOND_MS and LAB_SEED: 00-project.bats)
    run --separate-stderr lab 01 start --mode=x
    assert_usage_error "has no modes"
    run --separate-stderr lab 01 join_all --children=abc
    assert_usage_error "not a whole number"
    run --separate-stderr lab 01 join_all --children=0
    assert_usage_error "out of range"
    run --separate-stderr lab 01 join_all --children=101
    assert_usage_error "101 is out of range"
    run --separate-stderr lab 01 threads --threads=21
    assert_usage_error "out of range"
    run --separate-stderr lab 01 start --children=3
    assert_usage_error "does not apply to scenario 'start'"
    run --separate-stderr lab 01 cost --count=
    assert_usage_error "bad value for --count"
    run --separate-stderr lab 01 start extra
    assert_usage_error "unexpected argument 'extra'"
}

# ---- processes ---------------------------------------------------------------------------

@test "lab01 start: the child's two lines, the parent's line, start() returns before the child ends" {
    run lab 01 start
    assert_success
    assert_result start
    assert_field child_exit 0
    assert_field child_lines 2
    assert_field start_returned_first 1
    assert_line --regexp '^main [0-9]+: 主进程$'
    # per-process order only: running before over
    local running over
    running=$(printf '%s\n' "$output" | grep -n 'zhao is running$' | cut -d: -f1)
    over=$(printf '%s\n' "$output" | grep -n 'zhao is over$' | cut -d: -f1)
    [ -n "$running" ]
    [ -n "$over" ]
    [ "$running" -lt "$over" ]
    # forced: 主进程 comes first, as the notes say (the child waits for the parent's word)
    local main
    main=$(printf '%s\n' "$output" | grep -n ': 主进程$' | cut -d: -f1)
    [ "$main" -lt "$running" ]
}

@test "lab01 start: a slower LAB_SECOND_MS makes it longer (the child's 3 units at 200 ms: >= 600 ms)" {
    # Above the default pace (100), so a program that ignored LAB_SECOND_MS (300 ms) fails too.
    local t0 t1 ms
    t0=$(date +%s%N)
    LAB_SECOND_MS=200 run lab 01 start
    t1=$(date +%s%N)
    assert_success
    at_least $(( (t1 - t0) / 1000000 )) 600
    # and the program's own measure: the task ended at least 3 x 200 ms after start() was called
    ms=$(printf '%s\n' "$output" | sed -n 's/.*task ended \([0-9]*\) ms after the call/\1/p')
    at_least "$ms" 600
}

@test "lab01 terminate: exitcode -15 every run, alive before, not alive after join" {
    run lab 01 terminate
    assert_success
    assert_result terminate
    assert_field pid_eq_ident 1
    assert_field exitcode -15
    assert_field alive_before 1
    assert_field alive_after_join 0
    assert_line --regexp 'p\.exitcode=None'
}

@test "lab01 subclass: run() runs in the child, not in the parent" {
    run lab 01 subclass
    assert_success
    assert_result subclass
    assert_field run_called_in_child 1
    assert_field child_pid_ne_parent 1
    assert_field exitcode 0
    assert_line --partial 'hello,bf girl'
    assert_line --partial 'get out!!'
}

@test "lab01 spawn_vs_fork: the top level runs once under fork, twice under spawn, never recursively" {
    run lab 01 spawn_vs_fork
    assert_success
    assert_result spawn_vs_fork
    assert_field fork_toplevel_runs 1
    assert_field spawn_toplevel_runs 2
    assert_field guarded_recursion 0
    # exactly one marker line, and it comes from the spawned child
    [ "$(printf '%s\n' "$output" | grep -c 'the top level of main() runs')" -eq 1 ]
    local spawned
    spawned=$(printf '%s\n' "$output" | sed -n 's/.*spawned \([0-9]*\) = posix_spawn.*/\1/p')
    assert_line "[pid $spawned] the top level of main() runs (the code outside the guard)"
}

@test "lab01: the guard argument runs only the child's task, never the main code" {
    run lab 01 --l01-spawned-child
    assert_success
    refute_line --partial 'RESULT'
    refute_line --partial 'top level of main() runs'
    assert_line --partial 'the guard skips the main code'
}

@test "lab01 join_all: ten children print, then the parent, last" {
    run lab 01 join_all
    assert_success
    assert_result join_all
    assert_field children 10
    assert_field child_lines 10
    assert_field reaped 10
    assert_field main_last 1
    [ "$(printf '%s\n' "$output" | grep -c '^child [0-9]*: 666$')" -eq 10 ]
    # the parent's 666 is the last 666 line (forced: it is printed after every join)
    printf '%s\n' "$output" | grep '666' | tail -n 1 | grep -q '^main [0-9]*: 666'
}

@test "lab01 join_all --children=3" {
    run lab 01 join_all --children=3
    assert_success
    assert_field children 3
    assert_field child_lines 3
    assert_field reaped 3
    assert_field main_last 1
    run lab 01 join_all --children=1
    assert_success
    assert_field reaped 1
    assert_field main_last 1
}

@test "lab01 pids: child's ppid is the parent, parent's ppid is the program that ran it" {
    run timeout -k 5 30 bash -c '"$0" pids; echo "invoker=$$"' "$BUILD/lab01"
    assert_success
    assert_field child_ppid_eq_parent_pid 1 pids
    assert_field parent_ppid_eq_invoker 1 pids
    assert_field child_pid_eq_p_pid 1 pids
    local invoker
    invoker=$(printf '%s\n' "$output" | sed -n 's/^invoker=//p')
    assert_field invoker "$invoker" pids
}

@test "lab01 zombie: state Z before join, exit 7, gone after; SIG_IGN auto-reaps (ECHILD)" {
    run lab 01 zombie
    assert_success
    assert_result zombie
    assert_field state_before_wait Z
    assert_field reaped 1
    assert_field exit 7
    assert_field proc_entry_after 0
    assert_field kill0_on_zombie 1
    assert_field sigign_waitpid ECHILD
    assert_field sigign_proc_entry 0
    assert_field sigchld_restored 1
}

@test "lab01 orphan: ppid changes from the middle process to the subreaper; the orphan is reaped" {
    run lab 01 orphan
    assert_success
    assert_result orphan
    assert_field reparented_to_subreaper 1
    assert_field orphan_reaped 1
    assert_field orphan_gone 1
    assert_field main_subreaper 0
    local mid helper orphan
    mid=$(field mid_pid)
    helper=$(field subreaper_pid)
    orphan=$(field orphan_pid)
    assert_field ppid_before "$mid"
    assert_field ppid_after "$helper"
    [ "$orphan" -gt 1 ]
    [ ! -e "/proc/$orphan" ]
    [ ! -e "/proc/$mid" ]
    [ ! -e "/proc/$helper" ]
    assert_line --regexp "^grandchild $orphan: my parent is $mid "
    assert_line --regexp "^grandchild $orphan: my parent died; now my parent is $helper$"
}

@test "lab01 isolation: the parent keeps 100 at the same address the child changed to 666" {
    run lab 01 isolation
    assert_success
    assert_result isolation
    assert_field parent_money 100
    assert_field child_money 666
    assert_field same_vaddr 1
    local addrs
    addrs=$(printf '%s\n' "$output" | sed -n 's/.*money=[0-9]* at address \(0x[0-9a-f]*\).*/\1/p' | sort -u | wc -l)
    [ "$addrs" -eq 1 ]
}

# ---- threads -----------------------------------------------------------------------------

@test "lab01 thread_create: five lines from one thread, Python's names (Thread-1 (task), then Thread-2)" {
    run lab 01 thread_create
    assert_success
    assert_result thread_create
    assert_field lines 5
    assert_field distinct_threads 1
    assert_field same_pid 1
    assert_line 'Thread-1 (task): zhao is running'
    assert_line --regexp '^MainThread: 主$'
    # one thread's own lines are in order; MyThread is the program's second thread, a subclass
    [ "$(printf '%s\n' "$output" | grep -E '^I am Thread-2 [0-4]$' | sed 's/.* //' | tr -d '\n')" = "01234" ]
}

@test "lab01 thread_share: a thread's 666 is the main thread's 666" {
    run lab 01 thread_share
    assert_success
    assert_result thread_share
    assert_field thread_money 666
    assert_field main_money 666
    assert_field same_vaddr 1
}

@test "lab01 threads: enumerate 11, active_count 11, one pid, ten tids" {
    run lab 01 threads
    assert_success
    assert_result threads
    assert_field enumerate 11
    assert_field active_count 11
    assert_field list_len 10
    assert_field distinct_pids 1
    assert_field distinct_tids 10
    assert_field tids_in_proc_task 10
    assert_field names_ok 1
    assert_field main_tid_eq_pid 1
    assert_field active_after_join 1
    [ "$(printf '%s\n' "$output" | grep -cE '^Thread-([1-9]|10) \(producer\): ident=[0-9]+ native_id=[0-9]+ pid=[0-9]+$')" -eq 10 ]
    assert_line --regexp "^MainThread: pl = \['lxc'(, 'lxc'){9}\]$"
    # A list that would not fit a projector: the first two, one a line, then how many more.
    assert_line --regexp '^MainThread: enumerate\(\) = \[<_MainThread\(MainThread, started [0-9]+\)>,$'
    assert_line --regexp '^ {27}<Thread\(Thread-[0-9]+ \(producer\), started [0-9]+\)>, … \(9 more\)\]$'
}

@test "lab01 threads --threads=3: enumerate counts the main thread too" {
    run lab 01 threads --threads=3
    assert_success
    assert_field enumerate 4
    assert_field active_count 4
    assert_field distinct_tids 3
}

@test "lab01 same_api: job(1,2) prints 3 from a thread and from a process" {
    run lab 01 same_api
    assert_success
    assert_result same_api
    assert_field lines 2
    assert_field thread_value 3
    assert_field process_value 3
    [ "$(printf '%s\n' "$output" | grep -c 'job(1, 2) prints 3$')" -eq 2 ]
}

@test "lab01 thread_results: the exact squared lists" {
    run lab 01 thread_results
    assert_success
    assert_result thread_results
    assert_field value '[[1,4,9],[9,16,25],[16,16,16],[25,25,25]]'
    assert_field join_value_same 1
}

@test "lab01 cost: reports fork and thread creation times (report only)" {
    run lab 01 cost --count=5
    assert_success
    assert_result cost
    assert_field count 5
    [[ "$(field fork_us)" =~ ^[0-9]+\.[0-9]$ ]]
    [[ "$(field thread_us)" =~ ^[0-9]+\.[0-9]$ ]]
}

@test "lab01 --bench: a row per kind of creation and a RESULT line (report only)" {
    run lab 01 --bench
    assert_success
    assert_line --regexp '^pthread_create\+join +[0-9]+ +[0-9.]+ +1\.0$'
    assert_line --regexp '^fork\+waitpid +[0-9]+ +[0-9.]+ +[0-9.]+$'
    assert_line --regexp '^fork\+waitpid, 64 MiB parent +[0-9]+ +[0-9.]+ +[0-9.]+$'
    assert_line --regexp '^posix_spawn\(self\)\+waitpid +[0-9]+ +[0-9.]+ +[0-9.]+$'
    assert_result bench
    local k
    for k in thread_us fork_us fork_big_us spawn_us; do
        [[ "$(field $k)" =~ ^[0-9]+\.[0-9]$ ]] || { echo "bench: $k=$(field $k)"; return 1; }
    done
}

# ---- _thread, the old names, start/join, daemons ------------------------------------------

@test "lab01 start_join: start() returns while f('bob') sleeps, join() waits for hello bob" {
    run lab 01 start_join
    assert_success
    assert_result start_join
    assert_field said_at_start 0
    assert_field said_at_join 1
    assert_field exitcode 0
    assert_field_at_least join_units 1.9
    assert_line '  hello bob'
}

@test "lab01 low_thread: the program's end kills _thread's threads (1 of 3 lines each); locks wait for all" {
    local i
    for i in 1 2 3; do
        run lab 01 low_thread --mode=exit
        assert_success
        assert_field lines 1,1
        assert_field exitcode 0
    done
    run lab 01 low_thread --mode=lock
    assert_success
    assert_field lines 3,3
    assert_field exitcode 0
    assert_line '  main: every lock released, the program ends'
}

@test "lab01 old_names: every old name mapped, MyThread('zhao') named, 主 2 after joining only t1" {
    run lab 01 old_names
    assert_success
    assert_result old_names
    assert_field daemon 1
    assert_field mythread_name zhao
    assert_field active_after_t1_join 2
    assert_field active_after_all 1
    local n
    for n in "t.setName('zhao')" "t.getName()" "t.setDaemon(True)" "threading.currentThread()" "threading.activeCount()"; do
        assert_line --regexp "^$(printf '%s' "$n" | sed 's/[().]/\\&/g') +.*DeprecationWarning since 3\.10$"
    done
    assert_line --regexp '^t\.isAlive\(\) +t\.is_alive\(\) -> False, False after join +removed in 3\.9: AttributeError$'
    assert_line '  zhao is running '
}

@test "lab01 daemon_env: the daemon dies with a script, lives on at an interactive prompt" {
    run lab 01 daemon_env --mode=script
    assert_success
    assert_field daemon_lines 1
    run lab 01 daemon_env --mode=interactive
    assert_success
    assert_field daemon_lines 3
    assert_field exitcode 0
}

@test "lab01: the tsan build is silent on the fixed thread scenarios (low_thread lock, old_names, daemon_env)" {
    [ -x "$TSAN_BUILD/lab01" ] || { echo "no $TSAN_BUILD/lab01: run make tsan" >&2; return 1; }
    local args
    for args in "low_thread --mode=lock" old_names "daemon_env --mode=interactive"; do
        run --separate-stderr timeout -k 5 60 "$TSAN_BUILD/lab01" $args
        [ "$status" -eq 0 ] || { echo "$args: status $status: $stderr"; false; }
        [[ "$stderr$output" != *ThreadSanitizer* ]] || { echo "$args: $stderr"; false; }
    done
}

# ---- the whole lab -----------------------------------------------------------------------

@test "lab01: the guided demo runs every scenario and exits 0" {
    run lab 01
    assert_success
    local s
    for s in "${SCENARIOS[@]}"; do
        assert_line --regexp "^RESULT l1\.$s "
    done
    assert_line --partial 'demo: 21 parts, every one behaved as the lesson says'
    # Each scenario is one Python program: its first unnamed thread is Thread-1, in the demo too.
    assert_line 'Thread-1 (task): zhao is running'
    assert_line 'I am Thread-2 4'
    assert_line --regexp '^Thread-1 \(share_task\): money=666 '
    assert_line --regexp '^Thread-10 \(producer\): ident='
    assert_line '  Thread-3 (name_task): hello,world!!'
    refute_output --regexp 'Thread-(1[1-9]|[2-9][0-9])'
}

@test "lab01: every run is deterministic where the lesson forces it (5 runs of terminate and zombie)" {
    local i
    for i in 1 2 3 4 5; do
        run lab 01 terminate
        assert_success
        assert_field exitcode -15
        run lab 01 zombie
        assert_success
        assert_field state_before_wait Z
    done
}

@test "lab01: SIGTERM in the middle of a scenario leaves no child behind" {
    # The signal comes while the child is in its task (its first line is out).
    LAB_SECOND_MS=1000 signal_on_line TERM '^child [0-9]+: zhao is running$' "$BATS_TEST_TMPDIR/out" start
    [ "$sig_status" -eq 143 ]
    settle_lab_processes
    no_lab_processes
    LAB_SECOND_MS=1000 signal_on_line INT 'hello,bf girl$' "$BATS_TEST_TMPDIR/out" subclass
    [ "$sig_status" -eq 130 ]
    settle_lab_processes
    no_lab_processes
}

@test "lab01: the README commands run" {
    run_readme_commands "$ROOT/labs/01-processes"
}
