#!/usr/bin/env bats
# tests/14-scheduler-game.bats - lab 14: you are the scheduler.  The levels (format, errors naming
# the line), play by --moves (exact schedules, blocked steps, the win, the hint, bad moves), play on
# a pseudo-terminal, explore (exact counts, shortest schedules, proofs for the fixed twins, "too
# large"), the guided demo and the README.  The lab runs no threads: it simulates them, so there is
# nothing for ThreadSanitizer or Helgrind to watch.
load test_helper
LAB=14

teardown() {
    no_lab_processes
}

# ---- the command line and the level file ---------------------------------------------------------

@test "lab14: --list names every scenario, in demo order; --help shows the options" {
    run lab 14 --list
    assert_scenario_list levels play explore
    run lab 14 --help
    assert_success
    assert_line --regexp '^  --moves=TEXT '
    assert_line --regexp '^  --max-states=N .*\(default 200000, 1\.\.5000000\)$'
}

@test "lab14: levels lists the 16 shipped levels, each bad level with its lab scenario" {
    run lab 14 levels
    assert_success
    assert_result levels
    assert_field levels 16
    assert_field fixed 8
    assert_field source levels.txt
    local name
    for name in counter tickets money deadlock cv_if semaphore traffic relock; do
        assert_line --regexp "^  $name +[0-9] threads  goal: "
        assert_line --regexp "^  ${name}_fixed +[0-9] threads  goal: "
    done
    assert_line --regexp 'real threads: l3\.counter --mode=racy forces 1,2,1,2,1,2$'
    assert_line --regexp 'real threads: l7\.deadlock forces 1,2,2$'
}

@test "lab14: a malformed level file exits 2 naming the file and the line" {
    local f="$BATS_TEST_TMPDIR/bad.txt"
    printf 'level x\ngoal g\nwhen done\nvar n 0\nthread T\n  load r n\n  frobnicate n\n' > "$f"
    run --separate-stderr lab 14 levels --file "$f"
    assert_usage_error "bad\.txt:7: unknown step 'frobnicate'"
    printf 'level x\ngoal g\nwhen n < 1\nthread T\n  sleep\n' > "$f"
    run --separate-stderr lab 14 explore --file "$f"
    assert_usage_error "bad\.txt:3: unknown variable 'n'"
    printf 'level x\ngoal g\nwhen done\nthread T\n  goto nowhere\n' > "$f"
    run --separate-stderr lab 14 play --file "$f" --moves 1
    assert_usage_error "bad\.txt:5: no label 'nowhere' in thread T"
    printf 'level x\nlock A\ngoal g\nwhen done\nthread T\n  wait A\n' > "$f"
    run --separate-stderr lab 14 levels --file "$f"
    assert_usage_error "bad\.txt:6: 'A' is not a condition or an event"
    printf '# nothing\n' > "$f"
    run --separate-stderr lab 14 levels --file "$f"
    assert_usage_error "holds no level"
    run --separate-stderr lab 14 levels --file "$BATS_TEST_TMPDIR/missing.txt"
    assert_usage_error "cannot read --file .*missing\.txt"
}

@test "lab14: an instructor's own level file plays and explores" {
    local f="$BATS_TEST_TMPDIR/mine.txt"
    cat > "$f" <<'LEVEL'
level flag              # a flag checked, then set: two threads both get in
about if not busy: busy = 1; inside += 1
goal two threads inside at once
when inside > 1
var busy 0
var inside 0
thread A
  if busy != 0 goto out
  store busy 1
  add inside 1
out:
thread B like A
LEVEL
    run lab 14 explore --file "$f" --level flag
    assert_success
    assert_field schedules 16
    assert_field bad 12
    assert_field shortest 1,2,1,1,2,2
    run lab 14 play --file "$f" --level flag --moves 1,2,1,1,2,2
    assert_success
    assert_field won yes
}

