// Shared fixtures for the MerkleLog tests: the RFC 6962 vector file, an independent reference
// implementation of RFC 9162 §2.1 (MTH, PATH, PROOF) written straight from the RFC's recursion,
// a seeded PRNG, and an in-memory tile store fed by TreeAppender.takeChangedTiles().
import CinnabarCrypto
import Foundation
import MerkleLog
import XCTest

// MARK: - Vectors

/// Tests/Vectors/rfc6962.json, decoded.
struct RFC6962Vectors: Decodable, Sendable {
    struct Inclusion: Decodable, Sendable {
        let index: UInt64
        let size: UInt64
        let proof: [String]
        enum CodingKeys: String, CodingKey { case index = "Index", size = "Size", proof = "Proof" }
    }

    struct Consistency: Decodable, Sendable {
        let from: UInt64
        let to: UInt64
        let proof: [String]
        enum CodingKeys: String, CodingKey { case from = "From", to = "To", proof = "Proof" }
    }

    let leavesHex: [String]
    let leafHashes: [String]
    let roots: [String]
    let inclusion: [Inclusion]
    let consistency: [Consistency]

    enum CodingKeys: String, CodingKey {
        case leavesHex = "leaves_hex", leafHashes = "leaf_hashes", roots, inclusion, consistency
    }

    static func load(file: StaticString = #filePath, line: UInt = #line) throws -> RFC6962Vectors {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // MerkleLogTests
            .deletingLastPathComponent()  // Tests
            .appendingPathComponent("Vectors")
            .appendingPathComponent("rfc6962.json")
        let data = try Data(contentsOf: url)
        let vectors = try JSONDecoder().decode(RFC6962Vectors.self, from: data)
        XCTAssertEqual(vectors.leavesHex.count, 8, "the vector tree has 8 leaves", file: file, line: line)
        XCTAssertEqual(vectors.leafHashes.count, vectors.leavesHex.count, file: file, line: line)
        XCTAssertEqual(vectors.roots.count, vectors.leavesHex.count + 1, file: file, line: line)
        XCTAssertFalse(vectors.inclusion.isEmpty, file: file, line: line)
        XCTAssertFalse(vectors.consistency.isEmpty, file: file, line: line)
        return vectors
    }

    /// Leaf data, decoded from hex.
    func leafData() throws -> [[UInt8]] { try leavesHex.map { try hexBytes($0) } }
    func leafHashValues() throws -> [Hash] { try leafHashes.map { try hash64($0) } }
    func rootValues() throws -> [Hash] { try roots.map { try hash64($0) } }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
}

func hexBytes(_ hex: String) throws -> [UInt8] {
    let chars = Array(hex.utf8)
    guard chars.count % 2 == 0 else { throw FixtureError(description: "odd-length hex \(hex)") }
    func nibble(_ c: UInt8) throws -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: throw FixtureError(description: "bad hex digit in \(hex)")
        }
    }
    return try stride(from: 0, to: chars.count, by: 2).map { try nibble(chars[$0]) << 4 | nibble(chars[$0 + 1]) }
}

func hash64(_ text: String) throws -> Hash {
    guard let h = Hash(base64: text) else { throw FixtureError(description: "not a base64 SHA-256 hash: \(text)") }
    return h
}

// MARK: - Reference implementation (RFC 9162 §2.1, verbatim recursion, no shared code with MerkleLog)

enum Reference {
    /// SHA-256(0x00 ‖ d).
    static func leafHash(_ data: [UInt8]) -> Hash { SHA256.hash([0x00] + data) }

    /// SHA-256(0x01 ‖ l ‖ r).
    static func nodeHash(_ l: Hash, _ r: Hash) -> Hash { SHA256.hash([0x01] + l.bytes + r.bytes) }

