// Validators on loopback sockets: the full mesh, delivery exactly once and in order, chunked large
// messages, a restarted peer, a dropped peer.
import CinnabarCrypto
import Foundation
@testable import PeerNetwork
import XCTest

final class PeerMeshTests: XCTestCase {
    func testFourNodesFormTheMeshAndDeliverEveryBroadcastOnceInOrder() throws {
        let (validators, recorders, nodes) = try startValidators(4)
        XCTAssertEqual(nodes.map(\.boundPort), validators.endpoints.map(\.port))
        XCTAssertTrue(eventually { nodes.allSatisfy { $0.connectedPeers().count == 3 } }, "full mesh")
        for (i, node) in nodes.enumerated() { XCTAssertEqual(node.connectedPeers(), Set(0..<4).subtracting([i])) }

        let rounds = 50
        for round in 0..<rounds {
            for (i, node) in nodes.enumerated() { node.broadcast(Array("\(i):\(round)".utf8)) }
        }
        let large = secureRandomBytes(count: 5 << 20)  // 81 transport messages
        nodes[0].broadcast(large)

        for (receiver, recorder) in recorders.enumerated() {
            let expected = 3 * rounds + (receiver == 0 ? 0 : 1)
            XCTAssertTrue(eventually { recorder.messages.count >= expected }, "node \(receiver) receives everything")
        }
        Thread.sleep(forTimeInterval: 0.2)  // room for a duplicate to show up, if there were one
        for (receiver, recorder) in recorders.enumerated() {
            XCTAssertEqual(recorder.messages.count, 3 * rounds + (receiver == 0 ? 0 : 1), "node \(receiver): each message once")
            XCTAssertTrue(recorder.texts(from: receiver).isEmpty, "no node delivers to itself")
            for sender in 0..<4 where sender != receiver {
                let fromSender = recorder.messages.filter { $0.from == sender }.map(\.message)
                let small = fromSender.prefix(rounds).map { String(decoding: $0, as: UTF8.self) }
                XCTAssertEqual(small, (0..<rounds).map { "\(sender):\($0)" }, "node \(receiver) from \(sender): in order")
                if sender == 0 { XCTAssertTrue(fromSender.last == large, "the 5 MiB message arrives intact, last") }
            }
        }
        XCTAssertEqual(nodes[0].statistics.messagesSent, 3 * (rounds + 1))
        XCTAssertEqual(nodes[1].statistics.messagesReceived, 3 * rounds + 1)
        XCTAssertEqual(nodes.map(\.statistics.linksClosedForGarbage), [0, 0, 0, 0])
        XCTAssertEqual(nodes.map(\.statistics.messagesDroppedQueueFull), [0, 0, 0, 0])
    }

    func testARestartedPeerOnTheSamePortIsReconnected() throws {
        var (validators, recorders, nodes) = try startValidators(3)
        XCTAssertTrue(eventually { nodes.allSatisfy { $0.connectedPeers().count == 2 } }, "full mesh")
        nodes[0].send(Array("before".utf8), to: 1)
        XCTAssertTrue(eventually { recorders[1].texts(from: 0) == ["before"] })

        nodes[1].stop()
        XCTAssertTrue(eventually { !nodes[0].connectedPeers().contains(1) && !nodes[2].connectedPeers().contains(1) },
                      "the others see the link go down")
        for k in 0..<10 { nodes[0].send(Array("after-\(k)".utf8), to: 1) }

        let restarted = Recorder()
        nodes[1] = validators.node(1, recorder: restarted)
        addTeardownBlock { [restartedNode = nodes[1]] in restartedNode.stop() }
        try nodes[1].start()
        XCTAssertEqual(nodes[1].boundPort, validators.endpoints[1].port)
        XCTAssertTrue(eventually { restarted.texts(from: 0).count >= 10 }, "queued messages reach the restarted peer")
        XCTAssertEqual(restarted.texts(from: 0), (0..<10).map { "after-\($0)" })
        XCTAssertTrue(eventually { nodes.allSatisfy { $0.connectedPeers().count == 2 } }, "the mesh is whole again")
        nodes[1].send(Array("back".utf8), to: 0)
        nodes[1].send(Array("hello".utf8), to: 2)
        XCTAssertTrue(eventually { recorders[0].texts(from: 1) == ["back"] && recorders[2].texts(from: 1) == ["hello"] },
                      "the restarted peer's new links replace its old ones")
        XCTAssertFalse(recorders[0].logLines(containing: "peer 1", "inbound link down").isEmpty)
        XCTAssertEqual(nodes.map(\.statistics.linksClosedForGarbage), [0, 0, 0])
    }

    func testDroppingAPeerClosesBothLinksUntilItReconnects() throws {
        let (_, recorders, nodes) = try startValidators(2)
        XCTAssertTrue(eventually { nodes.allSatisfy { $0.connectedPeers().count == 1 } })

        nodes[0].drop(1, reason: "served a tampered block")
        XCTAssertTrue(eventually { !recorders[0].logLines(containing: "outbound link down: dropped: served a tampered block").isEmpty })
        XCTAssertTrue(eventually { !recorders[1].logLines(containing: "peer 0", "inbound link down").isEmpty },
                      "the peer sees this node's outbound link close")
        XCTAssertTrue(eventually { !recorders[1].logLines(containing: "peer 0", "outbound link down").isEmpty },
                      "and its own outbound link, whose inbound end this node closed")
        XCTAssertTrue(eventually { nodes.allSatisfy { $0.connectedPeers().count == 1 } }, "both redial")
        nodes[0].send(Array("again".utf8), to: 1)
        nodes[1].send(Array("again".utf8), to: 0)
        XCTAssertTrue(eventually { recorders[0].texts(from: 1) == ["again"] && recorders[1].texts(from: 0) == ["again"] })
    }
}
