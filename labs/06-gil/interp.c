/* interp.c - the tiny interpreter of lab 6: a stack machine that must hold the GIL to run.
 *
 * Threads of CPython execute bytecode; the GIL makes sure that only one of them does so at any
 * moment.  This loop is a miniature of ceval.c: one `switch` per instruction, a tick per
 * instruction for Python 2's check interval, an eval-breaker check on backward jumps for
 * Python 3's drop request, and blocking instructions (SLEEP, LOCK_ACQUIRE, BARRIER, LOCK_CONTEND)
 * that release the GIL around the call, as Py_BEGIN_ALLOW_THREADS does.  BARRIER and LOCK_CONTEND
 * are the lab's own: they force the interleaving a lesson asserts (everyone has read; someone is
 * blocked on the lock) instead of leaving it to timing.
 *
 * Python original ↔ C:  `res += i + i**2 + i**3` compiles (dis, 3.11) to FOR_ITER, STORE_FAST i,
 * LOAD_FAST res, LOAD_FAST i, LOAD_FAST i, LOAD_CONST 2, BINARY_OP **, BINARY_OP +, LOAD_FAST i,
 * LOAD_CONST 3, BINARY_OP **, BINARY_OP +, BINARY_OP +=, STORE_FAST res, JUMP_BACKWARD: the same
 * 15 instructions a round here (code_cpu_job).
 * Values are unsigned __int128 (Python ints are unbounded; 64 bits overflow at n = 1e6).
 *
 * Usage: code_cpu_job(&c, 0, 1000000); u128 r = interp_run(&c, &gil_thread, &shared, &count);
 * What to watch for: every instruction runs with the GIL held (mode py2/py3), except the blocking
 * ones, which give it back while they wait — remove that and gil_money deadlocks.
 * See also: minigil.c (the lock), gil.c (the scenarios).
 */
#include "interp.h"

#include "lab.h"

#include <errno.h>
#include <string.h>

/* The shortest bound on a blocked mutex.acquire() (a lost wake-up or a model deadlock ends). */
#define USER_LOCK_BOUND_MS 30000.0

/* Local slots of the programs below. */
enum { L_IT, L_STOP, L_I, L_RES, L_TMP, L_IT2, L_STOP2, L_K, L_MAX };

/* ==== assembling programs ==== */

static int emit(struct code *c, int op, int a, int b)
{
    if (c->n >= CODE_MAX)
        die("bug: program %s too long", c->name);
    c->ins[c->n] = (struct instr){ (unsigned char)op, a, b };
    return c->n++;
}

static int konst(struct code *c, u128 v)
{
    for (int i = 0; i < c->nconsts; i++)
        if (c->consts[i] == v)
            return i;
    if (c->nconsts >= 8)
        die("bug: program %s has too many constants", c->name);
    c->consts[c->nconsts] = v;
    return c->nconsts++;
}

/* for i in range(<it>, <stop>): res += i + i**2 + i**3   (it/stop slots already set) */
static void emit_cpu_loop(struct code *c, int it)
{
    int top = emit(c, OP_FOR_RANGE, it, -1);
    emit(c, OP_STORE_FAST, L_I, 0);
    emit(c, OP_LOAD_FAST, L_RES, 0);
    emit(c, OP_LOAD_FAST, L_I, 0);
    emit(c, OP_LOAD_FAST, L_I, 0);
    emit(c, OP_LOAD_CONST, konst(c, 2), 0);
    emit(c, OP_BINARY_POW, 0, 0);
    emit(c, OP_BINARY_ADD, 0, 0);
    emit(c, OP_LOAD_FAST, L_I, 0);
    emit(c, OP_LOAD_CONST, konst(c, 3), 0);
    emit(c, OP_BINARY_POW, 0, 0);
    emit(c, OP_BINARY_ADD, 0, 0);
    emit(c, OP_BINARY_ADD, 0, 0);           /* res += ... */
    emit(c, OP_STORE_FAST, L_RES, 0);
    emit(c, OP_JUMP_BACKWARD, top, 0);
    c->ins[top].b = c->n;                    /* exhausted: continue after the loop */
}

static void emit_set(struct code *c, int slot, u128 v)
{
    emit(c, OP_LOAD_CONST, konst(c, v), 0);
    emit(c, OP_STORE_FAST, slot, 0);
}

void code_cpu_job(struct code *c, unsigned long lo, unsigned long hi)
{
    memset(c, 0, sizeof *c);
    c->name = "cpu_job";
    emit_set(c, L_RES, 0);                   /* res = 0 */
    emit_set(c, L_IT, lo);                   /* for i in range(lo, hi): */
    emit_set(c, L_STOP, hi);
    emit_cpu_loop(c, L_IT);
    emit(c, OP_LOAD_FAST, L_RES, 0);         /* return res */
    emit(c, OP_RETURN_VALUE, 0, 0);
}

