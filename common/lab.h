/* common/lab.h - everything a lab needs from common/, in one include. */
#ifndef COMMON_LAB_H
#define COMMON_LAB_H

#include "cleanup.h"
#include "cli.h"
#include "clock.h"
#include "die.h"
#include "loop.h"
#include "out.h"
#include "pqueue.h"
#include "proc.h"
#include "prog.h"
#include "rng.h"
#include "shm.h"
#include "sync.h"
#include "thread.h"
#include "timeline.h"
#include "timing.h"
#include "trace.h"
#include "watchdog.h"

#endif
