/* hybrid.c - lab 6: "多进程下面再开设多线程": processes for the cores, threads inside for the waits.
 *
 * The notes' summary of the GIL chapter: "多进程和多线程都有各自的优势 / 并且再后面写项目都是多进程下面再
 * 开设多线程 / 这样的话既可以利用多核也可以减少资源消耗".  Measured here on a mixed workload: 4 tasks,
 * each 2 rounds of time.sleep(0.2) then res += i + i**2 + i**3 over range(200000), run three ways
 * by the lab's interpreter under the py3 GIL:
 *   threads         1 process, 4 threads: the sleeps overlap, the loops take turns on one GIL;
 *   procs           2 processes, each running its 2 tasks one after the other: the loops use two
 *                   cores, but nobody works while a task sleeps;
 *   procs+threads   2 processes with 2 threads each: two GILs for two cores, and the sleeps of
 *                   one thread overlap the other's loop - the notes' advice.
 * The result is the same every time (checked); the times are a report, and the sentence after
 * them is chosen by them as printed (which one was fastest here; a tie goes to the simpler
 * variant), never assumed.
 *
 * Python <-> C: Process(target=...) + Thread(target=...) inside it <-> fork, then a crew of
 *   interpreter threads under that process's own GIL (crew.c); the results come back in a pipe.
 * Usage: lab06 hybrid
 * What to watch for: procs+threads usually fastest on 2 or more cores; threads fastest on one.
 * See also: work.c (cpu, bound), crew.c, ../10-pools (a pool is this, managed).
 */
#include "lab06.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#define HY_TASKS 4
#define HY_PROCS 2
#define HY_ROUNDS 2UL
#define HY_SLEEP 0.25
/* The loop of a round: --n, else 5000 x LAB_SECOND_MS (500000 at the default pace, about as long
 * as the sleep): the sleeps and the loops both follow the pace, so the picture is the same at any
 * pace, and every variant takes more than 100 ms at the default one. */
#define HY_N_PER_SECOND 5e6
#define HY_SHOWN_RATIO 1.2      /* on two idle cores about 1.6 */

/* Run `tasks` tasks in this process: in `tasks` threads, or one after the other in one thread. */
static u128 hy_inproc(size_t tasks, bool threaded, unsigned long chunk)
{
    u128 sum = 0;
    if (threaded) {
        struct crew c;
        crew_init(&c, tasks, GIL_PY3, 5000, 100, false, 1);
        for (size_t i = 0; i < tasks; i++) {
            char name[16];
            snprintf(name, sizeof name, "task-%u", (unsigned)(i + 1));
            code_io_job(&c.w[i].code, HY_ROUNDS, HY_SLEEP, chunk);
            crew_worker(&c, i, name, -1, 0);
        }
        crew_run(&c);
        sum = crew_sum(&c, NULL);
        crew_destroy(&c);
        return sum;
    }
    struct gil g;
    struct gil_thread t;
    struct interp_shared sh;
    struct code code;
    gil_init(&g, GIL_PY3, 5000, 100, false);
    gil_thread_init(&t, &g, "main", 0);
    interp_shared_init(&sh, 1);
    code_io_job(&code, HY_ROUNDS, HY_SLEEP, chunk);
    for (size_t i = 0; i < tasks; i++)
        sum += interp_run(&code, &t, &sh, NULL);
    interp_shared_destroy(&sh);
    gil_thread_destroy(&t);
    gil_destroy(&g);
    return sum;
}

struct hy_job {
    size_t tasks;
    bool threaded;
    unsigned long chunk;
    int fd;                 /* write end of the results pipe */
};

static int hy_child(struct lab_proc *self)
{
    const struct hy_job *j = self->arg;
    u128 v = hy_inproc(j->tasks, j->threaded, j->chunk);
    return write(j->fd, &v, sizeof v) == (ssize_t)sizeof v ? LAB_EXIT_OK : LAB_EXIT_BROKEN;   /* 16 bytes: atomic */
}

