#!/usr/bin/env bats
# tests/05-producer-consumer.bats - lab 5: sentinels, the kitchen, JoinableQueue, bounded buffer, the if/while bug.
load test_helper
LAB=05

# The invariants every run promises (RESULT keys of ledger.c).
assert_books() {   # assert_books PRODUCED
    assert_field produced "$1"
    assert_field consumed "$1"
    assert_field duplicates 0
    assert_field missing 0
    assert_field checksum_ok 1
    assert_field per_producer_fifo 1
    assert_field consumers_alive_after 0
}

# kitchen/joinable: every "吃了X" line comes after the line that printed X (the producer prints
# before put, the consumer after get: causal order, so it holds in the output), and each guest
# eats each cook's dishes in increasing order.
check_kitchen_order() {
    printf '%s\n' "$output" | awk '
        /生产了/ && !/吃了/ { sub(/^[^:]*: /, ""); made[$0] = NR; next }
        /吃了/ {
            guest = $1; line = substr($0, index($0, "吃了") + length("吃了"))
            if (!(line in made)) { print "eaten before made: " line; bad = 1 }
            split(line, a, ","); cook = a[1]; n = a[2] + 0
            key = guest SUBSEP cook
            if ((key in last) && n <= last[key]) { print "out of order: " $0; bad = 1 }
            last[key] = n; eaten++
        }
        END { if (bad) exit 1; print eaten " eaten" }'
}

@test "lab05 --list: every scenario, name two spaces description" {
    run lab 05 --list
    assert_success
    [ "${#lines[@]}" -eq 6 ]
    local s
    for s in sentinel kitchen joinable sentinel_variants threads cv_if_bug; do
        assert_line --regexp "^$s  [^ ]"
    done
}

@test "lab05 --help: usage, modes, options, --bench (exit 0)" {
    run lab 05 --help
    assert_success
    assert_line --regexp '^Usage: lab05 '
    assert_output --partial 'modes: one,per_consumer,propagate'
    assert_output --partial 'modes: if,while'
    assert_output --partial '--capacity=N'
    assert_output --partial '--bench'
}

@test "lab05 sentinel: 10 producer processes, 2 consumers, one stop message each: every name once" {
    run lab 05 sentinel
    assert_success
    assert_result sentinel
    assert_field producers 10
    assert_field consumers 2
    assert_field items 1
    assert_field capacity 1024
    assert_field stop_msgs 2
    assert_field stops_received 2
    assert_field left_in_buffer 0
    assert_field consumers_exited 2
    assert_books 10
    local p
    for p in 0 1 2 3 4 5 6 7 8 9; do
        [ "$(printf '%s\n' "$output" | grep -c "^consumer-[01] (pid [0-9]*): producer-$p\$")" -eq 1 ]
    done
    [ "$(printf '%s\n' "$output" | grep -c 'got the stop message')" -eq 2 ]
}

@test "lab05 sentinel: --producers --consumers --items --capacity (a queue of 2 slots)" {
    run lab 05 sentinel --producers 4 --consumers=3 --items=6 --capacity 2
    assert_success
    assert_field producers 4
    assert_field consumers 3
    assert_field capacity 2
    assert_field stop_msgs 3
    assert_field stops_received 3
    assert_field left_in_buffer 0
    assert_field consumers_exited 3
    assert_books 24
}

@test "lab05 kitchen: 大厨/张桑 cook 5 each, 李四/王五 eat 10; each dish eaten after it was made, in order" {
    run lab 05 kitchen
    assert_success
    assert_result kitchen
    assert_field per_producer 5
    assert_field produce_before_consume 1
    assert_field stop_msgs 2
    assert_field stops_received 2
    assert_field left_in_buffer 0
    assert_field consumers_exited 2
    assert_books 10
    [ "$(printf '%s\n' "$output" | grep -c '大厨生产了包子,[0-4]$')" -eq 10 ]   # made + eaten
    [ "$(printf '%s\n' "$output" | grep -c '张桑生产了养生汤,[0-4]$')" -eq 10 ]
    run check_kitchen_order
    assert_success
    assert_output '10 eaten'
}

@test "lab05 kitchen --items=2: the count follows the option" {
    run lab 05 kitchen --items=2
    assert_success
    assert_field per_producer 2
    assert_books 4
}

