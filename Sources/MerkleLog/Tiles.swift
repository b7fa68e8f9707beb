// C2SP tlog-tiles addressing (tile height 8) and Cinnabar's stored tile layout.
//
// A tile at level L, index N holds the 256 hashes at tree level 8L covering leaves
// [N·256^(L+1), (N+1)·256^(L+1)). Cinnabar stores each tile with its seven interior rows too
// (tree levels 8L+1 … 8L+7), so that a proof reads stored hashes and never re-hashes a tile.
// The C2SP tile served over HTTP is the first row of the stored blob, byte for byte.
import CinnabarCrypto

/// Tile geometry: height 8, so 256 hashes per full tile.
public enum TileGeometry {
    public static let height = 8
    public static let width = 256
    /// The number of stored rows (tree levels) per tile.
    public static let rows = 8
}

/// A tile's address; `width` < 256 marks a partial tile.
public struct TileID: Hashable, Sendable, CustomStringConvertible {
    public let level: UInt8
    public let index: UInt64
    public let width: Int

    public init(level: UInt8, index: UInt64, width: Int = TileGeometry.width) {
        precondition(width >= 1 && width <= TileGeometry.width, "tile width out of range")
        self.level = level
        self.index = index
        self.width = width
    }

    public var isPartial: Bool { width < TileGeometry.width }

    /// The C2SP path below `tile/`: `<L>/<N>[.p/<W>]`, N in 3-digit `x`-prefixed elements.
    public var path: String { "\(level)/" + TileID.encodeIndex(index) + (isPartial ? ".p/\(width)" : "") }

    /// The C2SP path of the entry bundle with the same index and width: `entries/<N>[.p/<W>]`.
    public var entriesPath: String { "entries/" + TileID.encodeIndex(index) + (isPartial ? ".p/\(width)" : "") }

    public var description: String { "tile/" + path }

    /// Encodes a tile index as zero-padded 3-digit path elements, all but the last prefixed by `x`
    /// (1234067 → `x001/x234/067`).
    public static func encodeIndex(_ index: UInt64) -> String {
        var groups: [String] = []
        var n = index
        repeat {
            let g = String(n % 1000)
            groups.append(String(repeating: "0", count: 3 - g.count) + g)
            n /= 1000
        } while n > 0
        return groups.reversed().enumerated().map { i, g in i < groups.count - 1 ? "x" + g : g }.joined(separator: "/")
    }

    /// Parses path elements after `tile/<L>/` or `tile/entries/`: the index elements and an
    /// optional `.p/<W>` suffix. Rejects anything a C2SP client could not have produced.
    public static func parseIndexAndWidth(_ elements: [Substring]) -> (index: UInt64, width: Int)? {
        var elements = elements
        var width = TileGeometry.width
        if elements.count >= 2, elements[elements.count - 2].hasSuffix(".p") {
            let w = elements.removeLast()
            guard let wv = Int(w), wv >= 1, wv <= 255, String(wv) == w else { return nil }
            width = wv
            let last = elements.removeLast()
            elements.append(last.dropLast(2))
        }
        guard !elements.isEmpty, elements.count <= 7 else { return nil }
        // Canonical only: encodeIndex never writes a leading all-zero group (`x000/001` is `001`).
        guard elements.count == 1 || elements[0] != "x000" else { return nil }
        var index: UInt64 = 0
        for (i, element) in elements.enumerated() {
            var digits = element
            if i < elements.count - 1 {
                guard digits.first == "x" else { return nil }
                digits = digits.dropFirst()
            }
            guard digits.count == 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let v = UInt64(digits) else { return nil }
            let (m, o1) = index.multipliedReportingOverflow(by: 1000)
            let (s, o2) = m.addingReportingOverflow(v)
            guard !o1, !o2 else { return nil }
            index = s
        }
        return (index, width)
    }

    /// The tile that holds the stored hash of `node`, and the node's (row, position) within it.
    public static func locate(_ node: NodeID) -> (level: UInt8, index: UInt64, row: Int, offset: Int) {
        let level = node.level / 8
        let row = Int(node.level % 8)
        let perTile = UInt64(TileGeometry.width >> row)
        return (level, node.index / perTile, row, Int(node.index % perTile))
    }

    /// The width of the rightmost tile at `level` in a tree of `size` leaves (0: no partial tile).
    public static func partialWidth(level: UInt8, size: UInt64) -> Int {
        let shift = UInt64(level) * 8
        return shift >= 64 ? 0 : Int((size >> shift) & 0xFF)
    }

    /// The number of tile levels a tree of `size` leaves has (levels with at least one hash).
    public static func levelCount(size: UInt64) -> Int {
        var levels = 0
        var n = size
        while n > 0 { levels += 1; n >>= 8 }
        return levels
    }
}

/// The hashes of one stored tile: row 0 is the C2SP tile, row r holds the level-(8L+r) hashes.
public struct StoredTile: Sendable, Equatable {
    /// rows[r] has `width >> r` hashes.
    public private(set) var rows: [[Hash]]

