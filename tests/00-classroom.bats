#!/usr/bin/env bats
# tests/00-classroom.bats - checks of what every lab gives an instructor in front of a class
# (common/cli.c, the Makefile's lab-N): make lab-N's last line on the exit status, the step mode on
# a pseudo-terminal, --parts/--from, "did you mean", repeated options, the bad case and its fix as
# a pair (--mode=a,b), colours on a terminal only, 100 columns for every guided demo, its trace
# (it opens in Perfetto), and thread names a class can follow (Python's counter, one per program:
# no name serves two threads of one).
load test_helper
LAB=00

# shellcheck source=../scripts/lib.sh
. "$ROOT/scripts/lib.sh"
lab_dirs() { local n; for n in $(LAB_ROOT="$ROOT" lab_numbers); do echo "$ROOT/$(LAB_ROOT="$ROOT" lab_dir "$n")"; done; }

# Every lab's guided demo runs once for the whole file, piped and with --trace (the widths and the
# thread names are read from the same run): $BATS_FILE_TMPDIR/demoNN.txt, .json and .rc.
setup_file() {
    local n
    for n in $(LAB_ROOT="$ROOT" lab_numbers); do
        LAB_SECOND_MS=20 timeout -k 5 120 "$BUILD/lab$n" --trace "$BATS_FILE_TMPDIR/demo$n.json" \
            </dev/null >"$BATS_FILE_TMPDIR/demo$n.txt" 2>&1
        echo $? >"$BATS_FILE_TMPDIR/demo$n.rc"
    done
}

@test "classroom: make lab-N ends with what the exit status means; an expected status does not fail make" {
    run capped timeout -k 5 120 make -C "$ROOT" -s lab-7 ARGS="deadlock"
    assert_success
    assert_line --index -1 "exit 3: the watchdog ended the deadlock, as the lesson says (not a failure)"
    refute_output --partial "Error 3"
    run capped timeout -k 5 120 make -C "$ROOT" -s lab-3 ARGS="money --mode=lock"
    assert_success
    assert_line --index -1 "exit 0: the lesson happened, nothing failed"
    # A usage error is a real failure: make fails, the line says so.
    run capped timeout -k 5 120 make -C "$ROOT" -s lab-3 ARGS="tikets"
    [ "$status" -ne 0 ]
    assert_output --partial "exit 2: a usage error"
    # The program answers the question itself, for any status.
    run lab 07 --explain-exit=3 deadlock
    assert_success
    run lab 03 --explain-exit=1 money --mode=lock
    [ "$status" -eq 1 ]
    assert_output "exit 1: an invariant broke: a real failure (see the lines above)"
    run lab 03 --explain-exit=130
    [ "$status" -eq 130 ]
    assert_output --partial "stopped by signal 2"
}

@test "classroom: make lab-N for a lab that is not there lists the labs" {
    run make -C "$ROOT" -s lab-99
    [ "$status" -ne 0 ]
    assert_output --partial "there is no lab '99'; the labs are:"
    assert_line --regexp "^  make lab-1 +Lab 1 — "
    refute_output --partial "No rule to make target"
}

# _on_tty INPUT CMD - run CMD on a pseudo-terminal (script(1)), typing INPUT; bounded.
_on_tty() {
    local input="$1"
    shift
    run capped timeout -k 5 60 bash -c 'printf "$1" | script -qec "$2" /dev/null | tr -d "\r"' _ "$input" "$*"
}

@test "classroom: step mode: a title and a pause per part on a terminal, q quits, --from starts at a part" {
    command -v script >/dev/null || skip "script (util-linux) is not installed"
    # Enter runs part 8 of lab 2's 9, then q stops before part 9.
    _on_tty '\nq\n' "$BUILD/lab02 --step --from=8"
    assert_success
    assert_line --regexp '^-- part 8/9: l2\.[a-z_]+'
    assert_line --regexp '^   Enter: run it +q: quit$'
    assert_line --regexp '^-- part 9/9: '
    assert_line --regexp '^demo: stopped before part 9 of 9 \(q\)'
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT ')" -eq 1 ]
    refute_line --partial "part 7/9"
    # LAB_STEP=1 the same; q at once runs nothing.
    _on_tty 'q\n' "env LAB_STEP=1 $BUILD/lab08"
    assert_success
    assert_line --regexp '^-- part 1/[0-9]+: l8\.'
    refute_line --regexp '^RESULT '
    # Not a terminal: no pause, no titles, the whole demo.
    LAB_STEP=1 run lab 02 --step </dev/null
    assert_success
    refute_line --regexp '^-- part '
    assert_line --index -1 "demo: 9 parts, every one behaved as the lesson says"
}

