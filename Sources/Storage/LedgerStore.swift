// The node's durable log in one RocksDB: leaves, hash tiles, blocks and their signed checkpoints.
// A block is written as one atomic, fsync'd WriteBatch; restart reads only the tip and the
// rightmost tiles, never the whole log.
import CinnabarCrypto
import Foundation
import Ledger
import MerkleLog
import Synchronization

/// What one committed block records besides its leaves.
public struct BlockRecord: Equatable, Sendable {
    /// Block height, from 1.
    public let height: UInt64
    /// Index of the block's first leaf (the tree size before it).
    public let firstIndex: UInt64
    /// Tree size after the block (its trailer is leaf `size − 1`).
    public let size: UInt64
    /// Root of the tree of `size` leaves.
    public let root: Hash
    /// Block time, Unix milliseconds (also in the trailer).
    public let timeMillis: UInt64
    /// The signature lines on checkpoint(height − 1) embedded in this block ("" at height 1).
    public let embeddedSignatures: String

    public init(height: UInt64, firstIndex: UInt64, size: UInt64, root: Hash, timeMillis: UInt64, embeddedSignatures: String) {
        self.height = height
        self.firstIndex = firstIndex
        self.size = size
        self.root = root
        self.timeMillis = timeMillis
        self.embeddedSignatures = embeddedSignatures
    }

    var encoded: [UInt8] {
        var w = BinaryWriter()
        w.u64(height)
        w.u64(firstIndex)
        w.u64(size)
        w.hash(root)
        w.u64(timeMillis)
        w.blob(Array(embeddedSignatures.utf8))
        return w.bytes
    }

    init?(encoded: [UInt8]) {
        var r = BinaryReader(encoded)
        guard let height = r.u64(), let firstIndex = r.u64(), let size = r.u64(), let root = r.hash(),
              let time = r.u64(), let sigs = r.blob(), r.isAtEnd,
              let text = String(validating: sigs, as: UTF8.self) else { return nil }
        self.init(height: height, firstIndex: firstIndex, size: size, root: root, timeMillis: time, embeddedSignatures: text)
    }
}

/// Everything one block adds to the store, written in a single atomic batch.
public struct BlockCommit: Sendable {
    public let record: BlockRecord
    /// The block's leaves in order, the trailer last.
    public let leaves: [[UInt8]]
    /// Tiles that changed, from `TreeAppender.takeChangedTiles()`.
    public let tiles: [(TileKey, StoredTile)]
    /// The commit certificate that decided the block (consensus.md §2.9), if any.
    public let certificate: [UInt8]?
    /// Derived state (indexes) the block's entries produce, written in the same batch.
    public let derived: [(key: [UInt8], value: [UInt8])]

    public init(record: BlockRecord, leaves: [[UInt8]], tiles: [(TileKey, StoredTile)],
                certificate: [UInt8]? = nil, derived: [(key: [UInt8], value: [UInt8])] = []) {
        precondition(UInt64(leaves.count) == record.size - record.firstIndex, "leaf count does not match the block")
        self.record = record
        self.leaves = leaves
        self.tiles = tiles
        self.certificate = certificate
        self.derived = derived
    }
}

/// The RocksDB-backed log of one node. Safe to share between threads: RocksDB is thread-safe,
/// and the in-memory tile caches are behind locks. Only one writer (the node) calls `commit`.
public final class LedgerStore: @unchecked Sendable {
    /// Column families (DESIGN.md §1 Storage).
    public enum Families {
        public static let leaves = "leaves"
        public static let tiles = "tiles"
        public static let blocks = "blocks"
        public static let checkpoints = "checkpoints"
        public static let meta = "meta"
        /// Derived state: record, code, history and subject indexes (rebuildable from the leaves).
        public static let index = "index"
        public static let all = [leaves, tiles, blocks, checkpoints, meta, index]
    }

    public let db: RocksDB
    private let leavesCF, tilesCF, blocksCF, checkpointsCF, metaCF, indexCF: RocksDB.Family
    private let tipRecord: Mutex<BlockRecord?>
    /// A block committed but not yet published (its checkpoint not yet signed).
    private let unpublished = Mutex<BlockRecord?>(nil)
    /// True after an `.untilFlushed` write that no `flush()` has covered yet.
    private let unflushed = Mutex(false)
    /// Latest partial tile per key, as last committed.
    private let partialTiles = Mutex<[TileKey: StoredTile]>([:])
    /// Full tiles never change: a two-generation cache (approximate LRU, O(1) per operation).
    private let fullTiles = Mutex<(current: [TileKey: StoredTile], previous: [TileKey: StoredTile])>(([:], [:]))
    private let fullTileCacheCapacity: Int

