// The chunking of application messages into Noise transport plaintexts, and the one canonical
// form the assembler accepts; and the byte-bounded send queue. Pure code, no sockets.
@testable import PeerNetwork
import XCTest

final class MessageFramingTests: XCTestCase {
    private let chunk = MessageFraming.maxChunkBytes

    func testMessagesOfEverySizeClassRoundTrip() throws {
        XCTAssertEqual(chunk, 65_519, "65535 less the 16-byte tag")
        for size in [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk, 5 << 20] {
            let message = (0..<size).map { UInt8(truncatingIfNeeded: $0 % 251) }
            let plaintexts = MessageFraming.plaintexts(of: message)
            XCTAssertEqual(plaintexts.count, 1 + (size + chunk - 1) / chunk, "size \(size)")
            XCTAssertTrue(plaintexts.allSatisfy { $0.count <= chunk })
            var assembler = MessageAssembler(maxMessageBytes: 5 << 20)
            var out: [[UInt8]] = []
            for plaintext in plaintexts {
                if let whole = try assembler.consume(Array(plaintext)) { out.append(whole) }
            }
            XCTAssertEqual(out, [message], "size \(size)")
        }
    }

    func testHeaderOfAnotherLengthIsRefused() {
        var assembler = MessageAssembler(maxMessageBytes: 1 << 20)
        XCTAssertThrowsError(try assembler.consume([0, 0, 1])) { error in
            XCTAssertEqual(error as? FramingError, .malformedHeader(bytes: 3))
        }
    }

    func testDeclaredLengthAboveTheLimitIsRefused() {
        var assembler = MessageAssembler(maxMessageBytes: 1 << 20)
        XCTAssertThrowsError(try assembler.consume([0, 0x10, 0, 1])) { error in
            XCTAssertEqual(error as? FramingError, .messageTooLarge(declaredBytes: (1 << 20) + 1, maxBytes: 1 << 20))
        }
    }

    func testChunksOtherThanTheCanonicalOnesAreRefused() throws {
        var short = MessageAssembler(maxMessageBytes: 1 << 20)
        XCTAssertNil(try short.consume([0, 1, 0, 0]))  // 65536 bytes: one full chunk, then 17
        XCTAssertThrowsError(try short.consume([UInt8](repeating: 0, count: 1000))) { error in
            XCTAssertEqual(error as? FramingError, .malformedChunk(bytes: 1000, expectedBytes: chunk))
        }
        var long = MessageAssembler(maxMessageBytes: 1 << 20)
        XCTAssertNil(try long.consume([0, 0, 0, 10]))
        XCTAssertThrowsError(try long.consume([UInt8](repeating: 0, count: 11))) { error in
            XCTAssertEqual(error as? FramingError, .malformedChunk(bytes: 11, expectedBytes: 10))
        }
    }

    func testFullQueueDropsTheOldestAndStaysWithinItsBound() {
        let cost = 1000 + BoundedMessageQueue.perMessageOverheadBytes
        var queue = BoundedMessageQueue(maxBytes: 3 * cost)
        var dropped = 0
        for i in 0..<10 { dropped += queue.append([UInt8](repeating: UInt8(i), count: 1000)) }
        XCTAssertEqual(dropped, 7)
        XCTAssertEqual(queue.bytes, 3 * cost)
        XCTAssertEqual(queue.popFirst()?.first, 7, "the newest three are kept, oldest first")
        XCTAssertEqual(queue.pushFront([UInt8](repeating: 7, count: 1000)), 0, "a failed send goes back in front")
        XCTAssertEqual((0..<3).compactMap { _ in queue.popFirst()?.first }, [7, 8, 9])
        XCTAssertNil(queue.popFirst())
        XCTAssertEqual(queue.bytes, 0)
        XCTAssertEqual(queue.append([UInt8](repeating: 0, count: 3 * cost)), 1, "a message above the bound is itself dropped")
        XCTAssertTrue(queue.isEmpty)
    }
}
