// Checkpoints (c2sp.org/tlog-checkpoint): origin, size and root hash round-trip byte for byte,
// extension lines are kept, and every malformed body is refused.
import CinnabarCrypto
import MerkleLog
import SignedNote
import XCTest

final class CheckpointTests: XCTestCase {
    private let root = SHA256.hash("root")

    func testThreeLineCheckpointRoundTrips() throws {
        let checkpoint = try Checkpoint(origin: "ledger.sc-legal.example/cinnabar", size: 20_852_163, root: root)
        XCTAssertEqual(checkpoint.text, "ledger.sc-legal.example/cinnabar\n20852163\n\(root.base64)\n")
        let parsed = try Checkpoint(parsing: checkpoint.text)
        XCTAssertEqual(parsed, checkpoint)
        XCTAssertEqual(parsed.origin, "ledger.sc-legal.example/cinnabar")
        XCTAssertEqual(parsed.size, 20_852_163)
        XCTAssertEqual(parsed.root, root)
        XCTAssertEqual(parsed.extensions, [])
    }

    func testSpecExampleAndEdgeSizes() throws {
        let example = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        XCTAssertEqual(try Checkpoint(parsing: example).text, example)
        let empty = try Checkpoint(parsing: "o\n0\n\(RFC6962.emptyRoot.base64)\n")
        XCTAssertEqual(empty.size, 0)
        let largest = try Checkpoint(parsing: "o\n18446744073709551615\n\(root.base64)\n")
        XCTAssertEqual(largest.size, UInt64.max)
        // The origin is opaque: spaces and "+" are only discouraged.
        XCTAssertEqual(
            try Checkpoint(parsing: "go.sum database tree\n1\n\(root.base64)\n").origin, "go.sum database tree")
    }

    func testExtensionLinesArePreserved() throws {
        let text = "example.com/log\n5\n\(root.base64)\nfirst extension\n— second, any text\n"
        let checkpoint = try Checkpoint(parsing: text)
        XCTAssertEqual(checkpoint.extensions, ["first extension", "— second, any text"])
        XCTAssertEqual(checkpoint.text, text)
        XCTAssertEqual(
            try Checkpoint(
                origin: "example.com/log", size: 5, root: root,
                extensions: ["first extension", "— second, any text"]), checkpoint)
    }

    func testMalformedCheckpointsAreRejected() throws {
        let b64 = root.base64
        let short = Base64.encode(root.bytes.dropLast())
        let long = Base64.encode(root.bytes + [0])
        let cases: [(String, String)] = [
            ("leading zero", "o\n0123\n\(b64)\n"),
            ("double zero", "o\n00\n\(b64)\n"),
            ("plus sign", "o\n+5\n\(b64)\n"),
            ("negative", "o\n-5\n\(b64)\n"),
            ("space before size", "o\n 5\n\(b64)\n"),
            ("empty size", "o\n\n\(b64)\n"),
            ("hex size", "o\n0x10\n\(b64)\n"),
            ("size overflows 64 bits", "o\n18446744073709551616\n\(b64)\n"),
            ("not base64", "o\n5\nnot base64\n"),
            ("base64 with a bad character", "o\n5\n*\(b64.dropFirst())\n"),
            ("unpadded base64", "o\n5\n\(b64.dropLast())\n"),
            ("short root", "o\n5\n\(short)\n"),
            ("long root", "o\n5\n\(long)\n"),
            ("missing root", "o\n5\n"),
            ("missing size and root", "o\n"),
            ("empty", ""),
            ("no final newline", "o\n5\n\(b64)"),
            ("empty origin", "\n5\n\(b64)\n"),
            ("empty extension line", "o\n5\n\(b64)\n\n"),
            ("empty line between extensions", "o\n5\n\(b64)\next\n\nmore\n"),
            ("control character", "o\t1\n5\n\(b64)\n"),
            ("carriage return", "o\n5\r\n\(b64)\n"),
        ]
        for (what, text) in cases {
            assertNoteError("malformed_checkpoint", try Checkpoint(parsing: text), what)
        }
        assertNoteError("malformed_checkpoint", try Checkpoint(origin: "", size: 1, root: root))
        assertNoteError("malformed_checkpoint", try Checkpoint(origin: "a\nb", size: 1, root: root))
        assertNoteError("malformed_checkpoint", try Checkpoint(origin: "o", size: 1, root: root, extensions: [""]))
        assertNoteError("malformed_checkpoint", try Checkpoint(origin: "o", size: 1, root: root, extensions: ["a\nb"]))
    }
}
