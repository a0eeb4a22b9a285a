#!/usr/bin/env bats
# tests/00-pace.bats - LAB_SECOND_MS, the pace of every lab: each lab README says, in a "Pace"
# section, what LAB_SECOND_MS=1000 gives there and what is not scaled; and in four labs whose
# scenarios are short, a scenario's sleeps really follow the pace.
#
# The timing checks are lower bounds only: at a pace above the default (100), a scenario must take
# at least its notes-seconds times that pace, measured from outside the program.  A sleep that
# ignores the pace (fixed milliseconds, or the default pace) ends too soon and fails; so does a
# sleep shortened in units (the RESULT line's own elapsed units are checked too, at a fast pace).
load test_helper
LAB=00

# shellcheck source=../scripts/lib.sh
. "$ROOT/scripts/lib.sh"
lab_dirs() { local n; for n in $(LAB_ROOT="$ROOT" lab_numbers); do echo "$ROOT/$(LAB_ROOT="$ROOT" lab_dir "$n")"; done; }

# pace_run MS NN ARGS... - run lab NN at LAB_SECOND_MS=MS; the wall time in ms goes to $wall_ms,
# and LAB becomes NN (for `field`).
pace_run() {
    local ms="$1" t0 t1
    shift
    LAB="$1"
    t0=$(date +%s%N)
    LAB_SECOND_MS="$ms" run lab "$@"
    t1=$(date +%s%N)
    wall_ms=$(((t1 - t0) / 1000000))
}

# at_least VALUE MIN WHAT - VALUE >= MIN (decimals allowed), or say which was too small.
at_least() {
    awk -v v="$1" -v m="$2" 'BEGIN { exit !(v + 0 >= m + 0) }' || {
        echo "$3: $1 < $2"
        return 1
    }
}

@test "pace: every lab README has a Pace section that says what LAB_SECOND_MS=1000 gives" {
    local d base section n=0
    for d in $(lab_dirs); do
        base=$(basename "$d")
        n=$((n + 1))
        grep -Eq '^###? Pace$' "$d/README.md" || { echo "$base: no '### Pace' section"; return 1; }
        # The section: from its heading to the next heading.
        section=$(awk '/^###? Pace$/ { on = 1; next } on && /^#/ { exit } on' "$d/README.md" | tr '\n' ' ')
        grep -q 'LAB_SECOND_MS=1000' <<<"$section" || { echo "$base: its Pace section does not name LAB_SECOND_MS=1000"; return 1; }
        grep -Eiq 'not scaled|nothing else waits' <<<"$section" || { echo "$base: its Pace section does not say what is not scaled"; return 1; }
    done
    [ "$n" -ge 14 ]
    # The top README and the contract say where to look.
    grep -q '"Pace" paragraph' "$ROOT/README.md"
    grep -q '"Pace" paragraph' "$ROOT/CONTRACT.md"
}

@test "pace: lab 2 serial's sleeps (1 + 2 units) follow LAB_SECOND_MS" {
    pace_run 20 02 serial --children=2
    assert_success
    at_least "$(field elapsed_units serial)" 2.9 "elapsed_units at 20 ms a unit"
    pace_run 200 02 serial --children=2
    assert_success
    at_least "$(field elapsed_units serial)" 2.9 "elapsed_units at 200 ms a unit"
    at_least "$wall_ms" 570 "wall ms at 200 ms a unit (3 units)"
}

@test "pace: lab 1 start_join's f('bob') sleeps the notes' 2 units at any pace" {
    pace_run 20 01 start_join
    assert_success
    at_least "$(field join_units start_join)" 1.9 "join_units at 20 ms a unit"
    pace_run 250 01 start_join
    assert_success
    at_least "$(field join_units start_join)" 1.9 "join_units at 250 ms a unit"
    at_least "$wall_ms" 475 "wall ms at 250 ms a unit (2 units)"
}

@test "pace: lab 9 timer's Timer(1, hello) fires after 1 unit at any pace" {
    pace_run 20 09 timer
    assert_success
    at_least "$(field elapsed_units timer)" 0.95 "elapsed_units at 20 ms a unit"
    pace_run 200 09 timer
    assert_success
    assert_field fired 1 timer
    at_least "$(field elapsed_units timer)" 0.95 "elapsed_units at 200 ms a unit"
    # 1 unit until it fires, then 1.5 units showing that the cancelled one never does.
    at_least "$wall_ms" 475 "wall ms at 200 ms a unit (2.5 units)"
}

@test "pace: lab 3 money with the lock takes threads x the notes' 0.1 unit at any pace" {
    pace_run 20 03 money --mode=lock --threads=10
    assert_success
    at_least "$(field elapsed_units money)" 0.95 "elapsed_units at 20 ms a unit"
    pace_run 300 03 money --mode=lock --threads=10
    assert_success
    assert_field final 90 money
    at_least "$(field elapsed_units money)" 0.95 "elapsed_units at 300 ms a unit"
    at_least "$wall_ms" 285 "wall ms at 300 ms a unit (10 x 0.1 units)"
}
