/* labs/14-scheduler-game/lab14.h - what the files of lab 14 share: levels, the machine, the explorer.
 *
 * A level is a tiny concurrent program: 1-4 threads, each a list of atomic steps over shared state
 * (variables, locks, RLocks, semaphores, events, condition variables).  A state of the machine is
 * a plain struct, compared and hashed byte by byte, so the explorer can tell when two schedules
 * lead to the same place.  One step of one thread is the smallest thing the scheduler (you, or
 * the explorer) can choose; between two steps any other thread may run.
 */
#ifndef LAB14_H
#define LAB14_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define L14_MAX_THREADS 4
#define L14_MAX_CODE 32     /* steps per thread */
#define L14_MAX_VARS 8      /* shared variables */
#define L14_MAX_LOCALS 4    /* a thread's own variables (registers, tmp, n) */
#define L14_MAX_OBJS 8      /* locks, RLocks, semaphores, events, conditions */
#define L14_MAX_CONDS 4     /* the conjunction of a goal */
#define L14_NAME 16

/* ==== Levels (level.c) ==== */

enum l14_obj_kind { OBJ_LOCK, OBJ_RLOCK, OBJ_SEM, OBJ_BSEM, OBJ_EVENT, OBJ_COND };

struct l14_obj {
    char name[L14_NAME];
    enum l14_obj_kind kind;
    int init;     /* semaphore value; event: 1 set */
    int bound;    /* BoundedSemaphore: the value a release may not exceed */
    int lock;     /* condition: the index of its lock */
};

enum l14_op {
    OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_IF, OP_GOTO, OP_ACQUIRE, OP_RELEASE,
    OP_WAIT, OP_NOTIFY, OP_NOTIFY_ALL, OP_SET, OP_CLEAR, OP_SLEEP
};

/* An operand: a number, a shared variable, a thread's own variable, or an object's value. */
enum l14_arg_kind { ARG_CONST, ARG_SHARED, ARG_LOCAL, ARG_OBJ };
struct l14_arg {
    enum l14_arg_kind kind;
    int v;        /* the number, or the index */
};

enum l14_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

struct l14_insn {
    enum l14_op op;
    struct l14_arg a, b;   /* load/store/add/sub: a = destination, b = source; if: a CMP b */
    enum l14_cmp cmp;
    int target;            /* if/goto: the step to go to (may be the end of the code) */
    int obj;               /* acquire/release/wait/notify/set/clear */
    int line;              /* in the level file */
};

struct l14_thread {
    char name[L14_NAME];
    int n;
    struct l14_insn code[L14_MAX_CODE];
    int nlocals;
    char locals[L14_MAX_LOCALS][L14_NAME];
    char labels[L14_MAX_CODE + 1][L14_NAME];   /* the label of each step, "" when none */
};

/* One term of a goal: a comparison, "done" (every thread finished) or "stuck" (some thread has not
 * finished and none can step: a deadlock, or a lost wake-up). */
enum l14_term_kind { TERM_CMP, TERM_DONE, TERM_STUCK };
struct l14_term {
    enum l14_term_kind kind;
    struct l14_arg a, b;
    enum l14_cmp cmp;
};

struct l14_level {
    char name[L14_NAME + 8];
    char about[160];       /* one line: what the program does */
    char lab[64];          /* the lab scenario with this bad schedule forced: "l3.counter --mode=racy" */
    char schedule[128];    /* that schedule, as moves: "1,2,1,2,1,2" ("" for a fixed twin) */
    char goal[120];        /* the goal in words */
    int nterms;
    struct l14_term terms[L14_MAX_CONDS];
    int nvars;
    char vars[L14_MAX_VARS][L14_NAME];
    int var_init[L14_MAX_VARS];
    int nobjs;
    struct l14_obj objs[L14_MAX_OBJS];
    int nthreads;
    struct l14_thread threads[L14_MAX_THREADS];
    bool fixed;            /* its name ends in _fixed: the goal must be unreachable */
    int line;              /* where it starts in its file */
};

struct l14_levels {
    char source[256];      /* the file they came from (the built-in file is "levels.txt") */
    int n;
    struct l14_level *v;
};

/* The shipped levels (levels.txt, built into the program), or the file of --file: a malformed
 * file is a usage error naming the file and line (exit 2). */