/* HY_PROCS processes, each with its share of the tasks. */
static u128 hy_procs(bool threaded, unsigned long chunk, bool *ok)
{
    int fds[2];
    if (pipe(fds) != 0)
        die("pipe:");
    struct hy_job job = { .tasks = HY_TASKS / HY_PROCS, .threaded = threaded, .chunk = chunk, .fd = fds[1] };
    struct lab_proc p[HY_PROCS];
    for (int i = 0; i < HY_PROCS; i++) {
        p[i] = (struct lab_proc)LAB_PROC_INIT(hy_child, &job);
        lab_proc_start_or_die(&p[i]);
    }
    close(fds[1]);
    u128 sum = 0;
    int got = 0;
    for (;;) {
        u128 v;
        ssize_t k = read(fds[0], &v, sizeof v);
        if (k == (ssize_t)sizeof v) {
            sum += v;
            got++;
        } else if (!(k < 0 && errno == EINTR)) {
            break;          /* EOF: every child has exited */
        }
    }
    close(fds[0]);
    int bad = 0;
    for (int i = 0; i < HY_PROCS; i++)
        bad += lab_proc_join(&p[i]) != 0;
    *ok = got == HY_PROCS && bad == 0;
    return sum;
}

int run_hybrid(int mode)
{
    (void)mode;     /* no modes: the three variants side by side */
    static const char *const names[] = { "threads", "procs", "procs+threads" };
    static const char *const how[] = {
        "1 process, 4 threads (one GIL)",
        "2 processes, 2 tasks each one after the other",
        "2 processes x 2 threads (two GILs)",
    };
    unsigned long chunk = l06_cpu_n_per(HY_N_PER_SECOND);
    u128 want = (u128)HY_TASKS * HY_ROUNDS * l06_cpu_expected(chunk);
    char b1[48];
    printf("4 tasks, each: 2 x (time.sleep(%.2f); res += i + i**2 + i**3 for i in range(%lu))\n", HY_SLEEP, chunk);
    printf("run by the interpreter under the py3 GIL of each process; expected %s\n", l06_u128_str(want, b1));
    double ms[3];
    u128 r[3];
    bool all_ok = true;
    for (int v = 0; v < 3; v++) {
        bool ok = true;
        double t0 = lab_now_ms();
        r[v] = v == 0 ? hy_inproc(HY_TASKS, true, chunk) : hy_procs(v == 2, chunk, &ok);
        ms[v] = lab_elapsed_ms(t0);
        ok = ok && r[v] == want;
        all_ok = all_ok && ok;
        printf("%-14s %8.1f ms  %s%s\n", names[v], ms[v], how[v], ok ? "" : "  WRONG result");
    }
    /* The fastest by the times as printed (0.1 ms), so that the reader can check it; a tie goes
     * to the earlier, simpler variant of the table (threads, then procs, then procs+threads). */
    int best = 0;
    for (int v = 1; v < 3; v++)
        if (l06_as_printed(ms[v], 1) < l06_as_printed(ms[best], 1))
            best = v;
    long ncpu = lab_timing_cpus();   /* the CPUs this process may use (taskset counts) */
    printf("fastest here: %s, on %ld CPU(s)\n", names[best], ncpu);
    printf("%s\n", best == 2 ? "processes for the cores, threads for the waits, as the notes advise"
                   : best == 0 ? "one GIL was enough (one CPU, or a machine too busy for a second core)"
                               : "the sleeps were too short to matter next to the loops on this run");
    /* The lesson, judged: processes x threads against the better of the other two. */
    double other = ms[0] < ms[1] ? ms[0] : ms[1];
    struct lab_timing t = { .part = "procs+threads", .ratio = ms[2] > 0 ? other / ms[2] : 0, .want = HY_SHOWN_RATIO,
                            .cpus_needed = 2, .cpus = lab_timing_cpus() };
    lab_timing_judge(&t, "processes x threads %.2fx faster than the better of the other two", t.ratio);
    char judged[48];
    snprintf(judged, sizeof judged, " ratio=%.2f shown=%d", t.ratio, t.shown);
    for (int v = 0; v < 3; v++)
        lab_result("variant=%s tasks=%d processes=%d threads_per_process=%d n=%lu result=%s elapsed_ms=%.1f%s",
                   names[v], HY_TASKS, v == 0 ? 1 : HY_PROCS, v == 1 ? 1 : (v == 0 ? HY_TASKS : HY_TASKS / HY_PROCS),
                   chunk, l06_u128_str(r[v], b1), ms[v], v == 2 ? judged : "");
    return all_ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
