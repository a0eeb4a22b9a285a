/* labs/01-processes/processes.c - multiprocessing.Process in C: start, terminate, subclass,
 * join all, pid/ppid, and the isolation of a child's memory.
 *
 * Each scenario is one example of the course notes, run with fork() behind the Process helper of
 * common/proc.h (lab_proc_start = p.start(), lab_proc_join = p.join(), ...).  What they show:
 *   start      start() only asks the kernel for a child and returns at once (异步): the parent
 *              prints 主进程 while the child's task still has seconds to run;
 *   terminate  terminate() sends SIGTERM and returns before the child is dead; after join() the
 *              exitcode is -15 (Python's "-signal" convention);
 *   subclass   a "class" derived from Process is a struct whose first member is a lab_proc and
 *              whose run() is the overridden method; run() executes in the child only;
 *   join_all   start ten children, join them all, then print: the parent's line is last;
 *   pids       os.getpid()/os.getppid() in parent and child, cross-checked against the ppid field
 *              of /proc/PID/stat, which is what `ps` prints;
 *   isolation  money=100; the child sets 666; the parent still reads 100 at the SAME virtual
 *              address (fork copies the address space, copy-on-write).
 * Python ↔ C: Process(target=task, args=('zhao',)) ↔ LAB_PROC_INIT(task, arg); p.start() ↔
 *   lab_proc_start(&p) (fork); p.join() ↔ lab_proc_join(&p) (waitpid); p.terminate() ↔ kill(SIGTERM);
 *   p.is_alive() ↔ waitpid(WNOHANG); p.exitcode ↔ WEXITSTATUS or -WTERMSIG; p.pid == p.ident.
 * Usage: build/lab01 start | terminate | subclass | join_all [--children=10] | pids | isolation
 * Watch for: the parent's line printed while the child sleeps; is_alive before and after join;
 *   the same address with two different values of money.
 * See also: spawn.c (fork vs spawn), lifecycle.c (zombie, orphan), threads.c (the thread side).
 */
#include "lab.h"
#include "lab01.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ==== start: start() is asynchronous (the notes' process chapter) ==== */

struct start_arg {
    const char *name;
    struct l01_probe *probe;
    int word_r, word_w;     /* parent → child: "I am back from start() and went on" */
};

/* def task(name): print('%s is running'); time.sleep(3); print('%s is over')
 * One addition makes the lesson certain instead of likely (a forced schedule, as in every lab):
 * the task does not begin before the parent says it has come back from start() and printed 主进程,
 * so 主进程 comes first on every run, as the notes say.  If start() waited for the task to end, that
 * word could never come (the child gives up after L01_HANDSHAKE_MS and reports it). */
static int start_task(struct lab_proc *self)
{
    struct start_arg *a = self->arg;
    close(a->word_w);
    char c;
    bool word = l01_read_ms(a->word_r, &c, 1, L01_HANDSHAKE_MS) == 0;
    atomic_store(&a->probe->value, word);
    lab_say("child %d: %s is running", (int)getpid(), a->name);
    atomic_fetch_add(&a->probe->lines, 1);
    lab_sleep(3);
    lab_say("child %d: %s is over", (int)getpid(), a->name);
    atomic_fetch_add(&a->probe->lines, 1);
    a->probe->t_end_ms = lab_now_ms();   /* CLOCK_MONOTONIC is the same clock in every process */
    return 0;
}

