// Four validator processes on loopback keep one ledger through faults (issue 7 §6, consensus.md
// §3.5): a load client records every acknowledgement; validators are killed, stopped, restarted,
// and one loses its store. The checker verifies every node's checkpoint with light-client code
// (≥ Q distinct validator signatures from the genesis keys), that all logs are one log (equal
// final checkpoints, and every checkpoint seen during the run proved a prefix of each node's log
// by a consistency proof), and that every acknowledged record is present once, at the same leaf
// on every node.
import CinnabarCrypto
import Consensus
import ConsensusStorage
import Foundation
import Ledger
import MerkleLog
import Node
import SignedNote
import Storage
import XCTest

final class ConsortiumTests: XCTestCase {
    func testFourValidatorsKeepOneLedgerThroughCrashesStopsAndALostStore() throws {
        let c = try Consortium(count: 4)
        defer { c.stopAll() }
        try c.startAll()
        var acked = try c.write(12, to: 0)
        XCTAssertEqual(acked.count, 12)
        var seen = [try c.log(0).checkpoint]

        // SIGKILL a validator: the other three keep deciding; restarted, it catches up. Its last
        // blocks were in its store's memtables only: the kill takes them, their WALs keep them,
        // and the restart stores them again before it goes on.
        c.kill(1)
        XCTAssertGreaterThan(try c.walsAboveStoreTip(1), 1, "decided heights the store lost, kept by their WALs")
        acked += try c.write(12, to: 0)
        try c.start(1)
        acked += try c.write(6, to: 1)  // a restarted node takes writes again
        seen.append(try c.log(1).checkpoint)

        // SIGSTOP one: three of four are a quorum; continued, it catches up.
        c.signal(2, SIGSTOP)
        acked += try c.write(12, to: 3)
        c.signal(2, SIGCONT)
        seen.append(try c.log(3).checkpoint)

        // A validator restarted with an empty store (its signer state kept) syncs from its peers
        // and signs nothing it signed before.
        c.kill(3)
        try FileManager.default.removeItem(atPath: c.nodes[3].storePath)
        acked += try c.write(12, to: 0)
        try c.start(3)
        acked += try c.write(6, to: 3)

        try c.checkOneLedger(acked: acked, earlier: seen)
        try c.stopAndAuditAll()
    }

    /// An observer (a court's mirror) follows the validators: it holds the same log, serves its
    /// proofs, refuses writes, and catches up after being down.
    func testAnObserverMirrorsTheLedgerAndTakesNoWrites() throws {
        let c = try Consortium(count: 4, observers: 1)
        defer { c.stopAll() }
        try c.startAll()
        var acked = try c.write(10, to: 0)
        try c.waitForSameSize()
        let refused = try httpRequest("POST", c.urls[4] + "/v1/records", body: c.writer.evidence(sha256: String(repeating: "ab", count: 32)).bytes)
        XCTAssertEqual(refused.status, 421)
        XCTAssertEqual(refused.json["code"] as? String, "observer")
        let refusedBatch = try httpRequest("POST", c.urls[4] + "/v1/batches", body: c.writer.evidence(sha256: String(repeating: "cd", count: 32)).bytes)
        XCTAssertEqual(refusedBatch.status, 421)
        XCTAssertEqual(refusedBatch.json["code"] as? String, "observer")
        // A batch posted to a validator: every line acknowledged, each in the one ledger.
        acked += try c.writeBatch(25, to: 1)
        c.kill(4)
        acked += try c.write(10, to: 2)
        try c.start(4)
        try c.checkOneLedger(acked: acked)
    }

