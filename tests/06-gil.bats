#!/usr/bin/env bats
# tests/06-gil.bats - lab 6: the GIL built in C.  Checksums, exact results, max_inside=1 under a
# GIL, forced counts; never speedups or upper time bounds.
load test_helper
LAB=06

# The checksum of the default `gil` run: sum(i + i**2 + i**3 for i in range(600000)) from the two
# CPU threads plus 6 * the same over range(20000) from the IO thread (computed in Python).
GIL_SUM=32400203992090599760000
NOTES_RESULT=499999666667166666000000
# The CPUs this process may use (nproc without the OpenMP variables it honours); convoy pins one
# thread to each of the first two.
ALLOWED_CPUS=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
CONVOY_CPUS=$(( ALLOWED_CPUS < 2 ? ALLOWED_CPUS : 2 ))

# cpu_line VARIANT: the RESULT line of one variant of `cpu`; part_field LINE KEY: a field of it.
cpu_line() { printf '%s\n' "$output" | grep -E "^RESULT l6\.cpu variant=$1 "; }
part_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# convoy_invariants: what the GIL's counters promise in any run of `convoy` (py2 or py3).
convoy_invariants() {
    local drops contested retakes
    drops="$(field drops)" contested="$(field contested)" retakes="$(field retakes)"
    # contested: drops at a check while another thread waited; retakes: of those, taken back.
    [ "$contested" -le "$drops" ]
    [ "$retakes" -le "$contested" ]
    assert_field retake_pct "$(awk -v r="$retakes" -v c="$contested" 'BEGIN { print c ? int(100 * r / c + 0.5) : 0 }')"
    # Every contested drop that was not taken back gave the GIL to the other thread: a hand-off.
    at_least "$(field handoffs)" $((contested - retakes))
    assert_field_at_least handoffs 1
}

@test "gil none: inside the interpreter is not running: both are said" {
    run lab 06 gil --mode=none
    assert_success
    assert_output --partial "inside is not running: on $(nproc) CPU(s) at most"
}

@test "refcount --mode=none: a lost INCREF frees the object in use: use after free and double free detected" {
    run lab 06 refcount --mode=none
    assert_success
    assert_result refcount
    assert_field references 3
    assert_field refcnt_after_increfs 2
    assert_field max_in_window 2
    assert_field freed_while_referenced 1
    assert_field use_after_free 1
    assert_field double_free 1
    assert_field deallocs 1
    refute_output --partial 'print(x.name) -> lxc'
}

@test "refcount --mode=gil: under the GIL the count is exact, the object is freed once, at the end" {
    run lab 06 refcount --mode=gil
    assert_success
    assert_field refcnt_after_increfs 3
    assert_field max_in_window 1
    assert_field freed_while_referenced 0
    assert_field use_after_free 0
    assert_field double_free 0
    assert_field deallocs 1
    assert_line 'print(x.name) -> lxc (refcount 1: still alive, as it must be)'
}

@test "refcount: the tsan build is silent in both modes (relaxed atomics: a race condition, no data race)" {
    [ -x "$TSAN_BUILD/lab06" ] || { echo "no $TSAN_BUILD/lab06: run make tsan" >&2; return 1; }
    run -0 env LAB_BUILD="$TSAN_BUILD" "$TSAN_BUILD/lab06" refcount --mode=none
    refute_output --partial 'WARNING: ThreadSanitizer'
    run -0 "$TSAN_BUILD/lab06" refcount --mode=gil
    refute_output --partial 'WARNING: ThreadSanitizer'
}

