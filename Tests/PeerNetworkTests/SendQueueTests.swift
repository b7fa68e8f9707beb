// The send queue to a peer that cannot be reached: memory stays within the byte bound, the oldest
// messages go first and are counted, and once the peer comes up it gets the newest ones in order.
import CinnabarCrypto
import Foundation
@testable import PeerNetwork
import XCTest

final class SendQueueTests: XCTestCase {
    func testAnUnreachablePeerCostsAtMostTheQueueBound() throws {
        let validators = try LoopbackValidators(count: 2)
        var configuration = LoopbackValidators.configuration()
        configuration.maxQueuedBytesPerPeer = 1 << 20
        configuration.maxMessageBytes = 128 << 10
        let recorders = [Recorder(), Recorder()]
        let sender = validators.node(0, recorder: recorders[0], configuration: configuration)
        defer { sender.stop() }
        try sender.start()

        let messageBytes = 64 << 10
        let count = 200  // 12.5 MiB offered against a 1 MiB bound
        for i in 0..<count {
            var message = [UInt8](repeating: 0, count: messageBytes)
            message.replaceSubrange(0..<4, with: withUnsafeBytes(of: UInt32(i).bigEndian, Array.init))
            sender.send(message, to: 1)
            XCTAssertLessThanOrEqual(sender.queuedBytes(to: 1), configuration.maxQueuedBytesPerPeer)
        }
        let kept = configuration.maxQueuedBytesPerPeer / (messageBytes + BoundedMessageQueue.perMessageOverheadBytes)
        XCTAssertEqual(sender.queuedBytes(to: 1), kept * (messageBytes + BoundedMessageQueue.perMessageOverheadBytes))
        XCTAssertEqual(sender.statistics.messagesDroppedQueueFull, count - kept)
        sender.send([UInt8](repeating: 1, count: configuration.maxMessageBytes + 1), to: 1)
        XCTAssertEqual(sender.statistics.messagesRefusedOversize, 1)

        Thread.sleep(forTimeInterval: 0.5)  // several dial attempts
        XCTAssertEqual(recorders[0].logLines(containing: "peer 1", "unreachable").count, 1, "logged once, not per attempt")

        let receiver = validators.node(1, recorder: recorders[1], configuration: configuration)
        defer { receiver.stop() }
        try receiver.start()
        XCTAssertTrue(eventually { recorders[1].messages.count >= kept })
        let indices = recorders[1].messages.map { Int($0.message.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }) }
        XCTAssertEqual(indices, Array((count - kept)..<count), "the newest messages, in order")
        XCTAssertEqual(sender.queuedBytes(to: 1), 0)
        XCTAssertEqual(recorders[0].logLines(containing: "peer 1", "outbound link up").count, 1)
    }
}
