// `cinnabar bench …`: speed figures, each printed beside the machine limit it compares against,
// measured in the same run (raw SHA-256 rate, RocksDB synced-batch rate, fsync rate).
import API
import ArgumentParser
import CinnabarCrypto
import Foundation
import Ledger
import MerkleLog
import Node
import Records
import SignedNote
import Storage
import Synchronization

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure speed against this machine's limits.",
                                                    subcommands: [BenchAppend.self, BenchIngest.self, BenchWrite.self, BenchProof.self, BenchVerify.self, BenchConsensus.self, BenchConsortium.self])
}

/// Machine limits measured in-process, so figures are comparable on shared, noisy machines.
enum MachineLimits {
    /// Measures and prints the raw Ed25519 verify rate (one core, and times the cores): the limit
    /// the record benchmarks compare against. Returns the per-core rate and the core count.
    /// The figures compare against libsodium's rate, the issue's yardstick; this build's own rate
    /// for a key with a verification table is printed beside it.
    static func printVerifyLimit() -> (perCore: Double, cores: Int) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let perCore = ed25519VerifiesPerSecond(byLibsodium: true)
        let tables = ed25519VerifiesPerSecond(byLibsodium: false)
        print("limit: Ed25519 verify (libsodium, 1 core)  \(rate(perCore))/s; × \(cores) cores = \(rate(perCore * Double(cores)))/s"
              + " (this build, a registered key's table: \(rate(tables))/s per core, \(String(format: "%.1f", tables / perCore))×)")
        return (perCore, cores)
    }

    /// Measures libsodium's rate again once the run is over, prints it, and returns the mean of the
    /// two: one second's sample moves by ±20 % on this shared machine, so the shares the benchmarks
    /// print compare against both ends of the run.
    static func printVerifyLimitAfterRun(before: Double) -> Double {
        let after = ed25519VerifiesPerSecond(byLibsodium: true)
        let mean = (before + after) / 2
        print("limit after the run: Ed25519 verify (libsodium, 1 core)  \(rate(after))/s; shares below are of the mean, \(rate(mean))/s per core")
        return mean
    }

    /// Ed25519 signature verifications per second on one core: libsodium's
    /// `crypto_sign_verify_detached`, or `isValidSignature` once the key has its table.
    static func ed25519VerifiesPerSecond(byLibsodium: Bool, seconds: Double = 1) -> Double {
        let key = Ed25519PrivateKey.generate()
        let message = secureRandomBytes(count: 64)
        let signature = key.signature(for: message)
        let verify = byLibsodium ? key.publicKey.isValidSignatureByLibsodium : key.publicKey.isValidSignature
        for _ in 0..<VerificationTables.usesBeforeTable { precondition(verify(signature, message)) }
        var verified = 0
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            for _ in 0..<200 { if verify(signature, message) { verified += 1 } }
        }
        return Double(verified) / Date().timeIntervalSince(start)
    }

    /// RFC 6962 interior-node hashes (65-byte SHA-256 inputs) per second, one core.
    static func sha256NodesPerSecond(seconds: Double = 1) -> Double {
        var h = Hash.zero
        var n = 0
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            for _ in 0..<10_000 { h = RFC6962.nodeHash(h, h) }
            n += 10_000
        }
        precondition(h != Hash.zero)
        return Double(n) / Date().timeIntervalSince(start)
    }

    /// Synced RocksDB write batches per second with `puts` values of `valueBytes` each.
    static func rocksSyncedBatchesPerSecond(directory: String, puts: Int, valueBytes: Int, seconds: Double = 1) throws -> Double {
        let db = try RocksDB(path: directory, families: [])
        defer { db.close() }
        let family = db.family("default")
        let value = secureRandomBytes(count: valueBytes)
        var key: UInt64 = 0
        var batches = 0
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            let batch = WriteBatch()
            for _ in 0..<puts {
                var w = BinaryWriter()
                w.u64(key)
                batch.put(family, w.bytes, value)
                key += 1
            }
            try db.write(batch, sync: true)
            batches += 1
        }
        return Double(batches) / Date().timeIntervalSince(start)
    }

    static func temporaryDirectory(_ tag: String) -> String {
        let path = NSTemporaryDirectory() + "cinnabar-bench-\(tag)-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.removeItem(atPath: path)
        return path
    }
}

