// The block trailer's byte encoding (Specs/ledger-format.md §3) and the validator set's hash
// and quorum (§4): exact round trips, and every malformed trailer refused.
import CinnabarCrypto
import Ledger
import MerkleLog
import XCTest

final class BlockTrailerTests: XCTestCase {
    let trailer = BlockTrailer(
        origin: "ledger.sc-legal.example/cinnabar", height: 7, previousSize: 1234, previousRoot: SHA256.hash("root"),
        timeMillis: 1_795_000_000_000, proposer: "notary-1", entryCount: 41, validatorSetHash: SHA256.hash("set"),
        nextValidatorSetHash: SHA256.hash("next"), lastCosigsHash: SHA256.hash(""))

    func testTheEncodingIsTheSpecifiedLayout() throws {
        let bytes = trailer.leafData
        XCTAssertEqual(bytes[0], LeafTag.blockTrailer.rawValue)
        XCTAssertEqual(bytes[1], 1, "version")
        let origin = Array(trailer.origin.utf8)
        XCTAssertEqual(Array(bytes[2..<4]), [0, UInt8(origin.count)])
        XCTAssertEqual(Array(bytes[4..<4 + origin.count]), origin)
        var at = 4 + origin.count
        XCTAssertEqual(Array(bytes[at..<at + 8]), [0, 0, 0, 0, 0, 0, 0, 7], "height")
        at += 8
        XCTAssertEqual(Array(bytes[at..<at + 8]), [0, 0, 0, 0, 0, 0, 0x04, 0xD2], "previous size 1234")
        // Fixed part after the two strings: 8+8+32+8 +(proposer)+ 4+32+32+32.
        XCTAssertEqual(bytes.count, 2 + 2 + origin.count + 8 + 8 + 32 + 8 + 2 + 8 + 4 + 32 * 3)
        XCTAssertEqual(trailer.size, 1234 + 41 + 1)
    }

    func testRoundTrip() throws {
        XCTAssertEqual(try BlockTrailer(leafData: trailer.leafData), trailer)
    }

    func testMalformedTrailersAreRefused() {
        let good = trailer.leafData
        var wrongTag = good; wrongTag[0] = LeafTag.record.rawValue
        var wrongVersion = good; wrongVersion[1] = 2
        let cases: [([UInt8], String)] = [
            ([], "empty"), (wrongTag, "not a trailer"), (wrongVersion, "version"),
            (Array(good.dropLast()), "truncated"), (good + [0], "trailing byte"), (Array(good.prefix(10)), "cut in the origin"),
        ]
        for (bytes, what) in cases {
            XCTAssertThrowsError(try BlockTrailer(leafData: bytes), what) { error in
                XCTAssertEqual((error as? LedgerError)?.code, "malformed_trailer", what)
            }
        }
    }

    func testValidatorSetIsSortedByKeyWithQuorumOverTwoThirds() throws {
        let keys = (0..<7).map { _ in Ed25519PrivateKey.generate().publicKey }
        for (n, q) in [(1, 1), (4, 3), (5, 4), (6, 5), (7, 5)] {
            let set = try ValidatorSet(keys.prefix(n).enumerated().map { Validator(name: "v\($0.offset)", publicKey: $0.element) })
            XCTAssertEqual(set.quorum, q, "n = \(n)")
            XCTAssertEqual(set.validators.map(\.publicKey.bytes), set.validators.map(\.publicKey.bytes).sorted { $0.lexicographicallyPrecedes($1) })
            let shuffled = try ValidatorSet(set.validators.shuffled())
            XCTAssertEqual(shuffled.hash, set.hash, "the hash does not depend on input order")
        }
        XCTAssertThrowsError(try ValidatorSet([]))
        XCTAssertThrowsError(try ValidatorSet([Validator(name: "a", publicKey: keys[0]), Validator(name: "a", publicKey: keys[1])]))
        XCTAssertThrowsError(try ValidatorSet([Validator(name: "a", publicKey: keys[0]), Validator(name: "b", publicKey: keys[0])]))
    }
}
