#!/usr/bin/env bats
# tests/glossary.bats - GLOSSARY.md: every term names scenarios that exist (checked against each
# lab's --list), the terms of the notes are all there, and every lab README links the glossary.
load test_helper

GLOSSARY="$ROOT/GLOSSARY.md"

# glossary_rows - the table rows of the glossary (not the header or the |---| line).
glossary_rows() {
    grep '^| ' "$GLOSSARY" | grep -v '^| 中文 |' | grep -v '^|---'
}

# row_refs ROW - the `labNN scenario` references in the last column of one row, one per line.
row_refs() {
    printf '%s\n' "$1" | awk -F'|' '{ print $(NF - 1) }' | grep -o '`lab[0-9][0-9] [a-z_0-9]*`' | tr -d '`'
}

@test "glossary: every row names at least one scenario, and each one is in its lab's --list" {
    [ -f "$GLOSSARY" ]
    local row ref n scenario rows=0 refs=0 lists="$BATS_TEST_TMPDIR/lists"
    mkdir -p "$lists"
    while IFS= read -r row; do
        rows=$((rows + 1))
        local found=0
        while IFS= read -r ref; do
            [ -n "$ref" ] || continue
            found=1 refs=$((refs + 1))
            n="${ref%% *}" scenario="${ref#* }" n="${n#lab}"
            [ -x "$BUILD/lab$n" ] || { echo "row names lab$n, which is not built or does not exist: $row"; return 1; }
            [ -f "$lists/$n" ] || lab "$n" --list | cut -d' ' -f1 >"$lists/$n"
            grep -qx "$scenario" "$lists/$n" || { echo "lab$n has no scenario '$scenario': $row"; return 1; }
        done < <(row_refs "$row")
        [ "$found" -eq 1 ] || { echo "a term without a scenario: $row"; return 1; }
    done < <(glossary_rows)
    [ "$rows" -ge 35 ] && [ "$refs" -ge 60 ] || { echo "rows=$rows refs=$refs"; return 1; }
}

@test "glossary: the notes' terms are all there, each in the first column" {
    local term
    for term in 同步 异步 阻塞 非阻塞 并发 并行 守护进程 守护线程 僵尸进程 孤儿进程 互斥锁 递归锁 可重入锁 \
        死锁 全局解释器锁 信号量 事件 条件 定时器 线程安全 进程锁 共享变量 原子操作 队列 后进先出 优先级队列 \
        生产者消费者 进程池 线程池 回调 协程 IO多路复用 新建 就绪 运行 死亡; do
        glossary_rows | awk -F'|' '{ print $2 }' | grep -q -- "$term" || { echo "missing: $term"; return 1; }
    done
    # 阻塞 as a thread state, with its /proc letters.
    glossary_rows | grep '^| 阻塞 | blocked |' | grep -q '`S`'
    glossary_rows | grep '^| 就绪 | ready |' | grep -q '`R`'
    glossary_rows | grep '^| 死亡 |' | grep -q '`Z`'
}

@test "glossary: every lab README of labs 1-9 links it" {
    local readme
    for readme in "$ROOT"/labs/0[1-9]-*/README.md; do
        grep -q '](../../GLOSSARY.md)' "$readme" || { echo "no link in $readme"; return 1; }
    done
}

@test "glossary: a scenario that does not exist is caught (the check can fail)" {
    local row='| 测试 | test | x | y | `lab03 no_such_scenario` |'
    run row_refs "$row"
    assert_output 'lab03 no_such_scenario'
    run grep -qx no_such_scenario < <(lab 03 --list | cut -d' ' -f1)
    assert_failure
}
