/* main.c - lab 6: a global interpreter lock built in C, switched on and off.
 *
 * The scenario table, the option table and main(); the scenarios live in gil.c (gil, convoy,
 * gil_money), refcount.c (refcount), hybrid.c (hybrid) and work.c (cpu, bound, affinity, and `--bench`).  The guided demo runs them in this
 * order and draws the GIL's timeline for gil py2 and py3.
 *
 * Usage: lab06 [gil|cpu|bound|convoy|gil_money|affinity] [--mode=M] [--timeline] [--n=N] ...
 *        lab06 --bench (make bench: the speedup table, n = 1000000)
 * See also: README.md, crew.c, minigil.c, interp.c.
 */
#include "lab06.h"

static struct lab_opt opts[] = {
    { .name = "threads", .help = "CPU-bound threads (gil, convoy)", .def = 2, .min = 1, .max = 16 },
    { .name = "io", .help = "IO-bound threads next to them (gil)", .def = 1, .min = 0, .max = 16 },
    { .name = "work", .help = "range(work) summed by each CPU-bound thread (gil, convoy)",
      .def = 300000, .min = 1, .max = 100000000 },
    { .name = "n", .help = "range(n) of a timed job (cpu, bound, hybrid, affinity); default: by LAB_SECOND_MS",
      .def = 2500000, .min = 1, .max = 100000000 },
    { .name = "workers", .help = "CPU-bound workers (cpu, bound)", .def = 2, .min = 1, .max = 16 },
    { .name = "io-threads", .help = "IO-bound threads that each sleep(2) (bound)", .def = 400, .min = 1, .max = 40000 },
    { .name = "money-threads", .help = "threads doing money -= 1 (gil_money)", .def = 100, .min = 2, .max = 100 },
    { .name = "interval-us", .help = "py3 switch interval, microseconds (sys.setswitchinterval)",
      .def = 5000, .min = 1, .max = 1000000 },
    { .name = "check-interval", .help = "py2 check interval, bytecodes (sys.setcheckinterval)",
      .def = 100, .min = 1, .max = 1000000 },
    { .name = "timeline", .help = "draw, after the run, who held the GIL, waited, or was in IO",
      .def = 0, .min = 1, .max = 1 },
    { 0 }
};

/* The .modes strings list the enums of lab06.h in their order (run gets the index). */
static const struct lab_scenario scenarios[] = {
    { .name = "gil", .summary = "2 CPU + 1 IO thread run bytecode: no GIL, Python 2 ticks, Python 3 interval",
      .modes = "none,py2,py3", .opts = "threads,io,work,interval-us,check-interval,timeline", .run = run_gil },
    { .name = "refcount", .summary = "why the GIL exists: a shared refcount loses an INCREF, the object is freed in use",
      .modes = "none,gil", .run = run_refcount },
    { .name = "cpu", .summary = "res += i+i**2+i**3 twice: normal, threads, threads under the GIL, processes",
      .opts = "n,workers,interval-us", .run = run_cpu },
    { .name = "bound", .summary = "CPU-bound vs IO-bound workers under the GIL: IO waits overlap",
      .opts = "n,workers,io-threads,interval-us", .run = run_bound },
    { .name = "convoy", .summary = "py2 vs py3 on two cores: does the dropper take the GIL straight back?",
      .modes = "py2,py3", .opts = "threads,work,interval-us,check-interval,timeline", .run = run_convoy },
    { .name = "gil_money", .summary = "money = 100, 100 threads sleep inside: the GIL does not protect your data",
      .modes = "nolock,lock", .opts = "money-threads,interval-us,timeline", .run = run_gil_money },
    { .name = "hybrid", .summary = "4 tasks of sleep + loop: 4 threads, 2 processes, 2 processes x 2 threads (timed)",
      .opts = "n", .run = run_hybrid },
    { .name = "affinity", .summary = "two CPU-bound threads pinned to one core: concurrent, not parallel",
      .modes = "pinned,free", .opts = "n", .run = run_affinity },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 6,
        .title = "the GIL, built in C: CPU-bound vs IO-bound, threads vs processes",
        .scenarios = scenarios,
        .opts = opts,
        .bench = l06_bench,
    };
    return lab_main(&prog, argc, argv);
}
