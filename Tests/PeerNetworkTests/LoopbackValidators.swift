// Test support for the socket tests: a validator set on 127.0.0.1, a recorder of what a node
// delivers and logs, and polling with a generous deadline instead of timing assertions.
import CinnabarCrypto
import Foundation
@testable import PeerNetwork
import XCTest

/// What one node delivered and logged, readable from the test thread.
final class Recorder: @unchecked Sendable {
    private let lock = NSLock()
    private var delivered: [(from: Int, message: [UInt8])] = []
    private var lines: [String] = []

    func deliver(from peer: Int, message: [UInt8]) { lock.withLock { delivered.append((peer, message)) } }
    func log(_ line: String) { lock.withLock { lines.append(line) } }

    var messages: [(from: Int, message: [UInt8])] { lock.withLock { delivered } }
    var logLines: [String] { lock.withLock { lines } }

    /// The messages from `peer`, in delivery order, as text.
    func texts(from peer: Int) -> [String] {
        messages.filter { $0.from == peer }.map { String(decoding: $0.message, as: UTF8.self) }
    }

    func logLines(containing parts: String...) -> [String] {
        logLines.filter { line in parts.allSatisfy(line.contains) }
    }
}

/// `count` validators with fresh keys and loopback ports. Each port was bound (port 0) and released
/// so that every node knows every other's port before any starts.
struct LoopbackValidators {
    static let chainID = "cinnabar-test"
    let identities: [PeerIdentity]
    let endpoints: [PeerEndpoint]

    init(count: Int) throws {
        identities = (0..<count).map { PeerIdentity(index: $0, seed: Ed25519PrivateKey.generate().seed) }
        let listeners = try (0..<count).map { _ in try TCPSocket.Listener(host: "127.0.0.1", port: 0) }
        let ports = listeners.map(\.port)
        listeners.forEach { $0.close() }
        endpoints = zip(identities, ports).map { identity, port in
            PeerEndpoint(index: identity.index, publicKey: Ed25519PrivateKey(seed: identity.seed)!.publicKey.bytes, host: "127.0.0.1", port: port)
        }
    }

    static func configuration(chainID: String = chainID) -> PeerNetwork.Configuration {
        var configuration = PeerNetwork.Configuration(chainID: chainID)
        configuration.reconnectBackoffMax = .milliseconds(500)
        return configuration
    }

    /// Validator `index` on its own port, linked with the whole set.
    func node(_ index: Int, recorder: Recorder, configuration: PeerNetwork.Configuration = configuration()) -> PeerNetwork {
        PeerNetwork(me: identities[index], listenHost: "127.0.0.1", listenPort: endpoints[index].port, peers: endpoints,
                    configuration: configuration, log: recorder.log, deliver: recorder.deliver)
    }
}

extension XCTestCase {
    /// Starts every validator of a fresh set of `count`; each is stopped when the test ends.
    func startValidators(_ count: Int, configuration: PeerNetwork.Configuration = LoopbackValidators.configuration())
        throws -> (validators: LoopbackValidators, recorders: [Recorder], nodes: [PeerNetwork]) {
        let validators = try LoopbackValidators(count: count)
        let recorders = (0..<count).map { _ in Recorder() }
        let nodes = (0..<count).map { validators.node($0, recorder: recorders[$0], configuration: configuration) }
        addTeardownBlock { nodes.forEach { $0.stop() } }
        for node in nodes { try node.start() }
        return (validators, recorders, nodes)
    }
}

/// Polls `condition` every 10 ms for up to `timeout`; true as soon as it holds.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}
