/* common/out.h - what a lab prints: whole lines, the RESULT line, colours, banners.
 *
 * Output discipline: stdout is line-buffered (lab_main sets it), every line is
 * printed by one call, never assembled from pieces.  Across processes, and from daemon threads
 * that may be cut off at exit, lab_say() writes each line with a single write(2), which is atomic
 * on a pipe up to PIPE_BUF bytes, so lines from different processes never tear.
 */
#ifndef COMMON_OUT_H
#define COMMON_OUT_H

#include <stdbool.h>
#include <stddef.h>

/* Every human line fits LAB_COLUMNS columns (a projector, or `| less` on one): a longer one is
 * wrapped at a space, its continuation indented, by lab_say and by printf on stdout
 * (lab_out_install, which lab_main calls before a scenario or the demo runs, swaps in a stdout that
 * does it), on a terminal and piped alike.  RESULT and GANTT lines (machine lines) are never
 * wrapped: scripts and tests read them whole.  Still, write lines that fit: shorten long lists with
 * "… (N more)". */
#define LAB_COLUMNS 100
void lab_out_install(void);
/* The columns len bytes of UTF-8 text take on a terminal (wide CJK characters count 2, colour
 * escapes 0). */
int lab_text_width(const char *s, size_t len);

/* Print one line ("\n" is added) with a single write(2) to stdout; stdio's buffer is flushed
 * first so the order with earlier printf lines is kept.  Async-safe enough for forked children. */
void lab_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The machine line of the scenario running now: "RESULT lN.<scenario> [mode=<mode>] <fields>".
 * The scenario and its mode come from prog.h (the CLI sets them), so no lab retypes them; fields
 * are "key=value" pairs separated by single spaces, values without spaces.  Printed with lab_say. */
void lab_result(const char *fields_fmt, ...) __attribute__((format(printf, 1, 2)));
/* From now on lab_result also copies its line (without colours) into buf (NUL-terminated; NULL
 * stops it): the CLI compares the RESULT lines of several modes.  buf may be shared memory, so a
 * forked child's line is seen too. */
void lab_result_record(char *buf, size_t len);
/* On a terminal, RESULT lines are dimmed (lab_color(LAB_DIM)); piped they are byte-identical. */

/* A section banner for the guided demo and for each scenario run: "== l3.money (mode lock) ==". */
void lab_banner(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Colours: on only when stdout is a terminal and NO_COLOR is unset (https://no-color.org).
 * lab_color(LAB_RED) returns the escape sequence, or "" when colours are off. */
enum lab_color { LAB_RESET, LAB_BOLD, LAB_DIM, LAB_RED, LAB_GREEN, LAB_YELLOW, LAB_BLUE, LAB_MAGENTA, LAB_CYAN };
bool lab_colors_on(void);
const char *lab_color(enum lab_color c);
/* Force colours on or off (unit tests, and labs drawing to a file). */
void lab_set_colors(bool on);

#endif
