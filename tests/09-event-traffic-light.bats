#!/usr/bin/env bats
# tests/09-event-traffic-light.bats - lab 9: Event, traffic light, Condition, Timer, wait/notify, states.
load test_helper
LAB=09

# Line numbers (1-based) of the lines of $output that match an extended regex.
line_numbers() { printf '%s\n' "$output" | grep -nE "$1" | cut -d: -f1; }

@test "lab09 event: 20 cars wait, none goes before 绿灯亮, all 20 go after" {
    run lab 09 event
    assert_success
    assert_result event
    assert_field cars 20
    assert_field waited 20
    assert_field went 20
    assert_field went_before_green 0
    [ "$(line_numbers '车正在等红灯$' | wc -l)" -eq 20 ]
    [ "$(line_numbers '车加油门走了$' | wc -l)" -eq 20 ]
    local red green first_go last_wait
    red="$(line_numbers ': 红灯亮$')"
    green="$(line_numbers ': 绿灯亮$')"
    first_go="$(line_numbers '车加油门走了$' | head -n 1)"
    last_wait="$(line_numbers '车正在等红灯$' | tail -n 1)"
    # 红灯亮 < every 等红灯 < 绿灯亮 < every 走了 (forced: the light waits for every car, and
    # prints 绿灯亮 before event.set()).
    [ "$red" -lt "$green" ]
    [ "$last_wait" -lt "$green" ]
    [ "$green" -lt "$first_go" ]
    # Each car's own lines: 等红灯 before 走了, once each.
    printf '%s\n' "$output" | awk '
        / 车正在等红灯$/ { split($0, a, ": "); split(a[2], b, " "); w[b[1]] = NR }
        / 车加油门走了$/ { split($0, a, ": "); split(a[2], b, " "); g[b[1]] = NR }
        END { for (i = 0; i < 20; i++) if (!(i in w) || !(i in g) || w[i] >= g[i]) { print "car " i; exit 1 } }'
}

@test "lab09 event: the tsan build is silent (20 cars and the light print from their own threads)" {
    [ -x "$TSAN_BUILD/lab09" ] || { echo "no $TSAN_BUILD/lab09: run make tsan" >&2; return 1; }
    run -0 timeout -k 5 60 "$TSAN_BUILD/lab09" event
    refute_output --partial 'WARNING: ThreadSanitizer'
    assert_line --regexp '^RESULT l9\.event '
}

@test "lab09 event --cars=3: counts follow the option" {
    run lab 09 event --cars=3
    assert_success
    assert_field cars 3
    assert_field waited 3
    assert_field went 3
    assert_field went_before_green 0
}

@test "lab09 event_semantics --mode=naive: the naive loop loses a set()+clear() pulse (forced, every run)" {
    run lab 09 event_semantics --mode=naive
    assert_success
    assert_result event_semantics
    assert_field mode naive
    assert_field wait_set 1
    assert_field wait_timeout 0
    assert_field pulse_woke 0
    assert_field is_set_after_pulse 0
    assert_field_at_least timeout_elapsed_units 1.0
    assert_output --partial 'the pulse is lost'
    assert_output --partial 'a thread is blocked in wait()'
}

@test "lab09 event_semantics --mode=gen: the generation counter delivers the pulse; wait(1) times out with False" {
    run lab 09 event_semantics --mode=gen
    assert_success
    assert_field mode gen
    assert_field wait_set 1
    assert_field wait_timeout 0
    assert_field pulse_woke 1
    assert_field is_set_after_pulse 0
    assert_field_at_least timeout_elapsed_units 1.0
    # The waiter really blocked before the pulse (a wait() that returns at once would also "see" it).
    assert_output --partial 'a thread is blocked in wait()'
    refute_output --partial 'never blocked'
}

@test "lab09 event_semantics: the default mode is the bad case (naive)" {
    run lab 09 event_semantics
    assert_success
    assert_field mode naive
}