@test "lab14: bad options and bad moves exit 2 with one line, stdout empty" {
    run --separate-stderr lab 14 play --level nosuch
    assert_usage_error "unknown level 'nosuch'"
    run --separate-stderr lab 14 play --moves 1,3
    assert_usage_error "bad --moves: move 2 \(3\): there is no thread 3 \(threads 1-2\)"
    run --separate-stderr lab 14 play --moves 1,1,1,1
    assert_usage_error "bad --moves: move 4 \(1\): Thread-1 has finished"
    run --separate-stderr lab 14 play --moves 1,x
    assert_usage_error "bad --moves '1,x': move 2 \('x'\) is not a thread number"
    run --separate-stderr lab 14 play --moves 1,,2
    assert_usage_error "move 2 \(''\) is not a thread number"
    run --separate-stderr lab 14 play --level deadlock --moves 1,2,2,1
    assert_usage_error "move 4 \(1\): the game is over after move 3 \(the goal is reached\)"
    run --separate-stderr lab 14 explore --all --level counter
    assert_usage_error "give one of them"
    run --separate-stderr lab 14 explore --max-states 0
    assert_usage_error "bad value for --max-states"
    run --separate-stderr lab 14 levels --moves 1
    assert_usage_error "does not apply to scenario 'levels'"
}

# ---- play --------------------------------------------------------------------------------------

@test "lab14: play counter by the lab's lockstep schedule: a lost update, num=1" {
    run lab 14 play --level counter --moves 1,2,1,2,1,2
    assert_success
    assert_result play
    assert_line '   2. Thread-2     r = num                  r = 0'
    assert_line '   6. Thread-2     num = r                  num = 1'
    assert_line --regexp '^WON after 6 moves: a lost update'
    assert_line 'The schedule that did it: 1,2,1,2,1,2'
    assert_line 'On real threads: l3.counter --mode=racy forces 1,2,1,2,1,2.'
    assert_line 'RESULT l14.play level=counter moves=6 blocked=0 won=yes over=yes schedule=1,2,1,2,1,2 shared=num:1'
}

@test "lab14: play counter one thread after the other: num=2, not won" {
    run lab 14 play --moves 1,1,1,2,2,2
    assert_success
    assert_line --regexp '^Every thread finished and the goal was not reached'
    assert_field won no
    assert_field shared num:2
}

@test "lab14: the board shows the code side by side, the marks, shared state and lock owners" {
    run lab 14 play --level deadlock --moves 1,2
    assert_success
    assert_line --regexp '^\[1\] Thread-1 +\[2\] Thread-2$'
    assert_line --regexp '^  mutexA.acquire\(\) +  mutexB.acquire\(\)$'
    assert_line --regexp '^> mutexB.acquire\(\) +> time.sleep\(\)$'
    assert_line 'locks and signals: mutexA: Thread-1  mutexB: Thread-2'
    assert_field over no
}

@test "lab14: a blocked step is said and takes no move" {
    run lab 14 play --level counter_fixed --moves 1,2,1,2
    assert_success
    assert_line --regexp '^      Thread-2 +L.acquire\(\) +blocked: L is held by Thread-1 \(no step taken\)$'
    assert_field moves 2
    assert_field blocked 2
    assert_field schedule 1,1
}

@test "lab14: every bad level is won by the schedule its lab forces" {
    local level sched
    for level in counter tickets money deadlock cv_if semaphore traffic relock; do
        run lab 14 levels
        sched="$(printf '%s\n' "$output" | awk -v l="$level" '$1 == l {f=1; next} f && /real threads:/ {print $NF; exit}')"
        run lab 14 play --level "$level" --moves "$sched"
        assert_success
        assert_field won yes
        assert_field schedule "$sched"
    done
}

@test "lab14: the deadlock is won with both locks held; RLock counts in relock_fixed" {
    run lab 14 play --level deadlock --moves 1,2,2
    assert_line 'locks and signals: mutexA: Thread-1  mutexB: Thread-2'
    assert_line --regexp 'WON after 3 moves: both threads stuck'
    run lab 14 play --level relock_fixed --moves 1,1
    assert_line --regexp 'Thread-1 holds L 2 times \(an RLock counts\)'
    assert_line 'locks and signals: L: Thread-1 x2'
}

