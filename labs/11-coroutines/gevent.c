/* labs/11-coroutines/gevent.c - scenarios `gevent_info`, `gevent` and `stall`: the hub at work.
 *
 * The notes' gevent examples.  spawn(info), spawn(msg), join both: info prints 哈哈哈, sleeps 2 s,
 * prints 黑恶hi黑; msg prints 英语, sleeps 2 s, prints 数学.  The notes import monkey but never call
 * patch_all(): time.sleep is then the real one, it blocks the hub's only thread, and the two run
 * one after the other (4 units).  Patched, time.sleep is gevent's: a timer and a switch to the hub,
 * so while info sleeps msg runs, and both sleeps overlap (2 units).  The A/B/C example is the same
 * with five sleeps of 0.2 each: 3.0 units one after the other, 1.0 interleaved.
 *   Python                                C
 *   monkey.patch_all()                    time_sleep = co_sleep  (instead of lab_sleep)
 *   g1 = spawn(info); g1.join()           g1 = co_spawn("info", info, NULL); co_join(g1)
 * `stall`: two coroutines wait on an Event that nobody sets (--mode=forgot): nothing is ready, no
 * timer, no socket: the hub says "no runnable coroutine: 2 stalled" and the scenario exits 1, as
 * gevent raises LoopExit.  --mode=set: a third coroutine sets the event after a sleep.
 * Usage: lab11 gevent_info|gevent [--mode=unpatched|patched] | lab11 stall [--mode=forgot|set]
 * Watch for: the order of the lines and elapsed_units; threads=1 throughout.
 */
#include "lab.h"
#include "lab11.h"

#include <stdio.h>
#include <string.h>

/* The "monkey patch": which sleep the coroutines call. */
static void (*time_sleep)(double units);

/* The lines as printed, to tell the order without trusting the eye. */
static const char *said[32];
static int nsaid;

static void say(const char *s)
{
    lab_say("%s", s);
    if (nsaid < 32)
        said[nsaid++] = s;
}

static int said_at(const char *s)
{
    for (int i = 0; i < nsaid; i++)
        if (strcmp(said[i], s) == 0)
            return i;
    return -1;
}

/* ==== gevent_info ==== */

static void info(void *arg) { (void)arg; say("哈哈哈"); time_sleep(2); say("黑恶hi黑"); }
static void msg(void *arg) { (void)arg; say("英语"); time_sleep(2); say("数学"); }

