// A thin, safe wrapper over RocksDB's C API: open with column families, get, atomic synced
// write batches, ordered iteration. Everything else in Storage is written against this.
import CRocksDB
import CRocksExtras
import Foundation

/// A RocksDB failure, with RocksDB's own message.
public struct StorageError: Error, CustomStringConvertible, Sendable {
    public let code: String
    public let message: String
    public init(code: String = "storage_error", _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}

/// Calls `body` with a RocksDB error pointer and throws the message RocksDB left there.
private func checked<R>(_ what: String, _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> R) throws -> R {
    var err: UnsafeMutablePointer<CChar>?
    let result = body(&err)
    if let err {
        let message = String(cString: err)
        rocksdb_free(err)
        throw StorageError("\(what): \(message)")
    }
    return result
}

/// One RocksDB database with named column families. Handles are thread-safe in RocksDB;
/// this class only holds them, so it is safe to share.
public final class RocksDB: @unchecked Sendable {
    private var db: OpaquePointer?
    /// Operations hold it shared; `close` holds it exclusive, so nothing runs on a closed handle.
    private let lifetime = ReadWriteLock()
    private let options: OpaquePointer
    private let tableOptions: OpaquePointer
    private let rawOptions: OpaquePointer
    private let lookupOptions: OpaquePointer
    private let rawTableOptions: OpaquePointer
    private let cache: OpaquePointer
    private let handles: [String: OpaquePointer]
    private let syncWrite: OpaquePointer
    private let unsyncedWrite: OpaquePointer
    private let unloggedWrite: OpaquePointer
    private let readOptions: OpaquePointer

    /// A column family's handle, looked up by name at open time.
    public struct Family: @unchecked Sendable {
        fileprivate let handle: OpaquePointer
    }

    /// Opens (creating if needed) the database at `path` with `families` (plus "default").
    /// `incompressible` families hold random bytes (hashes): no compression, 16 KiB blocks.
    /// `missesLookedUp` families are often asked for keys they do not hold: see below.
    public init(path: String, families: [String], incompressible: Set<String> = [], missesLookedUp: Set<String> = [],
                blockCacheBytes: Int = 1 << 30) throws {
        let options = rocksdb_options_create()!
        self.options = options
        rocksdb_options_set_create_if_missing(options, 1)
        rocksdb_options_set_create_missing_column_families(options, 1)
        rocksdb_options_set_paranoid_checks(options, 1)
        rocksdb_options_increase_parallelism(options, 2)
        // Every flush, automatic or `flush()`, commits all families' memtables together: writes
        // made without the WAL (`write(_:logged: false)`) then survive a crash all or none.
        rocksdb_options_set_atomic_flush(options, 1)
        let tableOptions = rocksdb_block_based_options_create()!
        self.tableOptions = tableOptions
        let cache = rocksdb_cache_create_lru(blockCacheBytes)!
        self.cache = cache
        rocksdb_block_based_options_set_block_cache(tableOptions, cache)
        rocksdb_block_based_options_set_filter_policy(tableOptions, rocksdb_filterpolicy_create_bloom(10))
        rocksdb_options_set_block_based_table_factory(options, tableOptions)

        let rawOptions = rocksdb_options_create_copy(options)!
        self.rawOptions = rawOptions
        rocksdb_options_set_compression(rawOptions, 0)  // rocksdb_no_compression
        let rawTable = rocksdb_block_based_options_create()!
        self.rawTableOptions = rawTable
        rocksdb_block_based_options_set_block_cache(rawTable, cache)
        rocksdb_block_based_options_set_block_size(rawTable, 16 << 10)
        rocksdb_block_based_options_set_filter_policy(rawTable, rocksdb_filterpolicy_create_bloom(10))
        rocksdb_options_set_block_based_table_factory(rawOptions, rawTable)

        // Families looked up by keys that are mostly absent (every new record's duplicate check)
        // get a Bloom filter over each memtable's whole keys, so such a miss skips the skip-list
        // search. Not the others: adding every key to the filter costs each insert.
        let lookupOptions = rocksdb_options_create_copy(options)!
        self.lookupOptions = lookupOptions
        rocksdb_options_set_memtable_prefix_bloom_size_ratio(lookupOptions, 0.05)
        rocksdb_options_set_memtable_whole_key_filtering(lookupOptions, 1)

        let names = ["default"] + families
        var cNames = names.map { strdup($0) }
        defer { cNames.forEach { free($0) } }
        let cfOptions: [OpaquePointer?] = names.map {
            incompressible.contains($0) ? rawOptions : missesLookedUp.contains($0) ? lookupOptions : options
        }
        var cfHandles = [OpaquePointer?](repeating: nil, count: names.count)
        let opened: OpaquePointer? = try cNames.withUnsafeMutableBufferPointer { namesPtr in
            try cfOptions.withUnsafeBufferPointer { optsPtr in
                try checked("open \(path)") { err in
                    namesPtr.withMemoryRebound(to: UnsafePointer<CChar>?.self) { constNames in
                        rocksdb_open_column_families(options, path, Int32(names.count), constNames.baseAddress,
                                                     optsPtr.baseAddress, &cfHandles, err)
                    }
                }
            }
        }
        guard let opened else { throw StorageError("open \(path): no database handle") }
        db = opened
        var map: [String: OpaquePointer] = [:]
        for (name, handle) in zip(names, cfHandles) { map[name] = handle! }
        handles = map
        syncWrite = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_sync(syncWrite, 1)
        unsyncedWrite = rocksdb_writeoptions_create()
        unloggedWrite = rocksdb_writeoptions_create()
        rocksdb_writeoptions_disable_WAL(unloggedWrite, 1)
        readOptions = rocksdb_readoptions_create()
        rocksdb_readoptions_set_verify_checksums(readOptions, 1)
    }