void l14_levels_load(struct l14_levels *ls);
void l14_levels_parse(struct l14_levels *ls, const char *source, const char *text);
void l14_levels_free(struct l14_levels *ls);
/* The level of --level (default: the first one); a usage error when there is none of that name. */
const struct l14_level *l14_level_chosen(const struct l14_levels *ls);

/* ==== The machine (machine.c) ==== */

enum l14_status { TH_RUNNING, TH_DONE, TH_ERROR };

/* Everything that can differ between two moments of a run; zeroed before use, so that two equal
 * states are equal byte for byte (the explorer hashes them with memcmp). */
struct l14_state {
    int32_t var[L14_MAX_VARS];
    int16_t local[L14_MAX_THREADS][L14_MAX_LOCALS];
    int16_t owner[L14_MAX_OBJS];   /* locks: the owning thread + 1, 0 when free */
    int16_t value[L14_MAX_OBJS];   /* RLock: its count; semaphore: its value; event: 1 when set */
    uint8_t pc[L14_MAX_THREADS];
    uint8_t phase[L14_MAX_THREADS];   /* Condition.wait: 0 not yet, 1 in the wait queue, 2 notified */
    uint8_t rank[L14_MAX_THREADS];    /* in the wait queue: 1 is the next one notify() wakes */
    uint8_t status[L14_MAX_THREADS];
};

enum l14_step { STEP_OK, STEP_BLOCKED, STEP_FINISHED };

void l14_state_init(const struct l14_level *lv, struct l14_state *s);
/* Thread t takes one step.  STEP_BLOCKED and STEP_FINISHED leave s unchanged.  what (may be
 * NULL) says what happened: "r = 0", "blocked: A is held by Thread-1", "RuntimeError: ...". */
enum l14_step l14_step(const struct l14_level *lv, struct l14_state *s, int t, char *what, size_t len);
bool l14_can_step(const struct l14_level *lv, const struct l14_state *s, int t);
bool l14_all_done(const struct l14_level *lv, const struct l14_state *s);
/* No thread can step but not all have finished. */
bool l14_stuck(const struct l14_level *lv, const struct l14_state *s);
bool l14_goal(const struct l14_level *lv, const struct l14_state *s);
/* The game is over: the goal is reached, or no thread can step. */
bool l14_over(const struct l14_level *lv, const struct l14_state *s);
/* A step as Python-like text: "r = num", "A.acquire()", "if n <= 0: goto out". */
void l14_insn_text(const struct l14_level *lv, int t, int pc, char *buf, size_t len);
/* "num=1 sold=0", the shared variables. */
void l14_vars_text(const struct l14_level *lv, const struct l14_state *s, char *buf, size_t len);
/* "A: Thread-1  S=1  green: set", the objects. */
void l14_objs_text(const struct l14_level *lv, const struct l14_state *s, char *buf, size_t len);
/* Parse "1,2,1" into moves (1-based thread numbers); -1 and a message when malformed. */
int l14_parse_moves(const char *text, int *moves, int max, char *err, size_t errlen);

/* ==== The explorer (explore.c) ==== */

struct l14_explore {
    size_t states;            /* distinct states reached */
    uint64_t schedules;       /* complete schedules: paths from the start to the end of the game */
    uint64_t bad;             /* of those, the ones that end with the goal reached */
    bool saturated;           /* a count passed 2^64 - 1 */
    bool cyclic;              /* some schedule can go round forever (schedules: infinite) */
    bool complete;            /* false: stopped at the state limit ("too large") */
    int shortest[256];        /* a shortest schedule that reaches the goal */
    int nshortest;            /* -1: no schedule reaches it */
};

/* Every interleaving from the level's start, depth first, each state visited once. */
void l14_explore(const struct l14_level *lv, size_t max_states, struct l14_explore *x);
/* A shortest schedule from state s that reaches the goal (breadth first); its length, or -1. */
int l14_shortest_from(const struct l14_level *lv, const struct l14_state *s, size_t max_states, int *moves,
                      int max);

/* ==== Scenarios ==== */
int run_levels(int mode);     /* explore.c */
void check_levels(void);
int run_play(int mode);       /* play.c */
void check_play(void);
int run_explore(int mode);    /* explore.c */
void check_explore(void);

#endif
