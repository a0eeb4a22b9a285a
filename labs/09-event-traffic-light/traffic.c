/* labs/09-event-traffic-light/traffic.c - the traffic light of the notes: lighter() and car().
 *
 * One thread is the light.  It ticks once a notes-second and counts: ticks 0-5 green
 * (event.set()), 6-10 red (event.clear()), then one silent tick that sets the event again and
 * restarts the count, so every later cycle is 5 green + 5 red + 1 silent tick.  The car checks
 * is_set() once a tick: green, it prints running...; red, it says so and blocks in event.wait()
 * until the light turns green.  The car never prints running... while it waits: it is blocked,
 * not polling.  The notes' program never ends; --cycles=N stops after N silent ticks (0: never).
 * Python ↔ C: event.set()/clear()/is_set()/wait() ↔ l09_event_*; time.sleep(1) ↔ lab_sleep(1)
 *   for the light, and a wait(1) on a stop Event for the car, so that the end of the run can
 *   interrupt its nap; "\33[41;1m...\033[0m" ↔ the same escapes, only on a terminal (NO_COLOR).
 * Usage: build/lab09 traffic [--cycles=2]
 * Watch for: 6 green lines, then 5 red, then 5 green and 5 red per later cycle; [MINI] sees red,
 *   and nothing more from the car until "green light is on,start going...".
 * The car also checks the Event it relies on: a wait() without a timeout returns True, and only
 * after a set() that came since the car saw red; a wait(1) returns False only after 1 notes-second,
 * and True only once stop is set.  If not, the Event does not block: the car says so and leaves
 * (instead of printing as fast as it can), and the light and MainThread stop waiting for it.
 * See also: main.c (the scenario table), event.c (the Event), the notes' traffic-light example.
 */
#include "lab.h"
#include "lab09.h"

#include <stdatomic.h>
#include <stdio.h>

static struct l09_event ev;          /* event = threading.Event() */
static struct l09_event stop;        /* ends the car's loop at the end of the run */
static long cycles;                  /* 0: forever */
static atomic_int green_lines, red_lines, car_waits, car_resumes;
static atomic_long car_drives;       /* green phases the car has driven on (printed running... in) */
static atomic_bool light_gave_up;
static atomic_bool car_left;         /* the car returned: after stop, or because the Event is broken */
static atomic_bool event_broken;     /* the car saw a wait() that did not block */

/* The car has seen this red phase (its wait count reached `*arg`) and is blocked in wait().  A car
 * that left (only a broken run) will not: stop waiting for it. */
static bool car_at_red(void *arg)
{
    return (atomic_load(&car_waits) >= *(const long *)arg && l09_event_waiting(&ev) >= 1) || atomic_load(&car_left);
}

/* The car has driven on this green phase (printed its first running... of it: its drive count
 * reached `*arg`), or left. */
static bool car_ran(void *arg) { return atomic_load(&car_drives) >= *(const long *)arg || atomic_load(&car_left); }

/* The picture after the run: the light's colour and what the car did, over time. */
static struct lab_timeline *tl;
enum { TL_GREEN, TL_RED, TL_DRIVES, TL_WAITS };
static const struct lab_tl_state tl_states[] = {
    [TL_GREEN] = { 'G', LAB_GREEN, "green light" }, [TL_RED] = { 'R', LAB_RED, "red light" },
    [TL_DRIVES] = { '>', LAB_CYAN, "the car drives" }, [TL_WAITS] = { '.', LAB_YELLOW, "the car waits" },
    { 0 },
};

static void tl_mark(size_t row, int state)
{
    if (tl)
        lab_timeline_mark(tl, row, state);
}

static void light_line(const char *me, bool red)
{
    /* The notes' escapes: red or green background, bold (\33[41;1m / \33[42;1m). */
    if (lab_colors_on())
        printf("%s: %s%s light is on...\033[0m\n", me, red ? "\33[41;1m" : "\33[42;1m", red ? "red" : "green");
    else
        printf("%s: %s light is on...\n", me, red ? "red" : "green");
}

static void *lighter(void *arg)
{
    (void)arg;
    const char *me = lab_thread_name(lab_current_thread());
    long count = 0, done = 0;
    /* The colour is marked before the event changes, here and below: the car, which acts on the
     * event, can never draw its mark first (the light's row starts at column 0). */
    tl_mark(0, TL_GREEN);
    l09_event_set(&ev);                                  /* 初始值为绿灯 */
    for (;;) {
        if (5 < count && count <= 10) {
            if (count == 6)
                tl_mark(0, TL_RED);
            l09_event_clear(&ev);                        /* 红灯，清除标志位 */
            light_line(me, true);
            atomic_fetch_add(&red_lines, 1);
            /* The car looks once a tick, so it sees this red within a tick; we make sure of it
             * (bounded) before the light's next tick: the car waits for 5 ticks of every red,
             * however late it looked, and car_waits == cycles even on a starved machine. */
            long this_cycle = done + 1;
            if (count == 6 && !l09_until(car_at_red, &this_cycle, L09_BOUND_MS))
                atomic_store(&light_gave_up, true);
        } else if (count > 10) {
            tl_mark(0, TL_GREEN);
            l09_event_set(&ev);                          /* 绿灯，设置标志位 */
            count = 0;
            if (++done == cycles)                        /* cycles == 0: never */
                return NULL;
        } else {
            light_line(me, false);
            atomic_fetch_add(&green_lines, 1);
        }
        if (count == 0) {
            /* A green phase begins.  Six green ticks are ample time for the car to start (or to
             * wake from its wait) and drive; we make sure of it (bounded) before the light's next
             * tick, so the car drives for 6 ticks of every green, and its first line after each
             * start going... is running..., even on a machine that starved the car that long. */
            long this_cycle = done + 1;
            if (!l09_until(car_ran, &this_cycle, L09_BOUND_MS))
                atomic_store(&light_gave_up, true);
        }
        lab_sleep(1);
        count++;
    }
}

