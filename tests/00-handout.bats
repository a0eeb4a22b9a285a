#!/usr/bin/env bats
# tests/00-handout.bats - `make handout` (scripts/handout): the students' tree from the same sources.
# The markers are well formed and cover the fixed modes of labs 3, 5, 7, 8 and 9 and lab 10's
# pools; the handout has every region replaced by its TODO line and nothing else changed (no
# solution left, no planted bug); it builds warning-free and the guided demos of the cut labs run to their end.  That each
# exercise, cut out alone, makes its lab's checks fail takes minutes: `make teeth` runs it
# (scripts/handout --teeth).
load test_helper
LAB=00

setup() { H="$BATS_TEST_TMPDIR/handout"; }

@test "handout: the markers are well formed and mark the fixed modes of labs 3, 5, 7, 8, 9 and the pools of lab 10" {
    run "$ROOT/scripts/handout" --list
    assert_success
    local n
    for n in 03 05 07 08 09 10; do
        assert_line --regexp "	labs/$n-[a-z-]+/[a-z_]+\\.c:[0-9]+	.{10,}"
    done
    [ "$(cut -f1 <<<"$output" | sort -u | wc -l)" -ge 6 ]
}

@test "handout: every region becomes its TODO line; nothing else changes; no solution, no planted bug" {
    run "$ROOT/scripts/handout" --out "$H"
    assert_success
    assert_output --regexp 'regions cut \([0-9]+ exercises\)'
    run grep -rl 'SOLUTION' "$H/labs" "$H/common"
    assert_failure
    [ ! -e "$H/tests/mutations" ]
    [ ! -e "$H/tests/00-handout.bats" ]
    [ -f "$H/Makefile" ] && [ -f "$H/tests/test_helper.bash" ] && [ -f "$H/README.md" ]
    # The marked files: each region is one TODO line with the hint, at the marker's place.
    local tag loc hint f line
    while IFS=$'\t' read -r tag loc hint; do
        f=${loc%%:*}
        grep -qF "/* TODO: $hint */" "$H/$f" || { echo "$f: no TODO line for '$hint'"; return 1; }
    done < <("$ROOT/scripts/handout" --list)
    # The other files are the same.
    cd "$ROOT"
    for f in $(git ls-files common labs scripts tests Makefile | grep -v -E '^(tests/mutations/|tests/00-handout\.bats|scripts/handout$)'); do
        grep -q 'SOLUTION BEGIN' "$f" && continue
        cmp -s "$f" "$H/$f" || { echo "$f differs in the handout"; return 1; }
    done
}

@test "handout: it builds warning-free and the guided demos of the cut labs run to their end" {
    run "$ROOT/scripts/handout" --out "$H"
    assert_success
    # Start from the full tree's objects: make rebuilds the files cut (and what depends on them).
    (cd "$ROOT" && tar -cf - build/obj build/libcommon.a build/unit_common build/lab[0-9][0-9]) | tar -C "$H" -xf -
    local f
    while IFS=$'\t' read -r _ f _; do touch "$H/${f%%:*}"; done < <("$ROOT/scripts/handout" --list)
    MAKEFLAGS= run timeout -k 5 300 make -C "$H" -s all
    assert_success
    refute_output --regexp '(warning|error):'
    local n
    for n in 03 05 07 08 09 10; do
        run capped timeout -k 5 120 "$H/build/lab$n"
        # 0 or 1 (the parts that misbehave without the student's code), or 3 when a watchdog
        # stopped a deadlock the student has still to cure; never a hang or a crash.
        case "$status" in
            0|1) assert_line --regexp '^demo: ' ;;
            3) assert_output --partial 'WATCHDOG' ;;
            *) echo "lab$n: exit $status"; return 1 ;;
        esac
    done
    # The full tree's demos all behave (the handout's misbehave where a part was cut).
    run capped timeout -k 5 120 "$H/build/lab08"
    assert_failure 1
    assert_line --regexp '^demo: [0-9]+ of [0-9]+ parts did not behave'
}

@test "handout: a malformed marker is an error naming its file and line (exit 2)" {
    local t="$BATS_TEST_TMPDIR/tree"
    mkdir -p "$t/scripts" "$t/labs/99-x"
    cp "$ROOT/scripts/handout" "$t/scripts/"
    printf 'int f(void)\n{\n    /* SOLUTION BEGIN: hint */\n    return 1;\n}\n' >"$t/labs/99-x/x.c"
    run "$t/scripts/handout" --out "$t/out"
    [ "$status" -eq 2 ]
    assert_output --partial 'labs/99-x/x.c:3: SOLUTION BEGIN without a SOLUTION END'
    printf 'int f(void)\n{\n    /* SOLUTION END */\n    return 1;\n}\n' >"$t/labs/99-x/x.c"
    run "$t/scripts/handout" --out "$t/out"
    [ "$status" -eq 2 ]
    assert_output --partial 'labs/99-x/x.c:3: SOLUTION END without a SOLUTION BEGIN'
    printf '    /* SOLUTION BEGIN(Bad Tag): hint */\n    /* SOLUTION END */\n' >"$t/labs/99-x/x.c"
    run "$t/scripts/handout" --out "$t/out"
    [ "$status" -eq 2 ]
    assert_output --partial 'labs/99-x/x.c:1: malformed marker'
}
