// The write path of a validator among several (issue 7, consensus.md §2.7–2.11): the same engine
// as the one-validator sequencer (Replica: core, WAL, signer guard), driven by the network instead
// of a loop that decides alone.
//
// One thread owns everything below and handles, in order, what arrives: submissions from clients,
// messages from peers, timers and a periodic tick. Entries are shared with every peer as they are
// admitted (a mempool per node), so whoever proposes next can include them. A decided block goes
// through the decision order of §2.8: block and certificate durable (by the height's WAL, kept
// until a flush behind the thread has made the block durable in the store: each block is written
// to disk once, as by the one-validator sequencer), derived state applied, own checkpoint
// signature made (once, by the guard) and sent, next height started. The block becomes
// the tip readers see — and its entries' clients get their receipts — once a quorum of validator
// signatures on its checkpoint is in hand (collected from peers, or embedded in the next block).
import CinnabarCrypto
import Consensus
import ConsensusStorage
import Dispatch
import Foundation
import Ledger
import MerkleLog
import SignedNote
import Storage
import Synchronization

/// Links to the other validators (implemented by `PeerNetwork`). Sending never blocks.
public protocol PeerLinks: AnyObject, Sendable {
    func send(_ message: [UInt8], to peer: Int)
    func broadcast(_ message: [UInt8])
    /// Closes the links of a peer that sent something provably wrong (it may reconnect later).
    func drop(_ peer: Int, reason: String)
}

/// What validators send each other besides consensus messages: a node-level envelope.
enum PeerMessage {
    /// A consensus message (WireCodec).
    case consensus(ConsensusMessage)
    /// Entries admitted by the sender, for whoever proposes next.
    case entries([[UInt8]])
    /// A governance-approved validator-set change (leaf data), for whoever proposes next.
    case setChange([UInt8])

    static let maxEntriesPerMessage = 4096

    var encoded: [UInt8] {
        var w = BinaryWriter()
        switch self {
        case let .consensus(m):
            w.u8(1)
            w.raw(WireCodec.encode(m))
        case let .entries(entries):
            w.u8(2)
            w.u32(UInt32(entries.count))
            for e in entries { w.blob(e) }
        case let .setChange(leaf):
            w.u8(3)
            w.blob(leaf)
        }
        return w.bytes
    }

    init?(decoding bytes: [UInt8]) {
        guard let kind = bytes.first else { return nil }
        switch kind {
        case 1:
            guard let m = WireCodec.decodeMessage(Array(bytes.dropFirst())) else { return nil }
            self = .consensus(m)
        case 2:
            var r = BinaryReader(Array(bytes.dropFirst()))
            guard let count = r.u32(), count <= PeerMessage.maxEntriesPerMessage else { return nil }
            var entries: [[UInt8]] = []
            for _ in 0..<count {
                guard let e = r.blob(), e.count <= LeafLimits.maxBytes else { return nil }
                entries.append(e)
            }
            guard r.isAtEnd else { return nil }
            self = .entries(entries)
        case 3:
            var r = BinaryReader(Array(bytes.dropFirst()))
            guard let leaf = r.blob(), leaf.count <= LeafLimits.maxBytes, r.isAtEnd else { return nil }
            self = .setChange(leaf)
        default:
            return nil
        }
    }
}

/// A validator of a consortium: consensus with peers, blocks into the store, receipts to clients.
public final class ConsortiumSequencer: EntrySequencer, @unchecked Sendable {
    public struct Configuration: Sendable {
        /// A proposed block holds at most this many entries (the trailer is extra).
        public var maxBlockEntries = 8192
        /// Entries waiting for a block at this node; beyond this, submissions get `.busy`.
        public var maxQueuedEntries = 262_144
        /// Own latest messages, checkpoint signature and status are sent again this often.
        public var tickMillis: UInt64 = 250
        /// With nothing to log, a block is still made this often, so checkpoints stay fresh.
        public var heartbeatMillis: UInt64 = 60_000
        /// Decided blocks sent to a peer that is behind, per status message.
        public var syncBatch = 64
        public init() {}
    }

    private struct Waiter {
        let continuation: CheckedContinuation<Receipt, any Error>
    }

    private enum Event {
        case submit(Entry, CheckedContinuation<Receipt, any Error>)
        case message(from: Int, ConsensusMessage)
        /// Entries a peer shared, admitted on the link's thread (nil context: inadmissible).
        case shared(from: Int, [Entry])
        /// A governance-approved validator-set change (leaf data), from a client or a peer.
        case change([UInt8], CheckedContinuation<Void, any Error>?)
        case garbage(from: Int)
    }