# The light's lines, G or R, one a line.
light_seq() { printf '%s\n' "$output" | sed -nE 's/^Thread-[0-9]+ \(lighter\): (green|red) light is on\.\.\.$/\1/p' | tr -d '\n' | sed 's/green/G/g; s/red/R/g'; }
# The car's lines: r (running), w (sees red), g (start going).
car_seq() {
    printf '%s\n' "$output" | sed -nE 's/^Thread-[0-9]+ \(car\): \[MINI\] (running|sees red light,waiting|green light is on,start going)\.\.\.$/\1/p' |
        sed 's/^running$/r/; s/^sees red.*/w/; s/^green.*/g/' | tr -d '\n'
}

@test "lab09 traffic: the exact light sequence of 2 cycles (G×6 R×5 G×5 R×5), the car blocked between red and green" {
    run lab 09 traffic
    assert_success
    assert_result traffic
    assert_field cycles 2
    assert_field green_lines 11
    assert_field red_lines 10
    assert_field car_waits 2
    assert_field car_resumes 2
    [ "$(light_seq)" = "GGGGGGRRRRRGGGGGRRRRR" ]
    # The car: each "sees red" is followed directly by "start going" (no running line while
    # blocked); it waited and resumed exactly twice.
    local c
    c="$(car_seq)"
    [[ "$c" =~ ^r+wgr*wgr*$ ]] || { echo "car sequence: $c"; return 1; }
    # Its Event blocked: an Event that does not block once made this car print running... without
    # end; now the car notices (a wait(1) that returns False at once), says so and leaves.
    refute_output --partial 'this Event does not block'
}

@test "lab09 traffic --cycles=1 and --cycles=3: light sequence and car counts" {
    run lab 09 traffic --cycles=1
    assert_success
    assert_field green_lines 6
    assert_field red_lines 5
    assert_field car_waits 1
    assert_field car_resumes 1
    [ "$(light_seq)" = "GGGGGGRRRRR" ]
    run lab 09 traffic --cycles=3
    assert_success
    assert_field green_lines 16
    assert_field red_lines 15
    assert_field car_waits 3
    [ "$(light_seq)" = "GGGGGGRRRRRGGGGGRRRRRGGGGGRRRRR" ]
    # forced: each green phase goes on only once the car has driven on it (a running line after
    # every start going, however late the car wakes up)
    [[ "$(car_seq)" =~ ^r+wg(r+wg){2}r*$ ]]
}

@test "lab09 traffic: coloured lights (the notes' escapes) on a terminal, none with NO_COLOR" {
    run env -u NO_COLOR LAB_SECOND_MS=5 timeout -k 5 30 script -qec "$BUILD/lab09 traffic --cycles=1" /dev/null
    assert_success
    assert_output --partial $'\e[42;1mgreen light is on...\e[0m'
    assert_output --partial $'\e[41;1mred light is on...\e[0m'
    run env NO_COLOR=1 LAB_SECOND_MS=5 timeout -k 5 30 script -qec "$BUILD/lab09 traffic --cycles=1" /dev/null
    assert_success
    refute_output --partial $'\e[4'
}

@test "lab09 traffic --cycles=0 runs until stopped (like the notes), and leaves no process" {
    local out="$BATS_TEST_TMPDIR/out" pid i n=0 st=0
    LAB_SECOND_MS=5 timeout -k 5 30 "$BUILD/lab09" traffic --cycles=0 >"$out" 2>&1 &
    pid=$!
    # Wait (bounded) until the light is well past the default 2 cycles (21 light lines), then Ctrl-C.
    for i in $(seq 1 400); do
        n="$(grep -c '(lighter): .* light is on' "$out" || true)"
        [ "$n" -ge 30 ] && break
        sleep 0.025
    done
    [ "$n" -ge 30 ] || { kill -KILL "$pid"; cat "$out"; false; }
    kill -INT "$(pgrep -P "$pid" | head -n 1)"
    wait "$pid" || st=$?
    [ "$st" -eq 130 ] || { echo "status $st"; cat "$out"; false; }
    output="$(cat "$out")"
    assert_output --partial 'runs forever'
    refute_output --regexp '^RESULT'
    # Still the notes' exact sequence, on into the third cycle.
    [[ "$(light_seq)" == GGGGGGRRRRRGGGGGRRRRRGGGGGRRRR* ]] || { echo "light: $(light_seq)"; false; }
    no_lab_processes
}

