// SHA-256 through OpenSSL 3 with the digest fetched once and one reusable context per thread.
// OpenSSL's EVP_sha256()/SHA256() one-shots do a provider lookup per call and run 2.6-3.3x slower
// (notes-swift-on-this-machine.md). Two Linux calls Glibc's Swift module does not export (early
// write-back, the allocator's settings). And Ed25519 verification with a precomputed table per
// public key (ed25519_tables.c).
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

/// Keeps buffers of up to 32 MB in the heap and trims it only past 256 MB (glibc mallopt), so
/// that a node's per-block buffers are not mapped, faulted in and unmapped for every block.
/// Call once at process start. Returns 0, or −1 if the allocator refused a setting.
int ccinnabar_tune_malloc(void);

/// The verification table of one Ed25519 public key: 165 KB, immutable once built, safe to share
/// between threads.
typedef struct ccinnabar_ed25519_table ccinnabar_ed25519_table;

/// Builds the table of `key` (under a millisecond). NULL if the key is not the canonical encoding
/// of a point of prime order (crypto_core_ed25519_is_valid_point), if the libsodium loaded is not
/// 1.0.18 (whose verify this matches), or if memory ran out: verify such a key with libsodium.
ccinnabar_ed25519_table *ccinnabar_ed25519_table_new(const uint8_t key[32]);

void ccinnabar_ed25519_table_free(ccinnabar_ed25519_table *table);

/// 0 iff `signature` is a valid Ed25519 signature of `message` by the table's key: the same
/// predicate as libsodium's crypto_sign_verify_detached, several times faster. −1 otherwise.
int ccinnabar_ed25519_verify(const ccinnabar_ed25519_table *table, const uint8_t signature[64],
                             const uint8_t *message, size_t length);

/// For tests: out = the encoding of [s]B − [h]A, for the table's key A and scalars below 2^253.
void ccinnabar_ed25519_combination(const ccinnabar_ed25519_table *table, const uint8_t s[32],
                                   const uint8_t h[32], uint8_t out[32]);

#endif
