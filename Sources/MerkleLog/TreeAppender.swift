// The incremental RFC 6962 tree: append leaf hashes, compute each interior hash exactly once,
// and hand back the tiles that changed so storage can write them with the leaves.
import CinnabarCrypto

/// The right edge of a growing tree, kept as the rightmost (partial) tile of every level.
/// Memory is bounded by 8 tiles per 64 bits of size, whatever the tree's size.
public struct TreeAppender: Sendable {
    /// Number of leaves appended so far.
    public private(set) var size: UInt64
    /// partials[L] is the rightmost, not yet full, tile at level L (possibly empty).
    private var partials: [StoredTile]
    /// Tiles that became full since the last `takeChangedTiles()`.
    private var completed: [(TileKey, StoredTile)] = []
    /// Levels whose partial tile received a hash since the last `takeChangedTiles()`, one bit per
    /// level (a 64-bit tree has at most 8 tile levels).
    private var touched: UInt32 = 0

    /// An empty tree.
    public init() {
        size = 0
        partials = []
    }

    /// Resumes a tree of `size` leaves from its rightmost tiles, as `partialTileKeys(size:)` lists
    /// them. Each tile may be wider than needed (it is cut to the width that `size` implies).
    /// Returns nil if a tile is missing or too narrow.
    public init?(size: UInt64, rightmostTiles: [TileKey: StoredTile]) {
        self.size = size
        partials = []
        for level in 0..<TileID.levelCount(size: size) {
            let width = TileID.partialWidth(level: UInt8(level), size: size)
            var tile = StoredTile()
            if width > 0 {
                guard let stored = rightmostTiles[TreeAppender.partialKey(level: UInt8(level), size: size)],
                      stored.width >= width else { return nil }
                for h in stored.rows[0][..<width] { _ = tile.append(h) }
            }
            partials.append(tile)
        }
    }

    /// The keys of the rightmost tiles a tree of `size` leaves needs to resume appending.
    public static func partialTileKeys(size: UInt64) -> [TileKey] {
        (0..<TileID.levelCount(size: size)).compactMap { level in
            TileID.partialWidth(level: UInt8(level), size: size) > 0 ? partialKey(level: UInt8(level), size: size) : nil
        }
    }

    private static func partialKey(level: UInt8, size: UInt64) -> TileKey {
        let shift = (UInt64(level) + 1) * 8
        return TileKey(level: level, index: shift >= 64 ? 0 : size >> shift)
    }

    /// Appends one leaf hash (RFC 6962 `0x00 ‖ data` already applied).
    public mutating func append(leafHash: Hash) {
        precondition(size < UInt64.max, "tree is full")
        var hash = leafHash
        var level: UInt8 = 0
        while true {
            if Int(level) == partials.count { partials.append(StoredTile()) }
            touched |= 1 << UInt32(level)
            let index = TreeAppender.partialKey(level: level, size: size).index
            guard let root = partials[Int(level)].append(hash) else { break }
            // The tile is full: store it, start the next, and carry its root one tile level up.
            completed.append((TileKey(level: level, index: index), partials[Int(level)]))
            partials[Int(level)] = StoredTile()
            hash = root
            level += 1
        }
        size += 1
    }

    /// The root hash of the current tree (MTH of all leaves appended).
    public var rootHash: Hash {
        // The right edge: one complete subtree per set bit of `size`, smallest first.
        var edge: [Hash] = []
        for tile in partials {
            for row in tile.rows where row.count % 2 == 1 { edge.append(row.last!) }
        }
        guard var h = edge.first else { return RFC6962.emptyRoot }
        for bigger in edge.dropFirst() { h = RFC6962.nodeHash(bigger, h) }
        return h
    }

    /// The tiles to write since the last call: every tile that became full, then every partial
    /// tile that changed (under the key a reader will ask for). Empty partial tiles are skipped.
    public mutating func takeChangedTiles() -> [(TileKey, StoredTile)] {
        var out = completed
        for level in 0..<partials.count where touched & (1 << UInt32(level)) != 0 && partials[level].width > 0 {
            out.append((TreeAppender.partialKey(level: UInt8(level), size: size), partials[level]))
        }
        completed = []
        touched = 0
        return out
    }
}
