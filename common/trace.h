/* common/trace.h - a timeline a student opens in Perfetto (ui.perfetto.dev) or chrome://tracing.
 *
 * `labNN SCENARIO --trace FILE` (every lab: cli.c calls lab_trace_open) records what the threads and
 * processes did and writes it as Chrome trace-event JSON: one track per process and per thread,
 * named as Python names them (MainThread, Thread-1 (task), Process-1), with slices for what
 * teaches (a lock waited for, then held; a semaphore slot; the GIL), arrows from a queue's put to
 * its get, and tracks of simulated time (lab 13's ticks).  A lab marks its story with one line:
 *
 *     lab_trace_begin("lock", "wait lock");  Pthread_mutex_lock(&m);  lab_trace_end();
 *     lab_trace_begin("lock", "hold lock");  ...critical section...   lab_trace_end();
 *     lab_trace_flow_out("queue", item_id, "put %d", item);    // in the producer
 *     lab_trace_flow_in("queue", item_id, "get %d", item);     // in the consumer: an arrow
 *
 * Recording does not change the lesson: each thread appends to its own buffer (no lock, no system
 * call; one clock read, CLOCK_MONOTONIC), and nothing is written until the end.  Every call is a
 * no-op costing one load when tracing is off.  The file is written once per process:
 *   - at exit (atexit), in the process that opened it: its own events, then the fragments of
 *     its children, merged into one JSON document (written to FILE.tmp, then renamed);
 *   - in a forked child (lab_proc, the guided demo's scenario children): when it ends (exit, or
 *     lab_proc's _exit, which calls lab_trace_write), as a fragment FILE.part.PID, written to a
 *     temporary name and renamed, so the merge never sees half of one (no torn JSON);
 *   - on Ctrl-C (cleanup.c's handler, after the children have been stopped and reaped) and when a
 *     watchdog ends the program (watchdog.c, before _exit): a slice still open then (the deadlock's
 *     two waits) stays open in the file, and Perfetto draws it to the end of the trace.
 * Floor 1 of common/ (it asks only prog.h), so every module above may call it: thread.c names the
 * thread tracks, proc.c the process tracks, cleanup.c and watchdog.c write on their way out.
 * Names are copied (at most 47 bytes); categories must be string literals.
 */
#ifndef COMMON_TRACE_H
#define COMMON_TRACE_H

#include <stdbool.h>
#include <stdint.h>

/* Start recording into `path` (created or truncated now, so a bad path is seen before the run).
 * 0, or -1 with errno.  The calling process writes the merged file at exit. */
int lab_trace_open(const char *path);
/* Whether this run is being recorded (for a lab that would compute something only to trace it). */
bool lab_trace_on(void);

/* A slice on the calling thread's track: begin ... end, nested like brackets. */
void lab_trace_begin(const char *cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lab_trace_end(void);
/* A point in time on the calling thread's track. */
void lab_trace_instant(const char *cat, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An arrow: a short slice with the arrow's tail (out) in one thread or process, and one with its
 * head (in) in another; `id` pairs them (unique among the arrows in flight, processes included;
 * an id may serve again once its arrow has arrived).  id 0: the slice without an arrow. */
void lab_trace_flow_out(const char *cat, uint64_t id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void lab_trace_flow_in(const char *cat, uint64_t id, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same arrow without a slice of its own: its tail leaves, or its head enters, the slice open
 * now on the calling thread's track (for a slice that is the story itself: lab 11 ends a
 * coroutine's run with the tail and begins the next one's run with the head). */
void lab_trace_flow_tail(const char *cat, uint64_t id);
void lab_trace_flow_head(const char *cat, uint64_t id);
/* A counter track of this process (the value from now on). */
void lab_trace_counter(const char *name, long long value);
/* A slice on a track of simulated time (`track` names it; one track per name and process):
 * start and length in ticks of the simulation, drawn as milliseconds from the moment the track's
 * first slice was recorded. */
void lab_trace_sim(const char *track, double start_ticks, double len_ticks, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Tracks of something that runs on a thread but is not one (lab 11's coroutines, one track each):
 * lab_trace_track(name) gives the track called `name` in this process (the same name, the same
 * track: made on first use), or 0 (tracing off, or more than 1024 tracks: then the thread's own).
 * lab_trace_use_track(t): the calling thread's events go to track t from now on (0: its own track
 * again); a forked child starts on its own.  Slices still nest per track: end on a track what
 * began there. */
int lab_trace_track(const char *name);
void lab_trace_use_track(int track);

/* The name of the calling thread's track (thread.c: the Python name) and of this process's. */
void lab_trace_thread_name(const char *name);
void lab_trace_process_name(const char *name);

/* Write now (once per process; later calls do nothing): the merged file in the process that
 * opened it, a fragment in any other.  Async-signal-safe enough for cleanup.c's handler: no
 * malloc, no stdio, no lock.  A Ctrl-C (SIGINT, SIGTERM, SIGHUP) that arrives during the write
 * waits until the file is in its place; a call from another thread meanwhile waits for it too. */
void lab_trace_write(void);

#endif