@test "lab09 condition: notify(2) wakes exactly 2 of 5, notify_all the other 3, wait_for(predicate)" {
    run lab 09 condition
    assert_success
    assert_result condition
    assert_field waiters 5
    assert_field after_notify2 2
    assert_field still_waiting 3
    assert_field after_notify_all 5
    assert_field wait_for_value 3
    assert_field predicate_checks 4
    assert_field wait_for_timeout 0
    [ "$(printf '%s\n' "$output" | grep -c '(waiter): notified$')" -eq 5 ]
    run lab 09 condition --waiters=3
    assert_success
    assert_field after_notify2 2
    assert_field still_waiting 1
    assert_field after_notify_all 3
}

@test "lab09 wait_notify --mode=if: notifyAll wakes both, the if lets one take from an empty buffer (forced)" {
    run lab 09 wait_notify --mode=if
    assert_success
    assert_result wait_notify
    assert_field mode if
    assert_field consumers 2
    assert_field broadcast_woke 2
    assert_field took_from_empty 1
    assert_field min_items -1
    assert_field signal_woke 0
}

@test "lab09 wait_notify --mode=while: the second consumer sleeps again; notify wakes just it" {
    run lab 09 wait_notify --mode=while
    assert_success
    assert_field mode while
    assert_field consumers 2
    assert_field broadcast_woke 2
    assert_field took_from_empty 0
    assert_field min_items 0
    assert_field signal_woke 1
    assert_output --partial 'back to sleep'
}

@test "lab09 timer: fires after its delay (lower bound only); a cancelled timer never fires" {
    run lab 09 timer
    assert_success
    assert_result timer
    assert_field interval 1
    assert_field fired 1
    assert_field cancelled_fired 0
    assert_field_at_least elapsed_units 1.0
    [ "$(printf '%s\n' "$output" | grep -c ': hello, world$')" -eq 1 ]
    assert_line 'Thread-1: hello, world'   # a Timer is a Thread subclass: Python names it Thread-N
    refute_output --partial 'must not happen'
}

@test "lab09 states: NEW RUNNABLE BLOCKED WAITING TIMED_WAITING TERMINATED, cross-checked with /proc" {
    run lab 09 states
    assert_success
    assert_result states
    assert_field sequence_ok 1
    assert_field kernel '-,R,S,S,S,-'
    local seq
    seq="$(printf '%s\n' "$output" | grep '^STATE ' | tr '\n' '|')"
    [ "$seq" = "STATE NEW kernel=-|STATE RUNNABLE kernel=R|STATE BLOCKED kernel=S|STATE WAITING kernel=S|STATE TIMED_WAITING kernel=S|STATE TERMINATED kernel=-|" ]
}

@test "lab09 states and traffic on one CPU (taskset -c 0)" {
    run taskset -c 0 timeout -k 5 "$LAB_TIMEOUT" "$BUILD/lab09" states
    assert_success
    assert_field kernel '-,R,S,S,S,-'
    run taskset -c 0 timeout -k 5 "$LAB_TIMEOUT" "$BUILD/lab09" traffic
    assert_success
    [ "$(light_seq)" = "GGGGGGRRRRRGGGGGRRRRR" ]
    assert_field car_waits 2
}

@test "lab09 --list names every scenario, in demo order" {
    run lab 09 --list
    assert_success
    [ "${#lines[@]}" -eq 7 ]
    local names=(event event_semantics traffic condition wait_notify timer states) i
    for i in "${!names[@]}"; do
        assert_line --index "$i" --regexp "^${names[$i]}  [^ ]"
    done
}

@test "lab09 --help exits 0 and shows the modes and options" {
    run lab 09 --help
    assert_success
    assert_line --regexp '^Usage: lab09 '
    assert_output --partial 'naive,gen'
    assert_output --partial 'if,while'
    assert_output --partial '--cycles=N'
}