@test "lab05 joinable: task_done + join; join returns after the last dish; daemon guests terminated; extra task_done is EINVAL" {
    run lab 05 joinable
    assert_success
    assert_result joinable
    assert_field per_producer 5
    assert_field task_done 10
    assert_field join_after_last_consume 1
    assert_field consumers_terminated 2
    assert_field extra_task_done EINVAL
    assert_field left_in_buffer 0
    assert_books 10
    local join_line last_eat
    join_line=$(printf '%s\n' "$output" | grep -n 'q.join() returned' | cut -d: -f1)
    last_eat=$(printf '%s\n' "$output" | grep -n '吃了' | tail -n 1 | cut -d: -f1)
    [ -n "$join_line" ] && [ "$join_line" -gt "$last_eat" ]
    [ "$(printf '%s\n' "$output" | grep -c 'ended with exitcode -15 (terminated: SIGTERM)')" -eq 2 ]
    refute_output --partial 'stop message'
    run check_kitchen_order
    assert_success
}

@test "lab05 joinable at 100 ms a unit: q.join() waits for the last task_done(), which comes after the work" {
    # Each guest pauses 1-3 units (100-300 ms here) between taking a dish and eating it: a
    # task_done() before the work, or no q.join() at all, lets main go on while a dish is still
    # uneaten, with 100 ms to spare.
    LAB_SECOND_MS=100 run lab 05 joinable --items=2
    assert_success
    assert_field per_producer 2
    assert_field task_done 4
    assert_field join_after_last_consume 1
    assert_field consumers_terminated 2
    assert_field extra_task_done EINVAL
    assert_field left_in_buffer 0
    assert_books 4
    assert_line --regexp '^main \(pid [0-9]+\): q\.join\(\) returned after 4 of 4 items were eaten'
}

@test "lab05 LAB_SECOND_MS paces the run: sentinel_variants --mode=one waits 2 units for the stuck ones (>= 400 ms at 200)" {
    local t0 t1
    t0=$(date +%s%N)
    LAB_SECOND_MS=200 run lab 05 sentinel_variants --mode=one --consumers=2 --items=1
    t1=$(date +%s%N)
    [ "$status" -eq 3 ]
    assert_field consumers_stuck 1
    at_least $(( (t1 - t0) / 1000000 )) 400
}

@test "lab05 sentinel_variants --mode=one: one stop message for 3 consumers: the watchdog finds 2 stuck (exit 3, every run)" {
    run lab 05 sentinel_variants --mode=one
    [ "$status" -eq 3 ]
    assert_result sentinel_variants
    assert_field mode one
    assert_field consumers 3
    assert_field stop_msgs_put 1
    assert_field stops_received 1
    assert_field consumers_exited 1
    assert_field consumers_stuck 2
    assert_field leftover_stops 0
    assert_field left_in_buffer 0
    assert_books 6
    [ "$(printf '%s\n' "$output" | grep -c '^WATCHDOG: stuck: consumer-[0-2]')" -eq 2 ]
    no_lab_processes
}

@test "lab05 sentinel_variants: the default mode is the bad case (one)" {
    run lab 05 sentinel_variants --consumers 2 --items 1
    [ "$status" -eq 3 ]
    assert_field mode one
    assert_field consumers_stuck 1
}

@test "lab05 sentinel_variants --mode=one with a single consumer: one stop message is enough (exit 0)" {
    run lab 05 sentinel_variants --mode=one --consumers=1
    assert_success
    assert_field consumers_stuck 0
    assert_field consumers_exited 1
    assert_books 6
}

@test "lab05 sentinel_variants --mode=per_consumer: 3 stop messages, 3 consumers leave" {
    run lab 05 sentinel_variants --mode=per_consumer
    assert_success
    assert_field stop_msgs_put 3
    assert_field stops_received 3
    assert_field consumers_exited 3
    assert_field consumers_stuck 0
    assert_field leftover_stops 0
    assert_field left_in_buffer 0
    assert_books 6
    [ "$(printf '%s\n' "$output" | grep -c 'got the stop message (None)')" -eq 3 ]
}

@test "lab05 sentinel_variants --mode=propagate: one stop message passed on, 3 leave, it is left in the queue" {
    run lab 05 sentinel_variants --mode=propagate --producers=3 --consumers=4 --items=2
    assert_success
    assert_field stop_msgs_put 1
    assert_field stops_received 4
    assert_field consumers_exited 4
    assert_field consumers_stuck 0
    assert_field leftover_stops 1
    assert_field left_in_buffer 1
    assert_books 6
    [ "$(printf '%s\n' "$output" | grep -c 'puts it back for the others')" -eq 4 ]
}

