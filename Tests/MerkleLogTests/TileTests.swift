// C2SP tlog-tiles addressing (index encoding, paths, partial widths, the spec's 70,000-leaf
// example) and Cinnabar's stored tile layout (interior rows, encoding, the served C2SP bytes).
import CinnabarCrypto
import MerkleLog
import XCTest

final class TileTests: XCTestCase {
    // MARK: - Index encoding and paths

    func testIndexEncoding() {
        let table: [(UInt64, String)] = [
            (0, "000"), (1, "001"), (67, "067"), (999, "999"), (1000, "x001/000"), (1001, "x001/001"),
            (999_999, "x999/999"), (1_000_000, "x001/x000/000"), (1_234_067, "x001/x234/067"),
            (UInt64.max, "x018/x446/x744/x073/x709/x551/615"),
        ]
        for (index, path) in table {
            XCTAssertEqual(TileID.encodeIndex(index), path, "index \(index)")
        }
    }

    func testTilePaths() {
        let table: [(TileID, String, String)] = [
            (TileID(level: 0, index: 1_234_067), "0/x001/x234/067", "entries/x001/x234/067"),
            (TileID(level: 0, index: 0), "0/000", "entries/000"),
            (TileID(level: 0, index: 273, width: 112), "0/273.p/112", "entries/273.p/112"),
            (TileID(level: 1, index: 1, width: 17), "1/001.p/17", "entries/001.p/17"),
            (TileID(level: 2, index: 0, width: 1), "2/000.p/1", "entries/000.p/1"),
            (TileID(level: 3, index: 1_234_067, width: 255), "3/x001/x234/067.p/255", "entries/x001/x234/067.p/255"),
            (TileID(level: 0, index: 5, width: 256), "0/005", "entries/005"),
        ]
        for (tile, path, entries) in table {
            XCTAssertEqual(tile.path, path)
            XCTAssertEqual(tile.entriesPath, entries)
            XCTAssertEqual(tile.description, "tile/" + path)
            XCTAssertEqual(tile.isPartial, tile.width < 256, path)
        }
    }

    /// The elements after `tile/<L>/` (or `tile/entries/`) of a tile path.
    private func elements(_ s: String) -> [Substring] { s.split(separator: "/", omittingEmptySubsequences: false) }

    private func encoded(_ index: UInt64, width: Int) -> String {
        TileID.encodeIndex(index) + (width < 256 ? ".p/\(width)" : "")
    }

    func testParseAcceptsEverythingEncodeProduces() {
        var rng = SplitMix64(seed: 0x711E)
        var indices: [UInt64] = [0, 1, 9, 10, 99, 100, 999, 1000, 1001, 123_456, 999_999, 1_000_000, 1_234_067,
                                 UInt64.max, UInt64.max - 1, UInt64.max / 1000, 18_446_744_073_709_551_000]
        var power: UInt64 = 1
        for _ in 1...19 {  // 9, 99, …, 10^19 − 1, and the powers of ten themselves
            power *= 10
            indices += [power - 1, power]
        }
        indices += (0..<200).map { _ in rng.next() >> UInt64.random(in: 0...63, using: &rng) }
        for index in indices {
            for width in [1, 2, 17, 112, 128, 255, 256] {
                let path = encoded(index, width: width)
                let parsed = TileID.parseIndexAndWidth(elements(path))
                XCTAssertEqual(parsed?.index, index, path)
                XCTAssertEqual(parsed?.width, width, path)
            }
        }
        for width in 1...256 {
            XCTAssertEqual(TileID.parseIndexAndWidth(elements(encoded(1_234_067, width: width)))?.width, width)
        }
    }

    func testParseRejectsWhatEncodeNeverProduces() {
        let bad = [
            "1234", "x1/234", "001/x234", "x001/234/", "/001", "x001//001", "", "1", "01", "0001", "x000", "x001",
            "001/001", "x001/x234", "X001/234", "x001/x234/x067", "xx01/234", " 01", "01 ", "+01", "-01", "0x1",
            "١٢٣", "０１２", "x١٢٣/000",
            // Partial suffixes.
            "000.p/0", "000.p/256", "000.p/007", "000.p/07", "000.p/", "000.p", "000.p/-1", "000.p/+5", "000.p/5/6",
            "000.p/1000", "000.p/x5", ".p/5", "000.P/5", "000.q/5", "000.p.p/5", "x001.p/5/000", "000/.p/5",
            "000.p/99999999999999999999",
            // Overflow: one past UInt64.max, and 8 index elements.
            "x018/x446/x744/x073/x709/x551/616", "x999/x999/x999/x999/x999/x999/999",
            "x000/x018/x446/x744/x073/x709/x551/615", "x001/x000/x000/x000/x000/x000/x000/000",
        ]
        for s in bad {
            XCTAssertNil(TileID.parseIndexAndWidth(elements(s)), "accepted \"\(s)\"")
        }
        XCTAssertNil(TileID.parseIndexAndWidth([]))
    }