    /// Stops background work and closes the database; later operations throw `store_closed`.
    /// Call before the process exits: RocksDB's background threads must not outlive it.
    public func close() {
        lifetime.withWriteLock {
            guard let open = db else { return }
            rocksdb_cancel_all_background_work(open, 1)
            for handle in handles.values { rocksdb_column_family_handle_destroy(handle) }
            rocksdb_close(open)
            db = nil
        }
    }

    /// False once `close` has run. Column-family handles die with the database, so writers check
    /// this before building a batch.
    public var isOpen: Bool { lifetime.withReadLock { db != nil } }

    /// Runs `body` with the open handle, holding off `close` meanwhile.
    private func withOpen<R>(_ body: (OpaquePointer) throws -> R) throws -> R {
        try lifetime.withReadLock {
            guard let open = db else { throw StorageError(code: "store_closed", "the store is closed") }
            return try body(open)
        }
    }

    deinit {
        close()
        rocksdb_writeoptions_destroy(syncWrite)
        rocksdb_writeoptions_destroy(unsyncedWrite)
        rocksdb_writeoptions_destroy(unloggedWrite)
        rocksdb_readoptions_destroy(readOptions)
        rocksdb_options_destroy(options)
        rocksdb_options_destroy(rawOptions)
        rocksdb_options_destroy(lookupOptions)
        rocksdb_block_based_options_destroy(tableOptions)
        rocksdb_block_based_options_destroy(rawTableOptions)
        rocksdb_cache_destroy(cache)
    }

    /// The handle of a column family opened with the database.
    public func family(_ name: String) -> Family {
        guard let handle = handles[name] else { preconditionFailure("column family \(name) was not opened") }
        return Family(handle: handle)
    }

    /// The value at `key`, or nil.
    public func get(_ family: Family, _ key: [UInt8]) throws -> [UInt8]? {
        try withValue(family, key) { $0.map(Array.init) }
    }

    /// Calls `body` with the value at `key` (pinned, not copied), or nil.
    public func withValue<R>(_ family: Family, _ key: [UInt8], _ body: (UnsafeRawBufferPointer?) throws -> R) throws -> R {
        try withOpen { db in
            let pinned = try key.withUnsafeBufferPointer { k in
                try checked("get") { err in
                    k.withMemoryRebound(to: CChar.self) {
                        rocksdb_get_pinned_cf(db, readOptions, family.handle, $0.baseAddress, k.count, err)
                    }
                }
            }
            guard let pinned else { return try body(nil) }
            defer { rocksdb_pinnableslice_destroy(pinned) }
            var length = 0
            let value = rocksdb_pinnableslice_value(pinned, &length)
            return try body(UnsafeRawBufferPointer(start: value, count: length))
        }
    }