@test "hybrid: threads, processes, processes x threads: the same exact result, the fastest named by the times" {
    LAB_SECOND_MS=50 run lab 06 hybrid
    assert_success
    local v line ms best="" best_ms=""
    for v in threads procs 'procs\+threads'; do
        line="$(printf '%s\n' "$output" | grep -E "^RESULT l6\.hybrid variant=$v ")"
        [ -n "$line" ] || { echo "no $v line"; return 1; }
        [ "$(part_field "$line" result)" = 3199989333413332800000 ]
        [ "$(part_field "$line" tasks)" = 4 ]
        ms="$(part_field "$line" elapsed_ms)"
        # Each task sleeps 2 x 0.2 units (20 ms at 50 ms a unit) at least, whatever else happens.
        at_least "$ms" 20
        if [ -z "$best" ] || awk -v a="$ms" -v b="$best_ms" 'BEGIN { exit !(a < b) }'; then best="$v" best_ms="$ms"; fi
    done
    assert_line "fastest here: ${best//\\/}, on $(getconf _NPROCESSORS_ONLN) CPU(s)"
}

@test "gil: the same checksum in every mode, and at most one thread inside under py2 and py3" {
    for mode in none py2 py3; do
        run lab 06 gil --mode=$mode
        assert_success
        assert_result gil
        assert_field mode $mode
        assert_field threads 3
        assert_field cpu_threads 2
        assert_field io_threads 1
        assert_field work 300000
        assert_field interval_us 5000
        assert_field check_interval 100
        assert_field checksum $GIL_SUM
        # The same bytecodes whoever runs them: 2 x 300000 rounds + 6 x 20000, 15 a round.
        assert_field instructions 10800081
        # The IO thread sleeps 6 x 0.02 units (LAB_SECOND_MS=10): a lower bound only.
        assert_field_at_least elapsed_ms 1.2
        if [ $mode != none ]; then
            assert_field max_inside 1
            # Every thread takes the GIL at least once, so the holder changes: forced.
            assert_field_at_least handoffs 2
        else
            assert_field_at_least max_inside 1
            # No GIL: nothing to hand off, drop or ask for.
            assert_field handoffs 0
            assert_field drops 0
            assert_field drop_requests 0
        fi
    done
}

@test "gil py2: exactly one drop every check_interval bytecodes (the ticks)" {
    for ci in 100 7; do
        run lab 06 gil --mode=py2 --check-interval $ci
        assert_success
        assert_field check_interval $ci
        instr="$(field instructions)"
        [ "$instr" -eq 10800081 ]
        assert_field drops $((instr / ci))
        assert_field drop_requests 0
    done
}

@test "gil py3: a waiting thread asks for the GIL (drop requests > 0)" {
    # A short interval so that a waiter asks even on one busy core.
    run lab 06 gil --mode=py3 --interval-us 1000
    assert_success
    assert_field max_inside 1
    assert_field interval_us 1000
    assert_field_at_least drop_requests 1
    assert_field_at_least drops 1
    assert_field checksum $GIL_SUM
}

@test "gil: the checksum follows --threads, --io and --work" {
    run lab 06 gil --mode=py3 --threads 4 --io 0 --work 1000
    assert_success
    assert_field threads 4
    assert_field cpu_threads 4
    assert_field io_threads 0
    assert_field work 1000
    assert_field checksum 63989337332000
    assert_field instructions $((4 * (6 + 15 * 1000 + 3)))
    assert_field max_inside 1
}

@test "gil --timeline: one row per thread, within 80 columns, after the run" {
    for mode in none py2 py3; do
        run lab 06 gil --mode=$mode --timeline
        assert_success
        assert_result gil
        assert_line --regexp '^timeline \('"$mode"'\)'
        assert_line --regexp '^cpu-1 +\|[ #.~]{64}\| +[0-9]+%$'
        assert_line --regexp '^cpu-2 +\|[ #.~]{64}\| +[0-9]+%$'
        assert_line --regexp '^io-1 +\|[ #.~]{64}\| +[0-9]+%$'
        while IFS= read -r l; do
            [ "${#l}" -le 80 ] || { echo "too wide: $l"; false; }
        done < <(printf '%s\n' "$output" | sed -n '/^timeline/,/^# /p')
    done
}

