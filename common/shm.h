/* common/shm.h - memory shared with the children forked after it (multiprocessing's Value/Array
 * ground floor).
 *
 * An anonymous MAP_SHARED mapping made before fork() is seen by the parent and every descendant
 * at the same address; it has no name (nothing in /dev/shm to leak) and is gone with the last
 * process that maps it.  Put process-shared mutexes, counters and event logs in it.
 *
 *     struct box *b = lab_shared_alloc(sizeof *b);   // zero-filled; dies on failure
 *     ... fork children that write b->... ...
 *     lab_shared_free(b, sizeof *b);                  // after the children are reaped
 */
#ifndef COMMON_SHM_H
#define COMMON_SHM_H

#include <stddef.h>

void *lab_shared_alloc(size_t size);
void lab_shared_free(void *p, size_t size);   /* NULL is ignored */

#endif
