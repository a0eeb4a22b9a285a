#!/usr/bin/env bats
# tests/00-project.bats - checks of the whole project: the build under clang, make help, and the
# lab contract every program shares (LABS.md): --list, --help, exit 2 on bad input, README shape;
# and checks of the checks: no ignored bare `!` in a Bats file, every planted bug still applies.
load test_helper
LAB=00

# shellcheck source=../scripts/lib.sh
. "$ROOT/scripts/lib.sh"
lab_dirs() { local n; for n in $(LAB_ROOT="$ROOT" lab_numbers); do echo "$ROOT/$(LAB_ROOT="$ROOT" lab_dir "$n")"; done; }

@test "project: clang builds every lab and the unit tests warning-free (-Wall -Wextra -Werror)" {
    # -O0: clang's warnings come from its front end, the same at every -O; the code generation
    # at -O2 would only double the time.
    MAKEFLAGS= run timeout -k 5 300 make -C "$ROOT" -s -j2 CC=clang CFLAGS='-O0 -g' BUILD=build/clang all
    assert_success
    refute_output --regexp '(warning|error):'
    # The objects really were compiled by clang.
    run readelf -p .comment "$ROOT/build/clang/lab01"
    assert_output --partial clang
}

@test "project: make help lists every lab, one line each, from its README title" {
    run make -C "$ROOT" -s help
    assert_success
    local d n
    for d in $(lab_dirs); do
        n=$((10#$(basename "$d" | cut -c1-2)))
        assert_line --regexp "^  make lab-$n +Lab $n — "
    done
}

@test "project: every lab has a README (title line, Exercises at the end) and a Bats file" {
    local d base
    for d in $(lab_dirs); do
        base=$(basename "$d")
        n=$((10#${base:0:2}))
        [ -f "$d/README.md" ] || { echo "$base: no README.md"; return 1; }
        head -n 1 "$d/README.md" | grep -Eq "^# Lab $n — " || { echo "$base: README title"; return 1; }
        grep -Eq '^## .*Exercises' "$d/README.md" || { echo "$base: no Exercises section"; return 1; }
        # Exercises is the last section.
        [ "$(grep -E '^## ' "$d/README.md" | tail -n 1 | grep -c Exercises)" -eq 1 ] || { echo "$base: Exercises is not last"; return 1; }
        [ -f "$ROOT/tests/$base.bats" ] || { echo "$base: no tests/$base.bats"; return 1; }
    done
}

@test "project: every lab answers --list (name, two spaces, description) and --help (exit 0)" {
    local d nn
    for d in $(lab_dirs); do
        nn=$(basename "$d" | cut -c1-2)
        run lab "$nn" --list
        assert_success
        [ "${#lines[@]}" -ge 1 ]
        local l
        for l in "${lines[@]}"; do [[ "$l" =~ ^[a-z0-9_]+\ \ [^\ ] ]] || { echo "lab$nn --list: bad line '$l'"; return 1; }; done
        run lab "$nn" --help
        assert_success
        assert_line --regexp "^Usage: lab$nn "
    done
}

@test "project: every lab rejects bad input with exit 2, one line and a hint" {
    local d nn
    for d in $(lab_dirs); do
        nn=$(basename "$d" | cut -c1-2)
        run --separate-stderr lab "$nn" no_such_scenario
        assert_usage_error "unknown scenario 'no_such_scenario'"
        run --separate-stderr lab "$nn" --no-such-option
        assert_usage_error "unknown option '--no-such-option'"
        run --separate-stderr lab "$nn" --list extra
        assert_usage_error "--list takes no other argument"
        LAB_SECOND_MS=fast run --separate-stderr lab "$nn" --list
        assert_usage_error "bad LAB_SECOND_MS"
        LAB_SEED=-1 run --separate-stderr lab "$nn" --list
        assert_usage_error "bad LAB_SEED"
    done
}

@test "project: the commands of the top README run (all but 'make test', which runs this file)" {
    local cmd count=0
    while IFS= read -r cmd; do
        cmd="${cmd%%#*}"
        [[ "$cmd" =~ ^make\ test ]] && continue
        run capped timeout -k 5 120 bash -c "cd '$ROOT' && $cmd"
        [ "$status" -eq 0 ] || { echo "top README command failed ($status): $cmd"; echo "$output" | tail -n 5; return 1; }
        count=$((count + 1))
    done < <(readme_commands "$ROOT")
    [ "$count" -ge 5 ]
}

@test "project: make asan-unit builds the unit tests with AddressSanitizer + UBSan and they run clean" {
    MAKEFLAGS= run timeout -k 5 300 make -C "$ROOT" -s -j2 asan-unit
    assert_success
    refute_output --regexp '(warning|error):'
    run timeout -k 5 120 "$ROOT/build/asan/unit_common"
    assert_success
    refute_output --regexp 'AddressSanitizer|runtime error|LeakSanitizer'
}

# A `! cmd` line in the middle of a test is ignored by Bats (only the last command's status counts):
# it can never fail.  Write `run ! cmd`, `refute ...`, or `cmd && return 1`; a bare `!` may only be
# the last command of a test or of a function.
@test "project: no Bats file has a bare '!' command before the last line of a test or function" {
    run awk '
        FNR == 1 { inblock = 0 }
        /^[[:space:]]*@test[[:space:]].*\{[[:space:]]*$/ || /^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*\(\)[[:space:]]*\{[[:space:]]*$/ {
            inblock = 1; n = 0; next
        }
        inblock && /^}/ {
            for (i = 1; i < n; i++) if (text[i] ~ /^[[:space:]]*![[:space:]]/) print FILENAME ":" where[i] ": " text[i]
            inblock = 0; next
        }
        inblock && !/^[[:space:]]*(#|$)/ { n++; text[n] = $0; where[n] = FNR }
    ' "$ROOT"/tests/*.bats
    assert_success
    [ -z "$output" ] || { echo "a bare ! before the end of a test is ignored by Bats:"; echo "$output"; return 1; }
}

@test "project: every planted bug (tests/mutations/*.patch) has its header and still applies; every lab and common/ module has one" {
    local p count=0 l1 l2 c
    for p in "$ROOT"/tests/mutations/*.patch; do
        [ -e "$p" ] || continue
        l1=$(sed -n 1p "$p"); l2=$(sed -n 2p "$p")
        [[ "$l1" =~ ^\#\ bug:\ .+ ]] || { echo "$p: line 1 is not '# bug: ...'"; return 1; }
        [[ "$l2" =~ ^\#\ check:\ .+ ]] || { echo "$p: line 2 is not '# check: ...'"; return 1; }
        for c in ${l2#\# check: }; do
            case "$c" in
                unit|project|trace|classroom|handout|editors|pace) ;;
                [0-9][0-9]) LAB_ROOT="$ROOT" lab_dir "$c" >/dev/null || { echo "$p: no lab $c"; return 1; } ;;
                *) echo "$p: unknown check '$c'"; return 1 ;;
            esac
        done
        run git -C "$ROOT" apply --check "$p"
        [ "$status" -eq 0 ] || { echo "$p does not apply: $output"; return 1; }
        count=$((count + 1))
    done
    # At least one planted bug per lab and per common/ module (common-MODULE-*.patch).
    local n m
    for n in $(LAB_ROOT="$ROOT" lab_numbers); do
        compgen -G "$ROOT/tests/mutations/$n-*.patch" >/dev/null || { echo "lab $n has no planted bug"; return 1; }
    done
    for m in "$ROOT"/common/*.c; do
        m=${m##*/}; m=${m%.c}
        compgen -G "$ROOT/tests/mutations/common-$m-*.patch" >/dev/null || { echo "common/$m.c has no planted bug"; return 1; }
    done
    echo "# $count planted bugs apply" >&3
}

@test "project: the output cap stops a program that prints without end, and keeps streams and status otherwise" {
    LAB_OUTPUT_CAP=65536 run capped yes "a line printed forever"
    [ "$status" -eq "$LAB_CAP_STATUS" ]
    [[ "${lines[-1]}" == "output cap of 65536 bytes exceeded"* ]]
    run capped bash -c 'echo out1; echo err1 >&2; echo out2; exit 3'
    [ "$status" -eq 3 ]
    [ "$output" = $'out1\nerr1\nout2' ]
    run --separate-stderr capped bash -c 'echo out1; echo err1 >&2; exit 1'
    [ "$status" -eq 1 ] && [ "$output" = out1 ] && [ "$stderr" = err1 ]
}

