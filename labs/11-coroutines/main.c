/* labs/11-coroutines/main.c - lab 11: coroutines from the context switch up.
 *
 * The notes' chapter on coroutines (协程): concurrency inside ONE thread, where the program itself
 * notices every IO and switches ("切换+保存状态" done in user space).  Built from the bottom: a
 * context switch in assembly (swtch_x86_64.S, swtch_aarch64.S; ucontext as the fallback), greenlet's
 * explicit switch() on top of it (coro.c), a gevent-style hub on the shared event loop (hub.c) so
 * that sleep and socket IO switch by themselves, a coroutine echo server, and asyncio's callbacks.
 * Usage: build/lab11 (guided demo) | build/lab11 --list | build/lab11 SCENARIO [OPTIONS] | --bench
 * See also: greenlet.c, gevent.c, server.c, asyncio.c, bench.c, README.md.
 */
#include "lab.h"
#include "lab11.h"

static int overflow_status(int mode) { (void)mode; return LAB_EXIT_BROKEN; }
static int stall_status(int mode) { return mode == STALL_FORGOT ? LAB_EXIT_BROKEN : LAB_EXIT_OK; }

static const struct lab_scenario scenarios[] = {
    { .name = "greenlet", .summary = "a, b, c switch by hand: A0 B0 C0 ... C4; a ends back in main, b and c stay suspended",
      .run = run_greenlet },
    { .name = "overflow", .summary = "a coroutine recurses into its stack's guard page: caught, named, exit 1",
      .run = run_overflow, .demo_status = overflow_status, .demo_in_child = true },
    { .name = "gevent_info", .summary = "spawn(info), spawn(msg), join: 4 units serial unpatched, 2 patched",
      .modes = "unpatched,patched", .run = run_gevent_info },
    { .name = "gevent", .summary = "A/B/C sleep 0.2 five times: 3.0 units serial unpatched, 1.0 interleaved patched",
      .modes = "unpatched,patched", .run = run_gevent },
    { .name = "stall", .summary = "waiters on an Event nobody sets: \"no runnable coroutine: 2 stalled\" (LoopExit)",
      .modes = "forgot,set", .run = run_stall, .demo_status = stall_status },
    { .name = "server", .summary = "the uppercase echo server: a coroutine per connection, one thread; 200 clients",
      .opts = "clients,msgs", .run = run_server },
    { .name = "asyncio", .summary = "two hello() tasks as callbacks and timers on the event loop: 1 unit, one thread",
      .run = run_asyncio },
    { 0 }
};

static struct lab_opt opts[] = {
    { .name = "clients", .help = "client threads (connections), as the notes' 200", .def = 200, .min = 1, .max = 500 },
    { .name = "msgs", .help = "messages each client sends and checks", .def = 5, .min = 1, .max = 10000 },
    { 0 }
};

int main(int argc, char **argv)
{
    static const struct lab_program prog = {
        .number = 11,
        .title = "coroutines from the context switch up",
        .scenarios = scenarios,
        .opts = opts,
        .bench = l11_bench,
    };
    return lab_main(&prog, argc, argv);
}