    /// Applies `batch` atomically; with `sync`, returns only once it is fsync'd to the WAL.
    /// Without `logged` it skips the WAL altogether: it reaches the disk only with the next flush
    /// (`flush()`, or RocksDB's own when a memtable fills), and a crash before that loses it —
    /// for a caller that keeps the same data durable elsewhere meanwhile.
    public func write(_ batch: WriteBatch, sync: Bool = true, logged: Bool = true) throws {
        precondition(logged || !sync, "an unlogged write cannot be synced")
        let options = sync ? syncWrite : logged ? unsyncedWrite : unloggedWrite
        try withOpen { db in try checked("write") { err in rocksdb_write(db, options, batch.batch, err) } }
    }

    /// Visits (key, value) pairs of `family` in key order from `start` (or the first key) until
    /// `body` returns false. Surfaces read errors (corruption) instead of stopping silently.
    public func scan(_ family: Family, from start: [UInt8]? = nil,
                     _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        try withOpen { db in try scan(db, family, from: start, body) }
    }

    private func scan(_ db: OpaquePointer, _ family: Family, from start: [UInt8]?,
                      _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool) throws {
        let iterator = rocksdb_create_iterator_cf(db, readOptions, family.handle)!
        defer { rocksdb_iter_destroy(iterator) }
        if let start {
            start.withUnsafeBufferPointer { s in
                s.withMemoryRebound(to: CChar.self) { rocksdb_iter_seek(iterator, $0.baseAddress, s.count) }
            }
        } else {
            rocksdb_iter_seek_to_first(iterator)
        }
        while rocksdb_iter_valid(iterator) != 0 {
            var klen = 0, vlen = 0
            let k = rocksdb_iter_key(iterator, &klen)
            let v = rocksdb_iter_value(iterator, &vlen)
            guard try body(UnsafeRawBufferPointer(start: k, count: klen), UnsafeRawBufferPointer(start: v, count: vlen)) else { break }
            rocksdb_iter_next(iterator)
        }
        try checked("scan") { err in rocksdb_iter_get_error(iterator, err) }
    }

    /// Compacts a whole column family (used by tests and by operators before backups).
    public func compact(_ family: Family) throws {
        try withOpen { db in rocksdb_compact_range_cf(db, family.handle, nil, 0, nil, 0) }
    }

    /// Flushes every family's memtables to SST files as one atomic step and waits: when this
    /// returns, every write made before it — logged or not — is durable.
    public func flush() throws {
        var all: [OpaquePointer?] = Array(handles.values)
        try withOpen { db in
            try checked("flush") { err in crocks_flush_families(db, &all, Int32(all.count), err) }
        }
    }
}

/// A POSIX read-write lock.
final class ReadWriteLock: @unchecked Sendable {
    private var lock = pthread_rwlock_t()
    init() { pthread_rwlock_init(&lock, nil) }
    deinit { pthread_rwlock_destroy(&lock) }

    func withReadLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }

    func withWriteLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }
}

/// A set of writes applied atomically by `RocksDB.write`. Not thread-safe: one owner builds it.
public final class WriteBatch {
    fileprivate let batch: OpaquePointer
    public init() { batch = rocksdb_writebatch_create() }
    deinit { rocksdb_writebatch_destroy(batch) }

    public func put(_ family: RocksDB.Family, _ key: [UInt8], _ value: [UInt8]) {
        key.withUnsafeBufferPointer { k in
            value.withUnsafeBufferPointer { v in
                k.withMemoryRebound(to: CChar.self) { kc in
                    v.withMemoryRebound(to: CChar.self) { vc in
                        rocksdb_writebatch_put_cf(batch, family.handle, kc.baseAddress, k.count, vc.baseAddress, v.count)
                    }
                }
            }
        }
    }

    public func delete(_ family: RocksDB.Family, _ key: [UInt8]) {
        key.withUnsafeBufferPointer { k in
            k.withMemoryRebound(to: CChar.self) { rocksdb_writebatch_delete_cf(batch, family.handle, $0.baseAddress, k.count) }
        }
    }

    public var count: Int { Int(rocksdb_writebatch_count(batch)) }
}