    /// The C2SP index encoding is canonical: each index has exactly one path. Leading all-zero
    /// `x000` groups are not something encodeIndex (or any C2SP client) produces.
    func testParseRejectsNonCanonicalLeadingZeroGroups() {
        for s in ["x000/001", "x000/000", "x000/x001/234", "x000/x000/000.p/5", "x000/x018/x446/x744/x073/x709/615"] {
            XCTAssertNil(TileID.parseIndexAndWidth(elements(s)), "accepted non-canonical \"\(s)\"")
        }
        // A zero group after the first is, of course, fine.
        XCTAssertEqual(TileID.parseIndexAndWidth(elements("x001/x000/000"))?.index, 1_000_000)
    }

    func testParseThenEncodeIsTheIdentityOnRandomStrings() {
        // Random strings over the path alphabet: whatever parses must re-encode to itself.
        var rng = SplitMix64(seed: 0xA1FA)
        let alphabet = Array("0123456789x/.p")
        var accepted = 0
        for _ in 0..<20_000 {
            let length = Int.random(in: 1...14, using: &rng)
            let s = String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
            guard let (index, width) = TileID.parseIndexAndWidth(elements(s)) else { continue }
            accepted += 1
            XCTAssertEqual(encoded(index, width: width), s, "\"\(s)\" parsed as (\(index), \(width))")
        }
        XCTAssertGreaterThan(accepted, 10)
    }

    // MARK: - Geometry

    func testLocate() {
        let table: [(NodeID, (UInt8, UInt64, Int, Int))] = [
            (NodeID(level: 0, index: 0), (0, 0, 0, 0)),
            (NodeID(level: 0, index: 255), (0, 0, 0, 255)),
            (NodeID(level: 0, index: 256), (0, 1, 0, 0)),
            (NodeID(level: 0, index: 1_234_067), (0, 4820, 0, 147)),
            (NodeID(level: 1, index: 127), (0, 0, 1, 127)),
            (NodeID(level: 1, index: 128), (0, 1, 1, 0)),
            (NodeID(level: 7, index: 5), (0, 2, 7, 1)),
            (NodeID(level: 8, index: 0), (1, 0, 0, 0)),
            (NodeID(level: 8, index: 300), (1, 1, 0, 44)),
            (NodeID(level: 15, index: 3), (1, 1, 7, 1)),
            (NodeID(level: 16, index: 1), (2, 0, 0, 1)),
            (NodeID(level: 63, index: 1), (7, 0, 7, 1)),
        ]
        for (node, want) in table {
            let got = TileID.locate(node)
            XCTAssertTrue(got == want, "\(node) → \(got), want \(want)")
        }
        // In general: the tile's leaves contain the node's leaves, at the stated row and offset.
        var rng = SplitMix64(seed: 0x10CA7E)
        for _ in 0..<2000 {
            let level = UInt8.random(in: 0...40, using: &rng)
            let node = NodeID(level: level, index: rng.next() >> (UInt64(level) + UInt64.random(in: 0...20, using: &rng)))
            let at = TileID.locate(node)
            XCTAssertEqual(UInt64(at.level) * 8 + UInt64(at.row), UInt64(node.level))
            XCTAssertEqual(at.index * UInt64(256 >> at.row) + UInt64(at.offset), node.index, "\(node)")
            XCTAssertLessThan(at.offset, 256 >> at.row)
        }
    }

    func testSpecExampleTreeOf70000() {
        let size: UInt64 = 70_000
        XCTAssertEqual(TileID.levelCount(size: size), 3)
        XCTAssertEqual(size >> 8, 273, "full level-0 tiles")
        XCTAssertEqual(TileID.partialWidth(level: 0, size: size), 112)
        XCTAssertEqual(size >> 16, 1, "full level-1 tiles")
        XCTAssertEqual(TileID.partialWidth(level: 1, size: size), 17)
        XCTAssertEqual(TileID.partialWidth(level: 2, size: size), 1)
        XCTAssertEqual(TileID.partialWidth(level: 3, size: size), 0)

        // The same, as the tiles TreeAppender writes for 70,000 leaves.
        var appender = TreeAppender()
        for i in 0..<Int(size) { appender.append(leafHash: fakeHash(i)) }
        let tiles = appender.takeChangedTiles()
        let ids = tiles.map { TileID(level: $0.0.level, index: $0.0.index, width: $0.1.width) }
        var want = (0..<273).map { TileID(level: 0, index: UInt64($0)) }
        want += [TileID(level: 1, index: 0), TileID(level: 0, index: 273, width: 112),
                 TileID(level: 1, index: 1, width: 17), TileID(level: 2, index: 0, width: 1)]
        XCTAssertEqual(Set(ids), Set(want))
        XCTAssertEqual(ids.count, want.count)
        let partialPaths = ids.filter(\.isPartial).map(\.path).sorted()
        XCTAssertEqual(partialPaths, ["0/273.p/112", "1/001.p/17", "2/000.p/1"])
        XCTAssertEqual(TreeAppender.partialTileKeys(size: size),
                       [TileKey(level: 0, index: 273), TileKey(level: 1, index: 1), TileKey(level: 2, index: 0)])
    }

