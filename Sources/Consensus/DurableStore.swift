// The durable storage consensus needs (consensus.md §2.8): a few named append-only files with
// an explicit fsync. Two implementations exist: `FileStore` (real files, ConsensusStorage) and
// `SimDisk` (the simulator's disk, which loses unsynced writes on a crash and can tear the tail).

/// A directory of small files that are appended to, synced, truncated and replaced.
///
/// Durability contract: after `sync(name)` returns, the file's current bytes survive a crash.
/// Bytes appended since the last sync may be lost on a crash, wholly or as a prefix (a torn
/// tail). `replace`, `truncate` and `remove` are durable when they return; `replace` is atomic.
public protocol DurableStore: AnyObject {
    /// The file's current bytes, or nil if it does not exist.
    func read(_ name: String) throws -> [UInt8]?
    /// Appends to the file, creating it if needed. Not durable until `sync`.
    func append(_ name: String, _ bytes: [UInt8]) throws
    /// Makes everything appended to the file durable (fsync; also the directory entry if new).
    func sync(_ name: String) throws
    /// Cuts the file to its first `count` bytes, durably.
    func truncate(_ name: String, to count: Int) throws
    /// Replaces the file's whole content atomically and durably.
    func replace(_ name: String, with bytes: [UInt8]) throws
    /// Deletes the file, durably; no error if it does not exist.
    func remove(_ name: String) throws
    /// Deletes the file without waiting for the deletion to be durable: a crash before the next
    /// durable change of the directory may bring it back with its synced bytes. For files whose
    /// return is harmless (a finished height's WAL: the replica removes stale ones on open).
    func discard(_ name: String) throws
    /// The names of the files that exist.
    func names() throws -> [String]
}
