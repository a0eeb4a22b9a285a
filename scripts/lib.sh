# shellcheck shell=bash
# scripts/lib.sh - what the scripts (and tests/00-project.bats) share; source it, do not run it.
#
#   lab_numbers     the two-digit numbers of the labs, one a line, in order (labs/NN-name/)
#   lab_dir NN      the directory of lab NN (labs/NN-name), relative to the top of the tree
#
# Both work from the top of the tree, or from the directory in LAB_ROOT when set.

lab_numbers() {
    local d
    for d in "${LAB_ROOT:-.}"/labs/[0-9][0-9]-*/; do
        [ -d "$d" ] || continue
        d=${d%/}
        d=${d##*/}
        printf '%s\n' "${d:0:2}"
    done
}

lab_dir() {
    local d
    for d in "${LAB_ROOT:-.}"/labs/"$1"-*/; do
        [ -d "$d" ] || continue
        d=${d%/}
        printf 'labs/%s\n' "${d##*/}"
        return 0
    done
    return 1
}
