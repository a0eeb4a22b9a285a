/* labs/11-coroutines/asyncio.c - scenario `asyncio`: the same idea with callbacks on the event loop.
 *
 * The notes' asyncio example: two hello() coroutines each print "hello MainThread", sleep 1 s
 * without blocking (yield from asyncio.sleep(1)), and print it again; the loop runs both, so the
 * whole takes 1 s in one thread.  asyncio has no stacks to switch: a coroutine is a generator, and
 * awaiting a sleep means "call me back in 1 s".  Here that is what the code says literally: each
 * task is a callback and a step number, and asyncio.sleep(1) is a timer on the shared event loop
 * whose callback runs the next step.  No coroutine, no stack: the state lives in a struct.
 *   Python                                     C
 *   loop = asyncio.get_event_loop()            l = lab_loop_new(NULL, 16)
 *   yield from asyncio.sleep(1)                lab_loop_timer_add(l, lab_units_ms(1), step, task)
 *   loop.run_until_complete(asyncio.wait(..))  lab_loop_run(l): until no timer is left
 * On Python 3.11 the notes' code no longer runs: @asyncio.coroutine is gone (AttributeError), and
 * asyncio.wait no longer takes bare coroutines; today it is async def / await / asyncio.gather.
 * Usage: lab11 asyncio
 * --trace FILE: each step of a task is a slice on MainThread, and an arrow goes from the await to
 * the callback that resumes the task one unit later (the loop's waiting is the gap between).
 * Watch for: two lines at once, then two lines one unit later; elapsed_units=1.0, threads=1.
 */
#include "lab.h"
#include "lab11.h"

struct hello_task {
    int step;         /* 0: before the sleep, 1: after it */
    int n;            /* 1, 2: the task's number (--trace) */
    int *lines;
};

/* The body of hello() after its await: called by the loop when the sleep is over. */
static double hello_step(struct lab_loop *l, long long id, void *arg)
{
    (void)l, (void)id;
    struct hello_task *t = arg;
    lab_trace_begin("asyncio", "task %d: hello() after the sleep", t->n);
    lab_trace_flow_head("await", (11ull << 40) + 900000 + (uint64_t)t->n);
    lab_say("hello %s", lab_thread_name(lab_current_thread()));   /* print('hello', current_thread().name) */
    (*t->lines)++;
    t->step = 2;
    lab_trace_end();
    return LAB_LOOP_NOMORE;                                        /* the coroutine returns */
}

/* The body of hello() up to its await. */
static void hello_start(struct lab_loop *l, struct hello_task *t)
{
    lab_trace_begin("asyncio", "task %d: hello() up to its await", t->n);
    lab_say("hello %s", lab_thread_name(lab_current_thread()));
    (*t->lines)++;
    t->step = 1;
    if (lab_loop_timer_add(l, lab_units_ms(1), hello_step, t) < 0)  /* yield from asyncio.sleep(1) */
        die("lab_loop_timer_add:");
    lab_trace_flow_tail("await", (11ull << 40) + 900000 + (uint64_t)t->n);
    lab_trace_end();
}

int run_asyncio(int mode)
{
    (void)mode;
    struct lab_loop *l = lab_loop_new(NULL, 16);
    if (l == NULL)
        die("lab_loop_new:");
    int lines = 0;
    struct hello_task tasks[2] = { { .n = 1, .lines = &lines }, { .n = 2, .lines = &lines } };
    lab_say("two hello() tasks on one event loop (%s): each awaits asyncio.sleep(1) as a timer",
            lab_loop_backend(l));
    double t0 = lab_now_ms();
    for (int i = 0; i < 2; i++)
        hello_start(l, &tasks[i]);       /* the loop starts each task: it runs up to its await */
    lab_loop_run(l);                      /* run_until_complete: until no timer is left */
    double units = lab_elapsed_units(t0);
    lab_loop_free(l);
    int threads = l11_threads();
    lab_result("tasks=2 lines=%d elapsed_units=%.1f threads=%d", lines, units, threads);
    return lines == 4 && tasks[0].step == 2 && tasks[1].step == 2 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