@test "lab05 threads: bounded buffer, mutex + two condition variables: books balance, never over capacity" {
    run lab 05 threads
    assert_success
    assert_result threads
    assert_field producers 2
    assert_field consumers 2
    assert_field items 5
    assert_field capacity 3
    assert_field capacity_ok 1
    assert_field stop_msgs 2
    assert_field stop_msgs_put 2
    assert_field left_in_buffer 0
    assert_line 'main: producers joined, puts 2 stop messages for 2 consumers'
    # Cause before effect: each item's put line comes before its get line, and the stop messages
    # are announced before any consumer gets one.
    local i put got
    for i in 0.0 0.1 0.2 0.3 0.4 1.0 1.1 1.2 1.3 1.4; do
        put=$(printf '%s\n' "$output" | grep -n ": put item $i " | cut -d: -f1)
        got=$(printf '%s\n' "$output" | grep -n ": got item $i " | cut -d: -f1)
        [ -n "$put" ] && [ -n "$got" ] && [ "$put" -lt "$got" ] || { echo "item $i: put at line $put, got at line $got"; return 1; }
    done
    put=$(printf '%s\n' "$output" | grep -n 'puts 2 stop messages' | cut -d: -f1)
    got=$(printf '%s\n' "$output" | grep -n 'got the stop message' | head -n 1 | cut -d: -f1)
    [ "$put" -lt "$got" ]
    assert_books 10
    [ "$(printf '%s\n' "$output" | grep -c '^producer-[01]: put item')" -eq 10 ]
    [ "$(printf '%s\n' "$output" | grep -c 'got the stop message')" -eq 2 ]
    [ "$(printf '%s\n' "$output" | grep -c '^consumer-[01]: got item')" -eq 10 ]
}

@test "lab05 threads: many items, capacity 1, 3 producers : 1 consumer and 1 : 4 (no item lost or doubled)" {
    run lab 05 threads --producers 3 --consumers 1 --items 1000 --capacity 1
    assert_success
    assert_field capacity_ok 1
    assert_field stop_msgs 1
    assert_field stop_msgs_put 1
    assert_field left_in_buffer 0
    assert_books 3000
    run lab 05 threads --producers=1 --consumers=4 --items=2000 --capacity=7
    assert_success
    assert_field stop_msgs 4
    assert_field stop_msgs_put 4
    assert_field left_in_buffer 0
    assert_books 2000
}

@test "lab05 threads: books balance on one CPU too (taskset -c 0)" {
    run taskset -c 0 timeout -k 5 "$LAB_TIMEOUT" "$BUILD/lab05" threads --producers 2 --consumers 2 --items 2000 --capacity 2
    assert_success
    assert_books 4000
}

@test "lab05 cv_if_bug --mode=if: forced, every run: a consumer takes from an empty buffer (duplicate + lost item)" {
    run lab 05 cv_if_bug --mode=if
    assert_success
    assert_result cv_if_bug
    assert_field mode if
    assert_field capacity 1
    assert_field empty_takes 1
    assert_field rewaits 0
    assert_field produced 2
    assert_field consumed 2
    assert_field duplicates 1
    assert_field missing 1
    assert_field checksum_ok 0
    assert_field per_producer_fifo 0
    assert_field count_after 0
    assert_field consumers_alive_after 0
    assert_line --regexp '^C1: takes from an EMPTY buffer \(count=0\)'
}

@test "lab05 cv_if_bug --mode=while: the same forced schedule, C1 checks again and waits: books balance" {
    run lab 05 cv_if_bug --mode=while
    assert_success
    assert_field mode while
    assert_field empty_takes 0
    assert_field rewaits 1
    assert_field count_after 0
    assert_books 2
    assert_line 'C1: woken up, checks again: still empty (C2 was faster), waits again'
    refute_output --partial 'EMPTY buffer'
}

@test "lab05 cv_if_bug: forced on one CPU too, both modes (taskset -c 0)" {
    run taskset -c 0 timeout -k 5 "$LAB_TIMEOUT" "$BUILD/lab05" cv_if_bug --mode=if
    assert_success
    assert_field empty_takes 1
    run taskset -c 0 timeout -k 5 "$LAB_TIMEOUT" "$BUILD/lab05" cv_if_bug --mode=while
    assert_success
    assert_field empty_takes 0
    assert_field rewaits 1
}

@test "lab05 cv_if_bug: the default mode is the bad case (if)" {
    run lab 05 cv_if_bug
    assert_success
    assert_field mode if
    assert_field empty_takes 1
}

@test "lab05 guided demo: every scenario and mode, bad case first, exit 0" {
    run lab 05
    assert_success
    local s
    for s in sentinel kitchen joinable threads; do
        [ "$(printf '%s\n' "$output" | grep -c "^RESULT l5\.$s ")" -eq 1 ]
    done
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT l5\.sentinel_variants ')" -eq 3 ]
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT l5\.cv_if_bug ')" -eq 2 ]
    assert_line --regexp '^RESULT l5\.sentinel_variants mode=one .*consumers_stuck=2 '
    assert_line --regexp '^RESULT l5\.cv_if_bug mode=if .*empty_takes=1 '
    assert_line --regexp '^RESULT l5\.cv_if_bug mode=while .*empty_takes=0 '
    # the bad case before the fix
    local one per
    one=$(printf '%s\n' "$output" | grep -n 'sentinel_variants mode=one' | cut -d: -f1)
    per=$(printf '%s\n' "$output" | grep -n 'sentinel_variants mode=per_consumer' | cut -d: -f1)
    [ "$one" -lt "$per" ]
    assert_line --partial 'demo: 9 parts, every one behaved as the lesson says'
    no_lab_processes
}

