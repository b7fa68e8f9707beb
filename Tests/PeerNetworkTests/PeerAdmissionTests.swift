// Who gets in: only keys of the peer set, only on the same chain; and garbage on the listener
// closes that connection, is counted and logged once, and leaves the node working.
import CinnabarCrypto
import Foundation
@testable import PeerNetwork
import XCTest

final class PeerAdmissionTests: XCTestCase {
    func testAKeyOutsideThePeerSetIsRefused() throws {
        let validators = try LoopbackValidators(count: 2)
        let recorder = Recorder()
        let node = validators.node(0, recorder: recorder)
        defer { node.stop() }
        try node.start()

        // Claims index 1 and dials node 0, but with a key that is not validator 1's.
        let intruderRecorder = Recorder()
        let intruder = PeerNetwork(
            me: PeerIdentity(index: 1, seed: Ed25519PrivateKey.generate().seed), listenHost: "127.0.0.1", listenPort: 0,
            peers: [validators.endpoints[0]], configuration: LoopbackValidators.configuration(),
            log: intruderRecorder.log, deliver: intruderRecorder.deliver)
        defer { intruder.stop() }
        try intruder.start()
        XCTAssertNotEqual(intruder.boundPort, 0, "port 0 binds a port the kernel chooses")
        intruder.send(Array("let me in".utf8), to: 0)

        XCTAssertTrue(eventually { node.statistics.linksClosedForGarbage >= 1 })
        XCTAssertFalse(recorder.logLines(containing: "closed for garbage", "is not in the peer set").isEmpty)
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertTrue(recorder.messages.isEmpty, "nothing is delivered")
        XCTAssertTrue(intruder.connectedPeers().isEmpty)
        XCTAssertEqual(intruder.statistics.messagesSent, 0)
    }

    func testAnotherChainIDFailsTheHandshake() throws {
        let validators = try LoopbackValidators(count: 2)
        let recorders = [Recorder(), Recorder()]
        let nodes = [
            validators.node(0, recorder: recorders[0]),
            validators.node(1, recorder: recorders[1], configuration: LoopbackValidators.configuration(chainID: "another-chain")),
        ]
        defer { nodes.forEach { $0.stop() } }
        for node in nodes { try node.start() }
        nodes[0].send(Array("to 1".utf8), to: 1)
        nodes[1].send(Array("to 0".utf8), to: 0)

        // Each listener fails to decrypt the other's message 1: the prologues differ.
        XCTAssertTrue(eventually { nodes.allSatisfy { $0.statistics.linksClosedForGarbage >= 1 } })
        for recorder in recorders {
            XCTAssertFalse(recorder.logLines(containing: "closed for garbage", "decryption failed").isEmpty)
        }
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertTrue(nodes.allSatisfy { $0.connectedPeers().isEmpty })
        XCTAssertTrue(recorders.allSatisfy { $0.messages.isEmpty })
    }

    func testGarbageConnectionsAreClosedAndTheNodeKeepsWorking() throws {
        var configuration = LoopbackValidators.configuration()
        configuration.handshakeTimeout = .seconds(1)
        let (_, recorders, nodes) = try startValidators(2, configuration: configuration)
        XCTAssertTrue(eventually { nodes.allSatisfy { $0.connectedPeers().count == 1 } })

        func client() throws -> TCPSocket {
            try TCPSocket.connect(host: "127.0.0.1", port: nodes[0].boundPort, timeout: .seconds(5), isCancelled: { false })
        }
        // A frame of random bytes, of another length than message 1's.
        let random = try client()
        try random.sendAll([0x0F, 0xFE] + secureRandomBytes(count: 0x0FFE))
        // A frame of message 1's length whose bytes are random: it does not decrypt.
        let forged = try client()
        try forged.sendAll([0, UInt8(NoiseHandshake.messageOneOverheadBytes)] + secureRandomBytes(count: NoiseHandshake.messageOneOverheadBytes))
        // A frame too short to hold a tag.
        let empty = try client()
        try empty.sendAll([0, 0])
        // Silence: the handshake times out.
        let silent = try client()
        defer { [random, forged, empty, silent].forEach { $0.close() } }

        XCTAssertTrue(eventually { nodes[0].statistics.linksClosedForGarbage == 4 })
        let garbageLines = recorders[0].logLines(containing: "127.0.0.1:", "closed for garbage")
        XCTAssertEqual(garbageLines.count, 4, "one line per connection, naming its address: \(garbageLines)")
        for reason in ["handshake message 1 of 4094 bytes", "decryption failed", "shorter than a tag", "no handshake within 1"] {
            XCTAssertEqual(recorders[0].logLines(containing: reason).count, 1, reason)
        }

        nodes[1].send(Array("still working".utf8), to: 0)
        XCTAssertTrue(eventually { recorders[0].texts(from: 1) == ["still working"] })
        XCTAssertEqual(nodes[0].connectedPeers(), [1])
    }
}

final class PeerConfigurationTests: XCTestCase {
    func testAConfigurationThatCannotWorkIsRefusedByStart() throws {
        let validators = try LoopbackValidators(count: 2)
        func startError(me: PeerIdentity = validators.identities[0], peers: [PeerEndpoint] = validators.endpoints,
                        configuration: PeerNetwork.Configuration = LoopbackValidators.configuration()) -> PeerNetworkError? {
            let node = PeerNetwork(me: me, listenHost: "127.0.0.1", listenPort: 0, peers: peers, configuration: configuration,
                                   log: { _ in }, deliver: { _, _ in })
            defer { node.stop() }
            do { try node.start() } catch { return error as? PeerNetworkError }
            return nil
        }
        let other = validators.endpoints[1]
        var tooSmall = LoopbackValidators.configuration()
        tooSmall.maxQueuedBytesPerPeer = 0
        let cases: [(String, PeerNetworkError?)] = [
            ("a short seed", startError(me: PeerIdentity(index: 0, seed: [1, 2, 3]))),
            ("an invalid peer key", startError(peers: [PeerEndpoint(index: 1, publicKey: [UInt8](repeating: 0, count: 32), host: other.host, port: other.port)])),
            ("this node with another key", startError(peers: [PeerEndpoint(index: 0, publicKey: other.publicKey, host: other.host, port: other.port)])),
            ("a duplicate index", startError(peers: [other, other])),
            ("a zero queue bound", startError(configuration: tooSmall)),
        ]
        for (what, error) in cases {
            XCTAssertEqual(error?.code, "peer.invalid-configuration", what)
        }
        XCTAssertNil(startError(), "the valid configuration starts")
    }
}