    /// Largest power of two strictly smaller than n (n > 1), by counting up.
    static func split(_ n: Int) -> Int {
        precondition(n > 1)
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// MTH(D[n]) of §2.1.1.
    static func mth(_ d: ArraySlice<Hash>) -> Hash {
        switch d.count {
        case 0: return SHA256.hash([UInt8]())
        case 1: return d.first!
        default:
            let k = split(d.count)
            return nodeHash(mth(d.prefix(k)), mth(d.dropFirst(k)))
        }
    }

    /// PATH(m, D[n]) of §2.1.3.1.
    static func path(_ m: Int, _ d: ArraySlice<Hash>) -> [Hash] {
        let n = d.count
        if n == 1 { return [] }
        let k = split(n)
        if m < k { return path(m, d.prefix(k)) + [mth(d.dropFirst(k))] }
        return path(m - k, d.dropFirst(k)) + [mth(d.prefix(k))]
    }

    /// PROOF(m, D[n]) of §2.1.4.1 (0 < m ≤ n).
    static func proof(_ m: Int, _ d: ArraySlice<Hash>) -> [Hash] { subproof(m, d, true) }

    static func subproof(_ m: Int, _ d: ArraySlice<Hash>, _ b: Bool) -> [Hash] {
        let n = d.count
        if m == n { return b ? [] : [mth(d)] }
        let k = split(n)
        if m <= k { return subproof(m, d.prefix(k), b) + [mth(d.dropFirst(k))] }
        return subproof(m - k, d.dropFirst(k), false) + [mth(d.prefix(k))]
    }
}

// MARK: - Seeded PRNG

/// SplitMix64 (Steele, Lea, Flood 2014): deterministic, so every failure reproduces from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The leaf data of synthetic test trees: leaf i is the 8 little-endian bytes of i plus a salt.
func syntheticLeafData(_ i: Int, salt: UInt8 = 0) -> [UInt8] {
    withUnsafeBytes(of: UInt64(i).littleEndian) { Array($0) } + [salt]
}

/// Cheap distinct 32-byte values (not hashes of anything), for tile geometry tests.
func fakeHash(_ i: Int, salt: UInt64 = 0) -> Hash {
    var bytes = [UInt8](repeating: 0, count: 32)
    withUnsafeBytes(of: UInt64(i).littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
    withUnsafeBytes(of: (salt &+ 0xC0FFEE).littleEndian) { bytes.replaceSubrange(8..<16, with: $0) }
    bytes[31] = 0xA5
    return Hash(bytes: bytes)!
}

// MARK: - Tile store

/// What storage would hold: the latest version of every tile key TreeAppender emitted.
struct TileStore: Equatable {
    private(set) var tiles: [TileKey: StoredTile] = [:]

    /// Stores a batch from `takeChangedTiles()`, checking what any tile batch must satisfy:
    /// keys are unique within a batch, a rewrite only extends the earlier row 0, interior rows
    /// agree with row 0, and the width is the one the tree size implies for that key.
    mutating func write(_ batch: [(TileKey, StoredTile)], treeSize: UInt64,
                        file: StaticString = #filePath, line: UInt = #line) {
        var seen = Set<TileKey>()
        for (key, tile) in batch {
            XCTAssertTrue(seen.insert(key).inserted, "tile \(key) written twice in one batch", file: file, line: line)
            XCTAssertGreaterThan(tile.width, 0, "empty tile \(key) emitted", file: file, line: line)
            XCTAssertTrue(tile.interiorIsConsistent(), "tile \(key) has inconsistent interior rows", file: file, line: line)
            XCTAssertEqual(tile.width, TileStore.expectedWidth(key, treeSize: treeSize),
                           "tile \(key) has the wrong width at size \(treeSize)", file: file, line: line)
            if let old = tiles[key] {
                XCTAssertGreaterThan(tile.width, old.width, "tile \(key) rewritten without growing", file: file, line: line)
                XCTAssertEqual(Array(tile.rows[0].prefix(old.width)), old.rows[0],
                               "tile \(key) rewrote existing hashes", file: file, line: line)
            }
            tiles[key] = tile
        }
    }

    /// The width of tile `key` in a tree of `size` leaves: 256 if full, else the partial width.
    static func expectedWidth(_ key: TileKey, treeSize size: UInt64) -> Int {
        let hashesAtLevel = Int(key.level) * 8 >= 64 ? 0 : size >> (UInt64(key.level) * 8)
        let before = key.index * 256
        guard hashesAtLevel > before else { return 0 }
        return Int(min(hashesAtLevel - before, 256))
    }

    /// A reader over a snapshot of the store.
    var reader: TileHashReader {
        let snapshot = tiles
        return TileHashReader { level, index in snapshot[TileKey(level: level, index: index)] }
    }

    static func == (a: TileStore, b: TileStore) -> Bool { a.tiles == b.tiles }
}

// MARK: - Assertions

/// Asserts that `body` throws a ProofError, and, if `expected` is given, exactly that one.
func assertRejects(_ expected: ProofError?, _ message: @autoclosure () -> String,
                   file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("accepted: \(message())", file: file, line: line)
    } catch let error as ProofError {
        if let expected {
            XCTAssertEqual(error, expected, "wrong rejection for: \(message())", file: file, line: line)
        }
    } catch {
        XCTFail("threw a non-ProofError \(error) for: \(message())", file: file, line: line)
    }
}

/// Asserts that `body` does not throw.
func assertAccepts(_ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line,
                   _ body: () throws -> Void) {
    do { try body() } catch { XCTFail("rejected (\(error)): \(message())", file: file, line: line) }
}

extension Hash {
    /// This hash with bit `bit` (0…255, byte-major) flipped.
    func flippingBit(_ bit: Int) -> Hash {
        var b = bytes
        b[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
        return Hash(bytes: b)!
    }
}