@test "lab05 --bench: items/s for 1:1 and 2:2 threads, a pipe and the process queue (report only)" {
    run lab 05 --bench
    assert_success
    assert_line --regexp '^bounded buffer, threads 1 producer : 1 consumer +[0-9]+$'
    assert_line --regexp '^bounded buffer, threads 2 producers : 2 consumers +[0-9]+$'
    assert_line --regexp '^pipe, threads 1 writer : 1 reader .* +[0-9]+$'
    assert_line --regexp '^process queue .* +[0-9]+$'
}

@test "lab05 usage errors: bad mode, a mode or option the scenario does not take, bad and out-of-range numbers" {
    run --separate-stderr lab 05 cv_if_bug --mode=until
    assert_usage_error "unknown mode 'until'"
    run --separate-stderr lab 05 sentinel --mode=one
    assert_usage_error "has no modes"
    run --separate-stderr lab 05 threads --items=ten
    assert_usage_error "bad value for --items"
    run --separate-stderr lab 05 threads --producers=65
    assert_usage_error "bad value for --producers: .*out of range"
    run --separate-stderr lab 05 threads --capacity=-1
    assert_usage_error "bad value for --capacity"
    run --separate-stderr lab 05 kitchen --producers=3
    assert_usage_error "option '--producers' does not apply to scenario 'kitchen'"
    run --separate-stderr lab 05 cv_if_bug --items=3
    assert_usage_error "does not apply to scenario 'cv_if_bug'"
    run --separate-stderr lab 05 sentinel --items=10001
    assert_usage_error "bad value for --items: .*out of range"
    run --separate-stderr lab 05 sentinel --consumers
    assert_usage_error "option '--consumers' needs a number"
    run --separate-stderr lab 05 sentinel_variants --mode=every
    assert_usage_error "unknown mode 'every'"
}

@test "lab05 README: every command runs with the stated status" {
    run_readme_commands "$ROOT/labs/05-producer-consumer"
}

@test "lab05 nothing left behind: no process, no /dev/shm, mqueue, SysV or temp object" {
    local before after
    # no System V IPC and no named object in the code: the queue and the books are anonymous mappings
    run grep -nE 'shmget|msgget|semget|shm_open|mq_open|sem_open|mkfifo|mkstemp|tmpfile' "$ROOT"/labs/05-producer-consumer/*.c
    assert_failure 1
    before=$(named_snapshot)
    run lab 05 sentinel_variants --mode=one
    [ "$status" -eq 3 ]
    run lab 05 joinable
    assert_success
    after=$(named_snapshot)
    [ "$before" = "$after" ]
    no_lab_processes
}

# sigint_midway SCENARIO - start it at a slow pace (300 ms a unit: the run would last seconds, so the
# signal always comes while it is running), wait for its first dish, then Ctrl-C (SIGINT to the
# main process); prints the output, returns the program's status (bounded).  Each scenario writes
# a file of its own, emptied before the start: in a file shared with the run before, the old dish
# could pass for this run's, and the SIGINT would come before the lab set its handler (a background
# job of a script starts with SIGINT ignored), so it was lost and the run ended with 0.
sigint_midway() {
    local out="$BATS_TEST_TMPDIR/sigint.$1.out" pid i
    : >"$out"
    LAB_SECOND_MS=300 "$BUILD/lab05" "$1" > "$out" 2>&1 &
    pid=$!
    for i in $(seq 1 200); do grep -q '生产了' "$out" && break; sleep 0.05; done
    kill -INT "$pid"
    for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"
    local st=$?
    cat "$out"
    return "$st"
}

@test "lab05 SIGINT in the middle of kitchen and joinable: children reaped, nothing left behind" {
    local before after s
    before=$(named_snapshot)
    for s in kitchen joinable; do
        run sigint_midway "$s"
        [ "$status" -eq 130 ] || { printf '%s: exit %s, expected 130 (SIGINT); its output:\n%s\n' "$s" "$status" "$output" >&2; return 1; }
        assert_output --partial '生产了'
        refute_output --partial 'RESULT'
        no_lab_processes
    done
    after=$(named_snapshot)
    [ "$before" = "$after" ]
}