int run_start(int mode)
{
    (void)mode;   /* no modes */
    int word[2];
    l01_pipe(word);
    struct start_arg arg = { "zhao", l01_probe_new(), word[0], word[1] };
    struct lab_proc p = LAB_PROC_INIT(start_task, &arg);   /* Process(target=task, args=('zhao',)) */

    double t_call = lab_now_ms();
    lab_proc_start_or_die(&p);          /* p.start(): 告诉操作系统帮你创建一个进程, 异步 */
    double t_back = lab_now_ms();
    lab_say("main %d: 主进程", (int)getpid());
    l01_write_all(word[1], "w", 1);     /* "I am back from start()": the child may end its task */
    close(word[0]);
    close(word[1]);

    int code = lab_proc_join(&p);
    struct l01_probe *probe = arg.probe;
    bool returned_first = atomic_load(&probe->value);
    lab_say("main %d: start() returned %.2f ms after the call; the child's task ended %.0f ms after the call",
            (int)getpid(), t_back - t_call, probe->t_end_ms - t_call);
    lab_say("main %d: %s", (int)getpid(),
            returned_first ? "so start() is asynchronous: it only asks the kernel for a child (fork) and returns"
                           : "the child never heard from us: start() did not return while its task ran");
    int lines = atomic_load(&probe->lines);
    l01_probe_free(probe);
    lab_result("child_exit=%d child_lines=%d start_returned_first=%d", code, lines, returned_first);
    return (code == 0 && lines == 2 && returned_first) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== terminate: terminate / pid / ident / is_alive / exitcode (the summary notes and the process chapter) ==== */

struct term_arg {
    int ready_w, ready_r;   /* child → parent: "I am running" */
    int block_r, block_w;   /* nobody ever writes here: the child blocks on it until killed */
};

/* func('666'), then block: the child cannot finish on its own, so the exit code is SIGTERM's on
 * every run (in Python it is -15 or 0, depending on whether the child got to print first). */
static int term_task(struct lab_proc *self)
{
    struct term_arg *a = self->arg;
    close(a->ready_r);
    close(a->block_w);      /* keep only the read end: EOF means the parent died, then leave */
    lab_say("child %d: 666 (now blocked until someone terminates me)", (int)getpid());
    pid_t me = getpid();
    l01_write_all(a->ready_w, &me, sizeof me);      /* "I am running, and this is my pid" */
    char c;
    while (read(a->block_r, &c, 1) < 0 && errno == EINTR)
        ;                   /* a signal handler ran: go on waiting */
    return 0;               /* only if the parent is gone */
}

int run_terminate(int mode)
{
    (void)mode;   /* no modes */
    int ready[2], block[2];
    l01_pipe(ready);
    l01_pipe(block);
    struct term_arg arg = { ready[1], ready[0], block[0], block[1] };
    struct lab_proc p = LAB_PROC_INIT(term_task, &arg);
    lab_proc_start_or_die(&p);
    close(ready[1]);
    close(block[0]);
    pid_t ident;            /* the child's own getpid(): what Python's p.ident (an alias of p.pid) names */
    if (l01_read_ms(ready[0], &ident, sizeof ident, L01_HANDSHAKE_MS) != 0)
        die("terminate: the child did not start");

    lab_say("main %d: p.pid=%d, and the child's own getpid() is %d: p.ident is the same number",
            (int)getpid(), (int)p.pid, (int)ident);
    bool alive_before = lab_proc_is_alive(&p);
    lab_say("main %d: p.is_alive()=%s before terminate(); p.exitcode=%s", (int)getpid(),
            alive_before ? "True" : "False", lab_proc_exitcode(&p) == LAB_PROC_NO_EXITCODE ? "None" : "set");

    lab_proc_terminate(&p);     /* p.terminate(): kill(pid, SIGTERM), and return at once */
    bool alive_right_after = lab_proc_is_alive(&p);
    lab_say("main %d: p.is_alive()=%s right after terminate() (the kill takes time: 但是需要时间; either answer is possible)",
            (int)getpid(), alive_right_after ? "True" : "False");

    int code = lab_proc_join(&p);
    bool alive_after = lab_proc_is_alive(&p);
    lab_say("main %d: after join(): p.is_alive()=%s p.exitcode=%d (-%d: killed by SIGTERM)", (int)getpid(),
            alive_after ? "True" : "False", code, SIGTERM);
    close(ready[0]);
    close(block[1]);
    lab_result("pid_eq_ident=%d exitcode=%d alive_before=%d alive_after_join=%d",
               p.pid == ident, code, alive_before, alive_after);
    return (code == -SIGTERM && alive_before && !alive_after) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== subclass: class MyProcess(Process): def run(self) (开启进程的第二种方式) ==== */

/* The "subclass": the base object first, so a struct lab_proc * is also a struct my_process *. */
struct my_process {
    struct lab_proc base;       /* super().__init__()  #必须调用父类的初始化的函数 */
    const char *a, *b;          /* self.a, self.b */
    struct l01_probe *probe;
};

/* def run(self):  #必须重写run函数 */
static int my_process_run(struct lab_proc *self)
{
    struct my_process *me = (struct my_process *)self;
    atomic_store(&me->probe->child_pid, (int)getpid());
    lab_say("child %d: run() of MyProcess(a=%s, b=%s): hello,bf girl", (int)getpid(), me->a, me->b);
    lab_sleep(2);
    lab_say("child %d: get out!!", (int)getpid());
    return 0;
}

int run_subclass(int mode)
{
    (void)mode;   /* no modes */
    struct my_process cp = { .base = LAB_PROC_INIT(my_process_run, NULL), .a = "a", .b = "b" };
    cp.probe = l01_probe_new();
    atomic_store(&cp.probe->child_pid, 0);
    lab_proc_start_or_die(&cp.base);     /* cp.start() calls cp.run() in the new process */
    lab_say("main %d: 主进程", (int)getpid());
    int code = lab_proc_join(&cp.base);
    int ran_in = atomic_load(&cp.probe->child_pid);
    lab_say("main %d: run() ran in pid %d = cp.pid %d, not in the parent %d", (int)getpid(), ran_in,
            (int)cp.base.pid, (int)getpid());
    l01_probe_free(cp.probe);
    bool in_child = ran_in == (int)cp.base.pid;
    bool ne_parent = cp.base.pid != getpid() && ran_in != (int)getpid();
    lab_result("run_called_in_child=%d child_pid_ne_parent=%d exitcode=%d", in_child, ne_parent, code);
    return (in_child && ne_parent && code == 0) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== join_all: start ten, join all, then print (the summary notes) ==== */

struct join_arg {
    struct l01_probe *probe;
    int index;
    bool last;              /* the last child started: it waits until the `index` others have printed */
};

/* def func(num): print(num)
 * The last child started is made the last to end, on every run: it waits until every other child
 * has printed, then one unit more.  A parent that forgot to join it would print its own line in
 * that unit (and the RESULT's `reaped` would miss it), so the checks catch a missing join always,
 * not only when the scheduler happens to be slow. */
static int join_task(struct lab_proc *self)
{
    struct join_arg *a = self->arg;
    if (a->last) {
        double end = lab_now_ms() + lab_bound_ms(0);
        while (atomic_load(&a->probe->lines) < a->index && lab_now_ms() < end)
            lab_sleep_ms(0.2);
        lab_sleep(1);
    }
    /* Take a sequence number and print under it: the number says when this line was printed. */
    int seq = atomic_fetch_add(&a->probe->seq, 1) + 1;
    atomic_store(&a->probe->order[a->index], seq);
    lab_say("child %d: 666", (int)getpid());
    atomic_fetch_add(&a->probe->lines, 1);
    return 0;
}

int run_join_all(int mode)
{
    (void)mode;   /* no modes */
    int n = (int)lab_opt("children");
    struct l01_probe *probe = l01_probe_new();
    struct lab_proc *pl = xcalloc((size_t)n, sizeof *pl);
    struct join_arg *args = xcalloc((size_t)n, sizeof *args);
    for (int i = 0; i < n; i++) {          /* for i in range(10): p.start(); pl.append(p) */
        args[i] = (struct join_arg){ probe, i, i == n - 1 };
        pl[i] = (struct lab_proc)LAB_PROC_INIT(join_task, &args[i]);
        lab_proc_start_or_die(&pl[i]);
    }
    int bad_exit = 0;
    for (int i = 0; i < n; i++)            /* for i in pl: i.join() */
        bad_exit += lab_proc_join(&pl[i]) != 0;
    int reaped = 0;                         /* counted from the children's records, not the loop */
    for (int i = 0; i < n; i++)
        reaped += pl[i].reaped;
    int main_seq = atomic_fetch_add(&probe->seq, 1) + 1;
    lab_say("main %d: 666  (printed after every child was joined)", (int)getpid());
    int later = 0;                          /* children that printed after main: none can */
    for (int i = 0; i < n; i++)
        later += atomic_load(&probe->order[i]) > main_seq;
    int lines = atomic_load(&probe->lines);
    bool main_last = later == 0 && main_seq == n + 1;
    lab_say("main %d: %d children printed lines 1..%d, main printed line %d", (int)getpid(), lines, n, main_seq);
    free(pl);
    free(args);
    l01_probe_free(probe);
    lab_result("children=%d child_lines=%d reaped=%d main_last=%d", n, lines, reaped, main_last);
    return (lines == n && reaped == n && main_last && bad_exit == 0) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== pids: os.getpid / os.getppid, checked against /proc (the process chapter, 进程线程理解) ==== */

struct pids_arg {
    struct l01_probe *probe;
    int ready_w, ready_r;   /* child → parent: "my ids are in the probe" */
    int hold_r, hold_w;     /* parent → child: EOF = "you may exit" (so the parent can look at it) */
};

/* def task(): print(os.getpid()); print('子进程的主进程号是', os.getppid()) */
static int pids_task(struct lab_proc *self)
{
    struct pids_arg *a = self->arg;
    close(a->ready_r);
    close(a->hold_w);
    atomic_store(&a->probe->child_pid, (int)getpid());
    atomic_store(&a->probe->child_ppid, (int)getppid());
    lab_say("child %d: os.getpid()=%d 子进程的主进程号是 os.getppid()=%d", (int)getpid(), (int)getpid(),
            (int)getppid());
    l01_write_all(a->ready_w, "r", 1);
    char c;
    l01_read_ms(a->hold_r, &c, 1, L01_HANDSHAKE_MS);   /* returns at EOF: the parent let go */
    return 0;
}

int run_pids(int mode)
{
    (void)mode;   /* no modes */
    pid_t me = getpid(), invoker = getppid();
    char comm[64], st = '?';
    pid_t proc_ppid = -1;
    l01_proc_comm(invoker, comm, sizeof comm);
    lab_proc_stat(me, &st, &proc_ppid);
    lab_say("main %d: 主进程 os.getpid()=%d; 主主 os.getppid()=%d (%s, the program that started us)",
            (int)me, (int)me, (int)invoker, comm);
    lab_say("main %d: /proc/%d/stat says state %c, ppid %d (this file is what `ps -o pid,ppid` reads)",
            (int)me, (int)me, st, (int)proc_ppid);

    int ready[2], hold[2];
    l01_pipe(ready);
    l01_pipe(hold);
    struct pids_arg arg = { l01_probe_new(), ready[1], ready[0], hold[0], hold[1] };
    struct lab_proc p = LAB_PROC_INIT(pids_task, &arg);
    lab_proc_start_or_die(&p);
    close(ready[1]);
    close(hold[0]);
    char c;
    if (l01_read_ms(ready[0], &c, 1, L01_HANDSHAKE_MS) != 0)
        die("pids: the child did not report");
    /* The child is alive and waiting for us: look at it from outside, as ps would. */
    char cst = '?';
    pid_t child_proc_ppid = -1;
    lab_proc_stat(p.pid, &cst, &child_proc_ppid);
    lab_say("main %d: p.pid=%d; /proc/%d/stat says state %c, ppid %d", (int)me, (int)p.pid, (int)p.pid, cst,
            (int)child_proc_ppid);
    close(hold[1]);                     /* let it go */
    int code = lab_proc_join(&p);
    close(ready[0]);

    int seen_pid = atomic_load(&arg.probe->child_pid), seen_ppid = atomic_load(&arg.probe->child_ppid);
    l01_probe_free(arg.probe);
    bool child_ok = seen_ppid == (int)me && child_proc_ppid == me && seen_pid == (int)p.pid;
    bool parent_ok = proc_ppid == invoker;
    lab_say("main %d: child's getppid() %d = /proc ppid %d = our pid %d; child's getpid() %d = p.pid %d",
            (int)me, seen_ppid, (int)child_proc_ppid, (int)me, seen_pid, (int)p.pid);
    lab_result("child_ppid_eq_parent_pid=%d parent_ppid_eq_invoker=%d child_pid_eq_p_pid=%d invoker=%d",
               child_ok, parent_ok, seen_pid == (int)p.pid, (int)invoker);
    return (child_ok && parent_ok && code == 0) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== isolation: money=100 in the parent, 666 in the child (进程之间数据隔离) ==== */

/* def task(): global money; money = 666 */
static int isolation_task(struct lab_proc *self)
{
    struct l01_probe *probe = self->arg;
    l01_money = 666;
    lab_say("child %d: money=%d at address %p", (int)getpid(), l01_money, (void *)&l01_money);
    atomic_store(&probe->value, l01_money);
    atomic_store(&probe->addr, (long)&l01_money);
    return 0;
}

int run_isolation(int mode)
{
    (void)mode;   /* no modes */
    l01_money = 100;
    struct l01_probe *probe = l01_probe_new();
    struct lab_proc p = LAB_PROC_INIT(isolation_task, probe);
    lab_say("main %d: money=%d at address %p", (int)getpid(), l01_money, (void *)&l01_money);
    lab_proc_start_or_die(&p);
    int code = lab_proc_join(&p);
    lab_say("main %d: after join: money=%d at address %p  # 100", (int)getpid(), l01_money, (void *)&l01_money);
    int child_money = atomic_load(&probe->value);
    bool same = atomic_load(&probe->addr) == (long)&l01_money;
    lab_say("main %d: the same virtual address holds %d here and held %d in the child: fork gave the child a copy "
            "of every page (copy-on-write), not a view of ours",
            (int)getpid(), l01_money, child_money);
    l01_probe_free(probe);
    lab_result("parent_money=%d child_money=%d same_vaddr=%d", l01_money, child_money, same);
    return (l01_money == 100 && child_money == 666 && same && code == 0) ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
