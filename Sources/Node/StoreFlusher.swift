// The store's flusher, shared by both sequencers: blocks go to RocksDB's memtables only (each
// height's consensus WAL keeps its block durable meanwhile), and this thread flushes every column
// family at once behind the sequencing thread; the WALs of flushed heights may then go.
import Foundation
import Storage

/// Flushes the store behind the sequencer on its own thread, so that writing blocks to SST files
/// overlaps with deciding the next ones; reports the height up to which the store is durable.
final class StoreFlusher: @unchecked Sendable {
    /// Heights whose blocks may be decided and acknowledged before a flush has made them durable
    /// in the store (kept durable by their WALs meanwhile); well inside
    /// `SignerGuard.rememberedHeights`. `written` waits for the flush beyond it.
    static let maxUnflushedHeights: UInt64 = 112
    /// The store is flushed once this many heights are waiting: large enough that flushes write
    /// SST files of some size (each flush writes one per column family), small enough that a
    /// restart after a crash has few heights to replay.
    static let flushEveryHeights: UInt64 = 96
    /// ... or once the oldest unflushed block has waited this long.
    static let idleFlushSeconds: TimeInterval = 5

    private let store: LedgerStore
    private let condition = NSCondition()
    private var requested: UInt64 = 0
    private var durable: UInt64 = 0
    /// When the oldest block not yet flushed was requested (nil when everything is flushed).
    private var waitingSince: Date?
    private var error: (any Error)?
    private var state: State = .idle
    private enum State { case idle, running, stopping, stopped }

    init(store: LedgerStore) { self.store = store }

    /// Starts the thread; every block up to `durable` is already durable in the store.
    func start(durable: UInt64) {
        condition.lock()
        defer { condition.unlock() }
        guard state == .idle else { return }
        state = .running
        self.durable = durable
        requested = max(requested, durable)
        let thread = Thread { [self] in run() }
        thread.name = "cinnabar-store-flush"
        thread.start()
    }

    /// Block `height` is written to the memtables: it is flushed with the next batch of heights.
    /// Never more unflushed heights than the signer guard remembers (a replay after a crash must
    /// get every one of their signatures back): beyond `maxUnflushedHeights`, this waits for a
    /// flush. Returns the height through which the store is durable (its WALs may go).
    func written(_ height: UInt64) -> UInt64 {
        request(height)
        wait(untilDurable: height - min(height, StoreFlusher.maxUnflushedHeights))
        return durableHeight
    }

    private func request(_ height: UInt64) {
        condition.lock()
        if waitingSince == nil && height > durable { waitingSince = Date() }
        requested = max(requested, height)
        condition.broadcast()
        condition.unlock()
    }

    /// Every block up to this height is durable in the store.
    var durableHeight: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return durable
    }

    /// Blocks until every block up to `height` is durable, the flusher has failed, or it stopped.
    private func wait(untilDurable height: UInt64) {
        condition.lock()
        defer { condition.unlock() }
        while durable < height && error == nil && state == .running { condition.wait() }
    }

    /// Why the last flush failed, if it did (the store can no longer be trusted to write).
    var failure: (any Error)? {
        condition.lock()
        defer { condition.unlock() }
        return error
    }

    /// Flushes what is requested, stops the thread, and returns true if everything requested is durable.
    func stop() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard state == .running else { return state == .stopped && error == nil && durable >= requested }
        state = .stopping
        condition.broadcast()
        while state != .stopped { condition.wait() }
        return error == nil && durable >= requested
    }

    private func run() {
        condition.lock()
        while true {
            // Flush once enough heights wait, or once the oldest has waited `idleFlushSeconds`
            // (a quiet node does not leave acknowledged blocks out of its store for long).
            while state == .running && error == nil && requested < durable + StoreFlusher.flushEveryHeights {
                guard requested > durable, let since = waitingSince else { condition.wait(); continue }
                let due = since.addingTimeInterval(StoreFlusher.idleFlushSeconds)
                if Date() >= due { break }
                _ = condition.wait(until: due)
            }
            // Failed, or stopping with nothing left: no height waiting, and no write made since the
            // last flush (a checkpoint published after its block's flush would be one).
            if error != nil || (requested <= durable && !(state == .stopping && store.hasUnflushedWrites)) { break }
            let target = requested
            condition.unlock()
            var failure: (any Error)?
            do { try store.flush() } catch { failure = error }
            condition.lock()
            if let failure { error = failure } else { durable = target }
            waitingSince = requested > durable ? Date() : nil
            condition.broadcast()
        }
        state = .stopped
        condition.broadcast()
        condition.unlock()
    }
}