    /// Governance changes the set (consensus.md §2.10): a synced observer is added with the
    /// approval of 3 of 4, then a founding validator removed with 4 of 5; each change takes effect
    /// at the next height on every node, the added node votes and takes writes, the removed one
    /// keeps following as an observer, and a client holding only the genesis policy follows the
    /// epochs in an offline bundle.
    func testValidatorsAreAddedAndRemovedByGovernanceAndClientsFollow() throws {
        let c = try Consortium(count: 4, observers: 1)
        defer { c.stopAll() }
        try c.startAll()
        var acked = try c.write(6, to: 0)
        let observerKey = try XCTUnwrap(try c.nodes[0].loadConfig().observers?.first?.key)

        // A validator joins as a synced observer first: the proposal names the node that will
        // validate, and the tool checks it follows this log under that name and key.
        let proposal = c.dir.path + "/refused.json"
        for (extra, why) in [([String](), "synced observer first"), (["--observer", c.urls[2]], "is not an observer"),
                             (["--observer", c.urls[4]], "with another key")] {
            let key = why == "with another key" ? try XCTUnwrap(try c.nodes[0].loadGenesis().validators.first?.key) : observerKey
            let refused = try cinnabar(["validators", "propose", "--node", c.urls[1], "--add", "observer-1=\(key)", "-o", proposal] + extra)
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertTrue(refused.stderr.contains(why), refused.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: proposal))
        }
        try c.changeValidators(["--add", "observer-1=\(observerKey)", "--observer", c.urls[4]], approvers: [0, 1, 2], epoch: 1)
        acked += try c.write(6, to: 4)  // the new validator takes writes
        try c.changeValidators(["--remove", "notary"], approvers: [1, 2, 3, 4], epoch: 2)
        acked += try c.write(6, to: 2)
        let refused = try httpRequest("POST", c.urls[0] + "/v1/records", body: c.writer.evidence(sha256: String(repeating: "cd", count: 32)).bytes)
        XCTAssertEqual(refused.status, 421, "the removed validator still takes writes")

        let final = try ValidatorSet(try ["lab", "court", "bureau"].map { name in
            let vkey = try NoteVerifierKey(parsing: try XCTUnwrap(try c.nodes[0].loadGenesis().validators.first { $0.name == name }?.key))
            return Validator(name: name, publicKey: vkey.publicKey)
        } + [Validator(name: "observer-1", publicKey: try NoteVerifierKey(parsing: observerKey).publicKey)])
        try c.checkOneLedger(acked: acked, validators: final)