@test "gil --timeline under a GIL: never two rows holding it in the same column" {
    run lab 06 gil --mode=py3 --timeline
    assert_success
    # Column c of the 64 cells: count the rows showing '#' there.
    printf '%s\n' "$output" | grep -E '^(cpu|io)-[0-9]+ +\|' | sed -E 's/^[^|]*\|(.{64})\|.*/\1/' |
        awk '{ for (c = 1; c <= 64; c++) if (substr($0, c, 1) == "#") n[c]++ }
             END { for (c = 1; c <= 64; c++) if (n[c] > 1) { print "column " c ": " n[c] " rows hold the GIL"; bad = 1 }
                   exit bad }'
}

@test "cpu: the exact result in every variant (unsigned __int128)" {
    run lab 06 cpu
    assert_success
    assert_result cpu
    for v in seq threads threads-gil procs; do
        line="$(cpu_line $v)"
        [ -n "$line" ]
        [ "$(part_field "$line" result)" = 49999666671666600000 ]
        [ "$(part_field "$line" n)" = 100000 ]
        [ "$(part_field "$line" workers)" = 2 ]
        at_least "$(part_field "$line" elapsed_ms)" 0
    done
}

@test "cpu --n 1000000: the notes' 499999666667166666000000, every time" {
    run lab 06 cpu --n 1000000
    assert_success
    for v in seq threads threads-gil procs; do
        [ "$(part_field "$(cpu_line $v)" result)" = $NOTES_RESULT ]
    done
    assert_output --partial "normal:      $NOTES_RESULT"
    assert_output --partial "multicore:   $NOTES_RESULT"
}

@test "cpu --workers 3: three jobs" {
    run lab 06 cpu --n 1000 --workers 3
    assert_success
    for v in seq threads threads-gil procs; do
        [ "$(part_field "$(cpu_line $v)" result)" = 749500749000 ]
    done
    no_lab_processes
}

@test "bound: CPU parts exact, IO threads overlap their sleeps under the GIL" {
    run lab 06 bound
    assert_success
    assert_result bound
    cpu_tg="$(printf '%s\n' "$output" | grep '^RESULT l6.bound kind=cpu variant=threads-gil ')"
    cpu_p="$(printf '%s\n' "$output" | grep '^RESULT l6.bound kind=cpu variant=procs ')"
    for line in "$cpu_tg" "$cpu_p"; do
        [ "$(part_field "$line" checksum)" = 49999666671666600000 ]
        [ "$(part_field "$line" workers)" = 2 ]
        [ "$(part_field "$line" n)" = 100000 ]
        at_least "$(part_field "$line" elapsed_ms)" 0
    done
    assert_field kind io bound
    assert_field variant threads-gil bound
    assert_field workers 400 bound
    assert_field created 400 bound
    assert_field failed 0 bound
    assert_field stack_kib 64 bound
    assert_field max_inside 1 bound
    # Each thread sleeps 2 units: a lower bound only.
    assert_field_at_least elapsed_units 2.0 bound
    no_lab_processes
}

@test "bound --io-threads 2000: thousands of small-stack threads" {
    run lab 06 bound --io-threads 2000 --n 1000
    assert_success
    assert_field created 2000
    assert_field failed 0
    assert_field_at_least elapsed_units 2.0
}

@test "bound: thread creation failures are reported, not crashed on" {
    # 4000 x 64 KiB stacks do not fit in 150 MB of address space.
    run timeout -k 5 30 prlimit --as=150000000 "$BUILD/lab06" bound --io-threads 4000 --n 1000
    assert_success
    assert_result bound
    assert_field_at_least failed 1
    [ $(( $(field created) + $(field failed) )) -eq 4000 ]
    assert_output --partial "could not be created"
}

@test "convoy py2: one drop every check_interval bytecodes; py3: the dropper never takes it straight back" {
    run lab 06 convoy --mode=py2
    assert_success
    assert_result convoy
    assert_field mode py2
    assert_field cpus "$CONVOY_CPUS"
    assert_field threads 2
    assert_field checksum 32399964000089999800000
    assert_field instructions 9000018
    assert_field drops 90000
    assert_field drop_requests 0
    convoy_invariants
    run lab 06 convoy --mode=py3
    assert_success
    assert_field mode py3
    assert_field cpus "$CONVOY_CPUS"
    assert_field threads 2
    assert_field checksum 32399964000089999800000
    assert_field instructions 9000018
    assert_field retakes 0
    assert_field retake_pct 0
    # py3 drops only on a request, which a waiting thread makes: every drop is contested.
    assert_field contested "$(field drops)"
    convoy_invariants
}