    func testSpecExampleTreeOf256() {
        XCTAssertEqual(TileID.levelCount(size: 256), 2)
        XCTAssertEqual(TileID.partialWidth(level: 0, size: 256), 0)
        XCTAssertEqual(TileID.partialWidth(level: 1, size: 256), 1)
        var appender = TreeAppender()
        for i in 0..<256 { appender.append(leafHash: fakeHash(i)) }
        let tiles = appender.takeChangedTiles()
        XCTAssertEqual(tiles.map { TileID(level: $0.0.level, index: $0.0.index, width: $0.1.width) },
                       [TileID(level: 0, index: 0), TileID(level: 1, index: 0, width: 1)])
        XCTAssertEqual(tiles.last?.1.rows[0], [RFC6962.rootHash(tiles[0].1.rows[0][...])], "level-1 hash is the tile's root")
    }

    func testWidthsAndLevelCounts() {
        let table: [(UInt64, Int, [Int])] = [  // size, levelCount, partial widths at levels 0…
            (0, 0, [0, 0]), (1, 1, [1, 0]), (255, 1, [255, 0]), (256, 2, [0, 1]), (257, 2, [1, 1]),
            (65_535, 2, [255, 255, 0]), (65_536, 3, [0, 0, 1]), (16_777_216, 4, [0, 0, 0, 1]),
            (UInt64.max, 8, [255, 255, 255, 255, 255, 255, 255, 255, 0]),
            (UInt64(1) << 63, 8, [0, 0, 0, 0, 0, 0, 0, 128, 0]),
        ]
        for (size, levels, widths) in table {
            XCTAssertEqual(TileID.levelCount(size: size), levels, "size \(size)")
            for (level, width) in widths.enumerated() {
                XCTAssertEqual(TileID.partialWidth(level: UInt8(level), size: size), width, "size \(size) level \(level)")
            }
            XCTAssertEqual(TileID.partialWidth(level: 8, size: size), 0)
            XCTAssertEqual(TileID.partialWidth(level: 200, size: size), 0)
        }
    }

    // MARK: - Stored tiles

    private func tile(width: Int, salt: UInt64 = 0) -> (StoredTile, Hash?) {
        var t = StoredTile()
        var root: Hash?
        for i in 0..<width {
            let r = t.append(fakeHash(i, salt: salt))
            XCTAssertTrue(r == nil || i == 255, "a root before the tile is full")
            root = r
        }
        return (t, root)
    }

    func testInteriorRowsAreTheSubtreeHashes() {
        for width in [1, 2, 3, 5, 64, 127, 128, 129, 200, 255, 256] {
            let (t, root) = tile(width: width)
            let row0 = (0..<width).map { fakeHash($0) }
            XCTAssertEqual(t.width, width)
            XCTAssertEqual(t.isFull, width == 256)
            XCTAssertEqual(t.rows.count, 8)
            for r in 0..<8 {
                XCTAssertEqual(t.rows[r].count, width >> r, "width \(width) row \(r)")
                for (j, h) in t.rows[r].enumerated() {
                    XCTAssertEqual(h, Reference.mth(row0[(j << r)..<((j + 1) << r)]), "width \(width) row \(r) hash \(j)")
                }
            }
            XCTAssertEqual(root, width == 256 ? Reference.mth(row0[...]) : nil)
        }
    }

    func testEncodingRoundTripsForEveryWidth() {
        for width in 1...256 {
            let (t, _) = tile(width: width, salt: UInt64(width))
            let bytes = t.encoded()
            let hashes = (0..<8).reduce(0) { $0 + (width >> $1) }
            XCTAssertEqual(bytes.count, hashes * 32, "width \(width)")
            let decoded = bytes.withUnsafeBytes { StoredTile(encoded: $0) }
            XCTAssertEqual(decoded, t, "width \(width)")
            XCTAssertEqual(decoded?.width, width)
            XCTAssertEqual(decoded?.interiorIsConsistent(), true)
            // The served C2SP tile: the first w row-0 hashes, for every w up to the stored width.
            let concatenated = t.rows[0].flatMap(\.bytes)
            for w in Set([0, 1, width / 2, width - 1, width]) {
                XCTAssertEqual(t.c2spBytes(width: w), Array(concatenated.prefix(w * 32)), "width \(width) served as \(w)")
            }
        }
        XCTAssertEqual((0..<8).reduce(0) { $0 + (256 >> $1) }, 510, "a full tile stores 510 hashes")
    }

