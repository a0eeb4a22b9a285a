/* common/shm.c - anonymous shared mappings; see shm.h. */
#include "shm.h"
#include "die.h"

#include <sys/mman.h>

void *lab_shared_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap(%zu bytes, MAP_SHARED|MAP_ANONYMOUS):", size);
    return p;   /* anonymous mappings start zero-filled */
}

void lab_shared_free(void *p, size_t size)
{
    if (p && munmap(p, size) == -1)
        die("munmap:");
}
