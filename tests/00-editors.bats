#!/usr/bin/env bats
# tests/00-editors.bats - the tree that editors and classroom machines pick up: the compilation
# database (make compile_commands.json, for clangd), the devcontainer description (Debian 12 with
# what `make test` needs) and the .clang-format style of common/ (skipped without clang-format).
load test_helper
LAB=00

@test "editors: make compile_commands.json lists every C file with the Makefile's own flags" {
    local out="$BATS_TEST_TMPDIR/cdb"
    mkdir -p "$out"
    run make -C "$ROOT" -s compile_commands.json
    assert_success
    local db="$ROOT/compile_commands.json"
    run python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d)); [print(e["file"], e["command"]) for e in d]' "$db"
    assert_success
    local f
    for f in "$ROOT"/common/*.c "$ROOT"/labs/*/*.c "$ROOT"/tests/unit_common.c; do
        assert_line --regexp "^${f#"$ROOT"/} .* -Icommon -D_GNU_SOURCE .*-std=c11 -Wall -Wextra -Werror .* -c -o build/obj/.*\\.o ${f#"$ROOT"/}\$"
    done
    # The command compiles: run one entry's command as clangd would (into a scratch object).
    run bash -c "cd '$ROOT' && eval \"\$(python3 -c 'import json; e=json.load(open(\"compile_commands.json\"))[0]; print(e[\"command\"].replace(e[\"output\"], \"$out/x.o\"))')\""
    assert_success
    [ -s "$out/x.o" ]
}

@test "editors: .devcontainer is Debian 12 and installs the tools of scripts/deps" {
    run python3 -m json.tool "$ROOT/.devcontainer/devcontainer.json"
    assert_success
    run grep -E '^FROM debian:12' "$ROOT/.devcontainer/Dockerfile"
    assert_success
    run grep -E 'scripts/deps' "$ROOT/.devcontainer/Dockerfile"
    assert_success
    run grep -F '"context": ".."' "$ROOT/.devcontainer/devcontainer.json"
    assert_success
}

@test "editors: common/ follows .clang-format (skipped without clang-format)" {
    command -v clang-format >/dev/null 2>&1 || skip "clang-format is not installed (Debian: apt-get install clang-format)"
    run "$ROOT/scripts/format-check"
    assert_success
    assert_output --regexp 'format-check: [0-9]+ files follow .clang-format'
    # The check has teeth: a file in the wrong style fails it.
    local bad="$BATS_TEST_TMPDIR/bad.c"
    printf 'int f(int* p){ return *p+1; }\n' >"$bad"
    cp "$ROOT/.clang-format" "$BATS_TEST_TMPDIR/"
    run "$ROOT/scripts/format-check" "$bad"
    assert_failure
    assert_output --partial 'differs from clang-format'
}