    // Fixed at creation.
    private let store: LedgerStore
    /// Flushes the store behind the sequencing thread: blocks are written to its memtables only,
    /// and each height's WAL keeps the decision durable until a flush has made the block so.
    private let flusher: StoreFlusher
    private let files: DurableStore
    /// The genesis parameters (timeouts, origin); the set deciding each height follows the chain.
    private let genesisParameters: ConsensusParameters
    /// The parameters of the set deciding the next height (they change at an epoch boundary).
    private var parameters: ConsensusParameters
    /// This node's link and checkpoint key seed: it votes whenever its key is in the set in force.
    private let seed: [UInt8]
    private let publicKey: Ed25519PublicKey
    private var key: ValidatorKey?
    /// This validator; nil for an observer (a mirror that verifies and stores every block, and signs nothing).
    private var me: Validator?
    /// A validator-set change waiting for a block (checked against the current set and epoch).
    private var pendingChange: ValidatorSetChange?
    /// What readers see of the set in force: the epoch, the set deciding the next height, and
    /// whether this node is one of it.
    private let inForce: Mutex<(epoch: UInt64, validators: ValidatorSet, validating: Bool)>
    /// Leaf hashes this node already holds (pending or recently logged), readable from the links'
    /// threads: a shared entry seen before is not admitted (its signature checked) again.
    private let known = KnownLeaves(capacity: 1 << 20)
    /// This node's index on its links: the validator's index in the set, or ≥ n for an observer.
    private let linkIndex: Int
    private let applier: BlockApplier
    private let clockMillis: @Sendable () -> UInt64
    private let configuration: Configuration
    private let log: @Sendable (String) -> Void
    /// CINNABAR_TRACE_CONSENSUS=1: log every effect of the engine (for diagnosing a stuck height).
    private let trace = ProcessInfo.processInfo.environment["CINNABAR_TRACE_CONSENSUS"] == "1"
    private var links: PeerLinks?

    // The inbox, shared with client and network threads.
    private let condition = NSCondition()
    private var inbox: [Event] = []
    private var queuedEntries = 0
    private var stopping = false
    private var running = false
    private let finished = DispatchSemaphore(value: 0)

    // Owned by the sequencing thread.
    private var builder: BlockBuilder
    private var chain: LedgerChain
    private var replica: Replica!
    /// Pending entries by leaf hash, in arrival order.
    private var mempool: [Hash: Entry] = [:]
    private var mempoolOrder: [Hash] = []
    private var waiters: [Hash: [Waiter]] = [:]
    /// Receipts waiting for their block's checkpoint quorum: height → (leaf index, waiters).
    private var unpublished: [UInt64: [(index: UInt64, waiters: [Waiter])]] = [:]
    /// Validator signatures on checkpoint(chain.height), by validator index.
    private var signatures: [Int: NoteSignature] = [:]
    private var ownSignature: CheckpointSignature?
    private var published = true
    private var pendingRequest: (height: UInt64, round: Int)?
    private var deferredTimeout: (Timeout, UInt64)?
    private var timers: [(deadline: UInt64, timeout: Timeout)] = []
    private var lastDecisionAt: UInt64 = 0
    private var nextTick: UInt64 = 0
    /// Plans made while evaluating blocks (valid(v)): reused when one of them is decided.
    private var plans: [(entries: [[UInt8]], plan: BlockPlan)] = []
    /// Decided blocks received ahead of the current height (block sync), by height.
    private var syncBuffer: [UInt64: (certificate: CommitCertificate, value: [UInt8], from: Int)] = [:]
    /// Last (height, time) each peer was sent blocks for, so a chatty peer costs one batch a second.
    private var lastServed: [Int: (UInt64, UInt64)] = [:]
    /// The latest height each peer said it is deciding.
    private var peerHeights: [Int: UInt64] = [:]
    /// A peer voted or proposed at the current height: it is running its round, so we run ours,
    /// whether or not we hold entries (they may have been lost on the way to us).
    private var peersActive = false
    /// When each pending entry was last shared; entries still pending a second later are shared
    /// again (a link that broke may have lost them).
    private var sharedAt: [Hash: UInt64] = [:]

