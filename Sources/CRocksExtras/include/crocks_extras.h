// What RocksDB 7.8's C API lacks and Cinnabar needs: flushing several column families as one
// atomic step (C++ `DB::Flush(options, column_families)`; the C API gained it as
// `rocksdb_flush_cfs` only in later releases).
#ifndef CROCKS_EXTRAS_H
#define CROCKS_EXTRAS_H

#include <rocksdb/c.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Flushes the memtables of `count` column families and waits. With the database's
/// `atomic_flush` option on, their SST files are committed to the MANIFEST all or none. On
/// failure `*errptr` receives a message to free with `rocksdb_free`.
void crocks_flush_families(rocksdb_t *db, rocksdb_column_family_handle_t **families, int count, char **errptr);

#ifdef __cplusplus
}
#endif

#endif