    /// Opens or creates the store in `directory`.
    public init(directory: String, fullTileCacheCapacity: Int = 8192) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        db = try RocksDB(path: directory, families: Families.all, incompressible: [Families.tiles], missesLookedUp: [Families.index])
        leavesCF = db.family(Families.leaves)
        tilesCF = db.family(Families.tiles)
        blocksCF = db.family(Families.blocks)
        checkpointsCF = db.family(Families.checkpoints)
        metaCF = db.family(Families.meta)
        indexCF = db.family(Families.index)
        self.fullTileCacheCapacity = fullTileCacheCapacity
        var tip: BlockRecord? = nil
        if let raw = try db.get(metaCF, Keys.tip) {
            var r = BinaryReader(raw)
            guard let height = r.u64(), r.isAtEnd, let record = try LedgerStore.readBlock(db, blocksCF, height: height) else {
                throw StorageError(code: "store_corrupt", "the tip record points to a missing block")
            }
            tip = record
        }
        tipRecord = Mutex(tip)
    }

    enum Keys {
        static let tip = Array("tip".utf8)
        static func u64(_ v: UInt64) -> [UInt8] { var w = BinaryWriter(); w.u64(v); return w.bytes }
        static func tile(_ key: TileKey) -> [UInt8] { var w = BinaryWriter(); w.u8(key.level); w.u64(key.index); return w.bytes }
        static func blockByHeight(_ h: UInt64) -> [UInt8] { [UInt8(ascii: "h")] + u64(h) }
        static func blockByEnd(_ size: UInt64) -> [UInt8] { [UInt8(ascii: "s")] + u64(size) }
        static func certificate(_ h: UInt64) -> [UInt8] { [UInt8(ascii: "c")] + u64(h) }
    }

    // MARK: Writing

    /// How a write reaches the disk.
    public enum Durability: Sendable {
        /// In RocksDB's WAL, fsync'd before the call returns: survives any crash at once.
        case synced
        /// In RocksDB's WAL, not fsync'd: survives a killed process, not a power cut.
        case logged
        /// In the memtables only, written once, to SST files, by the next `flush()`. The caller
        /// keeps the same data durable elsewhere until then (the one-validator sequencer: the
        /// consensus WAL of the height that decided it); a crash before the flush loses it, with
        /// everything written after it, all or none (the flush is atomic across families).
        case untilFlushed
    }

    /// Writes a block atomically, durably as `durability` says. Readers see it as the tip once
    /// `publish(height:signedCheckpoint:)` stores its signed checkpoint.
    public func commit(_ block: BlockCommit, durability: Durability = .synced) throws {
        guard db.isOpen else { throw StorageError(code: "store_closed", "the store is closed") }
        let batch = WriteBatch()
        for (i, leaf) in block.leaves.enumerated() {
            batch.put(leavesCF, Keys.u64(block.record.firstIndex + UInt64(i)), leaf)
        }
        for (key, tile) in block.tiles { batch.put(tilesCF, Keys.tile(key), tile.encoded()) }
        batch.put(blocksCF, Keys.blockByHeight(block.record.height), block.record.encoded)
        batch.put(blocksCF, Keys.blockByEnd(block.record.size), Keys.u64(block.record.height))
        if let certificate = block.certificate { batch.put(blocksCF, Keys.certificate(block.record.height), certificate) }
        batch.put(metaCF, Keys.tip, Keys.u64(block.record.height))
        // In key order (stable: a key written twice keeps its last value last): each memtable
        // insert then starts its search from where the previous one ended, instead of from the
        // top of the skip list (index keys are hashes, so the plan's order is random).
        let order = block.derived.indices.sorted { a, b in
            let ka = block.derived[a].key, kb = block.derived[b].key
            return ka.lexicographicallyPrecedes(kb) || (ka == kb && a < b)
        }
        for i in order { batch.put(indexCF, block.derived[i].key, block.derived[i].value) }
        try write(batch, durability)

        partialTiles.withLock { partials in
            for (key, tile) in block.tiles {
                if tile.isFull { partials[key] = nil } else { partials[key] = tile }
            }
        }
        for (key, tile) in block.tiles where tile.isFull { cacheFullTile(key, tile) }
        unpublished.withLock { $0 = block.record }
    }

    private func write(_ batch: WriteBatch, _ durability: Durability) throws {
        switch durability {
        case .synced, .logged:
            // A crash keeps logged writes made after the last flush, never unlogged ones: a logged
            // write after unflushed ones (say, a block's checkpoint after the block) could survive
            // without them. Flush them first. (The sequencer never does this; this keeps it so.)
            if hasUnflushedWrites { try flush() }
            try db.write(batch, sync: durability == .synced)
        case .untilFlushed:
            try db.write(batch, sync: false, logged: false)
            unflushed.withLock { $0 = true }  // after the write: a flush racing with it leaves the mark
        }
    }

    /// True if an `.untilFlushed` write was made since the last `flush()`.
    public var hasUnflushedWrites: Bool { unflushed.withLock { $0 } }

    /// Makes every write so far durable, `.untilFlushed` ones included: one atomic flush of every
    /// column family's memtables to SST files.
    public func flush() throws {
        guard db.isOpen else { throw StorageError(code: "store_closed", "the store is closed") }
        // Cleared before the flush: an unlogged write racing with it marks the store again.
        unflushed.withLock { $0 = false }
        do { try db.flush() } catch {
            unflushed.withLock { $0 = true }
            throw error
        }
    }

    /// Stores the signed checkpoint of the last committed block and makes that block the tip
    /// readers see. Never synced: a checkpoint lost in a crash is signed again on restart (the
    /// signer guard returns the same signature). Write it as its block was written (`.logged`
    /// after a `.synced` block, `.untilFlushed` after an `.untilFlushed` one), so that a crash
    /// never keeps the checkpoint of a block it lost.
    public func publish(height: UInt64, signedCheckpoint: String, durability: Durability = .logged) throws {
        guard db.isOpen else { throw StorageError(code: "store_closed", "the store is closed") }
        let pending = unpublished.withLock { $0 }
        guard let record = pending?.height == height ? pending : try LedgerStore.readBlock(db, blocksCF, height: height) else {
            throw StorageError(code: "store_inconsistent", "no block \(height) to publish")
        }
        let batch = WriteBatch()
        batch.put(checkpointsCF, Keys.u64(height), Array(signedCheckpoint.utf8))
        try write(batch, durability == .synced ? .logged : durability)
        unpublished.withLock { if $0?.height == height { $0 = nil } }
        tipRecord.withLock { $0 = record }
    }

    /// The commit certificate stored with block `height`, if any.
    public func certificate(height: UInt64) throws -> [UInt8]? {
        try db.get(blocksCF, Keys.certificate(height))
    }

    /// Closes the database (see `RocksDB.close`).
    public func close() { db.close() }

    // MARK: Reading

    /// The last durable block, or nil for an empty store.
    public var tip: BlockRecord? { tipRecord.withLock { $0 } }

    /// The tree size of the last durable block (0 when empty).
    public var size: UInt64 { tip?.size ?? 0 }

    /// The data of leaf `index`, tag byte included.
    public func leaf(at index: UInt64) throws -> [UInt8]? {
        try db.get(leavesCF, Keys.u64(index))
    }

    /// `count` consecutive leaves from `index` (fewer if the log ends first).
    public func leaves(from index: UInt64, count: Int) throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(count)
        var expected = index
        try db.scan(leavesCF, from: Keys.u64(index)) { key, value in
            guard out.count < count, BinaryReader(key).u64Value == expected else { return false }
            out.append(Array(value))
            expected += 1
            return true
        }
        return out
    }

    /// The stored tile (all rows) at (level, index), whatever its current width.
    public func tile(level: UInt8, index: UInt64) throws -> StoredTile? {
        let key = TileKey(level: level, index: index)
        if let partial = partialTiles.withLock({ $0[key] }) { return partial }
        if let cached = cachedFullTile(key) { return cached }
        let tile: StoredTile? = try db.withValue(tilesCF, Keys.tile(key)) { raw in
            guard let raw else { return nil }
            guard let tile = StoredTile(encoded: raw) else {
                throw StorageError(code: "store_corrupt", "tile \(level)/\(index) has an impossible length \(raw.count)")
            }
            return tile
        }
        if let tile, tile.isFull, level > 0 { cacheFullTile(key, tile) }
        return tile
    }

    /// Stored hashes for proofs, read through the caches.
    public var hashReader: StoreHashReader { StoreHashReader(store: self) }

    /// The hashes at (row, offset) positions of tile (level, index). Partial and cached tiles are
    /// read from memory; other level-0 tiles straight from RocksDB's pinned value, without
    /// decoding (there are too many to cache, and a proof needs only a few of their hashes);
    /// higher tiles are decoded once and cached.
    func hashes(level: UInt8, index: UInt64, positions: [(row: Int, offset: Int)]) throws -> [Hash]? {
        let key = TileKey(level: level, index: index)
        func pick(_ tile: StoredTile) -> [Hash]? {
            var out: [Hash] = []
            out.reserveCapacity(positions.count)
            for p in positions {
                guard p.offset < tile.rows[p.row].count else { return nil }
                out.append(tile.rows[p.row][p.offset])
            }
            return out
        }
        if let partial = partialTiles.withLock({ $0[key] }) { return pick(partial) }
        if let cached = cachedFullTile(key) { return pick(cached) }
        if level > 0 { return try tile(level: level, index: index).flatMap(pick) }
        return try db.withValue(tilesCF, Keys.tile(key)) { raw -> [Hash]? in
            guard let raw else { return nil }
            var out: [Hash] = []
            out.reserveCapacity(positions.count)
            for p in positions {
                guard let h = StoredTile.hash(inEncoded: raw, row: p.row, offset: p.offset) else { return nil }
                out.append(h)
            }
            return out
        }
    }

    /// The rightmost tiles needed to resume appending at the tip.
    public func rightmostTiles() throws -> [TileKey: StoredTile] {
        var out: [TileKey: StoredTile] = [:]
        for key in TreeAppender.partialTileKeys(size: size) {
            if let t = try tile(level: key.level, index: key.index) { out[key] = t }
        }
        return out
    }

    /// The signed checkpoint note of block `height`.
    public func checkpoint(height: UInt64) throws -> String? {
        try db.get(checkpointsCF, Keys.u64(height)).flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// A derived-state value by key.
    public func indexValue(_ key: [UInt8]) throws -> [UInt8]? { try db.get(indexCF, key) }

    /// Derived-state entries whose keys start with `prefix`, in key order (at most `limit`).
    public func indexEntries(prefix: [UInt8], limit: Int = 10_000) throws -> [(key: [UInt8], value: [UInt8])] {
        var out: [(key: [UInt8], value: [UInt8])] = []
        try db.scan(indexCF, from: prefix) { key, value in
            guard out.count < limit, key.starts(with: prefix) else { return false }
            out.append((Array(key), Array(value)))
            return true
        }
        return out
    }

    /// The record of block `height`.
    public func block(height: UInt64) throws -> BlockRecord? {
        try LedgerStore.readBlock(db, blocksCF, height: height)
    }

    /// The block that contains leaf `index` (the first block whose end size exceeds it).
    public func block(containingLeaf index: UInt64) throws -> BlockRecord? {
        guard index < size else { return nil }
        var height: UInt64?
        try db.scan(blocksCF, from: Keys.blockByEnd(index + 1)) { key, value in
            if key.first == UInt8(ascii: "s") { height = BinaryReader(value).u64Value }
            return false
        }
        return try height.flatMap { try block(height: $0) }
    }

    private static func readBlock(_ db: RocksDB, _ cf: RocksDB.Family, height: UInt64) throws -> BlockRecord? {
        guard let raw = try db.get(cf, Keys.blockByHeight(height)) else { return nil }
        guard let record = BlockRecord(encoded: raw) else {
            throw StorageError(code: "store_corrupt", "block \(height) record is malformed")
        }
        return record
    }

    private func cachedFullTile(_ key: TileKey) -> StoredTile? {
        fullTiles.withLock { cache in
            if let hit = cache.current[key] { return hit }
            guard let old = cache.previous[key] else { return nil }
            cache.current[key] = old
            return old
        }
    }

    private func cacheFullTile(_ key: TileKey, _ tile: StoredTile) {
        fullTiles.withLock { cache in
            if cache.current.count >= fullTileCacheCapacity / 2 {
                cache.previous = cache.current
                cache.current = [:]
            }
            cache.current[key] = tile
        }
    }
}

/// Reads stored hashes from a `LedgerStore`, grouping the nodes of a proof by tile.
public struct StoreHashReader: HashReader {
    let store: LedgerStore

    public func hashes(of nodes: [NodeID]) throws -> [Hash] {
        var out = [Hash](repeating: .zero, count: nodes.count)
        var done = [Bool](repeating: false, count: nodes.count)
        let located = nodes.map(TileID.locate)
        for i in nodes.indices where !done[i] {
            let (level, index) = (located[i].level, located[i].index)
            var members: [Int] = []
            for j in i..<nodes.count where !done[j] && located[j].level == level && located[j].index == index {
                members.append(j)
                done[j] = true
            }
            let positions = members.map { (row: located[$0].row, offset: located[$0].offset) }
            guard let found = try store.hashes(level: level, index: index, positions: positions) else {
                throw TileHashReader.MissingHash(node: nodes[i])
            }
            for (k, j) in members.enumerated() { out[j] = found[k] }
        }
        return out
    }
}