func rate(_ x: Double) -> String {
    x >= 1e6 ? String(format: "%.2fM", x / 1e6) : x >= 1e3 ? String(format: "%.1fk", x / 1e3) : String(format: "%.0f", x)
}

struct BenchAppend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Durable appends per second through the sequencer (submit → fsync'd, signed block → ack).")

    @Option(help: "Entries to append.") var count = 1_000_000
    @Option(help: "Bytes per entry.") var leafBytes = 200
    @Option(help: "Concurrent submitters, each waiting for its ack before the next submit.") var concurrency = 4096
    @Option(help: "Print the rate over every this many acks.") var every = 100_000
    @Option(help: "Max entries per block (default: the node's).") var maxBlockEntries: Int?
    @Option(help: "Max linger per block in ms (default: the node's).") var maxBlockDelayMs: Int?
    @Flag(help: "Also compute each entry's inclusion proof, as an API receipt does.") var proofs = false

    func run() async throws {
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let sha = MachineLimits.sha256NodesPerSecond()
        print("limit: SHA-256 (65-byte nodes, 1 core)      \(rate(sha))/s")
        let limitDir = MachineLimits.temporaryDirectory("limit")
        try FileManager.default.createDirectory(atPath: limitDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: limitDir) }
        let fsyncs = try MachineLimits.rocksSyncedBatchesPerSecond(directory: limitDir + "/a", puts: 1, valueBytes: leafBytes)
        print("limit: RocksDB synced single puts (fsync)   \(rate(fsyncs))/s")
        let batches = try MachineLimits.rocksSyncedBatchesPerSecond(directory: limitDir + "/b", puts: 1000, valueBytes: leafBytes)
        print("limit: RocksDB synced 1000-put batches      \(rate(batches))/s = \(rate(batches * 1000)) puts/s")

        let dir = MachineLimits.temporaryDirectory("append")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let directory = try NodeDirectory.initialise(at: dir, origin: "bench.example/cinnabar", validator: "bench", listen: "127.0.0.1:0")
        // The raw log: the sequencer without record admission (`bench ingest` measures records).
        let store = try LedgerStore(directory: directory.storePath)
        defer { store.close() }
        var settings = Sequencer.Configuration()
        if let maxBlockEntries { settings.maxBlockEntries = maxBlockEntries }
        if let maxBlockDelayMs { settings.maxBlockDelay = .milliseconds(maxBlockDelayMs) }
        let sequencer = try directory.openSequencer(store: store, applier: nil, configuration: settings, clockMillis: LedgerNode.wallClockMillis)
        try sequencer.start()
        defer { sequencer.stop() }
        let counter = Counter()
        let start = Date()
        let every = self.every, total = count, withProofs = proofs, leafBytes = self.leafBytes
        let prefix = secureRandomBytes(count: 16)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var i = worker
                    while i < total {
                        var leaf = [LeafTag.record.rawValue] + prefix
                        withUnsafeBytes(of: UInt64(i).bigEndian) { leaf += $0 }
                        leaf += [UInt8](repeating: 0x2A, count: max(0, leafBytes - leaf.count))
                        let receipt = try await sequencer.submit(leaf)
                        if withProofs {
                            _ = try store.hashReader.inclusionProof(index: receipt.index, size: receipt.size)
                        }
                        counter.tick(every: every) { done, window in
                            print("  \(done) acked: \(rate(Double(every) / window))/s over the last \(every)")
                        }
                        i += concurrency
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = Date().timeIntervalSince(start)
        let blocks = store.tip?.height ?? 0
        print("durable appends: \(rate(Double(count) / elapsed))/s (\(count) × \(leafBytes)-byte leaves in \(String(format: "%.2f", elapsed)) s, \(blocks) blocks, \(String(format: "%.0f", Double(count) / Double(max(blocks, 1)))) entries/block\(proofs ? ", with an inclusion proof per ack" : ""))")
    }
}