    public init() { rows = Array(repeating: [], count: TileGeometry.rows) }

    public var width: Int { rows[0].count }
    public var isFull: Bool { width == TileGeometry.width }

    /// Appends a row-0 hash and every interior hash it completes. Returns the tile's root
    /// (a level-8(L+1) hash) when this append fills the tile.
    public mutating func append(_ hash: Hash) -> Hash? {
        precondition(!isFull, "append to a full tile")
        rows[0].append(hash)
        var r = 0
        while r + 1 < TileGeometry.rows, rows[r].count % 2 == 0 {
            let c = rows[r].count
            rows[r + 1].append(RFC6962.nodeHash(rows[r][c - 2], rows[r][c - 1]))
            r += 1
        }
        return isFull ? RFC6962.nodeHash(rows[7][0], rows[7][1]) : nil
    }

    /// The bytes served at `tile/L/N[.p/W]` for width `w` (≤ stored width): the first w row-0 hashes.
    public func c2spBytes(width w: Int) -> [UInt8] {
        precondition(w <= width, "tile narrower than requested")
        var out = [UInt8]()
        out.reserveCapacity(w * 32)
        for h in rows[0][..<w] { h.withUnsafeBytes { out.append(contentsOf: $0) } }
        return out
    }

    /// Storage encoding: all rows, row 0 first, 32 bytes per hash (a full tile is 510 hashes).
    public func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(rows.reduce(0) { $0 + $1.count } * 32)
        for row in rows { for h in row { h.withUnsafeBytes { out.append(contentsOf: $0) } } }
        return out
    }

    /// Decodes `encoded()`; nil if the byte count matches no width.
    public init?(encoded bytes: UnsafeRawBufferPointer) {
        let count = bytes.count / 32
        guard bytes.count % 32 == 0 else { return nil }
        guard let width = StoredTile.widthForHashCount[count] else { return nil }
        rows = []
        var at = 0
        for r in 0..<TileGeometry.rows {
            var row: [Hash] = []
            row.reserveCapacity(width >> r)
            for _ in 0..<(width >> r) {
                row.append(Hash(copying: UnsafeRawBufferPointer(rebasing: bytes[at..<at + 32])))
                at += 32
            }
            rows.append(row)
        }
    }

    /// Reads one stored hash straight from `encoded()` bytes, without decoding the tile
    /// (the proof path reads ~8 hashes of a 510-hash level-0 tile). Nil if out of range.
    public static func hash(inEncoded raw: UnsafeRawBufferPointer, row: Int, offset: Int) -> Hash? {
        guard raw.count % 32 == 0, let width = widthForHashCount[raw.count / 32], row < TileGeometry.rows,
              offset >= 0, offset < width >> row else { return nil }
        var start = 0
        for r in 0..<row { start += width >> r }
        let at = (start + offset) * 32
        return Hash(copying: UnsafeRawBufferPointer(rebasing: raw[at..<at + 32]))
    }

    /// Stored hash count (all rows) → tile width.
    private static let widthForHashCount: [Int: Int] = Dictionary(uniqueKeysWithValues: (1...TileGeometry.width).map { w in
        ((0..<TileGeometry.rows).reduce(0) { $0 + (w >> $1) }, w)
    })

    /// Recomputes every interior row from row 0; true iff they match what is stored.
    public func interiorIsConsistent() -> Bool {
        var rebuilt = StoredTile()
        for h in rows[0] { _ = rebuilt.append(h) }
        return rebuilt == self
    }
}

/// Reads stored hashes from tiles fetched through a closure (a store, a cache, a dictionary).
public struct TileHashReader: HashReader {
    /// Returns the stored tile at (level, index), of any width that covers the nodes asked for.
    public let tile: (UInt8, UInt64) throws -> StoredTile?

    public init(tile: @escaping (UInt8, UInt64) throws -> StoredTile?) { self.tile = tile }

    public struct MissingHash: Error, CustomStringConvertible {
        public let node: NodeID
        public init(node: NodeID) { self.node = node }
        public var description: String { "stored hash \(node) is missing" }
    }

    public func hashes(of nodes: [NodeID]) throws -> [Hash] {
        var cache: [TileKey: StoredTile] = [:]
        return try nodes.map { node in
            let at = TileID.locate(node)
            let key = TileKey(level: at.level, index: at.index)
            let t: StoredTile
            if let hit = cache[key] { t = hit } else {
                guard let fetched = try tile(at.level, at.index) else { throw MissingHash(node: node) }
                cache[key] = fetched
                t = fetched
            }
            guard at.offset < t.rows[at.row].count else { throw MissingHash(node: node) }
            return t.rows[at.row][at.offset]
        }
    }
}

/// A tile's (level, index) without width: the key tiles are stored and cached under.
public struct TileKey: Hashable, Sendable {
    public let level: UInt8
    public let index: UInt64
    public init(level: UInt8, index: UInt64) { self.level = level; self.index = index }
}
