/* labs/11-coroutines/bench.c - `lab11 --bench` (placeholder). */
#include "lab.h"
#include "lab11.h"
int l11_bench(void) { return LAB_EXIT_OK; }