@test "lab09 guided demo: every scenario and mode, bad case first, exit 0" {
    run lab 09
    assert_success
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT l9\.')" -eq 9 ]
    local s
    for s in event event_semantics traffic condition wait_notify timer states; do
        assert_line --regexp "^RESULT l9\.$s "
    done
    [ "$(printf '%s\n' "$output" | grep '^RESULT l9\.event_semantics' | head -n 1 | grep -c 'mode=naive')" -eq 1 ]
    [ "$(printf '%s\n' "$output" | grep '^RESULT l9\.wait_notify' | head -n 1 | grep -c 'mode=if')" -eq 1 ]
    assert_line --regexp '^RESULT l9\.event_semantics mode=gen .*pulse_woke=1'
    assert_line --regexp '^RESULT l9\.wait_notify mode=while .*took_from_empty=0'
    assert_line --regexp '^RESULT l9\.states sequence_ok=1 '
    assert_line 'Thread-1: hello, world'   # each part is one program: its first thread is Thread-1
    assert_line --index -1 --partial 'every one behaved as the lesson says'
    no_lab_processes
}

# Unknown scenarios and options, --list with more, bad LAB_SECOND_MS and LAB_SEED: the project's
# Bats file checks those for every lab.  These are lab 9's own.
@test "lab09 error paths: unknown modes, modes where there are none, out-of-range and malformed options, an option of another scenario" {
    run --separate-stderr lab 09 event_semantics --mode=pulse
    assert_usage_error "unknown mode 'pulse'"
    run --separate-stderr lab 09 timer --mode=gen
    assert_usage_error "has no modes"
    run --separate-stderr lab 09 traffic --cycles=two
    assert_usage_error "bad value for --cycles: 'two' is not a whole number"
    run --separate-stderr lab 09 traffic --cycles=-1
    assert_usage_error "bad value for --cycles: -1 is out of range"
    run --separate-stderr lab 09 event --cars=0
    assert_usage_error "bad value for --cars: 0 is out of range"
    run --separate-stderr lab 09 condition --waiters=1
    assert_usage_error "bad value for --waiters: 1 is out of range"
    run --separate-stderr lab 09 event --cycles=3
    assert_usage_error "option '--cycles' does not apply to scenario 'event'"
    run --separate-stderr lab 09 wait_notify --mode
    assert_usage_error "needs a value"
    run --separate-stderr lab 09 traffic --cycles=1001
    assert_usage_error "bad value for --cycles: 1001 is out of range"
    run --separate-stderr lab 09 wait_notify --mode=gen
    assert_usage_error "unknown mode 'gen'"
    run --separate-stderr lab 09 condition --waiters=65
    assert_usage_error "bad value for --waiters: 65 is out of range"
}

@test "lab09 LAB_SECOND_MS sets the pace: at 200 ms, the timer scenario takes at least 2.5 notes-seconds (500 ms)" {
    # Timer(1) fires after 1 notes-second, then the cancelled timer is watched for 1.5 more: the run
    # lasts at least 2.5 of them, whatever the machine.  The suite runs at 10 ms and the default is
    # 100 ms: a program that ignored LAB_SECOND_MS would end far sooner.
    local t0 t1
    t0=$(date +%s%N)
    LAB_SECOND_MS=200 run lab 09 timer
    t1=$(date +%s%N)
    assert_success
    assert_field fired 1
    assert_field cancelled_fired 0
    at_least $(((t1 - t0) / 1000000)) 500
}

@test "lab09 README commands run as shown" {
    run_readme_commands "$ROOT/labs/09-event-traffic-light"
}

@test "lab09 leaves nothing behind (no processes, no named objects)" {
    local before after
    before="$(named_snapshot)"
    run lab 09 states
    assert_success
    run lab 09 timer
    assert_success
    after="$(named_snapshot)"
    [ "$before" = "$after" ]
    no_lab_processes
}

@test "lab09 traffic: the timeline shows the light's colours and the car waiting while it is red" {
    run lab 09 traffic
    assert_success
    # forced: the light marks its colour before it changes the event, and waits for the car to
    # drive on every green and to wait at every red, so each stretch lasts 5 ticks or more
    assert_line --regexp '^the light +\|G+R+G+R+G*\|$'
    assert_line --regexp '^the car \(MINI\) +\| *>+\.+>+\.+>* *\|$'
    assert_line --regexp '^G green light +R red light +> the car drives +\. the car waits$'
}