@test "lab14: --hint gives the next move of a shortest win; none in a fixed twin" {
    run lab 14 play --level counter --moves 1 --hint
    assert_line 'hint: step thread 1 (Thread-1); a shortest win from here: 1,2,1,2,2'
    run lab 14 play --level money_fixed --moves 1 --hint
    assert_line 'hint: no schedule from here reaches the goal (this is a fixed twin)'
}

@test "lab14: a BoundedSemaphore raises on one release too many, a Semaphore does not; so does an unheld release" {
    local f="$BATS_TEST_TMPDIR/sems.txt"
    printf 'level s\ngoal g\nwhen S > 1\nsem S 1\nthread T\n  acquire S\n  release S\n  release S\n' > "$f"
    printf 'level b\ngoal g\nwhen S > 1\nbsem S 1\nthread T\n  acquire S\n  release S\n  release S\n' >> "$f"
    printf 'level l\ngoal g\nwhen done\nlock L\nthread T\n  release L\n  sleep\n' >> "$f"
    run lab 14 play --file "$f" --level s --moves 1,1,1
    assert_field won yes
    run lab 14 play --file "$f" --level b --moves 1,1,1
    assert_line --regexp 'S.release\(\) +ValueError: Semaphore released too many times \(stopped\)$'
    assert_field won no
    run lab 14 play --file "$f" --level l --moves 1
    assert_line --regexp 'L.release\(\) +RuntimeError: release unlocked lock \(stopped\)$'
    assert_line --regexp '^\[1\] T \(stopped\)$'
}

@test "lab14: a fixed twin cannot be won: the schedule that wins the bad level does not" {
    run lab 14 play --level traffic_fixed --moves 1,2,1,2,1,1,1,2
    assert_success
    assert_field won no
}

# ---- play on a terminal ------------------------------------------------------------------------

@test "lab14: play on a pseudo-terminal reads moves, says illegal and blocked moves, and wins" {
    # script(1) runs the lab on a pseudo-terminal and types its own stdin into it
    run bash -c "printf '1\n9\nh\n\nx\n2\n2\n2\n' | NO_COLOR=1 timeout -k 5 30 script -qec \
        '$BUILD/lab14 play --level deadlock; test -t 0 && echo stdin-was-a-terminal' /dev/null"
    assert_success
    assert_output --partial 'stdin-was-a-terminal'
    assert_output --partial 'move 1 - which thread? (1-2, h, q)'
    assert_output --partial 'illegal move: there is no thread 9 (threads 1-2); choose again'
    assert_output --partial 'hint: step thread 2 (Thread-2); a shortest win from here: 2,2'
    assert_output --partial "'' is not a thread number: type 1-2, h or q"
    assert_output --partial "'x' is not a thread number: type 1-2, h or q"
    assert_output --partial 'WON after 3 moves: both threads stuck'
    assert_output --partial 'RESULT l14.play level=deadlock moves=3 blocked=0 won=yes'
}

@test "lab14: on a terminal: q quits, end of input stops, a finished thread is refused" {
    run bash -c "printf '1\n1\n1\n1\nq\n' | NO_COLOR=1 timeout -k 5 30 script -qec \
        '$BUILD/lab14 play --level counter' /dev/null"
    assert_success
    assert_output --partial 'illegal move: Thread-1 has finished; choose again'
    assert_output --partial 'you stopped the game after 3 moves'
    run bash -c "printf '2\n' | timeout -k 5 30 $BUILD/lab14 play"
    assert_success
    assert_output --partial 'end of input: the game stops after 1 moves'
    assert_field schedule 2
}

# ---- explore -----------------------------------------------------------------------------------

@test "lab14: explore counter: 20 schedules, 18 lose an update, shortest 6 moves" {
    run lab 14 explore --level counter
    assert_success
    assert_result explore
    assert_line 'RESULT l14.explore level=counter threads=2 states=22 schedules=20 bad=18 shortest=1,1,2,1,2,2 length=6 lab_schedule=wins complete=yes'
}