@test "convoy py3: forced drops happen (short interval), and none is retaken" {
    run lab 06 convoy --mode=py3 --interval-us 1000 --work 600000
    assert_success
    assert_field checksum 518399712000359999600000
    assert_field_at_least drops 1
    assert_field_at_least drop_requests 1
    assert_field retakes 0
    assert_field contested "$(field drops)"
    convoy_invariants
}

@test "gil_money: 99 without a user lock (forced), 0 with one" {
    run lab 06 gil_money --mode=nolock
    assert_success
    assert_result gil_money
    assert_field mode nolock
    assert_field gil py3
    assert_field user_lock 0
    assert_field threads 100
    assert_field final 99
    assert_field max_inside 1
    assert_field blocked_acquires 0
    # Every thread sleeps 0.1 units (all at once): a lower bound only.
    assert_field_at_least elapsed_units 0.1
    run lab 06 gil_money --mode=lock
    assert_success
    assert_field mode lock
    assert_field gil py3
    assert_field user_lock 1
    assert_field threads 100
    assert_field final 0
    assert_field max_inside 1
    # The user lock's acquire blocked with the GIL released: no deadlock, and it happened.
    assert_field_at_least blocked_acquires 1
    # 100 x sleep(0.1) in a row: at least 10 units.
    assert_field_at_least elapsed_units 10.0
}

@test "gil_money --money-threads 10: still 99 without the lock, 90 with it" {
    run lab 06 gil_money --mode=nolock --money-threads 10
    assert_success
    assert_field threads 10
    assert_field final 99
    run lab 06 gil_money --mode=lock --money-threads 10 --timeline
    assert_success
    assert_field threads 10
    assert_field final 90
    assert_field_at_least blocked_acquires 1
    assert_field_at_least elapsed_units 1.0
    assert_line --regexp '^task-1 +\|'
}

@test "LAB_SECOND_MS paces the sleeps: 20 x sleep(0.1) in a row take at least 2 x 200 ms" {
    local t0 t1
    t0=$(date +%s%N)
    LAB_SECOND_MS=200 run lab 06 gil_money --mode=lock --money-threads 20
    t1=$(date +%s%N)
    assert_success
    assert_field final 80
    assert_field_at_least elapsed_units 2.0
    # At the default pace (100 ms) it would take about 200 ms: a lower bound only.
    at_least $(((t1 - t0) / 1000000)) 400
}

# affinity_invariants CPUS: the ratio is the CPU time over the wall time, and CPUS cores cannot give
# more CPU time than CPUS x the wall time (an upper bound of the kernel, not a speedup).
affinity_invariants() {
    local wall cpu ratio
    wall="$(field wall_ms)" cpu="$(field cpu_ms)" ratio="$(field cpu_per_wall)"
    # The explanation is chosen by the measured number, not by the mode.
    if awk -v r="$ratio" 'BEGIN { exit !(r > 1.1) }'; then assert_output --partial "above 1: "
    elif awk -v r="$ratio" 'BEGIN { exit !(r >= 0.8) }'; then assert_output --partial "about 1: "
    else assert_output --partial "below 1: "; fi
    at_least "$wall" 0.1
    at_least "$cpu" 0.1
    awk -v w="$wall" -v c="$cpu" -v r="$ratio" -v n="$1" 'BEGIN {
        d = c / w - r; if (d < 0) d = -d
        exit !(d <= 0.02 && r <= n + 0.2) }' || { echo "cpu_per_wall=$ratio: cpu_ms=$cpu wall_ms=$wall on $1 CPU(s)"; return 1; }
}