    /// Resumes the node whose link key seed is `seed` at the store's tip: a validator while its
    /// key is in the set in force, an observer (link index `linkIndex` ≥ n) otherwise. A node that
    /// may vote needs its signer state in `files`.
    public init(store: LedgerStore, files: DurableStore, parameters: ConsensusParameters, seed: [UInt8], linkIndex: Int,
                applier: BlockApplier, clockMillis: @escaping @Sendable () -> UInt64,
                configuration: Configuration = .init(), log: @escaping @Sendable (String) -> Void) throws {
        guard let signing = Ed25519PrivateKey(seed: seed) else { throw ConsensusDriverError("the node's key seed is not 32 bytes") }
        self.store = store
        self.files = files
        self.genesisParameters = parameters
        self.parameters = parameters
        self.seed = seed
        self.publicKey = signing.publicKey
        self.linkIndex = linkIndex
        self.applier = applier
        self.clockMillis = clockMillis
        self.configuration = configuration
        self.log = log
        inForce = Mutex((0, parameters.validators, false))
        builder = try BlockBuilder(store: store)
        chain = try LedgerChain(origin: parameters.chainID, validators: parameters.validators)
        flusher = StoreFlusher(store: store)
    }

    /// The epoch (validator-set changes so far), the set deciding the next height, and whether
    /// this node votes in it.
    public var validatorSetInForce: (epoch: UInt64, validators: ValidatorSet, validating: Bool) { inForce.withLock { $0 } }

    /// Takes the set in force from `chain`: the consensus parameters, and this node's key if it is
    /// a member (else it observes).
    private func adoptSet() throws {
        parameters = ConsensusParameters(chainID: genesisParameters.chainID, validators: chain.validators,
                                         timeouts: genesisParameters.timeouts, futureRoundWindow: genesisParameters.futureRoundWindow)
        if let index = chain.validators.validators.firstIndex(where: { $0.publicKey == publicKey }) {
            key = try ValidatorKey(index: index, seed: seed, validators: chain.validators, origin: genesisParameters.chainID)
            me = chain.validators.validators[index]
        } else {
            key = nil
            me = nil
        }
        let snapshot = (chain.epoch, chain.validators, key != nil)
        inForce.withLock { $0 = snapshot }
        setChanged(chain.validators)
    }

    /// Connects the sequencer to its peers; call before `start`. `setChanged` hears every set
    /// this node adopts (at start and at each epoch boundary): the links follow re-keyed validators.
    public func attach(_ links: PeerLinks, setChanged: @escaping @Sendable (ValidatorSet) -> Void = { _ in }) {
        self.links = links
        self.setChanged = setChanged
    }
    private var setChanged: @Sendable (ValidatorSet) -> Void = { _ in }

    /// A message from peer `peer` (any thread).
    /// A message from peer `peer`, on that link's thread: decoded, and shared entries admitted,
    /// here — so the links' threads share the signature checks — before the sequencing thread
    /// sees it.
    public func deliver(from peer: Int, _ bytes: [UInt8]) {
        let event: Event
        switch PeerMessage(decoding: bytes) {
        case nil:
            event = .garbage(from: peer)
        case let .consensus(m)?:
            event = .message(from: peer, m)
        case let .setChange(leaf)?:
            event = .change(leaf, nil)
        case let .entries(leaves)?:
            event = .shared(from: peer, leaves.compactMap { leaf in
                guard (try? LeafError.check(submitted: leaf)) != nil, !known.contains(RFC6962.leafHash(leaf)),
                      let context = applier.admitShared(leaf) else { return nil }
                return Entry(leaf: leaf, context: context)
            })
        }
        condition.lock()
        defer { condition.unlock() }
        guard running, !stopping else { return }
        inbox.append(event)
        condition.signal()
    }

    public func start() throws {
        let tip = store.tip
        if let tip {
            chain = try LedgerChain(origin: genesisParameters.chainID, genesis: genesisParameters.validators,
                                    setChanges: try RecordIndex.setChanges(store: store), height: tip.height,
                                    timeMillis: tip.timeMillis, tree: builder.tree, entryRule: entryRule)
        } else {
            chain = try LedgerChain(origin: genesisParameters.chainID, validators: genesisParameters.validators, entryRule: entryRule)
        }
        if let tip { published = try store.checkpoint(height: tip.height) != nil }
        try adoptSet()
        replica = try Replica(parameters: parameters, key: key, store: files, evaluator: chain)
        flusher.start(durable: chain.height)
        lastDecisionAt = monotonicMillis()
        // At an epoch boundary the tip's checkpoint is the old set's to sign, under its old index:
        // a restart there leaves it to the others (the next block embeds their quorum).
        if chain.height > 0 && !chain.isEpochBoundary { signOwnCheckpoint() }
        let effects = try replica.start()
        condition.lock()
        running = true
        condition.unlock()
        let thread = Thread { [self] in run(first: effects) }
        thread.name = "cinnabar-consortium"
        thread.start()
    }

    public func stop() {
        condition.lock()
        let wasRunning = running
        stopping = true
        condition.broadcast()
        condition.unlock()
        if wasRunning { finished.wait() }
    }