void code_io_job(struct code *c, unsigned long rounds, double units, unsigned long chunk)
{
    memset(c, 0, sizeof *c);
    c->name = "io_job";
    emit_set(c, L_RES, 0);
    emit_set(c, L_IT2, 0);                   /* for k in range(rounds): */
    emit_set(c, L_STOP2, rounds);
    int top = emit(c, OP_FOR_RANGE, L_IT2, -1);
    emit(c, OP_STORE_FAST, L_K, 0);
    emit(c, OP_SLEEP, konst(c, (u128)(units * 1000.0 + 0.5)), 0);   /* time.sleep(units) */
    emit_set(c, L_IT, 0);                    /*     for i in range(chunk): res += ... */
    emit_set(c, L_STOP, chunk);
    emit_cpu_loop(c, L_IT);
    emit(c, OP_JUMP_BACKWARD, top, 0);
    c->ins[top].b = c->n;
    emit(c, OP_LOAD_FAST, L_RES, 0);
    emit(c, OP_RETURN_VALUE, 0, 0);
}

void code_money(struct code *c, bool user_lock, bool forced, double units)
{
    memset(c, 0, sizeof *c);
    c->name = "task";
    if (user_lock)
        emit(c, OP_LOCK_ACQUIRE, 0, 0);      /* mutex.acquire() */
    emit(c, OP_LOAD_GLOBAL, 0, 0);           /* tmp = money */
    emit(c, OP_STORE_FAST, L_TMP, 0);
    if (forced && !user_lock)
        emit(c, OP_BARRIER, 0, 0);           /* (the lab's forcing: everyone has read money) */
    if (forced && user_lock)
        emit(c, OP_LOCK_CONTEND, 0, 0);      /* (the lab's forcing: someone waits for the lock) */
    emit(c, OP_SLEEP, konst(c, (u128)(units * 1000.0 + 0.5)), 0);   /* time.sleep(0.1) */
    emit(c, OP_LOAD_FAST, L_TMP, 0);         /* money = tmp - 1 */
    emit(c, OP_LOAD_CONST, konst(c, 1), 0);
    emit(c, OP_BINARY_SUB, 0, 0);
    emit(c, OP_STORE_GLOBAL, 0, 0);
    if (user_lock)
        emit(c, OP_LOCK_RELEASE, 0, 0);      /* mutex.release() */
    emit(c, OP_LOAD_CONST, konst(c, 0), 0);
    emit(c, OP_RETURN_VALUE, 0, 0);
}

/* ==== shared state ==== */

void interp_shared_init(struct interp_shared *sh, int parties)
{
    memset(sh, 0, sizeof *sh);
    lab_mutex_init(&sh->user_lock, 0);
    lab_mutex_init(&sh->bar_mu, 0);
    lab_cond_init(&sh->bar_cond, 0);
    sh->bar_parties = parties;
}

void interp_shared_destroy(struct interp_shared *sh)
{
    Pthread_mutex_destroy(&sh->user_lock);
    Pthread_mutex_destroy(&sh->bar_mu);
    Pthread_cond_destroy(&sh->bar_cond);
}

/* Wait until every party arrived; give up after 10 s (a missing thread must not hang the lab). */
static void barrier_wait(struct interp_shared *sh)
{
    double give_up = lab_now_ms() + lab_bound_ms(0);   /* no notes-time to wait for: the slack */
    Pthread_mutex_lock(&sh->bar_mu);
    if (++sh->bar_count >= sh->bar_parties)
        Pthread_cond_broadcast(&sh->bar_cond);
    while (sh->bar_count < sh->bar_parties && !sh->bar_broken) {
        if (lab_now_ms() >= give_up) {
            sh->bar_broken = true;
            Pthread_cond_broadcast(&sh->bar_cond);
            break;
        }
        gil_wait_slice(&sh->bar_cond, &sh->bar_mu);
    }
    Pthread_mutex_unlock(&sh->bar_mu);
}

/* LOCK_CONTEND, called by the holder of user_lock with the GIL released: the first time in a
 * run, wait until another thread has found the lock taken and blocks on it, so that a blocked
 * acquire (the lesson: it releases the GIL) happens on every run, not only when the others
 * happen to get the GIL during the holder's sleep.  At most 10 s: a missing thread must not hang
 * the lab. */
static void await_lock_waiter(struct interp_shared *sh)
{
    double give_up = lab_now_ms() + lab_bound_ms(0);   /* no notes-time to wait for: the slack */
    Pthread_mutex_lock(&sh->bar_mu);
    while (sh->lock_waiters == 0 && lab_now_ms() < give_up)
        gil_wait_slice(&sh->bar_cond, &sh->bar_mu);
    Pthread_mutex_unlock(&sh->bar_mu);
}

/* mutex.acquire(): try first; if it is taken, block with the GIL released (CPython's
 * Lock.acquire does the same).  Blocking while holding the GIL would deadlock the model: the
 * lock's holder sleeps without the GIL and needs it back to release the lock. */
