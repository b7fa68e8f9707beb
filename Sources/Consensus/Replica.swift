// The driver around the pure core: it logs every input to the WAL, signs through the signer
// guard, and applies the persistence order of consensus.md §2.8 — inputs durable before any
// signature, a signature durable before it leaves, replay on start. One per validator node; the
// same code runs n = 1 and n = 7, in the simulator and in the node.
//
// How a node drives it (the application interface):
//   1. At start: `LedgerChain` at the committed tip (the evaluator: deterministic valid(v), id(v)),
//      `Replica(parameters:key:store:evaluator:)` over a `FileStore`, then
//      `signCheckpoint` for the tip (idempotent) and `start()`; act on the effects.
//   2. `.requestValue(h, r)`: build a block on the tip (`LedgerChain.makeBlock`: entries, time,
//      proposer, ≥ Q signature lines on checkpoint(h − 1)) and call `proposeValue(h, r, bytes)`.
//   3. `.send(m)`: send to every peer. `.schedule(t, ms)`: call `handle(.timeout(t))` later.
//      Messages from peers: `receive(m)`. Checkpoint signatures and status are the node's own.
//   4. `.decided(d)`: (a) store block + `d.certificate` durably, (b) apply (advance the chain),
//      (c) `signCheckpoint(height:size:root:)` and send it, (d) `startNextHeight(evaluator:)`.
//      The replica has already signed checkpoint(h) in the step that decided (the decided value
//      is durable in the WAL by then, and fixes the checkpoint), so (c) returns that signature.
//   5. A validator-set change (consensus.md §2.10): parameters are fixed per replica. If after (b)
//      `chain.isEpochBoundary`, do (c) with this replica (checkpoint(h) is the old set's, under the
//      old index), then instead of (d) drop it and open a new `Replica` over the same store with
//      `ConsensusParameters(chainID:validators: chain.validators)` and the key's index in the new
//      set (nil, an observer, if it left), and `start()` it.
import CinnabarCrypto
import Ledger
import SignedNote

/// Tendermint at one node: the core for the current height, its WAL, and the signer guard.
/// Persistence order inside one call: an input is logged and synced before anything it leads to
/// is signed; what is signed is synced (once per call) before any effect is returned.
public final class Replica {
    /// Messages kept per sender for the next height, at most (consensus.md §2.4 pitfall 7).
    public static let nextHeightBufferPerSender = 8

    public let parameters: ConsensusParameters
    public let key: ValidatorKey?
    private let store: DurableStore
    private let signer: SignerGuard?
    public private(set) var core: Tendermint
    private var wal: ConsensusWAL
    private var started = false
    /// Messages for height + 1, by sender, in arrival order.
    private var nextHeight: [Int: [Input]] = [:]
    /// Ed25519 verifications of finished heights (the core counts the current one).
    private var verifiedBefore = 0
    /// Finished heights whose WAL is kept until the driver says their blocks are durable
    /// (`startNextHeight(evaluator:keepingFinishedWAL: true)`).
    private var keptWALs: [UInt64] = []

    /// Opens the replica at `evaluator.nextHeight` (the committed tip + 1). Throws
    /// `signerStateMissing` for a validator without signer state, `corruptRecord` or
    /// `malformedRecord` for a damaged WAL or signer log. WAL files of lower heights are removed:
    /// they belong to decisions already durable in the block store. Higher ones are kept: a
    /// driver that keeps finished WALs until its store syncs may have decided those heights too,
    /// and `startNextHeight` replays them.
    public init(parameters: ConsensusParameters, key: ValidatorKey?, store: DurableStore, evaluator: any ValueEvaluator) throws {
        self.parameters = parameters
        self.key = key
        self.store = store
        if let key {
            signer = try SignerGuard(store: store, key: key.privateKey, checkpointKey: key.checkpointKey,
                                     chainID: parameters.chainID)
        } else {
            signer = nil
        }
        let height = evaluator.nextHeight
        for name in try store.names().sorted() {
            if let h = ConsensusWAL.height(ofFile: name), h < height { try store.remove(name) }
        }
        wal = try ConsensusWAL(store: store, height: height)
        core = Tendermint(parameters: parameters, me: key?.index, height: height, evaluator: evaluator)
    }

