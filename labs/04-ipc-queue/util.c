/* labs/04-ipc-queue/util.c - small helpers the scenario files of lab 4 share.
 *
 * Python's names for a failed queue call, and elapsed notes-seconds rounded as the RESULT lines
 * print them.  Error numbers themselves are named by common/ (lab_errno_name: "EAGAIN", 0 -> "OK").
 * See also: lab04.h, queue.c, tqueue.c.
 */
#include "lab.h"
#include "lab04.h"

#include <errno.h>
#include <math.h>

const char *l04_pyname(int err, int is_put)
{
    if (err == EAGAIN || err == ETIMEDOUT)
        return is_put ? "FULL" : "EMPTY";
    return lab_errno_name(err);
}

double l04_round1(double units)
{
    return round(units * 10.0) / 10.0;
}
