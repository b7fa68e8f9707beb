// The consensus write-ahead log (consensus.md §2.8.2): one file per height holding every input
// in processing order. Appends are buffered; the driver syncs before any output leaves.

/// The inputs of one height, durable once `sync` returns.
public final class ConsensusWAL {
    public let height: UInt64
    private let store: DurableStore
    private let name: String
    private var pending = false
    private var synced = false
    /// The inputs found on open, in order (replayed by the driver).
    public let recovered: [Input]

    /// The file name for `height`: `wal-` and 20 zero-padded digits, so names sort by height.
    public static func fileName(height: UInt64) -> String {
        let digits = String(height)
        return "wal-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    /// The height a WAL file name stands for, or nil for other files.
    public static func height(ofFile name: String) -> UInt64? {
        guard name.hasPrefix("wal-"), name.count == 24 else { return nil }
        return UInt64(name.dropFirst(4))
    }

    /// Opens the WAL of `height`: a torn last record is truncated; a damaged record with data after
    /// it throws `corruptRecord` (halt), a record that does not decode throws `malformedRecord`.
    public init(store: DurableStore, height: UInt64) throws {
        self.store = store
        self.height = height
        name = ConsensusWAL.fileName(height: height)
        var inputs: [Input] = []
        for payload in try RecordFile.recover(store, name) ?? [] {
            guard let input = WireCodec.decodeInput(payload) else {
                throw ConsensusError.malformedRecord(file: name, reason: "undecodable input")
            }
            inputs.append(input)
        }
        recovered = inputs
    }

    /// Appends an input; durable only after `sync`.
    public func append(_ input: Input) throws {
        try store.append(name, RecordFile.frame(WireCodec.encode(input)))
        pending = true
    }

    /// Makes every appended input durable (no-op when nothing is pending). The first sync of a
    /// height also creates the next height's (empty) file, so that the one directory fsync a new
    /// file needs covers both, and the next height's first sync needs none.
    public func sync() throws {
        guard pending else { return }
        if !synced { try store.append(ConsensusWAL.fileName(height: height + 1), []) }
        try store.sync(name)
        pending = false
        synced = true
    }

    /// Deletes this height's file once the height is decided and its block durable. The deletion
    /// need not be durable: a WAL of a finished height that comes back after a crash is removed
    /// when the replica opens (its first sync of the next WAL also makes the deletion durable).
    public func discard() throws {
        try store.discard(name)
    }
}
