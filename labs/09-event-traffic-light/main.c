/* labs/09-event-traffic-light/main.c - lab 9: Event, the traffic light, Condition, Timer,
 * wait/notify and the thread states; the scenario table and main().
 *
 * The notes' synchronisation objects other than locks, each built in C from a mutex and a
 * condition variable (threading has them, pthreads does not), and the states a thread goes
 * through.  The guided demo runs them in this order, the bad case of a pair first.
 * Python ↔ C: threading.Event / Condition / Timer ↔ event.c / condition.c / timer.c.
 * Usage: build/lab09 [SCENARIO [--mode=M] [--cars=20] [--cycles=2] [--waiters=5]]
 * Watch for: the RESULT line at the end of each scenario.
 * See also: event.c, traffic.c, condition.c, timer.c, states.c.
 */
#include "lab.h"
#include "lab09.h"

/* Each .modes string lists its scenario's enum of lab09.h in the same order. */
static const struct lab_scenario scenarios[] = {
    { .name = "event",
      .summary = "one red light, 20 cars: none goes before 绿灯亮, all 20 go after",
      .opts = "cars", .run = run_event },
    { .name = "event_semantics",
      .summary = "set/clear/is_set/wait(timeout); a set() cleared at once still wakes the waiter",
      .modes = "naive,gen", .run = run_event_semantics },
    { .name = "traffic",
      .summary = "the notes' lighter()/car() loop: 6 green, 5 red, 5 green, ...; the car blocks on red",
      .opts = "cycles", .run = run_traffic },
    { .name = "condition",
      .summary = "Condition: notify(2) wakes exactly 2 of 5, notify_all() the rest, wait_for(predicate)",
      .opts = "waiters", .run = run_condition },
    { .name = "wait_notify",
      .summary = "wait() in an if vs a while loop: notifyAll wakes both consumers of one item",
      .modes = "if,while", .run = run_wait_notify },
    { .name = "timer",
      .summary = "Timer(1, hello) fires after 1 second; a cancelled Timer never fires",
      .run = run_timer },
    { .name = "states",
      .summary = "NEW, RUNNABLE, BLOCKED, WAITING, TIMED_WAITING, TERMINATED, checked in /proc",
      .run = run_states },
    { 0 },
};

static struct lab_opt opts[] = {
    { .name = "cars", .help = "cars at the red light (event)", .def = 20, .min = 1, .max = 200 },
    { .name = "cycles", .help = "light cycles before the traffic scenario stops (0: never)", .def = 2, .min = 0,
      .max = 1000 },
    { .name = "waiters", .help = "threads in cond.wait() (condition)", .def = 5, .min = 2, .max = 64 },
    { 0 },
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 9,
        .title = "Event, traffic light, Condition, Timer, thread states",
        .scenarios = scenarios,
        .opts = opts,
    };
    return lab_main(&prog, argc, argv);
}
