/* labs/14-scheduler-game/main.c - lab 14: you are the scheduler.
 *
 * The notes' racy programs (num += 1, the ticket sale, money = 100, the mutexA/mutexB deadlock, the
 * `if` around a wait, the semaphore of 5, the traffic light) as levels of a game: small programs of
 * atomic steps.  `play` lets you choose which thread steps next until the program breaks; `explore`
 * tries every schedule and counts the bad ones, and proves each fixed twin safe by exhaustion.
 * The levels are data (levels.txt, or any file with --file).
 * Usage: build/lab14 (guided demo) | build/lab14 --list | build/lab14 SCENARIO [OPTIONS]
 * See also: level.c (the file format), machine.c (the rules), play.c, explore.c, README.md.
 */
#include "lab.h"
#include "lab14.h"

static const struct lab_scenario scenarios[] = {
    { .name = "levels", .summary = "the levels: each a program of the notes, its goal, and the lab that forces it",
      .opts = "file", .run = run_levels, .check = check_levels },
    { .name = "play", .summary = "you are the scheduler: step the threads until the program breaks (--moves 1,2,...)",
      .opts = "level,moves,hint,file,max-states", .run = run_play, .check = check_play, .bare_opt = "level" },
    { .name = "explore", .summary = "every interleaving: how many schedules, how many bad, the shortest; proofs",
      .opts = "level,all,file,max-states", .run = run_explore, .check = check_explore, .bare_opt = "level" },
    { 0 }
};

static struct lab_opt opts[] = {
    { .name = "hint", .help = "play: show the next move of a shortest winning schedule", .min = 1, .max = 1 },
    { .name = "all", .help = "explore: every level (the default without --level)", .min = 1, .max = 1 },
    { .name = "max-states", .help = "explore: stop (\"too large\") after this many distinct states",
      .def = 200000, .min = 1, .max = 5000000 },
    { 0 }
};

static struct lab_text_opt text_opts[] = {
    { .name = "level", .help = "the level to play or explore (see: levels)", .def = "" },
    { .name = "moves", .help = "play: the schedule, thread numbers: 1,2,1,2 (no terminal needed)", .def = "" },
    { .name = "file", .help = "a level file of your own instead of the built-in levels.txt", .def = "" },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 14,
        .title = "you are the scheduler",
        .scenarios = scenarios,
        .opts = opts,
        .text_opts = text_opts,
    };
    return lab_main(&prog, argc, argv);
}
