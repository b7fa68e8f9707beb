// The write path: submissions are queued (bounded) and batched into blocks by count and delay;
// each block is proposed to the consensus engine, which decides it (BlockConsensus: n = 1 runs
// the same engine, WAL and signer guard as n = 7), then committed in one batch with its
// certificate, then its checkpoint is signed. A submission is acknowledged only after all that.
//
// Each block is written to disk once: the engine's WAL already holds the decided block durably
// (the value was synced before it was signed, the votes by the signer guard), so the store's
// batch skips RocksDB's WAL and stays in the memtables; a second thread flushes the store (all
// column families, atomically) every `flushEveryHeights` heights, and a height's WAL is deleted
// only once a flush has made its block durable in the store. After a crash, the decisions the
// store lost are replayed from the WALs still on disk.
import CinnabarCrypto
import Consensus
import Foundation
import Ledger
import MerkleLog
import SignedNote
import Storage

/// Where a submission landed: its leaf and the durable, signed block that holds it.
public struct Receipt: Sendable, Equatable {
    /// The leaf index of the entry (for a duplicate: of the original entry).
    public let index: UInt64
    /// True if the same entry was already logged; `index` is then the original's.
    public let duplicate: Bool
    /// The latest durable block and its checkpoint (which includes the entry).
    public let height: UInt64
    public let size: UInt64
    public let root: Hash
    /// Block time of that block, Unix milliseconds (for a new entry: its own block's time).
    public let timeMillis: UInt64
    /// The checkpoint of `size`, signed by the validator (C2SP signed note text).
    public let signedCheckpoint: String

    public init(index: UInt64, duplicate: Bool, height: UInt64, size: UInt64, root: Hash, timeMillis: UInt64, signedCheckpoint: String) {
        self.index = index
        self.duplicate = duplicate
        self.height = height
        self.size = size
        self.root = root
        self.timeMillis = timeMillis
        self.signedCheckpoint = signedCheckpoint
    }
}

/// One queued entry: its leaf bytes and what admission learned about it (e.g. the parsed record).
public struct Entry: Sendable {
    public let leaf: [UInt8]
    public let context: (any Sendable)?
    public init(leaf: [UInt8], context: (any Sendable)? = nil) {
        self.leaf = leaf
        self.context = context
    }
}

/// What an entry becomes in the next block.
public enum EntryOutcome: Sendable {
    case append
    /// Already logged at this leaf index: answer with the original receipt.
    case duplicate(of: UInt64)
    case rejected(SubmitError)
}

/// A block's plan: one outcome per queued entry, and the derived state to write with it.
public struct BlockPlan: Sendable {
    public var outcomes: [EntryOutcome]
    public var derived: [(key: [UInt8], value: [UInt8])]
    /// Applier state to adopt once the block is durable.
    public var state: (any Sendable)?
    public init(outcomes: [EntryOutcome], derived: [(key: [UInt8], value: [UInt8])] = [], state: (any Sendable)? = nil) {
        self.outcomes = outcomes
        self.derived = derived
        self.state = state
    }
}

/// Decides, on the sequencing thread, what queued entries become (deduplication, rules that
/// depend on the latest state, derived indexes). The seam where records meet the log.
public protocol BlockApplier: AnyObject, Sendable {
    /// Plans the next block. `firstIndex` is the leaf index the first appended entry will get.
    func plan(_ entries: [Entry], firstIndex: UInt64) -> BlockPlan
    /// The state a block already decided adds (one replayed after a crash): every entry is
    /// appended, nothing is judged again — the block was admissible on the state it was decided
    /// on, and a later state (a key retired since) must not change what was logged.
    func planDecided(_ leaves: [[UInt8]], firstIndex: UInt64) -> BlockPlan
    /// The planned block is durable: adopt its state.
    func committed(_ plan: BlockPlan)
    /// What admission makes of an entry another node shared, checked against the committed state
    /// (for records: parsed, schema- and signature-checked), to be kept as the entry's context so
    /// that planning need not check it again; nil if it is not admissible. Any thread.
    func admitShared(_ leaf: [UInt8]) -> (any Sendable)?
}

/// Why a submission was not accepted. Nothing was written for it.
public enum SubmitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The queue is full: try again shortly.
    case busy(queuedEntries: Int)
    /// The node is shutting down.
    case stopped
    /// The leaf itself is unacceptable.
    case rejected(LeafError)
    /// The record was refused by admission (schema, signature, permission), with its stable code.
    case refused(code: String, reason: String)
    /// The block could not be made durable; the submission was not logged.
    case storageFailed(String)

    public var code: String {
        switch self {
        case .busy: "busy"
        case .stopped: "stopped"
        case let .rejected(e): e.code
        case let .refused(code, _): code
        case .storageFailed: "storage_failed"
        }
    }

    public var description: String {
        switch self {
        case let .busy(n): "the node is busy (\(n) entries queued); retry shortly"
        case .stopped: "the node is stopping"
        case let .rejected(e): e.description
        case let .refused(_, reason): reason
        case let .storageFailed(why): "the block could not be stored: \(why)"
        }
    }
}