/* The car found that the Event does not block: say so once, and leave. */
static void *car_leaves(const char *me, const char *name, const char *what)
{
    printf("%s: [%s] %s: this Event does not block\n", me, name, what);
    atomic_store(&event_broken, true);
    atomic_store(&car_left, true);
    return NULL;
}

static void *car_loop(const char *name)
{
    const char *me = lab_thread_name(lab_current_thread());
    int shown = -1;   /* the car's state on the timeline */
    for (;;) {
        unsigned long sets = l09_event_sets(&ev);        /* set() calls so far, read before the look */
        if (l09_event_is_set(&ev)) {                     /* 判断是否设置了标志位 */
            bool first = shown != TL_DRIVES;             /* the first look at this green phase */
            if (first)
                tl_mark(1, shown = TL_DRIVES);
            printf("%s: [%s] running...\n", me, name);
            if (first)
                atomic_fetch_add(&car_drives, 1);
            double t0 = lab_now_ms();
            if (l09_event_wait(&stop, 1)) {              /* time.sleep(1), cut short at the end */
                if (!l09_event_is_set(&stop))            /* stop is never cleared: True means set */
                    return car_leaves(me, name, "wait(1) returned True, yet nobody called set()");
                return NULL;
            }
            /* False means the timeout passed: never sooner (the margin absorbs clock rounding). */
            if (lab_elapsed_units(t0) < 0.99)
                return car_leaves(me, name, "wait(1) returned False before 1 second had passed");
        } else {
            tl_mark(1, shown = TL_WAITS);
            printf("%s: [%s] sees red light,waiting...\n", me, name);
            atomic_fetch_add(&car_waits, 1);
            if (!l09_event_wait(&ev, -1))                /* no timeout: True, once set() was called */
                return car_leaves(me, name, "wait() returned False without a timeout");
            if (l09_event_sets(&ev) == sets)             /* the flag was False: a set() must have come */
                return car_leaves(me, name, "wait() returned True, yet nobody called set()");
            printf("%s: [%s] green light is on,start going...\n", me, name);
            atomic_fetch_add(&car_resumes, 1);
        }
    }
}

static void *car(void *arg)
{
    void *r = car_loop(arg);
    tl_mark(1, LAB_TL_OFF);
    atomic_store(&car_left, true);
    return r;
}

static bool car_resumed_all(void *arg) { (void)arg; return atomic_load(&car_resumes) >= cycles || atomic_load(&car_left); }

static bool light_started(void *arg) { (void)arg; return l09_event_is_set(&ev); }

int run_traffic(int mode)
{
    (void)mode;   /* no modes */
    cycles = (long)lab_opt("cycles");
    l09_event_init(&ev);
    l09_event_init(&stop);
    stop.name = "stop";                                     /* --trace: its slices and track */
    atomic_store(&green_lines, 0);
    atomic_store(&red_lines, 0);
    atomic_store(&car_waits, 0);
    atomic_store(&car_resumes, 0);
    atomic_store(&car_drives, 0);
    atomic_store(&light_gave_up, false);
    atomic_store(&car_left, false);
    atomic_store(&event_broken, false);
    if (cycles == 0)
        printf("MainThread: --cycles=0: the light runs forever, as in the notes (Ctrl-C to stop)\n");
    tl = cycles > 0 && cycles <= 20 ? lab_timeline_new(2, 16 + 8 * (size_t)cycles) : NULL;
    if (tl) {
        lab_timeline_row(tl, 0, "the light");
        lab_timeline_row(tl, 1, "the car (MINI)");
    }

    struct lab_thread *light = LAB_THREAD(lighter, NULL);   /* light = threading.Thread(target=lighter,) */
    lab_thread_start_or_die(light);
    /* The notes start the car right after the light and count on the light's first event.set()
     * coming first.  We wait for it, or a car that ran first would see "red" once too often. */
    bool started = l09_until(light_started, NULL, L09_BOUND_MS);
    struct lab_thread *c = LAB_THREAD(car, "MINI");          /* car = threading.Thread(target=car, args=("MINI",)) */
    lab_thread_start_or_die(c);

    lab_thread_join(light);
    /* The light stops right after its last silent tick: let the car take the green, then stop it. */
    bool resumed = l09_until(car_resumed_all, NULL, L09_BOUND_MS);
    l09_event_set(&stop);
    lab_thread_join(c);
    l09_event_destroy(&stop);
    l09_event_destroy(&ev);

    if (tl) {   /* the car waits exactly while the light is red */
        lab_timeline_draw(tl, tl_states, -1);
        lab_timeline_free(tl);
        tl = NULL;
    }
    int g = atomic_load(&green_lines), r = atomic_load(&red_lines);
    int w = atomic_load(&car_waits), res = atomic_load(&car_resumes);
    printf("MainThread: %ld cycles: %d green lines, %d red lines; the car waited %d times and resumed %d times\n",
           cycles, g, r, w, res);
    lab_result("cycles=%ld green_lines=%d red_lines=%d car_waits=%d car_resumes=%d", cycles, g, r, w, res);
    bool ok = started && resumed && !atomic_load(&light_gave_up) && !atomic_load(&event_broken)
              && g == 6 + 5 * (int)(cycles - 1) && r == 5 * (int)cycles && w == cycles && res == cycles;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