/// Counts acks and reports the rate per window.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    private var windowStart = Date()

    func tick(every: Int, report: (Int, Double) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        done += 1
        if done % every == 0 {
            let now = Date()
            report(done, now.timeIntervalSince(windowStart))
            windowStart = now
        }
    }
}

struct BenchProof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proof",
        abstract: "Inclusion and consistency proof generation time from the store at given tree sizes.")

    @Option(help: "Comma-separated tree sizes.") var sizes = "1000000,10000000"
    @Option(help: "Proofs per measurement.") var proofs = 20_000

    func run() throws {
        let sha = MachineLimits.sha256NodesPerSecond()
        print("limit: SHA-256 (65-byte nodes, 1 core) \(rate(sha))/s")
        for size in sizes.split(separator: ",").compactMap({ UInt64($0) }) {
            let dir = MachineLimits.temporaryDirectory("proof")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let started = Date()
            let store = try buildStore(dir: dir, size: size)
            defer { store.close() }
            let tipSize = store.size
            print("size \(tipSize): built in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
            let reader = store.hashReader
            var rng = SystemRandomNumberGenerator()
            let proofs = self.proofs
            for pass in ["first pass (store just built)", "second pass (warm)", "after compaction"] {
                if pass == "after compaction" { try store.db.compact(store.db.family(LedgerStore.Families.tiles)) }
                let indices = (0..<proofs).map { _ in UInt64.random(in: 0..<tipSize, using: &rng) }
                let froms = (0..<proofs).map { _ in UInt64.random(in: 1..<tipSize, using: &rng) }
                var t = Date()
                for index in indices { _ = try reader.inclusionProof(index: index, size: tipSize) }
                let inclusion = Date().timeIntervalSince(t) / Double(proofs) * 1e6
                t = Date()
                for from in froms { _ = try reader.consistencyProof(from: from, to: tipSize) }
                let consistency = Date().timeIntervalSince(t) / Double(proofs) * 1e6
                print(String(format: "  %@: inclusion %.2f µs/proof, consistency %.2f µs/proof (%d random proofs each)",
                             pass, inclusion, consistency, proofs))
            }
        }
    }

    /// Fills a store with `size` leaves (short ones: proof cost does not depend on leaf size)
    /// in blocks decided by the same engine the node uses.
    private func buildStore(dir: String, size: UInt64) throws -> LedgerStore {
        let directory = try NodeDirectory.initialise(at: dir, origin: "bench.example/cinnabar", validator: "bench", listen: "127.0.0.1:0")
        let store = try LedgerStore(directory: directory.storePath)
        let sequencer = try directory.openSequencer(store: store, applier: nil, configuration: .init(), clockMillis: LedgerNode.wallClockMillis)
        var next: UInt64 = 0
        while store.size < size {
            let n = Int(min(16_383, size - store.size - 1))
            let entries = (0..<n).map { i -> [UInt8] in
                var leaf = [LeafTag.record.rawValue]
                withUnsafeBytes(of: (next + UInt64(i)).bigEndian) { leaf += $0 }
                return leaf
            }
            next += UInt64(n)
            try sequencer.appendBlock(entries)
        }
        return store
    }
}