/// Turns submissions into durable, signed blocks: `start()`, `submit`, `stop()`. One validator
/// alone (`Sequencer`) or one of a consortium (`ConsortiumSequencer`).
public protocol EntrySequencer: AnyObject, Sendable {
    func start() throws
    /// Queues one entry and returns once its block is durable and its checkpoint signed.
    func submit(_ entry: Entry) async throws -> Receipt
    /// Stops accepting submissions and returns when the sequencing thread is done.
    func stop()
}

/// The single-validator sequencer. Create, `start()`, `submit`, `stop()`.
public final class Sequencer: EntrySequencer, @unchecked Sendable {
    /// Batching and back-pressure settings (defaults measured with `cinnabar bench append`).
    public struct Configuration: Sendable {
        /// A block holds at most this many entries (the trailer is extra).
        public var maxBlockEntries: Int = 16_384
        /// After the first entry arrives, wait at most this long for more before cutting a block.
        public var maxBlockDelay: Duration = .milliseconds(2)
        /// Entries waiting for a block; beyond this, `submit` fails with `.busy`.
        public var maxQueuedEntries: Int = 262_144
        public init() {}
    }

    private struct Pending {
        let entry: Entry
        let continuation: CheckedContinuation<Receipt, any Error>
    }

    private let store: LedgerStore
    private var builder: BlockBuilder  // owned by the sequencing thread after start()
    private let consensus: BlockConsensus  // likewise
    private let clockMillis: @Sendable () -> UInt64
    private let configuration: Configuration
    private let applier: BlockApplier?
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var stopping = false
    private var running = false
    private let finished = DispatchSemaphore(value: 0)
    private let flusher: StoreFlusher

    /// Sequences on top of `builder` and `consensus`, both made from the same `store` (see
    /// `NodeDirectory.openSequencer`). Without an applier every entry is appended as it is (the
    /// raw log, used by `bench append`).
    init(store: LedgerStore, builder: BlockBuilder, consensus: BlockConsensus, clockMillis: @escaping @Sendable () -> UInt64,
         configuration: Configuration = .init(), applier: BlockApplier? = nil) {
        self.store = store
        self.builder = builder
        self.consensus = consensus
        self.clockMillis = clockMillis
        self.configuration = configuration
        self.applier = applier
        flusher = StoreFlusher(store: store)
    }

    /// Starts the sequencing thread. First it stores a block decided before a crash, if the WAL
    /// holds one; on an empty store it commits block 1 (trailer only), so the log always has a
    /// signed checkpoint.
    public func start() throws {
        // Blocks decided before a crash that the store lost (or never wrote), oldest first.
        while let recovered = consensus.recoveredDecision {
            let entries = recovered.block.entries
            let plan = applier?.planDecided(entries, firstIndex: store.size) ?? BlockPlan(outcomes: entries.map { _ in .append })
            try commitDecided(recovered, derived: plan.derived, synced: true)
            applier?.committed(plan)
        }
        if store.tip == nil { try commitBlock([], synced: true) }
        condition.lock()
        running = true
        condition.unlock()
        flusher.start(durable: store.tip?.height ?? 0)
        let thread = Thread { [self] in run() }
        thread.name = "cinnabar-sequencer"
        thread.start()
    }

    /// Commits `entries` as one block through the engine on the caller's thread, for tools that
    /// fill a store with no clients waiting (`bench proof`). Only while the thread is not running.
    @discardableResult
    public func appendBlock(_ entries: [[UInt8]]) throws -> BlockRecord {
        condition.lock()
        let idle = !running
        condition.unlock()
        precondition(idle, "appendBlock is for a sequencer whose thread is not running")
        return try commitBlock(entries, synced: true)
    }

    /// The height up to which the store's blocks are durable in the store itself (flushed).
    var storeDurableHeight: UInt64 { flusher.durableHeight }

    /// Stops accepting submissions, commits what is queued, and returns when the thread is done.
    public func stop() {
        condition.lock()
        let wasRunning = running
        stopping = true
        condition.broadcast()
        condition.unlock()
        if wasRunning { finished.wait() }
    }

    /// Queues one leaf and returns once its block is durable.
    public func submit(_ leaf: [UInt8]) async throws -> Receipt {
        try await submit(Entry(leaf: leaf))
    }

