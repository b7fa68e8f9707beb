// Early write-back of a file's dirty pages (see include/ccinnabar.h).
#define _GNU_SOURCE
#include "ccinnabar.h"
#include <fcntl.h>

int ccinnabar_start_writeback(int fd) {
#ifdef SYNC_FILE_RANGE_WRITE
    return sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    return 0;
#endif
}