struct BenchIngest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Signed records admitted and committed per second (signature, schema, permission, indexes, durable block).")

    @Option(help: "Records to ingest.") var count = 100_000
    @Option(help: "Concurrent submitters.") var concurrency = 512

    func run() async throws {
        let (verifyRateBefore, cores) = MachineLimits.printVerifyLimit()
        let (directory, dir) = try BenchIngest.freshLedger("ingest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let records = try await BenchIngest.signedEvidence(count: count, directory: directory)
        print("signed \(records.count) EVIDENCE_DEPOSITED records (\(records.map(\.count).reduce(0, +) / records.count) bytes each)")
        let node = try LedgerNode(directory: directory)
        defer { node.close() }
        let ingest = try await BenchIngest.ingest(records, into: node, concurrency: concurrency, progress: true)
        let verifyRate = MachineLimits.printVerifyLimitAfterRun(before: verifyRateBefore)
        print("ingest: \(rate(ingest)) records/s (\(count) records, \(node.store.tip?.height ?? 0) blocks) = \(String(format: "%.0f", 100 * ingest / (verifyRate * Double(cores))))% of the raw verify rate on \(cores) cores")
    }

    /// A new one-validator ledger in a temporary directory.
    static func freshLedger(_ tag: String) throws -> (NodeDirectory, String) {
        let dir = MachineLimits.temporaryDirectory(tag)
        return (try NodeDirectory.initialise(at: dir, origin: "bench.example/cinnabar", validator: "bench", listen: "127.0.0.1:0"), dir)
    }

    /// `count` distinct signed evidence records by the demo notary office, signed on all cores
    /// (not timed: signing is the writer's cost, not the node's).
    static func signedEvidence(count total: Int, directory: NodeDirectory, salt: String = "bench") async throws -> [[UInt8]] {
        let writer = try RecordWriter(key: try directory.loadOrganisationKey("notary"), codeKey: try directory.loadCodeKey())
        let workers = ProcessInfo.processInfo.activeProcessorCount
        return try await withThrowingTaskGroup(of: [[UInt8]].self) { group in
            for w in 0..<workers {
                group.addTask {
                    stride(from: w, to: total, by: workers).map { i in
                        writer.evidence(sha256: SHA256.hash(Array("\(salt)-\(i)".utf8)).hex).bytes
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    /// Submits every record in-process with `concurrency` submitters; returns records/s.
    static func ingest(_ records: [[UInt8]], into node: LedgerNode, concurrency: Int, progress: Bool) async throws -> Double {
        let total = records.count
        let counter = Counter()
        let began = Date()
        let every = max(total / 5, 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var i = worker
                    while i < total {
                        _ = try await node.submit(record: records[i])
                        if progress {
                            counter.tick(every: every) { done, window in
                                print("  \(done) committed: \(rate(Double(every) / window))/s over the last \(every)")
                            }
                        }
                        i += concurrency
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(total) / Date().timeIntervalSince(began)
    }
}

struct BenchVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "GET /v1/verify/{code} requests/s and latency under load (wrk), beside a trivial route on the same server.")

    @Option(help: "Seconds per route.") var seconds = 5
    @Option(help: "Concurrent connections.") var connections = 64

    func run() async throws {
        try WrkReport.requireWrk("bench verify")
        let dir = MachineLimits.temporaryDirectory("verify")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let directory = try NodeDirectory.initialise(at: dir, origin: "bench.example/cinnabar", validator: "bench", listen: "127.0.0.1:0")
        var config = try directory.loadConfig()
        config.lookupsPerSecond = 1e12  // one client address here: lift the per-client limit for the measurement
        config.lookupBurst = 1e12
        try JSONEncoder().encode(config).write(to: URL(fileURLWithPath: directory.configPath))
        let node = try LedgerNode(directory: directory)
        defer { node.close() }
        let demo = try await DemoScenario(node: node).run()
        guard let code = demo.codes.first(where: { $0.label == "notarial-corrected" })?.code else { throw CLIError("no demo code") }
        let port = PortBox()
        let app = HTTPServer.application(node: node, host: "127.0.0.1", port: 0) { bound in port.set(bound) }
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { server.cancel() }
        let bound = try await port.wait()
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; wrk -t2 -c\(connections) -d\(seconds)s --latency, server and wrk share the cores")
        for (label, path) in [("trivial route GET /healthz", "/healthz"), ("GET /v1/verify/{code}", "/v1/verify/\(code.value)")] {
            let result = try await WrkReport.get("http://127.0.0.1:\(bound)\(path)", connections: connections, seconds: seconds)
            print(String(format: "%@: %@ req/s, p50 %@, p99 %@", label, result.field("Requests/sec:"), result.field("50%"), result.field("99%")))
        }
    }
}

/// The port the server bound, handed from its start callback to the benchmark.
final class PortBox: Sendable {
    private let port = Mutex<Int?>(nil)
    func set(_ p: Int) { port.withLock { $0 = p } }
    func wait() async throws -> Int {
        for _ in 0..<500 {
            if let p = port.withLock({ $0 }) { return p }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw CLIError("the server did not start")
    }
}