    /// Queues one entry and returns once its block is durable.
    public func submit(_ entry: Entry) async throws -> Receipt {
        do { try LeafError.check(submitted: entry.leaf) } catch { throw SubmitError.rejected(error) }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            if stopping || !running {
                continuation.resume(throwing: SubmitError.stopped)
            } else if queue.count >= configuration.maxQueuedEntries {
                continuation.resume(throwing: SubmitError.busy(queuedEntries: queue.count))
            } else {
                queue.append(Pending(entry: entry, continuation: continuation))
                // Wake the sequencing thread only when it has something new to do: a first entry
                // to linger on, or a full block. (Signalling every submission woke it hundreds of
                // times per block while it lingered.)
                if queue.count == 1 || queue.count == configuration.maxBlockEntries { condition.signal() }
            }
        }
    }

    private func run() {
        while let batch = nextBatch() {
            let entries = batch.map(\.entry)
            let firstIndex = store.size
            let plan = applier?.plan(entries, firstIndex: firstIndex) ?? BlockPlan(outcomes: entries.map { _ in .append })
            var appended: [[UInt8]] = []
            var indices: [UInt64?] = []
            for (entry, outcome) in zip(entries, plan.outcomes) {
                switch outcome {
                case .append:
                    indices.append(firstIndex + UInt64(appended.count))
                    appended.append(entry.leaf)
                case let .duplicate(of):
                    indices.append(of)
                case .rejected:
                    indices.append(nil)
                }
            }
            do {
                // Nothing new (only duplicates or refusals): answer from the tip, write no block.
                let record: BlockRecord
                if appended.isEmpty && plan.derived.isEmpty, let tip = store.tip {
                    record = tip
                } else {
                    record = try commitBlock(appended, derived: plan.derived, synced: false)
                }
                applier?.committed(plan)
                for (k, pending) in batch.enumerated() {
                    if case let .rejected(error) = plan.outcomes[k] {
                        pending.continuation.resume(throwing: error)
                        continue
                    }
                    var duplicate = false
                    if case .duplicate = plan.outcomes[k] { duplicate = true }
                    pending.continuation.resume(returning: Receipt(
                        index: indices[k]!, duplicate: duplicate, height: record.height, size: record.size,
                        root: record.root, timeMillis: record.timeMillis, signedCheckpoint: builder.lastSignedCheckpoint))
                }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: SubmitError.storageFailed("\(error)")) }
            }
        }
        // Stopping: the store flushes what it holds, then the WALs that kept it go.
        if flusher.stop(), let tip = store.tip { try? consensus.storeIsDurable(through: tip.height) }
        finished.signal()
    }

    /// Waits for submissions, lingers up to `maxBlockDelay` for more, and takes up to one block's worth.
    /// Returns nil once stopping and drained.
    private func nextBatch() -> [Pending]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !stopping { condition.wait() }
        if queue.isEmpty {
            running = false
            return nil
        }
        let delay = configuration.maxBlockDelay
        if delay > .zero && queue.count < configuration.maxBlockEntries && !stopping {
            let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
            let deadline = Date(timeIntervalSinceNow: seconds)
            while queue.count < configuration.maxBlockEntries && !stopping && condition.wait(until: deadline) {}
        }
        let taken = min(queue.count, configuration.maxBlockEntries)
        let batch = Array(queue[..<taken])
        queue.removeFirst(taken)
        return batch
    }

    /// Has the engine decide a block of `entries`, then commits it. On failure the builder is
    /// reset to the store (the engine keeps its decision in the WAL; a restart stores it).
    @discardableResult
    private func commitBlock(_ entries: [[UInt8]], derived: [(key: [UInt8], value: [UInt8])] = [], synced: Bool) throws -> BlockRecord {
        return try commitDecided(try consensus.decide(entries: entries, timeMillis: clockMillis()), derived: derived, synced: synced)
    }

    /// The decision order (consensus.md §2.8): block and certificate durable (`synced`: by the
    /// store's own fsync; otherwise by the decision's WAL, kept until the flusher has flushed the
    /// store), then the checkpoint signed and published, then the next height.
    @discardableResult
    private func commitDecided(_ decided: BlockConsensus.Decided, derived: [(key: [UInt8], value: [UInt8])], synced: Bool) throws -> BlockRecord {
        if let failure = flusher.failure { throw failure }
        let block = decided.block
        let prepared = try builder.prepare(block, certificate: decided.certificate, derived: derived,
                                           evaluatedTree: decided.evaluation.tree)
        let durability: LedgerStore.Durability = synced ? .synced : .untilFlushed
        do {
            try store.commit(prepared.commit, durability: durability)
        } catch {
            try? builder.reset(to: store)
            throw error
        }
        builder.accept(prepared)
        let note = try consensus.committed(block, tree: builder.tree)
        let height = prepared.commit.record.height
        try store.publish(height: height, signedCheckpoint: note, durability: durability)
        builder.signed(note)
        if synced {
            try consensus.storeIsDurable(through: height)
        } else {
            try consensus.storeIsDurable(through: flusher.written(height))
        }
        return prepared.commit.record
    }
}
