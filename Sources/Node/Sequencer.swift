// The n = 1 write path: submissions are queued (bounded), batched into blocks by count and
// delay, appended to the tree, chained by a trailer leaf, signed, and committed in one fsync'd
// batch. A submission is acknowledged only after its block is durable.
//
// This is the seam the consensus engine will drive: `BlockBuilder` makes a block from a tip and
// entries (what a proposer does); `commit` makes it durable (what every validator does on decide).
import CinnabarCrypto
import Foundation
import Ledger
import MerkleLog
import SignedNote
import Storage

/// Where a submission landed: its leaves and the durable, signed block that holds them.
public struct Receipt: Sendable, Equatable {
    /// Index of the submission's first leaf; its leaves are consecutive.
    public let firstIndex: UInt64
    public let count: Int
    /// The block holding the leaves, and the checkpoint that block produced.
    public let height: UInt64
    public let size: UInt64
    public let root: Hash
    /// The checkpoint of `size`, signed by the validator (C2SP signed note text).
    public let signedCheckpoint: String
}

/// Why a submission was not accepted. Nothing was written for it.
public enum SubmitError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The queue is full: try again shortly.
    case busy(queuedEntries: Int)
    /// The node is shutting down.
    case stopped
    /// The leaf itself is unacceptable.
    case rejected(LeafError)
    /// Too many leaves in one submission.
    case tooManyLeaves(count: Int, limit: Int)
    /// The block could not be made durable; the submission was not logged.
    case storageFailed(String)

    public var code: String {
        switch self {
        case .busy: "busy"
        case .stopped: "stopped"
        case let .rejected(e): e.code
        case .tooManyLeaves: "too_many_leaves"
        case .storageFailed: "storage_failed"
        }
    }

    public var description: String {
        switch self {
        case let .busy(n): "the node is busy (\(n) entries queued); retry shortly"
        case .stopped: "the node is stopping"
        case let .rejected(e): e.description
        case let .tooManyLeaves(count, limit): "\(count) leaves in one submission; the limit is \(limit)"
        case let .storageFailed(why): "the block could not be stored: \(why)"
        }
    }
}

/// The single-validator sequencer. Create, `start()`, `submit`, `stop()`.
public final class Sequencer: @unchecked Sendable {
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
        let leaves: [[UInt8]]
        let continuation: CheckedContinuation<Receipt, any Error>
    }

    private let store: LedgerStore
    private var builder: BlockBuilder  // owned by the sequencing thread after start()
    private let configuration: Configuration
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var queuedEntries = 0
    private var stopping = false
    private var running = false
    private let finished = DispatchSemaphore(value: 0)

    /// Sequences on top of `builder`, which must have been made from the same `store`.
    public init(store: LedgerStore, builder: BlockBuilder, configuration: Configuration = .init()) {
        self.store = store
        self.builder = builder
        self.configuration = configuration
    }

    /// Starts the sequencing thread. On an empty store it first commits block 1 (trailer only), so
    /// the log always has a signed checkpoint.
    public func start() throws {
        if store.tip == nil { try commitBlock([]) }
        condition.lock()
        running = true
        condition.unlock()
        let thread = Thread { [self] in run() }
        thread.name = "cinnabar-sequencer"
        thread.start()
    }

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
        try await submit(batch: [leaf])
    }

    /// Queues leaves that must land together, consecutively, in one block.
    public func submit(batch leaves: [[UInt8]]) async throws -> Receipt {
        guard leaves.count <= configuration.maxBlockEntries else {
            throw SubmitError.tooManyLeaves(count: leaves.count, limit: configuration.maxBlockEntries)
        }
        for leaf in leaves {
            do { try LeafError.check(submitted: leaf) } catch { throw SubmitError.rejected(error) }
        }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            if stopping || !running {
                continuation.resume(throwing: SubmitError.stopped)
            } else if queuedEntries + leaves.count > configuration.maxQueuedEntries {
                continuation.resume(throwing: SubmitError.busy(queuedEntries: queuedEntries))
            } else {
                queue.append(Pending(leaves: leaves, continuation: continuation))
                queuedEntries += leaves.count
                condition.signal()
            }
        }
    }

    private func run() {
        while let batch = nextBatch() {
            let leaves = batch.flatMap(\.leaves)
            do {
                let record = try commitBlock(leaves)
                var index = record.firstIndex
                for pending in batch {
                    pending.continuation.resume(returning: Receipt(
                        firstIndex: index, count: pending.leaves.count, height: record.height,
                        size: record.size, root: record.root, signedCheckpoint: builder.lastSignedCheckpoint))
                    index += UInt64(pending.leaves.count)
                }
            } catch {
                for pending in batch { pending.continuation.resume(throwing: SubmitError.storageFailed("\(error)")) }
            }
        }
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
        if delay > .zero && queuedEntries < configuration.maxBlockEntries && !stopping {
            let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
            let deadline = Date(timeIntervalSinceNow: seconds)
            while queuedEntries < configuration.maxBlockEntries && !stopping && condition.wait(until: deadline) {}
        }
        var taken = 0
        var count = 0
        for pending in queue {
            if count > 0 && count + pending.leaves.count > configuration.maxBlockEntries { break }
            count += pending.leaves.count
            taken += 1
        }
        let batch = Array(queue[..<taken])
        queue.removeFirst(taken)
        queuedEntries -= count
        return batch
    }

    /// Builds, signs and durably commits one block. On failure the builder is reset to the store.
    @discardableResult
    private func commitBlock(_ entries: [[UInt8]]) throws -> BlockRecord {
        let block = try builder.build(entries: entries)
        do {
            try store.commit(block.commit)
            builder.accept(block)
            return block.commit.record
        } catch {
            try? builder.reset(to: store)
            throw error
        }
    }
}
