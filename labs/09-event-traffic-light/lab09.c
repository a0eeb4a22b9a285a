/* labs/09-event-traffic-light/lab09.c - lab 9: Event, the traffic light, Condition, Timer,
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

static const struct lab_scenario scenarios[] = {
    { "event", "one red light, 20 cars: none goes before 绿灯亮, all 20 go after",
      NULL, "cars", l09_event_run, NULL, false },
    { "event_semantics", "set/clear/is_set/wait(timeout); a set() cleared at once still wakes the waiter",
      "naive,gen", NULL, l09_event_semantics, NULL, false },
    { "traffic", "the notes' lighter()/car() loop: 6 green, 5 red, 5 green, ...; the car blocks on red",
      NULL, "cycles", l09_traffic, NULL, false },
    { "condition", "Condition: notify(2) wakes exactly 2 of 5, notify_all() the rest, wait_for(predicate)",
      NULL, "waiters", l09_condition, NULL, false },
    { "wait_notify", "wait() in an if vs a while loop: notifyAll wakes both consumers of one item",
      "if,while", NULL, l09_wait_notify, NULL, false },
    { "timer", "Timer(1, hello) fires after 1 second; a cancelled Timer never fires",
      NULL, NULL, l09_timer, NULL, false },
    { "states", "NEW, RUNNABLE, BLOCKED, WAITING, TIMED_WAITING, TERMINATED, checked in /proc",
      NULL, NULL, l09_states, NULL, false },
    { 0 },
};

static struct lab_opt opts[] = {
    { "cars", "cars at the red light (event)", 20, 1, 200, 0, false },
    { "cycles", "light cycles before the traffic scenario stops (0: never)", 2, 0, 1000, 0, false },
    { "waiters", "threads in cond.wait() (condition)", 5, 2, 64, 0, false },
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
