/* labs/14-scheduler-game/levels.S - the shipped level file, built into the program.
 *
 * levels.txt is the lesson's data: an instructor edits it (or writes a file of their own and runs
 * it with --file, no rebuild needed).  This file only puts its bytes into build/lab14, followed by
 * a NUL, as
 *     extern const char l14_levels_txt[];      // the text of levels.txt
 * so the program needs no path to the source tree at run time.  The path is relative to the top
 * of the tree, where make runs the assembler.
 *
 * The #include inside `.if 0` is never assembled: it is there so that the preprocessor lists
 * levels.txt among this file's dependencies (-MMD), and `make` rebuilds the lab when an instructor
 * edits it (.incbin alone is invisible to gcc's dependency list).  The price: a comment line of
 * levels.txt may not read like a preprocessor directive ("# if", "# include", "# define", "# 1").
 */
        .if 0
#include "levels.txt"
        .endif
        .section .rodata
        .globl  l14_levels_txt
        .type   l14_levels_txt, @object
l14_levels_txt:
        .incbin "labs/14-scheduler-game/levels.txt"
        .byte   0
        .size   l14_levels_txt, . - l14_levels_txt

        .section .note.GNU-stack, "", @progbits