    func testDecodingRejectsByteCountsOfNoWidth() {
        let validCounts = Set((1...256).map { w in (0..<8).reduce(0) { $0 + (w >> $1) } })
        for count in 0...520 where !validCounts.contains(count) {
            let bytes = [UInt8](repeating: 7, count: count * 32)
            XCTAssertNil(bytes.withUnsafeBytes { StoredTile(encoded: $0) }, "\(count) hashes")
        }
        for extra in [1, 31, 33] {
            let bytes = [UInt8](repeating: 7, count: 32 + extra)
            XCTAssertNil(bytes.withUnsafeBytes { StoredTile(encoded: $0) }, "\(32 + extra) bytes")
        }
        XCTAssertEqual(validCounts.count, 256, "each width has its own encoded size")
    }

    func testInteriorConsistencyDetectsAnyFlippedHash() {
        var rng = SplitMix64(seed: 0xF11B)
        for width in [1, 2, 3, 100, 255, 256] {
            let (t, _) = tile(width: width)
            XCTAssertTrue(t.interiorIsConsistent())
            let bytes = t.encoded()
            // Stored hashes, interior or row 0: the first and last of every row, all of them in
            // narrow tiles, and 64 random others; flip one random bit in each.
            let stored = bytes.count / 32
            var rowStarts: [Int] = [0]
            for r in 0..<8 { rowStarts.append(rowStarts[r] + (width >> r)) }
            var picks = Set(rowStarts.dropLast().flatMap { [$0, $0 + 1] } + rowStarts.dropFirst().map { $0 - 1 })
            picks.formUnion(stored <= 64 ? Array(0..<stored) : (0..<64).map { _ in Int.random(in: 0..<stored, using: &rng) })
            for h in picks.filter({ $0 >= 0 && $0 < stored }).sorted() {
                var bad = bytes
                bad[h * 32 + Int.random(in: 0..<32, using: &rng)] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
                let decoded = bad.withUnsafeBytes { StoredTile(encoded: $0) }
                XCTAssertNotNil(decoded)
                if h < width {
                    // Row 0 is the data; a flipped row-0 hash disagrees with the stored interior,
                    // unless there is no interior above it (the last hash of an odd row 0).
                    let covered = width >= 2 && (h < width & ~1)
                    XCTAssertEqual(decoded?.interiorIsConsistent(), !covered, "width \(width) row-0 hash \(h)")
                } else {
                    XCTAssertEqual(decoded?.interiorIsConsistent(), false, "width \(width) stored hash \(h)")
                }
            }
        }
    }

    func testTileHashReaderReportsMissingHashes() throws {
        var appender = TreeAppender()
        for i in 0..<300 { appender.append(leafHash: fakeHash(i)) }
        var tiles: [TileKey: StoredTile] = [:]
        for (key, tile) in appender.takeChangedTiles() { tiles[key] = tile }
        let full = TileHashReader { tiles[TileKey(level: $0, index: $1)] }
        XCTAssertEqual(try full.rootHash(size: 300), RFC6962.rootHash((0..<300).map { fakeHash($0) }[...]))
        // Asking for a size the tiles do not cover yet: the stored hash is missing.
        XCTAssertThrowsError(try full.rootHash(size: 301)) { XCTAssertTrue($0 is TileHashReader.MissingHash, "\($0)") }
        XCTAssertThrowsError(try full.inclusionProof(index: 0, size: 512)) { XCTAssertTrue($0 is TileHashReader.MissingHash) }
        // Without the level-1 tile, nothing spanning a whole level-0 tile can be read.
        var noLevel1 = tiles
        noLevel1[TileKey(level: 1, index: 0)] = nil
        let partial = TileHashReader { noLevel1[TileKey(level: $0, index: $1)] }
        XCTAssertThrowsError(try partial.rootHash(size: 300)) { XCTAssertTrue($0 is TileHashReader.MissingHash) }
        XCTAssertNoThrow(try partial.rootHash(size: 255))
        XCTAssertNoThrow(try partial.inclusionProof(index: 3, size: 255))
        // Errors from the tile source propagate.
        struct Boom: Error {}
        let failing = TileHashReader { _, _ in throw Boom() }
        XCTAssertThrowsError(try failing.rootHash(size: 1)) { XCTAssertTrue($0 is Boom) }
        XCTAssertEqual(try failing.rootHash(size: 0), RFC6962.emptyRoot, "the empty root needs no tile")
    }
}
