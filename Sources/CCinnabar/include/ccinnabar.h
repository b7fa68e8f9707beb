// SHA-256 through OpenSSL 3 with the digest fetched once and one reusable context per thread.
// OpenSSL's EVP_sha256()/SHA256() one-shots do a provider lookup per call and run 2.6-3.3x slower
// (notes-swift-on-this-machine.md). And one Linux call Glibc's Swift module does not export.
// This is the only C in Cinnabar (CRocksExtras holds the only C++).
#ifndef CCINNABAR_H
#define CCINNABAR_H
#include <stddef.h>
#include <stdint.h>

/// out = SHA-256(a || b || c); any part may have length 0. Returns 1 on success, 0 on failure.
int ccinnabar_sha256_3(const void *a, size_t alen, const void *b, size_t blen,
                       const void *c, size_t clen, uint8_t out[32]);

/// Starts writing back every dirty page of `fd` without waiting (Linux sync_file_range with
/// SYNC_FILE_RANGE_WRITE): a later fsync has less left to wait for. Durability still needs the
/// fsync. Returns 0 on success, -1 with errno otherwise (a no-op returning 0 elsewhere).
int ccinnabar_start_writeback(int fd);

#endif