@test "lab14: explore a fixed twin: a proof by exhaustion" {
    run lab 14 explore --level counter_fixed
    assert_success
    assert_line --regexp '^Proof by exhaustion: all 2 schedules played to their end \(21 states\); none reaches the goal\.$'
    assert_field bad 0
    assert_field shortest none
    assert_field complete yes
}

@test "lab14: explore --all: exact counts of every level, every lesson as promised" {
    run lab 14 explore --all
    assert_success
    assert_line '8 levels can be won (the lab'"'"'s schedule is one way); 8 fixed twins proven safe by exhaustion.'
    assert_fields_where level=counter schedules=20 bad=18 length=6
    assert_fields_where level=tickets states=56 schedules=916 bad=910 length=12
    assert_fields_where level=money states=308 schedules=34650 bad=34644 length=12
    assert_fields_where level=deadlock schedules=8 bad=3 shortest=1,2,2
    assert_fields_where level=cv_if schedules=284 bad=20 length=13 lab_schedule=wins
    assert_fields_where level=semaphore schedules=132 bad=14 length=9
    assert_fields_where level=traffic schedules=10 bad=5 shortest=1,1,2,1,2
    assert_fields_where level=relock schedules=2 bad=2 shortest=1
    local f
    for f in counter tickets money deadlock cv_if semaphore traffic relock; do
        assert_fields_where level="${f}_fixed" bad=0 shortest=none complete=yes
        assert_fields_where level="$f" lab_schedule=wins complete=yes
    done
    assert_fields_where level=cv_if_fixed schedules=350
    assert_fields_where level=traffic_fixed schedules=33
}

@test "lab14: too large is said clearly, and an unproven fixed twin is not a pass" {
    run lab 14 explore --level money --max-states 100
    assert_success
    assert_line --regexp '^Too large to explore fully: stopped at 100 states \(--max-states\)'
    assert_field complete no
    run lab 14 explore --level money_fixed --max-states 50
    assert_failure 1
    assert_line --regexp 'The fixed twin is NOT proven: the search did not finish'
}

@test "lab14: a loop that can go round forever is counted as infinite" {
    local f="$BATS_TEST_TMPDIR/spin.txt"
    printf 'level spin\ngoal g\nwhen done and f == 2\nvar f 0\nthread A\ntop: if f == 0 goto top\nthread B\n  store f 1\n' > "$f"
    run lab 14 explore --file "$f"
    assert_failure 1
    assert_field schedules inf
    assert_field bad 0
}

# ---- the guided demo, the README, leftovers ------------------------------------------------------

@test "lab14: the guided demo plays counter by its lab's schedule, then explores every level" {
    run lab 14
    assert_success
    assert_line 'The guided demo plays the schedule l3.counter --mode=racy forces: --moves 1,2,1,2,1,2'
    assert_line --regexp '^WON after 6 moves'
    assert_line --regexp '^level +threads +states +schedules +bad +shortest'
    assert_line 'demo: 3 parts, every one behaved as the lesson says'
}

@test "lab14: a slower LAB_SECOND_MS makes the demo's replay slower (6 moves x 0.2 units)" {
    local t0 t1
    t0=$(date +%s%N)
    run env LAB_SECOND_MS=200 timeout -k 5 30 "$BUILD/lab14"
    t1=$(date +%s%N)
    assert_success
    at_least $(( (t1 - t0) / 1000000 )) 240
}

@test "lab14: README commands run as shown" {
    run_readme_commands "$ROOT/labs/14-scheduler-game"
}

@test "lab14: a bare level name after play or explore is --level (play counter = play --level=counter)" {
    run lab 14 explore counter
    assert_success
    assert_fields_where level=counter schedules=20 bad=18
    run lab 14 play counter --moves 1,1,2,2,1
    assert_success
    assert_fields_where level=counter moves=5
    run --separate-stderr lab 14 explore counter money
    assert_usage_error "unexpected argument 'money'"
    run --separate-stderr lab 14 explore counter --level=money
    assert_usage_error "option '--level' given twice"
    run --separate-stderr lab 14 levels counter
    assert_usage_error "unexpected argument 'counter'"
}