        // A verifier pinned to the genesis set follows both changes in the bundle, offline.
        let policy = c.dir.path + "/genesis-policy.txt"
        try Data(try cinnabar(["policy", "--dir", c.nodes[1].path]).stdout.utf8).write(to: URL(fileURLWithPath: policy))
        let bundle = c.dir.path + "/last.bundle.json"
        try expectSuccess(["bundle", try XCTUnwrap(acked.last?.code), "--node", c.urls[3], "-o", bundle])
        let verified = try cinnabar(["verify", "--bundle", bundle, "--policy", policy])
        XCTAssertEqual(verified.status, 0, verified.stdout + verified.stderr)
        XCTAssertTrue(verified.stdout.contains("adds observer-1"), verified.stdout)
        XCTAssertTrue(verified.stdout.contains("removes notary"), verified.stdout)
        try c.stopAndAuditAll()  // across both changes: each block against the set that decided it
    }

    /// A validator's key is rotated by governance: once the change is in force its old key no
    /// longer links or votes; restarted with the new key it rejoins, votes and takes writes, and
    /// every checkpoint verifies against the set with the new key.
    func testAValidatorIsReKeyedAndRejoinsWithItsNewKey() throws {
        let c = try Consortium(count: 4)
        defer { c.stopAll() }
        try c.startAll()
        var acked = try c.write(6, to: 0)
        let genesis = try c.nodes[0].loadGenesis()
        let fresh = try NoteSigningKey.generate(name: "\(genesis.origin)/lab")
        try c.changeValidators(["--rotate", "lab=\(fresh.verifierKey.vkey)"], approvers: [0, 1, 2], epoch: 1)
        acked += try c.write(6, to: 0)  // three of four still decide while lab holds its old key

        c.kill(1)
        try FileManager.default.removeItem(atPath: c.nodes[1].keyPath)
        try KeyFile.create(fresh, at: c.nodes[1].keyPath)
        try c.start(1)
        acked += try c.write(6, to: 1)

        let final = try ValidatorSet(try genesis.validators.map { member in
            member.name == "lab" ? Validator(name: "lab", publicKey: fresh.verifierKey.publicKey)
                : Validator(name: member.name, publicKey: try NoteVerifierKey(parsing: member.key).publicKey)
        })
        try c.checkOneLedger(acked: acked, validators: final)
        // lab signs again, with its new key: the tip's checkpoint on lab's own node carries it.
        let note = try Note(parsing: try c.log(1).checkpoint)
        let keys = try final.verifierKeys(origin: genesis.origin)
        let labKey = try XCTUnwrap(keys.first { $0.name.hasSuffix("/lab") })
        let signed = try note.signatures.contains { $0.isFrom(labKey) } || c.waitForSignature(of: labKey, on: 1)
        XCTAssertTrue(signed, "lab does not sign with its new key")
        try c.stopAndAuditAll()
    }

    func testAValidatorWithoutSignerStateRefusesToStart() throws {
        let c = try Consortium(count: 4)
        defer { c.stopAll() }
        try FileManager.default.removeItem(atPath: c.nodes[2].consensusPath)
        let result = try cinnabar(["node", "--dir", c.nodes[2].path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("signer state is gone"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    }

    func testANodeOfflineForAThousandBlocksCatchesUp() throws {
        // The node offline is proposer of one height in four; a short propose timeout keeps
        // those heights cheap.
        let c = try Consortium(count: 4, timeouts: "150,150")
        defer { c.stopAll() }
        try c.startAll()
        c.kill(2)
        // One record per request and per block: a thousand blocks while node 2 is down.
        var acked: [Ack] = []
        for _ in 0..<1000 { acked += try c.write(1, to: 0) }
        let behind = try c.log(0)
        XCTAssertGreaterThanOrEqual(behind.height, 1000)
        let started = Date()
        try c.start(2)
        try c.waitForSameSize(timeout: 120)
        print("node 2 caught up \(behind.height) blocks in \(String(format: "%.1f", Date().timeIntervalSince(started))) s (debug build)")
        try c.checkOneLedger(acked: acked, earlier: [behind.checkpoint])
    }
}

/// An acknowledged write: the record id and the leaf index its receipt gave.
struct Ack {
    let recordID: String
    let index: UInt64
    let leafHash: Hash
    /// The record's verification code (for bundles).
    let code: String
}

/// A consortium: `dev init --validators N` in a temporary directory, one `cinnabar node` process
/// per validator, ports from a random base; on loopback, or each node in its own network
/// namespace of a `NetworkLab` (so that links between them can be cut).
final class Consortium: @unchecked Sendable {
    let dir = TemporaryDirectory()
    let nodes: [NodeDirectory]
    let urls: [String]
    let writer: RecordWriter
    let lab: NetworkLab?
    private var processes: [RunningProcess?]

    /// `timeouts`: the genesis's PROPOSE,VOTE milliseconds (short: a dead proposer costs little).
    init(count: Int, observers: Int = 0, lab: NetworkLab? = nil, timeouts: String = "600,300") throws {
        self.lab = lab
        let base = Int.random(in: 12_000...30_000)  // API and peer ports (base + 1000 + …) below the ephemeral range (32768…)
        var arguments = ["dev", "init", "--validators", String(count), "--dir", dir.path, "--timeouts", timeouts,
                         "--observers", String(observers)]
        let total = count + observers
        if let lab {
            arguments += ["--listen", "0.0.0.0:\(base)", "--peer-hosts", (0..<total).map(lab.address).joined(separator: ",")]
            urls = (0..<total).map { "http://\(lab.address($0)):\(base + 1 + $0)" }
        } else {
            arguments += ["--listen", "127.0.0.1:\(base)"]
            urls = (0..<total).map { "http://127.0.0.1:\(base + 1 + $0)" }
        }
        try expectSuccess(arguments)
        let names = Array(NodeDirectory.consortiumValidators.prefix(count)) + (0..<observers).map { "observer-\($0 + 1)" }
        let root = dir.path
        nodes = names.map { NodeDirectory(root + "/" + $0) }
        writer = try RecordWriter(key: try nodes[0].loadOrganisationKey("notary"), codeKey: try nodes[0].loadCodeKey())
        processes = Array(repeating: nil, count: total)
    }

    func startAll() throws { for i in nodes.indices { try start(i) } }

    func start(_ i: Int) throws {
        let log = dir.path + "/\(i).log"
        let process = if let lab {
            try RunningProcess(["netns", "exec", lab.namespace(i), cinnabarBinary, "node", "--dir", nodes[i].path],
                               standardError: log, executable: "/usr/sbin/ip")
        } else {
            try RunningProcess(["node", "--dir", nodes[i].path], standardError: log)
        }
        guard process.waitForLine(containing: "serving http://") != nil else {
            process.kill()
            throw ConsortiumFailure("node \(i) did not start: \(logTail(i))")
        }
        processes[i] = process
    }

    /// Consensus WALs of node `i` (stopped) above its store's tip: the heights a restart replays
    /// (decided ones whose blocks the store lost, and the one in progress).
    func walsAboveStoreTip(_ i: Int) throws -> Int {
        let store = try LedgerStore(directory: nodes[i].storePath)
        defer { store.close() }
        let tip = store.tip?.height ?? 0
        return try FileStore(directory: nodes[i].consensusPath).names().compactMap(ConsensusWAL.height(ofFile:)).filter { $0 > tip }.count
    }

    func kill(_ i: Int) {
        processes[i]?.kill(SIGKILL)
        processes[i] = nil
    }

    func signal(_ i: Int, _ signal: Int32) {
        if let p = processes[i] { Foundation.kill(p.process.processIdentifier, signal) }
    }

    /// Stops every node; with CINNABAR_KEEP_LOGS=DIR in the environment, copies their logs there.
    func stopAll() {
        for i in processes.indices {
            signal(i, SIGCONT)
            processes[i]?.kill(SIGTERM)
            processes[i] = nil
        }
        if let keep = ProcessInfo.processInfo.environment["CINNABAR_KEEP_LOGS"] {
            try? FileManager.default.createDirectory(atPath: keep, withIntermediateDirectories: true)
            for i in nodes.indices { try? FileManager.default.copyItem(atPath: dir.path + "/\(i).log", toPath: keep + "/\(i).log") }
        }
    }

    /// Stops every node and audits each store with `cinnabar audit`: every hash recomputed, every
    /// block's embedded signatures a quorum of the set that decided the block before it, every
    /// certificate and checkpoint checked against the set in force.
    func stopAndAuditAll() throws {
        stopAll()
        for node in nodes {
            let audit = try cinnabar(["audit", "--dir", node.path])
            XCTAssertEqual(audit.status, 0, "\(node.path): \(audit.stdout)\(audit.stderr)")
            XCTAssertTrue(audit.stdout.contains("audit ok"), audit.stdout)
        }
    }

    func logTail(_ i: Int, all: Bool = false) -> String {
        let text = (try? String(contentsOfFile: dir.path + "/\(i).log", encoding: .utf8)) ?? ""
        return all ? text : String(text.suffix(2000))
    }

    /// Deposits `n` evidence records through node `i`, concurrently, each waited for; returns
    /// the acknowledgements (every request must succeed).
    func write(_ n: Int, to i: Int) throws -> [Ack] {
        let records = (0..<n).map { _ in writer.evidence(sha256: SHA256.hash(secureRandomBytes(count: 32)).hex) }
        let lock = NSLock()
        nonisolated(unsafe) var acks: [Ack] = []
        nonisolated(unsafe) var failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: n) { k in
            do {
                let (status, _, body) = try httpExchange("POST", urls[i] + "/v1/records", body: records[k].bytes)
                let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
                guard status == 200 || status == 201, let index = object["leaf_index"] as? Int else {
                    throw ConsortiumFailure("HTTP \(status): \(String(decoding: body, as: UTF8.self))")
                }
                let ack = Ack(recordID: records[k].id, index: UInt64(index), leafHash: RFC6962.leafHash([0x01] + records[k].bytes),
                              code: records[k].code.value)
                lock.lock(); acks.append(ack); lock.unlock()
            } catch {
                lock.lock(); failures.append("\(error)"); lock.unlock()
            }
        }
        guard failures.isEmpty else { throw ConsortiumFailure("writes to node \(i) failed: \(failures.first!)\n\(logTail(i))") }
        return acks
    }

    /// Posts `n` new records to node `i` as one `POST /v1/batches`; each line must be logged.
    func writeBatch(_ n: Int, to i: Int) throws -> [Ack] {
        let records = (0..<n).map { _ in writer.evidence(sha256: SHA256.hash(secureRandomBytes(count: 32)).hex) }
        let (status, _, body) = try httpExchange("POST", urls[i] + "/v1/batches", body: Array(records.map(\.bytes).joined(separator: [0x0A])))
        let object = try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
        guard status == 200, let results = object["results"] as? [[String: Any]], results.count == n else {
            throw ConsortiumFailure("batch to node \(i): HTTP \(status): \(String(decoding: body, as: UTF8.self).prefix(500))")
        }
        return try zip(records, results).map { record, result in
            guard result["status"] as? Int == 201, let receipt = result["receipt"] as? [String: Any],
                  receipt["record_id"] as? String == record.id, let index = receipt["leaf_index"] as? Int else {
                throw ConsortiumFailure("batch to node \(i): line not logged: \(result)")
            }
            return Ack(recordID: record.id, index: UInt64(index), leafHash: RFC6962.leafHash([0x01] + record.bytes), code: record.code.value)
        }
    }

    /// Waits (writing a record now and then) until node `i`'s latest checkpoint carries a signature by `key`.
    func waitForSignature(of key: NoteVerifierKey, on i: Int) throws -> Bool {
        for _ in 0..<20 {
            if try Note(parsing: try log(i).checkpoint).signatures.contains(where: { $0.isFrom(key) }) { return true }
            _ = try write(1, to: i)
        }
        return false
    }

    /// Proposes a change through node 1, has validators `approvers` (node indices) approve it with
    /// their key files, submits it, and waits until every node reports `epoch`.
    func changeValidators(_ change: [String], approvers: [Int], epoch: Int) throws {
        let file = dir.path + "/change-\(epoch).json"
        try expectSuccess(["validators", "propose", "--node", urls[1]] + change + ["-o", file])
        for i in approvers { try expectSuccess(["validators", "approve", file, "--key", nodes[i].keyPath]) }
        try expectSuccess(["validators", "submit", file, "--node", urls[approvers[0]]])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let epochs = try nodes.indices.map { i -> Int in
                let (_, _, body) = try httpExchange("GET", urls[i] + "/v1/log")
                return (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["epoch"] as? Int ?? -1
            }
            if epochs.allSatisfy({ $0 == epoch }) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ConsortiumFailure("the nodes did not all reach epoch \(epoch)")
    }

    struct LogState {
        let size: UInt64
        let height: UInt64
        let checkpoint: String
    }

    func log(_ i: Int) throws -> LogState {
        let (status, _, body) = try httpExchange("GET", urls[i] + "/v1/log")
        guard status == 200, let o = try JSONSerialization.jsonObject(with: body) as? [String: Any],
              let size = o["size"] as? Int, let height = o["height"] as? Int, let note = o["checkpoint"] as? String else {
            throw ConsortiumFailure("GET /v1/log on node \(i): HTTP \(status)")
        }
        return LogState(size: UInt64(size), height: UInt64(height), checkpoint: note)
    }

    /// Waits until every node reports the same tree size.
    func waitForSameSize(timeout: TimeInterval = 60) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var sizes: [UInt64] = []
        while Date() < deadline {
            sizes = try nodes.indices.map { try log($0).size }
            if Set(sizes).count == 1 { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw ConsortiumFailure("nodes did not converge: sizes \(sizes)")
    }

    /// The checker: light-client verification of each node's checkpoint, one log (pairwise
    /// consistency), every acknowledged record present exactly once at its acknowledged leaf.
    /// `validators`: the set in force at the end, if governance changed it (default: the genesis set).
    func checkOneLedger(acked: [Ack], earlier: [String] = [], validators: ValidatorSet? = nil) throws {
        try waitForSameSize()
        let genesis = try nodes[0].loadGenesis()
        let keys = try (validators ?? genesis.validatorSet()).verifierKeys(origin: genesis.origin)
        let quorum = 2 * keys.count / 3 + 1
        var checkpoints: [Checkpoint] = []
        for i in nodes.indices {
            let state = try log(i)
            let note = try Note(parsing: state.checkpoint)
            let signers = Set(try note.verify(keys: keys).map(\.publicKey))
            XCTAssertGreaterThanOrEqual(signers.count, quorum, "node \(i)'s checkpoint has \(signers.count) validator signatures")
            checkpoints.append(try Checkpoint(parsing: note.text))
        }
        for c in checkpoints.dropFirst() {
            XCTAssertEqual(c.size, checkpoints[0].size)
            XCTAssertEqual(c.root, checkpoints[0].root, "two nodes hold different logs of the same size")
        }
        // No validator signed two different messages for one step: no node saw equivocation.
        for i in nodes.indices {
            XCTAssertFalse(logTail(i, all: true).contains("evidence of equivocation"), "node \(i) saw a validator equivocate")
        }
        // Every checkpoint seen earlier (on any node) is a prefix of every node's final log.
        let final = checkpoints[0]
        for text in earlier {
            let old = try Checkpoint(parsing: try Note(parsing: text).text)
            for i in nodes.indices where old.size < final.size {
                let (status, _, body) = try httpExchange("GET", urls[i] + "/v1/proofs/consistency?from=\(old.size)&to=\(final.size)")
                XCTAssertEqual(status, 200)
                let o = try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
                let proof = (o["consistency_proof"] as? [String] ?? []).compactMap(Base64.decode).compactMap(Hash.init(bytes:))
                XCTAssertNoThrow(try ConsistencyProof.verify(from: old.size, fromRoot: old.root, to: final.size, toRoot: final.root, proof: proof),
                                 "node \(i)'s log does not extend checkpoint \(old.size)")
            }
        }
        // Every acknowledged record: the same leaf on every node, that leaf is the record, and no
        // two acknowledgements share a leaf.
        XCTAssertEqual(Set(acked.map(\.index)).count, acked.count, "two acknowledged records share a leaf")
        XCTAssertEqual(Set(acked.map(\.recordID)).count, acked.count)
        for ack in acked.shuffled().prefix(40) {
            for i in nodes.indices {
                let (status, _, body) = try httpExchange("GET", urls[i] + "/v1/records/\(ack.recordID)")
                XCTAssertEqual(status, 200, "node \(i) lacks acknowledged record \(ack.recordID)")
                let o = (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["receipt"] as? [String: Any] ?? [:]
                XCTAssertEqual((o["leaf_index"] as? Int).map(UInt64.init), ack.index, "node \(i) has \(ack.recordID) elsewhere")
                if let leaf = (o["leaf"] as? String).flatMap(Base64.decode) {
                    XCTAssertEqual(RFC6962.leafHash(leaf), ack.leafHash)
                } else {
                    XCTFail("node \(i) gave no leaf for \(ack.recordID)")
                }
            }
        }
    }
}

struct ConsortiumFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