@test "classroom: --parts lists the guided demo's parts; --from starts there; out of range is a usage error" {
    local d nn parts
    for d in $(lab_dirs); do
        nn=$(basename "$d" | cut -c1-2)
        run lab "$nn" --parts
        assert_success
        parts=${#lines[@]}
        [[ "${lines[0]}" =~ ^\ 1\ \ l$((10#$nn))\. ]] || { echo "lab$nn --parts: ${lines[0]}"; return 1; }
        run --separate-stderr lab "$nn" --from=$((parts + 1))
        assert_usage_error "the guided demo has $parts parts"
    done
    run lab 02 --from=9
    assert_success
    assert_line --index -1 "demo: 1 parts, every one behaved as the lesson says"
    run --separate-stderr lab 02 serial --from=2
    assert_usage_error "--from is for the guided demo"
}

@test "classroom: a mistyped scenario or mode gets a 'did you mean'; a repeated option is a usage error" {
    run --separate-stderr lab 03 tikets
    assert_usage_error "unknown scenario 'tikets' \(did you mean 'tickets'\?"
    run --separate-stderr lab 03 tickets --mode=nolok
    assert_usage_error "unknown mode 'nolok' .*did you mean 'nolock'"
    run --separate-stderr lab 03 tickets --mode=nolock --mode=lock
    assert_usage_error "option '--mode' given twice"
    run --separate-stderr lab 03 money --threads=5 --threads=6
    assert_usage_error "option '--threads' given twice"
}

@test "classroom: --mode=a,b runs the bad case and its fix one after the other and compares them" {
    run lab 03 tickets --mode=nolock,lock
    assert_success
    [ "$(printf '%s\n' "$output" | grep -c '^RESULT l3.tickets ')" -eq 2 ]
    assert_line "compare l3.tickets: the RESULT keys that differ between the modes"
    assert_line --regexp '^  key +nolock +lock$'
    assert_line --regexp '^  oversold +8 +0$'
    refute_line --regexp '^  users '
    assert_line --index -1 "tickets: 2 parts, every one behaved as the lesson says"
    # all: every mode; a watchdog mode runs in its own process, as in the guided demo.
    run lab 07 philosophers --mode=all
    assert_success
    assert_line --index -1 --regexp '^philosophers: [0-9]+ parts, every one behaved as the lesson says$'
    run --separate-stderr lab 07 deadlock --mode=all
    assert_usage_error "scenario 'deadlock' has no modes"
    run lab 03 money --mode=all
    assert_success
    assert_line --regexp '^  final +99 +0$'
    run --separate-stderr lab 03 money --mode=lock,lock
    assert_usage_error "mode 'lock' given twice"
}

@test "classroom: on a terminal RESULT lines are dimmed and the verdict is green; piped they are plain" {
    command -v script >/dev/null || skip "script (util-linux) is not installed"
    _on_tty '' "env -u NO_COLOR $BUILD/lab03 money --mode=all"
    assert_success
    assert_line --regexp $'^\e\\[2mRESULT l3\\.money mode=nolock .*\e\\[0m$'
    assert_line --regexp $'^\e\\[32mmoney: 2 parts, every one behaved as the lesson says\e\\[0m$'
    run lab 03 money --mode=lock
    assert_line --index -1 --regexp '^RESULT l3\.money mode=lock threads=100 '
}

# wide_lines FILE - the human lines of FILE wider than 100 columns (wide CJK characters count 2),
# as "line N: W columns: text"; RESULT and GANTT lines (machine lines) are left out.  The columns
# are counted as `wc -L` counts them (East Asian wide and full-width characters 2, combining marks
# and control characters 0, a tab to the next multiple of 8), in one pass over the file.
wide_lines() {
    python3 - "$1" <<'PY'
import sys, unicodedata
def columns(s):
    w = 0
    for c in s:
        if c == "\t":
            w = (w // 8 + 1) * 8
        elif unicodedata.combining(c) or unicodedata.category(c) in ("Cc", "Cf", "Mn", "Me"):
            continue
        else:
            w += 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
    return w
with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
    for n, line in enumerate(f, 1):
        line = line.rstrip("\n")
        if line.startswith("RESULT ") or line.startswith("GANTT"):
            continue
        w = columns(line)
        if w > 100:
            print("line %d: %d columns: %.120s" % (n, w, line))
PY
}

# Every human line is within 100 columns, on a terminal and piped alike (the wrapping is the same
# code; the test above shows the terminal path): a projector, or `| less` on one.
@test "classroom: every human line of every guided demo fits 100 columns (a projector, or piped to less)" {
    local d nn out bad=""
    for d in $(lab_dirs); do
        nn=$(basename "$d" | cut -c1-2)
        out="$BATS_FILE_TMPDIR/demo$nn.txt"
        [ "$(cat "$BATS_FILE_TMPDIR/demo$nn.rc")" = 0 ] || { echo "lab$nn: the guided demo failed"; tail -n 5 "$out"; return 1; }
        [[ "$(tail -n 1 "$out")" =~ ^demo:\ .*(every\ one\ behaved\ as\ the\ lesson\ says|could\ not\ show\ their\ timing\ here\ now)$ ]] ||
            { echo "lab$nn: the guided demo failed"; tail -n 5 "$out"; return 1; }
        local wide
        wide="$(wide_lines "$out")"
        [ -z "$wide" ] || bad+="lab$nn:"$'\n'"$wide"$'\n'
    done
    [ -z "$bad" ] || { printf '%s' "$bad"; return 1; }
}

# The trace of a guided demo (--trace): each thread's track carries its name and a "start" mark,
# each program (lab_thread_program_start: a scenario, a mode) a mark on the thread that starts it.
# Prints every name the registry gave (Thread-N, Dummy-N) that belongs to two threads of one
# program of one process, and the totals; fails if there is one.
_names_given_twice() {
    python3 - "$1" <<'PY'
import json, re, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
names, starts, programs = {}, {}, {}
for e in ev:
    k = (e["pid"], e["tid"])
    if e["ph"] == "M" and e["name"] == "thread_name":
        names[k] = e["args"]["name"]
    elif e["ph"] == "i" and e.get("cat") == "thread":
        if e["name"] == "start":
            starts[k] = e["ts"]
        elif e["name"].startswith("a new program"):
            programs.setdefault(e["pid"], []).append(e["ts"])
owner = {}
for k, ts in starts.items():
    name = names.get(k, "")
    if re.fullmatch(r"(Thread|Dummy)-[0-9]+( \(.*\))?", name):
        prog = sum(1 for p in programs.get(k[0], []) if p <= ts)
        owner.setdefault((k[0], prog, name), []).append(k[1])
bad = [(key, tids) for key, tids in sorted(owner.items()) if len(tids) > 1]
for (pid, prog, name), tids in bad:
    print("pid %d, program %d: '%s' names %d threads (tids %s)" % (pid, prog, name, len(tids), tids))
print("%d threads, %d programs, %d names given twice" % (len(starts), sum(map(len, programs.values())), len(bad)))
sys.exit(1 if bad else 0)
PY
}

# The trace of every guided demo (the file a student opens in Perfetto, tests/00-trace.bats checks
# the scenarios' events): it parses, every slice that begins ends, every arrow has both ends, no
# child's fragment is left beside it, and it stays small.  Labs 11 and 12 draw their switches and
# their connections' requests as arrows.
@test "classroom: every guided demo's trace parses, slices balanced, arrows paired, under 5 MB" {
    command -v python3 >/dev/null || skip "python3 is not installed (it reads the trace)"
    local n t size left
    for n in $(LAB_ROOT="$ROOT" lab_numbers); do
        t="$BATS_FILE_TMPDIR/demo$n.json"
        run "$ROOT/scripts/trace-check" "$t"
        [ "$status" -eq 0 ] || { echo "lab$n: $output"; return 1; }
        assert_output --regexp 'processes, [0-9]+ tracks: ok$'
        left=$(find "$BATS_FILE_TMPDIR" -name "demo$n.json.*" | head -n 3)
        [ -z "$left" ] || { echo "lab$n: left beside the trace: $left"; return 1; }
        size=$(stat -c %s "$t")
        [ "$size" -lt 5000000 ] || { echo "lab$n: the demo's trace has $size bytes"; return 1; }
    done
    for n in 11 12; do
        # lab 11: the switches' arrows; lab 12: the connections' reads and the client's arrows into them
        run "$ROOT/scripts/trace-check" "$BATS_FILE_TMPDIR/demo$n.json" --names "$([ "$n" = 11 ] && echo switch || echo request)"
        assert_success
        [ "$(grep -c ' f ' <<<"$output")" -gt 100 ] || { echo "lab$n: too few arrows"; return 1; }
    done
}

@test "classroom: thread names: within one program of a guided demo, no name belongs to two threads" {
    command -v python3 >/dev/null || skip "python3 is not installed (it reads the trace)"
    local d nn threads=0
    for d in $(lab_dirs); do
        nn=$(basename "$d" | cut -c1-2)
        run _names_given_twice "$BATS_FILE_TMPDIR/demo$nn.json"
        [ "$status" -eq 0 ] || { echo "lab$nn: $output"; return 1; }
        threads=$((threads + ${output%% threads,*}))
    done
    [ "$threads" -gt 1000 ]
}