@test "affinity: two threads pinned to one core, then free (report only)" {
    run lab 06 affinity --mode=pinned
    assert_success
    assert_result affinity
    assert_field mode pinned
    assert_field cpus 1
    assert_field threads 2
    assert_field result 312499958333345833330000000
    affinity_invariants 1
    run lab 06 affinity --mode=free
    assert_success
    assert_field mode free
    assert_field cpus "$ALLOWED_CPUS"
    assert_field threads 2
    assert_field result 312499958333345833330000000
    affinity_invariants "$ALLOWED_CPUS"
}

@test "--list names every scenario, in the guided demo's order" {
    run lab 06 --list
    assert_scenario_list gil refcount cpu bound convoy gil_money hybrid affinity
}

@test "--help exits 0 and documents the options" {
    run lab 06 --help
    assert_success
    assert_output --partial "Usage: lab06"
    for o in --timeline --interval-us=N --check-interval=N --work=N --n=N --io-threads=N --bench; do
        assert_output --partial -- "$o"
    done
}

@test "guided demo: every scenario and mode, timelines for py2 and py3, exit 0" {
    run lab 06
    assert_success
    for m in none py2 py3; do assert_line --regexp "^RESULT l6\.gil mode=$m "; done
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT l6\.cpu variant=')" -eq 4 ]
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT l6\.bound kind=')" -eq 3 ]
    for m in py2 py3; do assert_line --regexp "^RESULT l6\.convoy mode=$m "; done
    for m in nolock lock; do assert_line --regexp "^RESULT l6\.gil_money mode=$m "; done
    for m in pinned free; do assert_line --regexp "^RESULT l6\.affinity mode=$m "; done
    for m in none gil; do assert_line --regexp "^RESULT l6\.refcount mode=$m "; done
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT l6\.hybrid variant=')" -eq 3 ]
    assert_line --regexp '^timeline \(py2\)'
    assert_line --regexp '^timeline \(py3\)'
    refute_line --regexp '^timeline \(none\)'
    assert_line --partial "every one behaved as the lesson says"
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT l6.gil .*checksum='"$GIL_SUM"' ')" -eq 3 ]
    no_lab_processes
}

@test "--bench: the lab 6 speedup table" {
    run lab 06 --bench
    assert_success
    assert_output --partial "seq (normal)"
    assert_output --partial "threads-gil (py3)"
    assert_output --partial "procs (multicore)"
    [ "$(printf '%s\n' "$output" | grep -c " $NOTES_RESULT\$")" -eq 4 ]
}

@test "usage errors of lab 6: bad modes, values and options of other scenarios exit 2" {
    run --separate-stderr lab 06 gil --mode=py4
    assert_usage_error "unknown mode 'py4'"
    run --separate-stderr lab 06 cpu --mode=py3
    assert_usage_error "has no modes"
    run --separate-stderr lab 06 gil --work abc
    assert_usage_error "bad value for --work: 'abc' is not a whole number"
    run --separate-stderr lab 06 gil --interval-us 0
    assert_usage_error "bad value for --interval-us: 0 is out of range"
    run --separate-stderr lab 06 gil --check-interval=-5
    assert_usage_error "bad value for --check-interval"
    run --separate-stderr lab 06 bound --io-threads 999999999
    assert_usage_error "bad value for --io-threads: .* out of range"
    run --separate-stderr lab 06 cpu --timeline
    assert_usage_error "option '--timeline' does not apply to scenario 'cpu'"
    run --separate-stderr lab 06 gil --timeline=1
    assert_usage_error "takes no value"
    run --separate-stderr lab 06 gil_money --money-threads 1
    assert_usage_error "bad value for --money-threads: 1 is out of range"
    run --separate-stderr lab 06 affinity --mode=py3
    assert_usage_error "unknown mode 'py3'"
}

@test "README commands run as shown" {
    run_readme_commands "$ROOT/labs/06-gil"
}

@test "nothing left behind" {
    run lab 06 cpu --n 1000
    assert_success
    no_lab_processes
}
