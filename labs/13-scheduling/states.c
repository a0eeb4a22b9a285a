/* labs/13-scheduling/states.c - scenario `states`: the process state diagram, traced tick by tick,
 * and the real kernel's states of a process beside it.
 *
 * The notes draw three states (就绪 ready, 运行 running, 阻塞 blocked) and name five (初始 new,
 * 执行 running, 等待 waiting, 就绪 ready, 终止 exit).  Every state change of three jobs that
 * compute and wait for IO is printed; the simulator (sim.c) can only make the legal moves, and it
 * counts any other (illegal_transitions=0).
 *   --mode=rr       round robin, quantum 2: while one job waits for IO another computes;
 *   --mode=uniprog  one job in the machine at a time (单道): the CPU idles during every IO wait.
 * Then a real process computes, blocks on a pipe, computes and exits, while its parent reads its
 * state from /proc/PID/stat: R (running or ready: Linux does not tell them apart), S (blocked),
 * Z (ended, not yet waited for).  Each step waits until the parent has seen the state, so the
 * sequence R S R Z is the same on every run.
 * Usage: lab13 states [--mode=rr|uniprog]
 */
#include "lab.h"
#include "lab13.h"

#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void print_transition(long t, const struct job *j, enum job_state from, enum job_state to, void *arg)
{
    (void)arg;
    lab_say("t=%ld %s %s->%s", t, j->name, l13_state_name(from), l13_state_name(to));
}

/* ==== The real process ==== */

struct probe {
    atomic_int stage;        /* 1: the parent saw R, stop computing; 2: saw R again, exit */
};

static int probe_child(struct lab_proc *self)
{
    struct probe *pr = self->arg;
    int *fds = (int *)(pr + 1);
    volatile unsigned long spin = 0;
    while (atomic_load(&pr->stage) < 1)      /* computing: R */
        spin++;
    char c;
    while (read(fds[0], &c, 1) == -1)        /* blocked on the pipe: S */
        ;
    while (atomic_load(&pr->stage) < 2)      /* computing again: R */
        spin++;
    return 0;                                /* ended, not yet waited for: Z */
}

/* Wait (bounded) until pid shows state `want`; true if it did. */
static bool see(pid_t pid, char want)
{
    double deadline = lab_now_ms() + lab_bound_ms(1);
    while (lab_now_ms() < deadline) {
        if (lab_proc_state(pid) == want)
            return true;
        lab_sleep_ms(0.2);
    }
    return false;
}

/* Run the probe; returns the letters seen, "RSRZ" when every step was observed. */
static void real_states(char *seen, size_t len)
{
    struct probe *pr = lab_shared_alloc(sizeof *pr + 2 * sizeof(int));
    int *fds = (int *)(pr + 1);
    SYS_CHECK(pipe2(fds, O_CLOEXEC));
    struct lab_proc p = LAB_PROC_INIT(probe_child, pr);
    lab_proc_start_or_die(&p);
    size_t n = 0;
    static const char want[] = "RSRZ";
    static const char *const meaning[] = {
        "computing (RUNNING, or READY: Linux shows both as R)",
        "blocked in read() on a pipe (BLOCKED)",
        "the pipe had a byte, computing again",
        "ended, waiting for its parent to collect the status (EXIT)",
    };
    for (int step = 0; step < 4; step++) {
        bool ok = see(p.pid, want[step]);
        seen[n++] = ok ? want[step] : '?';
        lab_say("  child %d: /proc/%d/stat says %c: %s", (int)p.pid, (int)p.pid, ok ? want[step] : '?',
                ok ? meaning[step] : "not seen within the bound");
        if (!ok)
            break;
        if (step == 0)
            atomic_store(&pr->stage, 1);
        else if (step == 1)
            SYS_CHECK(write(fds[1], "x", 1));
        else if (step == 2)
            atomic_store(&pr->stage, 2);
    }
    seen[n < len ? n : len - 1] = '\0';
    atomic_store(&pr->stage, 2);             /* whatever happened, let it end */
    if (write(fds[1], "x", 1) == -1) { }     /* and unblock it if it still reads */
    lab_proc_join(&p);
    close(fds[0]);
    close(fds[1]);
    lab_shared_free(pr, sizeof *pr + 2 * sizeof(int));
}

int run_states(int mode)
{
    struct workload w;
    l13_workload_builtin(&w, "states");
    struct sim_config cfg = { .algo = mode == STATES_RR ? ALGO_RR : ALGO_FCFS, .quantum = 2,
                              .uniprog = mode == STATES_UNIPROG };
    lab_say("NEW --admit--> READY --dispatch--> RUNNING --end--> EXIT");
    lab_say("                 ^  <--quantum over--     |");
    lab_say("                 +---- BLOCKED <--IO------+   (BLOCKED -> RUNNING is not a move)");
    lab_say("Jobs: A arrives at 0: CPU 2, IO 3, CPU 1;  B at 0: CPU 3;  C at 1: CPU 1, IO 2, CPU 2.");
    lab_say("%s", mode == STATES_RR ? "Round robin, quantum 2, one CPU (多道: another job computes during IO):"
                                    : "One job at a time (单道: nobody computes while the job waits for IO):");
    struct sim_result r;
    l13_simulate(&w, &cfg, print_transition, NULL, &r);
    double util = (double)r.cpu_busy / (double)r.makespan;
    lab_say("makespan %ld ticks, CPU busy %ld of them (%.0f%%)%s", r.makespan, r.cpu_busy, 100 * util,
            util < 1 ? ": the CPU idles while the only job waits for IO" : ": the CPU never idles");
    char seen[8] = "";
    if (mode == STATES_RR) {
        lab_say("A real process, its state read by its parent:");
        real_states(seen, sizeof seen);
        lab_result("makespan=%ld cpu_busy=%ld cpu_util=%.2f illegal_transitions=%ld real_states=%s", r.makespan,
                   r.cpu_busy, util, r.illegal, seen);
    } else {
        lab_result("makespan=%ld cpu_busy=%ld cpu_util=%.2f illegal_transitions=%ld", r.makespan, r.cpu_busy,
                   util, r.illegal);
    }
    bool ok = r.illegal == 0 && (mode != STATES_RR || strcmp(seen, "RSRZ") == 0);
    l13_result_free(&r);
    l13_workload_free(&w);
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