    public func submit(_ entry: Entry) async throws -> Receipt {
        guard validatorSetInForce.validating else {
            throw SubmitError.refused(code: "observer", reason: "this node is an observer: it mirrors the ledger and takes no writes; submit to a validator")
        }
        do { try LeafError.check(submitted: entry.leaf) } catch { throw SubmitError.rejected(error) }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            if stopping || !running {
                continuation.resume(throwing: SubmitError.stopped)
            } else if queuedEntries >= configuration.maxQueuedEntries {
                continuation.resume(throwing: SubmitError.busy(queuedEntries: queuedEntries))
            } else {
                queuedEntries += 1
                inbox.append(.submit(entry, continuation))
                condition.signal()
            }
        }
    }

    // MARK: - The sequencing thread

    private func run(first: [Effect]) {
        do {
            try perform(first)
            while let events = nextEvents() {
                var fresh: [[UInt8]] = []
                for event in events {
                    switch event {
                    case let .submit(entry, continuation):
                        if let leaf = enqueue(entry, continuation) { fresh.append(leaf) }
                    case let .message(peer, message):
                        guard peer != linkIndex, peer >= 0 else { continue }
                        if trace, case .proposal = message { log("\(monotonicMillis()) proposal from \(peer) dequeued") }
                        try perform(try consensus(message, from: peer))
                    case let .shared(peer, entries):
                        guard peer != linkIndex, peer >= 0 else { continue }
                        if trace { log("\(monotonicMillis()) \(entries.count) shared entries from \(peer) dequeued") }
                        try receive(entries)
                    case let .change(leaf, continuation):
                        do {
                            try takeChange(leaf)
                            continuation?.resume()
                        } catch {
                            continuation?.resume(throwing: error)
                        }
                    case let .garbage(peer):
                        links?.drop(peer, reason: "undecodable message")
                    }
                }
                if !fresh.isEmpty {
                    let now = monotonicMillis()
                    for leaf in fresh { sharedAt[RFC6962.leafHash(leaf)] = now }
                    for chunk in stride(from: 0, to: fresh.count, by: PeerMessage.maxEntriesPerMessage) {
                        let part = Array(fresh[chunk..<min(fresh.count, chunk + PeerMessage.maxEntriesPerMessage)])
                        links?.broadcast(PeerMessage.entries(part).encoded)
                    }
                    try entriesArrived()
                }
                try fireTimers()
            }
        } catch {
            log("cinnabar: consensus halted: \(error)")
            failAll(SubmitError.storageFailed("consensus halted: \(error)"))
            condition.lock()
            running = false
            condition.unlock()
        }
        failAll(SubmitError.stopped)
        // Stopping: the store flushes what it holds, then the WALs that kept it go.
        if flusher.stop() { try? replica.discardFinishedWALs(through: chain.height) }
        finished.signal()
    }

    /// Waits for events or the next timer; nil once stopping.
    private func nextEvents() -> [Event]? {
        condition.lock()
        defer { condition.unlock() }
        while inbox.isEmpty && !stopping {
            let now = monotonicMillis()
            let wake = min(nextTick, timers.map(\.deadline).min() ?? UInt64.max)
            if wake <= now { break }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wake - now) / 1000))
        }
        if stopping {
            running = false
            return nil
        }
        let events = inbox
        inbox.removeAll(keepingCapacity: true)
        queuedEntries -= events.reduce(0) { if case .submit = $1 { $0 + 1 } else { $0 } }
        return events
    }

    /// Adds a client's entry to the mempool; returns its leaf if it is new to this node.
    private func enqueue(_ entry: Entry, _ continuation: CheckedContinuation<Receipt, any Error>) -> [UInt8]? {
        let hash = RFC6962.leafHash(entry.leaf)
        waiters[hash, default: []].append(Waiter(continuation: continuation))
        guard mempool[hash] == nil else { return nil }
        known.insert(hash)
        mempool[hash] = entry
        mempoolOrder.append(hash)
        return entry.leaf
    }

    /// Submits a governance-approved validator-set change (leaf data, approvals included): it is
    /// checked against the set and epoch in force, shared with the peers, and put in the next block
    /// this node proposes; it takes effect at the height after that block. Throws if it does not
    /// apply now.
    public func submitChange(_ leaf: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            guard running, !stopping else { return continuation.resume(throwing: SubmitError.stopped) }
            inbox.append(.change(leaf, continuation))
            condition.signal()
        }
    }

    /// A change from a client or a peer: kept (and shared once) if it applies to the set in force.
    private func takeChange(_ leaf: [UInt8]) throws {
        let change: ValidatorSetChange
        do {
            change = try ValidatorSetChange(leafData: leaf)
            _ = try change.check(origin: chain.origin, epoch: chain.epoch, current: chain.validators)
        } catch {
            throw SubmitError.refused(code: "invalid_set_change", reason: "\(error)")
        }
        guard change != pendingChange else { return }
        pendingChange = change
        links?.broadcast(PeerMessage.setChange(leaf).encoded)
        try entriesArrived()
    }

    /// Admitted entries from a peer join the mempool.
    private func receive(_ entries: [Entry]) throws {
        var added = false
        for entry in entries where mempool.count < configuration.maxQueuedEntries {
            let hash = RFC6962.leafHash(entry.leaf)
            guard mempool[hash] == nil, !known.contains(hash) else { continue }
            known.insert(hash)
            mempool[hash] = entry
            mempoolOrder.append(hash)
            added = true
        }
        if added { try entriesArrived() }
    }

    private func consensus(_ message: ConsensusMessage, from peer: Int) throws -> [Effect] {
        switch message {
        case let .checkpointSignature(s):
            return try accept(s)
        case let .status(_, h, _):
            peerHeights[peer] = h
            serve(peer, from: h)
            return []
        case let .commit(c, value):
            if c.height > replica.height {
                if c.height <= replica.height + UInt64(configuration.syncBatch) * 2 { syncBuffer[c.height] = (c, value, peer) }
                return []
            }
            guard c.height == replica.height, replica.core.decision == nil else { return [] }
            let effects = try replica.receive(message)
            if replica.core.decision == nil {
                // A certificate that does not verify, or a block that is not valid on our tip.
                links?.drop(peer, reason: "served block \(c.height) that does not verify")
                log("cinnabar: peer \(peer) served block \(c.height) that does not verify; dropped")
            }
            return effects
        case .proposal, .vote:
            if message.height == replica.height && !peersActive {
                peersActive = true
                try entriesArrived()
            }
            if message.height < replica.height { serve(peer, from: message.height) }
            if message.height > replica.height { peerHeights[peer] = max(peerHeights[peer] ?? 0, message.height) }
            return try replica.receive(message)
        }
    }

    /// Acts on the replica's effects in order; a decision brings the next height's effects.
    private func perform(_ first: [Effect]) throws {
        var queue = first
        var next = 0
        while next < queue.count {
            let effect = queue[next]
            next += 1
            if trace { log("\(monotonicMillis()) consensus h\(replica.height) r\(replica.core.round): \(effect)") }
            switch effect {
            case let .send(m):
                links?.broadcast(PeerMessage.consensus(m).encoded)
            case let .schedule(t, ms):
                if t.kind == .propose && t.round == 0 && mempool.isEmpty && !heartbeatDue && !peersActive {
                    deferredTimeout = (t, ms)  // armed when there is something to log
                } else {
                    timers.append((monotonicMillis() + ms, t))
                }
            case let .requestValue(h, r):
                pendingRequest = (h, r)
                queue += try proposeIfReady()
            case let .decided(d):
                queue += try commit(d)
            case let .evidence(e):
                log("cinnabar: evidence of equivocation: \(e)")
            case let .refused(why):
                log("cinnabar: the signer guard refused to sign: \(why)")
            }
        }
    }

    /// A block is due even with nothing to log: the first (so the log has a signed checkpoint) and
    /// then one per heartbeat.
    private var heartbeatDue: Bool { chain.height == 0 || monotonicMillis() >= lastDecisionAt + configuration.heartbeatMillis }

    /// New entries are pending: arm the deferred round-0 timeout, and propose if it is our turn.
    private func entriesArrived() throws {
        if let (t, ms) = deferredTimeout {
            deferredTimeout = nil
            timers.append((monotonicMillis() + ms, t))
        }
        try perform(try proposeIfReady())
    }

    private func fireTimers() throws {
        let now = monotonicMillis()
        if now >= nextTick {
            nextTick = now + configuration.tickMillis
            try tick()
        }
        let due = timers.filter { $0.deadline <= now }
        guard !due.isEmpty else { return }
        timers.removeAll { $0.deadline <= now }
        for t in due.sorted(by: { $0.deadline < $1.deadline }) {
            try perform(try replica.handle(.timeout(t.timeout)))
        }
    }

    /// Re-sends own latest messages, checkpoint signature and status (the gossip assumption).
    private func tick() throws {
        for m in replica.retransmissions() { links?.broadcast(PeerMessage.consensus(m).encoded) }
        if let ownSignature { links?.broadcast(PeerMessage.consensus(.checkpointSignature(ownSignature)).encoded) }
        links?.broadcast(PeerMessage.consensus(.status(validator: linkIndex, height: replica.height, round: replica.core.round)).encoded)
        shareAgain()
        if heartbeatDue, let (t, ms) = deferredTimeout {
            deferredTimeout = nil
            timers.append((monotonicMillis() + ms, t))
        }
        try perform(try proposeIfReady())
    }

    /// Shares again the entries this node was given that are still pending after a second.
    private func shareAgain() {
        let now = monotonicMillis()
        var stale: [[UInt8]] = []
        for (hash, at) in sharedAt where at + 1_000 <= now {
            guard let entry = mempool[hash] else {
                sharedAt[hash] = nil
                continue
            }
            guard stale.count < PeerMessage.maxEntriesPerMessage else { break }
            stale.append(entry.leaf)
            sharedAt[hash] = now
        }
        if !stale.isEmpty { links?.broadcast(PeerMessage.entries(stale).encoded) }
    }

    // MARK: - Proposing

    /// getValue(): once we hold ≥ Q signatures on the tip's checkpoint (§2.9) and there is
    /// something to log (or a later round, or the heartbeat), propose the mempool's head.
    private func proposeIfReady() throws -> [Effect] {
        guard let request = pendingRequest, request.height == replica.height, request.round == replica.core.round,
              replica.core.isAwaitingValue else { return [] }
        guard chain.height == 0 || signatures.count >= chain.tipValidators.quorum else { return [] }
        guard !mempool.isEmpty || pendingChange != nil || request.round > 0 || heartbeatDue || peersActive else { return [] }
        pendingRequest = nil
        let entries = selectEntries()
        let lines = signatures.keys.sorted().map { signatures[$0]!.line }.joined()
        guard let me else { return [] }
        let change = try pendingChange.flatMap { c in (try? c.check(origin: chain.origin, epoch: chain.epoch, current: chain.validators)) != nil ? c : nil }
        let block = chain.makeBlock(entries: entries, proposedTimeMillis: clockMillis(), proposer: me.name, signatureLines: lines,
                                    setChange: change)
        return try replica.proposeValue(height: request.height, round: request.round, value: block.encoded)
    }

    /// The mempool's head, without what the applier refuses now (answered at once) or already logged.
    private func selectEntries() -> [[UInt8]] {
        var candidates: [Entry] = []
        var hashes: [Hash] = []
        for hash in mempoolOrder where candidates.count < configuration.maxBlockEntries {
            guard let entry = mempool[hash] else { continue }
            candidates.append(entry)
            hashes.append(hash)
        }
        let plan = applier.plan(candidates, firstIndex: chain.size)
        var out: [[UInt8]] = []
        defer {
            // All admitted as they are: this is the plan valid(v) will make for the block — keep it.
            if out.count == candidates.count { remember(out, plan) }
        }
        for (k, outcome) in plan.outcomes.enumerated() {
            switch outcome {
            case .append:
                out.append(candidates[k].leaf)
            case let .duplicate(of):
                remove(hashes[k])
                answerDuplicate(hashes[k], index: of)
            case let .rejected(error):
                remove(hashes[k])
                for w in waiters.removeValue(forKey: hashes[k]) ?? [] { w.continuation.resume(throwing: error) }
            }
        }
        return out
    }

    private func remove(_ hash: Hash) {
        mempool[hash] = nil
        sharedAt[hash] = nil
    }

    private func answerDuplicate(_ hash: Hash, index: UInt64) {
        guard let list = waiters.removeValue(forKey: hash), !list.isEmpty else { return }
        guard let tip = store.tip, let note = try? store.checkpoint(height: tip.height) else {
            for w in list { w.continuation.resume(throwing: SubmitError.busy(queuedEntries: 0)) }
            return
        }
        let receipt = Receipt(index: index, duplicate: true, height: tip.height, size: tip.size, root: tip.root,
                              timeMillis: tip.timeMillis, signedCheckpoint: note)
        for w in list { w.continuation.resume(returning: receipt) }
    }

    // MARK: - valid(v): the application's rule

    /// Every entry of a proposed block must be admissible on the committed state, in order (the
    /// applier's plan, which also yields the derived state the block will write).
    private var entryRule: @Sendable ([[UInt8]]) -> Bool {
        { [unowned self] entries in
            let plan = planFor(entries)
            return plan.outcomes.allSatisfy { if case .append = $0 { true } else { false } }
        }
    }

    private func planFor(_ entries: [[UInt8]]) -> BlockPlan {
        if let hit = plans.first(where: { $0.entries == entries }) { return hit.plan }
        let began = trace ? monotonicMillis() : 0
        let candidates = entries.map { mempool[RFC6962.leafHash($0)] ?? Entry(leaf: $0) }
        let plan = applier.plan(candidates, firstIndex: chain.size)
        if trace {
            let unadmitted = candidates.count { $0.context == nil }
            log("\(monotonicMillis()) planned \(entries.count) entries (\(unadmitted) not admitted beforehand) in \(monotonicMillis() - began) ms")
        }
        remember(entries, plan)
        return plan
    }

    private func remember(_ entries: [[UInt8]], _ plan: BlockPlan) {
        plans.append((entries, plan))
        if plans.count > 4 { plans.removeFirst() }
    }

    // MARK: - Deciding

    /// The decision order of consensus.md §2.8.
    private func commit(_ d: Decision) throws -> [Effect] {
        guard let block = LedgerBlock(encoded: d.value.bytes) else { throw ConsensusDriverError("decided an undecodable block") }
        // The block embeds ≥ Q signatures on the tip's checkpoint: publish the tip with them if
        // our own collection had not reached the quorum.
        if !published, chain.height > 0 { try publish(lines: block.signatureLines) }
        // A quorum decided it: it is applied as decided. The plan made for valid(v) usually holds;
        // if this node's plan would refuse an entry (a replay after a crash judges on a later
        // state, e.g. a key retired since), the block's state is derived without judging again.
        var plan = planFor(block.recordEntries)
        if !plan.outcomes.allSatisfy({ if case .append = $0 { true } else { false } }) {
            plan = applier.planDecided(block.recordEntries, firstIndex: chain.size)
        }
        var derived = plan.derived
        if try block.setChange() != nil, let leaf = block.entries.last {
            derived.append((IndexKey.setChange(block.trailer.previousSize + UInt64(block.entries.count - 1)), leaf))
        }
        plans = []
        let leafHashes = d.value.evaluation.leafHashes
        let prepared = try builder.prepare(block, certificate: WireCodec.encode(d.certificate), derived: derived,
                                           evaluatedTree: d.value.evaluation.tree)
        if let failure = flusher.failure { throw failure }
        do {
            // (a) Durable by this height's WAL, kept until the flusher has flushed the block.
            try store.commit(prepared.commit, durability: .untilFlushed)
        } catch {
            try? builder.reset(to: store)
            throw error
        }
        builder.accept(prepared)
        applier.committed(plan)
        chain.apply(block, evaluated: d.value.evaluation.tree)  // (b)
        guard chain.root == prepared.commit.record.root else { throw ConsensusDriverError("the stored block \(chain.height) gives another root") }
        published = false
        lastDecisionAt = monotonicMillis()
        pendingRequest = nil
        deferredTimeout = nil
        peersActive = false
        timers.removeAll()
        var receipts: [(index: UInt64, waiters: [Waiter])] = []
        for (k, entry) in block.entries.enumerated() {
            let hash = leafHashes.count == block.entries.count + 1 ? leafHashes[k] : RFC6962.leafHash(entry)
            known.insert(hash)
            mempool[hash] = nil
            sharedAt[hash] = nil
            if let list = waiters.removeValue(forKey: hash) { receipts.append((prepared.commit.record.firstIndex + UInt64(k), list)) }
        }
        if mempool.count * 2 < mempoolOrder.count { mempoolOrder.removeAll { mempool[$0] == nil } }
        unpublished[chain.height] = receipts
        signatures = [:]
        ownSignature = nil
        // (c) Cosign only the newest decided checkpoint (§2.9): while catching up, the next block
        // (already here) embeds the quorum for this one.
        if syncBuffer[chain.height + 1] == nil { signOwnCheckpoint() }
        var effects: [Effect]
        if chain.isEpochBoundary {
            // (d) at an epoch boundary: the new set decides the next height — new parameters, this
            // node's key in the new set (or none: it observes), a new replica.
            pendingChange = nil
            try adoptSet()
            log("cinnabar: validator set changed at height \(chain.height): \(chain.validators.validators.map(\.name).joined(separator: ", ")) (epoch \(chain.epoch)); this node \(key == nil ? "observes" : "votes")")
            // A new replica removes the WALs of lower heights: the store must hold their blocks first.
            try store.flush()
            replica = try Replica(parameters: parameters, key: key, store: files, evaluator: chain)
            effects = try replica.start()
        } else {
            effects = try replica.startNextHeight(evaluator: chain, keepingFinishedWAL: true)  // (d)
        }
        try replica.discardFinishedWALs(through: flusher.written(chain.height))
        // Catching up: the next decided block may already be here; else ask peers that are ahead.
        syncBuffer = syncBuffer.filter { $0.key > chain.height }
        if let next = syncBuffer.removeValue(forKey: replica.height) {
            effects += try consensus(.commit(next.certificate, value: next.value), from: next.from)
        } else if peerHeights.values.contains(where: { $0 > replica.height }) {
            links?.broadcast(PeerMessage.consensus(.status(validator: linkIndex, height: replica.height, round: 0)).encoded)
        }
        return effects
    }

    private func signOwnCheckpoint() {
        guard key != nil else { return }
        guard let s = try? replica.signCheckpoint(height: chain.height, size: chain.size, root: chain.root) else {
            log("cinnabar: the signer guard refused to sign checkpoint \(chain.size)")
            return
        }
        ownSignature = s
        signatures[s.validator] = s.line
        links?.broadcast(PeerMessage.consensus(.checkpointSignature(s)).encoded)
        if !published && signatures.count >= chain.tipValidators.quorum { try? publishCollected() }
    }

    private func accept(_ s: CheckpointSignature) throws -> [Effect] {
        guard s.height == chain.height, chain.height > 0, signatures[s.validator] == nil else { return [] }
        guard s.verify(keys: chain.verifierKeys, checkpointText: chain.checkpointText) else { return [] }
        signatures[s.validator] = s.line
        if !published && signatures.count >= chain.tipValidators.quorum { try publishCollected() }
        return try proposeIfReady()
    }

    private func publishCollected() throws {
        try publish(lines: signatures.keys.sorted().map { signatures[$0]!.line }.joined())
    }

    /// Stores the tip's checkpoint with ≥ Q signature lines, makes it the readers' tip and answers
    /// the clients whose entries it holds.
    private func publish(lines: String) throws {
        let note = chain.checkpointText + "\n" + lines
        try store.publish(height: chain.height, signedCheckpoint: note, durability: .untilFlushed)
        builder.signed(note)
        published = true
        if trace { log("\(monotonicMillis()) published h\(chain.height) size \(chain.size)") }
        let record = try store.block(height: chain.height)
        for (index, list) in unpublished.removeValue(forKey: chain.height) ?? [] {
            let receipt = Receipt(index: index, duplicate: false, height: chain.height, size: chain.size, root: chain.root,
                                  timeMillis: record?.timeMillis ?? chain.timeMillis, signedCheckpoint: note)
            for w in list { w.continuation.resume(returning: receipt) }
        }
    }

    // MARK: - Block sync (§2.11)

    /// A peer is deciding height `height` ≤ our tip: send it the decided blocks from there, with
    /// their certificates, at most one batch per second for the same height.
    private func serve(_ peer: Int, from height: UInt64) {
        guard height >= 1, height <= chain.height else { return }
        let now = monotonicMillis()
        if let (h, t) = lastServed[peer], h == height, now < t + 1_000 { return }
        lastServed[peer] = (height, now)
        let last = min(chain.height, height + UInt64(configuration.syncBatch) - 1)
        for h in height...last {
            guard let (certificate, block) = try? store.decidedBlock(height: h) else { return }
            links?.send(PeerMessage.consensus(.commit(certificate, value: block.encoded)).encoded, to: peer)
        }
    }

    // MARK: -

    private func failAll(_ error: SubmitError) {
        for (_, list) in waiters { for w in list { w.continuation.resume(throwing: error) } }
        waiters = [:]
        for (_, batches) in unpublished { for (_, list) in batches { for w in list { w.continuation.resume(throwing: error) } } }
        unpublished = [:]
        condition.lock()
        let events = inbox
        inbox = []
        condition.unlock()
        for event in events {
            switch event {
            case let .submit(_, continuation): continuation.resume(throwing: error)
            case let .change(_, continuation?): continuation.resume(throwing: error)
            default: break
            }
        }
    }

    private func monotonicMillis() -> UInt64 { DispatchTime.now().uptimeNanoseconds / 1_000_000 }
}

/// A bounded set of leaf hashes shared between threads: two generations, the older dropped when
/// the newer fills, so it remembers at least the last `capacity / 2` insertions.
final class KnownLeaves: Sendable {
    private let state = Mutex<(current: Set<Hash>, previous: Set<Hash>)>(([], []))
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ hash: Hash) -> Bool {
        state.withLock { $0.current.contains(hash) || $0.previous.contains(hash) }
    }

    func insert(_ hash: Hash) {
        state.withLock { s in
            if s.current.count >= capacity / 2 {
                s.previous = s.current
                s.current = []
            }
            s.current.insert(hash)
        }
    }
}