    /// The height being decided.
    public var height: UInt64 { core.height }
    /// Ed25519 signatures verified and made so far (bench accounting).
    public var signaturesVerified: Int { verifiedBefore + core.signaturesVerified }
    public var signaturesMade: Int { signer?.signaturesMade ?? 0 }

    /// Starts the height: replays the WAL through a fresh core (the signer returns its remembered
    /// signatures) and returns the outputs again — sends are idempotent for receivers, timeouts
    /// are re-armed, a decision already reached is reported again.
    public func start() throws -> [Effect] {
        precondition(!started, "started twice")
        started = true
        var effects = try run(.start, log: false)
        for input in wal.recovered { effects += try run(input, log: false) }
        return effects
    }

    /// Feeds one input from outside: a timeout that fired, getValue()'s answer, or a message.
    public func handle(_ input: Input) throws -> [Effect] {
        precondition(started, "handle before start")
        switch input {
        case .start, .ownProposal, .ownVote: preconditionFailure("\(input) comes from the replica itself")
        default: break
        }
        guard core.decision == nil, core.mayUse(input) else { return [] }
        return try run(input, log: true)
    }

    /// getValue()'s answer for (height, round).
    public func proposeValue(height: UInt64, round: Int, value: [UInt8]) throws -> [Effect] {
        try handle(.proposalValue(height: height, round: round, value: value))
    }

    /// A message from a peer: current-height proposals, votes and commits go to the core; the next
    /// height's proposals and votes wait in a bounded buffer; the rest is not the core's.
    public func receive(_ message: ConsensusMessage) throws -> [Effect] {
        let input: Input
        let sender: Int
        switch message {
        case let .proposal(p):
            input = .proposal(p)
            sender = p.proposal.proposer
        case let .vote(v):
            input = .vote(v)
            sender = v.vote.validator
        case let .commit(c, value):
            guard c.height == height else { return [] }
            return try handle(.commit(c, value: value))
        case .checkpointSignature, .status:
            return []
        }
        let h = message.height
        if h == height { return try handle(input) }
        if h == height + 1, sender < parameters.count {
            var queue = nextHeight[sender, default: []]
            if queue.count < Replica.nextHeightBufferPerSender && !queue.contains(input) {
                queue.append(input)
                nextHeight[sender] = queue
            }
        }
        return []
    }

    /// Step (c) of the decision order: sign checkpoint(h) once the block is durable and applied.
    /// Nil for an observer or if the guard refuses (it already signed a larger checkpoint).
    public func signCheckpoint(height: UInt64, size: UInt64, root: Hash) throws -> CheckpointSignature? {
        guard let signer, let key else { return nil }
        switch try signer.signCheckpoint(origin: parameters.chainID, size: size, root: root) {
        case let .success(line): return CheckpointSignature(height: height, validator: key.index, line: line)
        case .failure: return nil
        }
    }

    /// Step (d): after the decided block is durable and applied, start the next height (Algorithm
    /// 1, lines 52–54) with a new WAL, then feed it the messages buffered for it. If that height's
    /// WAL already exists (its block was decided before a crash, but the store had not synced it),
    /// its inputs are replayed first, as `start` does, and a decision among them is reported again.
    ///
    /// The finished height's WAL is deleted, unless `keepingFinishedWAL`: then it stays until
    /// `discardFinishedWALs(through:)`, so that a driver may write the decided block to its store
    /// without an fsync and sync later — the WAL keeps the decision durable meanwhile.
    public func startNextHeight(evaluator: any ValueEvaluator, keepingFinishedWAL: Bool = false) throws -> [Effect] {
        precondition(core.decision != nil, "the height is not decided")
        precondition(evaluator.nextHeight == height + 1, "the evaluator is not at the next height")
        try signer?.compactIfNeeded()
        let old = wal
        verifiedBefore += core.signaturesVerified
        wal = try ConsensusWAL(store: store, height: evaluator.nextHeight)
        if keepingFinishedWAL { keptWALs.append(old.height) } else { try old.discard() }
        core = Tendermint(parameters: parameters, me: key?.index, height: evaluator.nextHeight, evaluator: evaluator)
        var effects = try run(.start, log: false)
        for input in wal.recovered where core.decision == nil { effects += try run(input, log: false) }
        let buffered = nextHeight.keys.sorted().flatMap { nextHeight[$0]! }
        nextHeight = [:]
        for input in buffered where core.decision == nil { effects += try run(input, log: true) }
        return effects
    }

