// Block sync never trusts the peer (issue 7 §2, consensus.md §2.11): a validator catching up is
// served tampered blocks by a Byzantine peer — a real Noise link under that validator's real
// key, answering its status with the stored blocks, one entry byte flipped, each with its genuine
// commit certificate. The node must store none of them, drop that peer, and catch up from honest
// peers once they are reachable.
import CinnabarCrypto
import Consensus
import Foundation
import Ledger
@testable import Node
import PeerNetwork
import Storage
import XCTest

final class BlockSyncTests: XCTestCase {
    func testATamperedBlockIsRefusedThePeerDroppedAndTheBlockFetchedElsewhere() async throws {
        let root = NSTemporaryDirectory() + "cinnabar-sync-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let base = Int.random(in: 12_000...30_000)  // API and peer ports (base + 1000 + …) below the ephemeral range (32768…)
        let dirs = try NodeDirectory.initialiseConsortium(at: root, count: 4, origin: "sync.example/cinnabar", host: "127.0.0.1",
                                                          apiPort: base, peerPort: base + 1000,
                                                          timeouts: Genesis.ConsensusTimeouts(proposeMillis: 400, proposeDeltaMillis: 100,
                                                                                              voteMillis: 200, voteDeltaMillis: 100))
        let writer = try RecordWriter(key: try dirs[0].loadOrganisationKey("notary"), codeKey: try dirs[0].loadCodeKey())
        func deposit(_ n: Int, through node: LedgerNode) async throws {
            for _ in 0..<n { _ = try await node.submit(record: writer.evidence(sha256: SHA256.hash(secureRandomBytes(count: 32)).hex).bytes) }
        }
        let silent: @Sendable (String) -> Void = { _ in }

        var nodes = try dirs.map { try LedgerNode(directory: $0, log: silent) }
        try await deposit(6, through: nodes[0])
        nodes[3].close()  // the victim falls behind
        try await deposit(10, through: nodes[0])
        let target = try XCTUnwrap(nodes[0].store.tip)
        for node in nodes[0...2] { node.close() }
        XCTAssertEqual(try LedgerStore(directory: dirs[2].storePath).tip?.root, target.root)

        // The Byzantine peer: validator 2's identity, port and store, serving tampered blocks.
        let byzantine = try TamperingPeer(directory: dirs[2])
        try byzantine.start()
        defer { byzantine.stop() }

        let lines = LineCollector()
        let victim = try LedgerNode(directory: dirs[3], log: { lines.add($0) })
        defer { victim.close() }
        let behind = try XCTUnwrap(victim.store.tip)
        XCTAssertLessThan(behind.height, target.height)
        try await waitUntil("the victim refuses a tampered block and drops the peer") {
            lines.contains("does not verify; dropped")
        }
        XCTAssertGreaterThan(byzantine.served, 0)
        XCTAssertEqual(victim.store.tip?.height, behind.height, "a tampered block was stored")

        // Honest peers come back: the victim fetches the blocks from them.
        byzantine.stop()
        nodes = [try LedgerNode(directory: dirs[0], log: silent), try LedgerNode(directory: dirs[1], log: silent)]
        defer { for node in nodes { node.close() } }
        try await waitUntil("the victim catches up from honest peers") { victim.store.tip?.height ?? 0 >= target.height }
        let caughtUp = try XCTUnwrap(victim.store.block(height: target.height))
        XCTAssertEqual(caughtUp.root, target.root)
        XCTAssertEqual(caughtUp.size, target.size)
    }

    private func waitUntil(_ what: String, timeout: TimeInterval = 30, _ condition: () throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTFail("timed out: \(what)")
        throw CancellationError()
    }
}

/// Log lines kept for assertions.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func add(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
    func contains(_ text: String) -> Bool { lock.lock(); defer { lock.unlock() }; return lines.contains { $0.contains(text) } }
}

/// A validator gone Byzantine: on every status it answers with its stored blocks from that height,
/// each with one byte of its first entry flipped and its genuine certificate.
final class TamperingPeer: @unchecked Sendable {
    private let store: LedgerStore
    private var network: PeerNetwork!
    private let lock = NSLock()
    private var servedCount = 0
    var served: Int { lock.lock(); defer { lock.unlock() }; return servedCount }

    init(directory: NodeDirectory) throws {
        store = try LedgerStore(directory: directory.storePath)
        let genesis = try directory.loadGenesis()
        let config = try directory.loadConfig()
        let validators = try genesis.validatorSet().validators
        let me = try XCTUnwrap(validators.firstIndex { $0.name == config.validator })
        let peers = try (config.peers ?? []).map { peer -> PeerEndpoint in
            let i = try XCTUnwrap(validators.firstIndex { $0.name == peer.validator })
            let (host, port) = try XCTUnwrap(NodeDirectory.hostPort(peer.address))
            return PeerEndpoint(index: i, publicKey: validators[i].publicKey.bytes, host: host, port: port)
        }
        let (host, port) = try XCTUnwrap(NodeDirectory.hostPort(try XCTUnwrap(config.peerListen)))
        network = PeerNetwork(me: PeerIdentity(index: me, seed: try directory.loadKey().seed), listenHost: host, listenPort: port,
                              peers: peers, configuration: .init(chainID: genesis.origin), log: { _ in },
                              deliver: { [weak self] from, bytes in self?.answer(from, bytes) })
    }

    func start() throws { try network.start() }
    func stop() { network.stop() }

    private func answer(_ peer: Int, _ bytes: [UInt8]) {
        guard case let .consensus(.status(_, height, _))? = PeerMessage(decoding: bytes), let tip = store.tip, height <= tip.height else { return }
        for h in height...tip.height {
            guard let (certificate, stored) = try? store.decidedBlock(height: h), !stored.entries.isEmpty else { continue }
            var entries = stored.entries
            entries[0][entries[0].count - 2] ^= 0x01
            let block = LedgerBlock(entries: entries, trailer: stored.trailer, signatureLines: stored.signatureLines)
            network.send(PeerMessage.consensus(.commit(certificate, value: block.encoded)).encoded, to: peer)
            lock.lock(); servedCount += 1; lock.unlock()
        }
    }
}