static void user_lock_acquire(struct interp_shared *sh, struct gil_thread *t)
{
    int rc = pthread_mutex_trylock(&sh->user_lock);
    if (rc == 0)
        return;
    if (rc != EBUSY)
        die_en(rc, "pthread_mutex_trylock");
    gil_io_begin(t);
    Pthread_mutex_lock(&sh->bar_mu);   /* found it taken: a holder at LOCK_CONTEND may go on */
    sh->lock_waiters++;
    Pthread_cond_broadcast(&sh->bar_cond);
    Pthread_mutex_unlock(&sh->bar_mu);
    /* Every other party may hold the lock once before us: bounded by their turns, at least 30 s. */
    double bound = lab_bound_ms(sh->lock_hold_units * sh->bar_parties);
    if (bound < USER_LOCK_BOUND_MS)
        bound = USER_LOCK_BOUND_MS;
    struct timespec deadline = lab_deadline_ms(bound);
    rc = lab_mutex_clocklock(&sh->user_lock, &deadline);
    if (rc != 0)
        die_en(rc, "mutex.acquire() (waited %.0f s)", bound / 1000.0);
    __atomic_fetch_add(&sh->blocked_acquires, 1, __ATOMIC_RELAXED);
    gil_io_end(t);
}

/* ==== the eval loop ==== */

static u128 power(u128 base, u128 exp)
{
    u128 r = 1;
    while (exp-- > 0)
        r *= base;
    return r;
}

u128 interp_run(const struct code *c, struct gil_thread *t, struct interp_shared *sh, unsigned long *ninstr)
{
    u128 stack[16], locals[L_MAX] = { 0 };
    int sp = 0, pc = 0;
    unsigned long n = 0;
    u128 result = 0;

    gil_enter(t);
    for (;;) {
        gil_tick(t);                                     /* py2: every 100 ticks, drop + retake */
        const struct instr *in = &c->ins[pc++];
        n++;
        switch (in->op) {
        case OP_LOAD_CONST:   stack[sp++] = c->consts[in->a]; break;
        case OP_LOAD_FAST:    stack[sp++] = locals[in->a]; break;
        case OP_STORE_FAST:   locals[in->a] = stack[--sp]; break;
        case OP_LOAD_GLOBAL:  stack[sp++] = sh->globals[in->a]; break;        /* guarded by the GIL */
        case OP_STORE_GLOBAL: sh->globals[in->a] = stack[--sp]; break;
        case OP_BINARY_ADD:   sp--; stack[sp - 1] += stack[sp]; break;
        case OP_BINARY_SUB:   sp--; stack[sp - 1] -= stack[sp]; break;
        case OP_BINARY_POW:   sp--; stack[sp - 1] = power(stack[sp - 1], stack[sp]); break;
        case OP_FOR_RANGE:
            if (locals[in->a] < locals[in->a + 1])
                stack[sp++] = locals[in->a]++;
            else
                pc = in->b;
            break;
        case OP_JUMP_BACKWARD:
            pc = in->a;
            gil_eval_breaker(t);                         /* py3: honour a drop request */
            break;
        case OP_SLEEP:
            gil_io_begin(t);                             /* Py_BEGIN_ALLOW_THREADS */
            lab_sleep((double)c->consts[in->a] / 1000.0);
            gil_io_end(t);                               /* Py_END_ALLOW_THREADS */
            break;
        case OP_BARRIER:
            gil_io_begin(t);
            barrier_wait(sh);
            gil_io_end(t);
            break;
        case OP_LOCK_ACQUIRE: user_lock_acquire(sh, t); break;
        case OP_LOCK_RELEASE: Pthread_mutex_unlock(&sh->user_lock); break;
        case OP_LOCK_CONTEND:                            /* the caller holds user_lock */
            if (!sh->contended && sh->bar_parties > 1) {
                sh->contended = true;
                gil_io_begin(t);
                await_lock_waiter(sh);
                gil_io_end(t);
            }
            break;
        case OP_RETURN_VALUE: result = stack[--sp]; goto out;
        default:              die("bug: bad opcode %d at %d", in->op, pc - 1);
        }
    }
out:
    gil_leave(t);
    if (ninstr)
        *ninstr += n;
    return result;
}

/* ==== exact arithmetic ==== */

u128 l06_cpu_expected(unsigned long n)
{
    if (n == 0)
        return 0;
    u128 N = n, m = N - 1;
    u128 s1 = N * m / 2;                     /* sum i      */
    u128 s2 = m * N * (2 * m + 1) / 6;       /* sum i**2   */
    u128 s3 = s1 * s1;                       /* sum i**3 = (sum i)**2 */
    return s1 + s2 + s3;
}

const char *l06_u128_str(u128 v, char *buf)
{
    char tmp[48];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return buf;
}