    /// The driver's store holds the blocks of every height up to `height` durably: their kept WALs
    /// are deleted.
    public func discardFinishedWALs(through height: UInt64) throws {
        while let first = keptWALs.first, first <= height {
            try store.discard(ConsensusWAL.fileName(height: first))
            keptWALs.removeFirst()
        }
    }

    /// The latest own messages of the current round and the round before, and the current round's
    /// proposal: what to send again on a timer so that messages lost before GST are not lost for
    /// ever (consensus.md §2.4 pitfall 10).
    public func retransmissions() -> [ConsensusMessage] {
        var out: [ConsensusMessage] = []
        let rounds = core.round > 0 ? [core.round - 1, core.round] : [core.round]
        for r in rounds {
            if let p = core.proposal(round: r), p.signed.proposal.proposer == key?.index || r == core.round {
                out.append(.proposal(p.signed))
            }
            guard let me = key?.index else { continue }
            for type in [VoteType.prevote, .precommit] {
                if let v = core.votes(type, round: r)?.vote(of: me) { out.append(.vote(v)) }
            }
        }
        return out
    }

    /// Runs one input through the core, then the core's own signed messages, in order. Only the
    /// first input is logged (own messages are re-made by the signer guard on replay).
    private func run(_ first: Input, log: Bool) throws -> [Effect] {
        var effects: [Effect] = []
        var queue = [first]
        var next = 0
        if log { try wal.append(first) }
        while next < queue.count {
            let input = queue[next]
            next += 1
            for output in core.step(input) {
                switch output {
                case let .sign(request):
                    try wal.sync()  // every input that led to it is durable before it is signed
                    guard let signer else { continue }
                    switch try signer.sign(request) {
                    case let .success(signature):
                        switch request {
                        case let .proposal(p, value, pol):
                            let signed = SignedProposal(proposal: p, signature: signature, value: value, proofOfLock: pol)
                            queue.append(.ownProposal(signed))
                            effects.append(.send(.proposal(signed)))
                        case let .vote(v):
                            let signed = SignedVote(vote: v, signature: signature)
                            queue.append(.ownVote(signed))
                            effects.append(.send(.vote(signed)))
                        }
                    case let .failure(refusal):
                        effects.append(.refused(refusal))
                    }
                case let .schedule(t, ms):
                    effects.append(.schedule(t, afterMillis: ms))
                case let .requestValue(h, r):
                    effects.append(.requestValue(height: h, round: r))
                case let .decide(d):
                    try wal.sync()
                    // Step (c), signed here rather than after the driver's store write when this
                    // step has signed something already (with one validator: the proposal and both
                    // votes): the decided value is durable in this WAL (just synced) and fixes
                    // checkpoint(h), so its signature shares the step's one signer fsync below. The
                    // driver's `signCheckpoint` then gets it back with no fsync of its own. (A
                    // decision with nothing else to sync, as in catching up on commits, is left to
                    // the driver, which may sign only the newest.) A refusal (an older checkpoint
                    // no longer remembered, in a replay) is the driver's to report when it asks.
                    if let signer, signer.hasUnsyncedSignatures {
                        _ = try signer.signCheckpoint(origin: parameters.chainID, size: d.value.evaluation.size,
                                                      root: d.value.evaluation.root, syncing: false)
                    }
                    effects.append(.decided(d))
                case let .evidence(e):
                    effects.append(.evidence(e))
                }
            }
        }
        try signer?.sync()  // every signature durable before it leaves (in a send or a decision)
        return effects
    }
}