int run_gevent_info(int mode)
{
    bool patched = mode == PATCH_PATCHED;
    time_sleep = patched ? co_sleep : lab_sleep;
    nsaid = 0;
    hub_init(NULL);
    lab_say("%s: time.sleep is %s", patched ? "monkey.patch_all()" : "no patch_all()",
            patched ? "gevent's: a timer on the hub's loop, then a switch" : "the real one: it blocks the thread");
    double t0 = lab_now_ms();
    struct co *g1 = co_spawn("info", info, NULL);
    struct co *g2 = co_spawn("msg", msg, NULL);
    int rc = co_join(g1) | co_join(g2);
    double units = lab_elapsed_units(t0);
    int threads = l11_threads();
    lab_say("%.1f", units);           /* print(time.time()-start_time), in units */
    bool serial = said_at("黑恶hi黑") < said_at("英语");
    lab_say("%s: %s (threads=%d)", serial ? "serial" : "interleaved",
            serial ? "info slept with the thread, msg could not start until it was done"
                   : "while info slept in the hub, msg ran; the two sleeps overlapped", threads);
    hub_fini();
    lab_result("order=%s elapsed_units=%.1f lines=%d threads=%d", serial ? "serial" : "interleaved", units, nsaid,
               threads);
    bool ok = rc == 0 && nsaid == 4 && serial == !patched && co_live_stacks() == 0;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== gevent: A/B/C ==== */

static void letters(const char *letter)
{
    static char text[3][5][16];
    int row = letter[0] - 'A';
    for (int i = 0; i < 5; i++) {
        snprintf(text[row][i], sizeof text[row][i], "%s%d", letter, i);
        say(text[row][i]);
        time_sleep(0.2);
    }
}
static void ga(void *arg) { (void)arg; letters("A"); }
static void gb(void *arg) { (void)arg; letters("B"); }
static void gc(void *arg) { (void)arg; letters("C"); }

int run_gevent(int mode)
{
    bool patched = mode == PATCH_PATCHED;
    time_sleep = patched ? co_sleep : lab_sleep;
    nsaid = 0;
    hub_init(NULL);
    lab_say("%s; spawn(a), spawn(b), spawn(c), then join each (loop: %s)",
            patched ? "monkey.patch_all()" : "no patch_all()", hub_backend());
    double t0 = lab_now_ms();
    struct co *g[3] = { co_spawn("a", ga, NULL), co_spawn("b", gb, NULL), co_spawn("c", gc, NULL) };
    int rc = co_joinall(g, 3);
    double units = lab_elapsed_units(t0);
    int threads = l11_threads();
    /* interleaved: A0 B0 C0 A1 ...; serial: A0 A1 ... C4 */
    bool interleaved = nsaid == 15, serial = nsaid == 15;
    for (int i = 0; i < nsaid && i < 15; i++) {
        char want_i[16], want_s[16];
        snprintf(want_i, sizeof want_i, "%c%d", 'A' + i % 3, i / 3);
        snprintf(want_s, sizeof want_s, "%c%d", 'A' + i / 5, i % 5);
        interleaved = interleaved && strcmp(said[i], want_i) == 0;
        serial = serial && strcmp(said[i], want_s) == 0;
    }
    lab_say("%s in %.1f units (threads=%d): %s", interleaved ? "interleaved" : serial ? "serial" : "mixed", units,
            threads, patched ? "15 sleeps of 0.2 overlapped into 5 ticks" : "15 sleeps of 0.2 one after the other");
    hub_fini();
    lab_result("order=%s lines=%d elapsed_units=%.1f threads=%d",
               interleaved ? "interleaved" : serial ? "serial" : "mixed", nsaid, units, threads);
    bool ok = rc == 0 && (patched ? interleaved : serial) && co_live_stacks() == 0;
    return ok ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}

/* ==== stall ==== */

static struct co_event ev;

static void waiter(void *arg)
{
    (void)arg;
    lab_say("%s: waits for the event", co_name(co_current()));
    co_event_wait(&ev);
    lab_say("%s: the event is set, go on", co_name(co_current()));
}

static void setter(void *arg)
{
    (void)arg;
    co_sleep(0.1);
    lab_say("setter: event.set()");
    co_event_set(&ev);
}

int run_stall(int mode)
{
    memset(&ev, 0, sizeof ev);
    hub_init(NULL);
    lab_say("%s", mode == STALL_FORGOT ? "two waiters on an Event, and nobody to set it"
                                       : "two waiters on an Event, and a setter that sets it after 0.1");
    struct co *g[3] = { co_spawn("waiter-1", waiter, NULL), co_spawn("waiter-2", waiter, NULL), NULL };
    int n = 2;
    if (mode == STALL_SET)
        g[n++] = co_spawn("setter", setter, NULL);
    int rc = co_joinall(g, n);
    int stalled = hub_live();
    if (rc != 0)
        lab_say("gevent would raise LoopExit('This operation would block forever') here");
    else
        lab_say("every coroutine ended: the hub always had something to run or to wait for");
    int threads = l11_threads();
    hub_fini();
    lab_result("stalled=%d exit=%d threads=%d", stalled, rc == 0 ? 0 : 1, threads);
    if (rc != 0)
        return LAB_EXIT_BROKEN;
    return stalled == 0 && co_live_stacks() == 0 ? LAB_EXIT_OK : LAB_EXIT_BROKEN;
}
