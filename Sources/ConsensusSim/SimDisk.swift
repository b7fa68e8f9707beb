// The simulator's `DurableStore`: each file keeps its durable bytes and its current bytes. A crash
// throws away what was not synced — or keeps a torn prefix of it — and a crash can be armed to
// strike at any persistence operation (consensus.md §3.2, §3.4 "crash at each point").
import Consensus

/// Thrown by a `SimDisk` operation when an armed crash strikes: the node dies at that point.
struct SimCrash: Error {}

/// A node's disk in the simulator.
final class SimDisk: DurableStore {
    private struct File {
        var current: [UInt8]
        var durable: [UInt8]?
    }

    private var files: [String: File] = [:]
    /// Files discarded since the directory was last made durable: a crash brings them back.
    private var ghosts: [String: [UInt8]] = [:]
    private var random: SimRandom
    /// Persistence operations made so far, and the one an armed crash strikes before.
    private(set) var operations = 0
    var crashBeforeOperation: Int?
    /// When true, a crash may keep a random prefix of each file's unsynced bytes.
    var tearsOnCrash: Bool

    init(random: SimRandom, tearsOnCrash: Bool) {
        self.random = random
        self.tearsOnCrash = tearsOnCrash
    }

    private func operation() throws {
        operations += 1
        if let at = crashBeforeOperation, operations >= at {
            crashBeforeOperation = nil
            throw SimCrash()
        }
    }

    func read(_ name: String) throws -> [UInt8]? { files[name]?.current }

    func append(_ name: String, _ bytes: [UInt8]) throws {
        try operation()
        files[name, default: File(current: [], durable: nil)].current += bytes
    }

    func sync(_ name: String) throws {
        try operation()
        guard var f = files[name] else { return }
        if f.durable == nil { ghosts = [:] }  // a new entry: the directory is synced
        f.durable = f.current
        files[name] = f
    }

    func truncate(_ name: String, to count: Int) throws {
        try operation()
        guard var f = files[name] else { return }
        f.current = Array(f.current.prefix(count))
        f.durable = f.current
        files[name] = f
    }

    func replace(_ name: String, with bytes: [UInt8]) throws {
        try operation()
        files[name] = File(current: bytes, durable: bytes)
        ghosts = [:]
    }

    func remove(_ name: String) throws {
        try operation()
        files[name] = nil
        ghosts = [:]
    }

    func discard(_ name: String) throws {
        try operation()
        if let durable = files[name]?.durable { ghosts[name] = durable }
        files[name] = nil
    }

    func names() throws -> [String] { files.keys.sorted() }

    /// The power goes out: every file falls back to its durable bytes, plus (if tearing) a random
    /// prefix of its unsynced appended bytes; files never synced vanish.
    func crash() {
        for (name, durable) in ghosts where files[name] == nil { files[name] = File(current: durable, durable: durable) }
        ghosts = [:]
        for name in files.keys.sorted() {
            let f = files[name]!
            guard let durable = f.durable else {
                files[name] = nil
                continue
            }
            var kept = durable
            if tearsOnCrash, f.current.count > durable.count, f.current.starts(with: durable), random.chance(permille: 500) {
                let unsynced = f.current.count - durable.count
                kept += f.current[durable.count..<(durable.count + random.int(0...unsynced))]
            }
            files[name] = File(current: kept, durable: durable)
        }
    }

    /// How many intact records the durable bytes of `name` hold.
    func durableRecords(of name: String) -> Int {
        guard let durable = files[name]?.durable, let parsed = try? RecordFile.parse(durable, file: name) else { return 0 }
        return parsed.records.count
    }

    /// Flips one bit of a durable record that has another record after it in `name` (a damaged
    /// sector in the middle of the WAL). Returns false if the file has fewer than two records.
    func corruptMiddle(of name: String) -> Bool {
        guard let f = files[name], let durable = f.durable,
              let parsed = try? RecordFile.parse(durable, file: name), parsed.records.count >= 2 else { return false }
        let at = RecordFile.headerBytes + random.int(0...(parsed.records[0].count - 1))
        var bytes = durable
        bytes[at] ^= 0x10
        files[name] = File(current: bytes, durable: bytes)
        return true
    }

    /// Deletes a file outright (the operator lost the signer state).
    func lose(_ name: String) { files[name] = nil }
}
