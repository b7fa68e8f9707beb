// The allocator's settings for a long-running node (see include/ccinnabar.h).
#include "ccinnabar.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif

int ccinnabar_tune_malloc(void) {
#ifdef __GLIBC__
    // Blocks, proposals and batches are buffers of 100 KB to a few MB. Above 128 KB glibc maps
    // each one fresh and unmaps it on free, and returns freed heap tops to the kernel at once, so
    // every block's buffers were page-faulted in again (6 % of a consortium's CPU in `perf`).
    // Keep them in the heap up to 32 MB (glibc's largest threshold) and trim only past 256 MB.
    if (mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) != 1) return -1;
    if (mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024) != 1) return -1;
#endif
    return 0;
}
