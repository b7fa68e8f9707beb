// Crash safety, proven with real processes: a writer is SIGKILLed at random moments; after each
// restart of the node (which replays what the kill took from its store) every acknowledged entry
// is at its acknowledged index, every acknowledged checkpoint is consistent with the new tree,
// and the log audits clean.
import CinnabarCrypto
import Foundation
import MerkleLog
import Node
import Storage
import XCTest

final class CrashTests: XCTestCase {
    struct Ack {
        let index: UInt64
        let size: UInt64
        let root: Hash
        let leafHash: Hash
    }

    func parseAck(_ line: String) -> Ack? {
        let f = line.split(separator: " ")
        guard f.count == 5, f[0] == "ACK", let index = UInt64(f[1]), let size = UInt64(f[2]),
              let root = Hash(base64: String(f[3])), let leaf = Hash(base64: String(f[4])) else { return nil }
        return Ack(index: index, size: size, root: root, leafHash: leaf)
    }

    /// Kills (default 50, or $CINNABAR_CRASH_KILLS) are spread over random moments: during start-up,
    /// mid-block, mid-fsync, while printing acknowledgements.
    func testEveryAcknowledgedEntrySurvivesSIGKILL() throws {
        let kills = Int(ProcessInfo.processInfo.environment["CINNABAR_CRASH_KILLS"] ?? "") ?? 50
        var rng = SplitMix64(seed: UInt64(ProcessInfo.processInfo.environment["CINNABAR_CRASH_SEED"] ?? "") ?? 20261129)
        let dir = TemporaryDirectory()
        let ledger = dir.path + "/ledger"
        try expectSuccess(["dev", "init", "--dir", ledger])
        let genesis = try NodeDirectory(ledger).loadGenesis()

        var acked: [UInt64: Ack] = [:]
        var checkpoints: [UInt64: Hash] = [:]
        var killed = 0
        var replayedRounds = 0  // rounds whose acknowledged blocks the kill took from the store
        for round in 0..<kills {
            let writer = try RunningProcess(["dev", "load", "--dir", ledger, "--count", "10000000",
                                             "--concurrency", "32", "--acks"])
            Thread.sleep(forTimeInterval: Double(rng.next() % 400) / 1000)
            if writer.process.isRunning { killed += 1 }
            writer.kill(SIGKILL)
            var newAcks: [Ack] = []
            for line in writer.lines {
                guard let ack = parseAck(line) else { continue }
                XCTAssertNil(acked[ack.index], "index \(ack.index) acknowledged twice")
                acked[ack.index] = ack
                checkpoints[ack.size] = ack.root
                newAcks.append(ack)
            }

            // Restart the node (the one-validator store writes blocks without its own WAL and
            // flushes every few dozen heights: the node replays what a kill took from the kept
            // consensus WALs), then check this round's acks and a sample of the checkpoints.
            let flushed = try LedgerStore(directory: NodeDirectory(ledger).storePath)
            if let highest = newAcks.map(\.size).max(), flushed.size < highest { replayedRounds += 1 }
            flushed.close()
            try LedgerNode(directory: NodeDirectory(ledger)).close()
            let store = try LedgerStore(directory: NodeDirectory(ledger).storePath)
            guard let tip = store.tip else {
                // Killed before the first block was durable: then nothing may have been acknowledged.
                XCTAssertTrue(acked.isEmpty, "round \(round): acknowledged entries but no durable block")
                continue
            }
            for ack in newAcks {
                XCTAssertLessThanOrEqual(ack.size, tip.size, "round \(round): acked size \(ack.size) lost (tip \(tip.size))")
                let leaf = try XCTUnwrap(try store.leaf(at: ack.index), "round \(round): acked leaf \(ack.index) lost")
                XCTAssertEqual(SHA256.hash(leaf), ack.leafHash, "round \(round): leaf \(ack.index) changed")
            }
            for (size, root) in checkpoints.shuffled(using: &rng).prefix(20) {
                let proof = try store.hashReader.consistencyProof(from: size, to: tip.size)
                XCTAssertNoThrow(try ConsistencyProof.verify(from: size, fromRoot: root, to: tip.size, toRoot: tip.root, proof: proof),
                                 "round \(round): acked checkpoint \(size) is not a prefix of the tree after restart")
            }
        }
        XCTAssertGreaterThanOrEqual(killed, kills * 9 / 10, "most kills should hit a running writer")
        XCTAssertGreaterThan(acked.count, 0, "the writers acknowledged nothing")
        XCTAssertGreaterThan(replayedRounds, 0, "no kill took an acknowledged block from the store: the replay went untested")

        // Everything, once more, at the end; then the full audit — after one restart of the node,
        // which signs the tip's checkpoint again if the kill came between the durable block and
        // its (unsynced) checkpoint write.
        try LedgerNode(directory: NodeDirectory(ledger)).close()
        let store = try LedgerStore(directory: NodeDirectory(ledger).storePath)
        let tip = try XCTUnwrap(store.tip)
        for ack in acked.values {
            XCTAssertEqual(try store.leaf(at: ack.index).map { SHA256.hash($0) }, ack.leafHash)
        }
        for (size, root) in checkpoints {
            let proof = try store.hashReader.consistencyProof(from: size, to: tip.size)
            XCTAssertNoThrow(try ConsistencyProof.verify(from: size, fromRoot: root, to: tip.size, toRoot: tip.root, proof: proof))
        }
        XCTAssertNil(Audit.run(store: store, genesis: genesis).failure)
        print("crash test: \(killed) SIGKILLs (\(replayedRounds) whose acknowledged blocks were replayed from the consensus WALs), \(acked.count) acknowledged entries, \(checkpoints.count) acknowledged checkpoints, final size \(tip.size)")
    }
}

/// A small, fast, seedable PRNG (Steele, Lea, Flood 2014) so a failing run can be replayed.
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
