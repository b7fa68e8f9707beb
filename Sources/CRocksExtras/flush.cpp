// See crocks_extras.h. The C API's handles are one-pointer wrappers around the C++ objects; these
// are the same definitions as RocksDB's own c.cc, so the C and C++ views of a handle agree.
#include "crocks_extras.h"

#include <rocksdb/db.h>
#include <rocksdb/version.h>

// The handle layout below is 7.x's (8.x appends a field and has rocksdb_flush_cfs: use that).
static_assert(ROCKSDB_MAJOR == 7, "RocksDB 8 has rocksdb_flush_cfs in its C API: call it instead");

#include <cstdlib>
#include <cstring>
#include <vector>

struct rocksdb_t { rocksdb::DB *rep; };
struct rocksdb_column_family_handle_t { rocksdb::ColumnFamilyHandle *rep; };

extern "C" void crocks_flush_families(rocksdb_t *db, rocksdb_column_family_handle_t **families, int count, char **errptr) {
    std::vector<rocksdb::ColumnFamilyHandle *> handles;
    handles.reserve(count);
    for (int i = 0; i < count; i++) handles.push_back(families[i]->rep);
    rocksdb::FlushOptions options;
    options.wait = true;
    rocksdb::Status status = db->rep->Flush(options, handles);
    if (!status.ok()) {
        std::string message = status.ToString();
        *errptr = static_cast<char *>(std::malloc(message.size() + 1));
        if (*errptr) std::memcpy(*errptr, message.c_str(), message.size() + 1);
    }
}
