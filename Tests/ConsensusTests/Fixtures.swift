// A four-validator consortium for driving the pure core by hand: real keys, real blocks, real
// signatures — the messages other validators would send, signed as they would sign them.
import CinnabarCrypto
import Consensus
import Ledger
import SignedNote
import XCTest

struct Consortium {
    let origin = "test.cinnabar.example/consensus"
    let parameters: ConsensusParameters
    let keys: [ValidatorKey]
    let genesis: LedgerChain
    let seeds: [[UInt8]]

    init(validators n: Int = 4, timeouts: Timeouts = .standard) {
        var seeds: [[UInt8]] = []
        var members: [Validator] = []
        for i in 0..<n {
            let s = SHA256.hash(Array("consensus-test-key-\(i)".utf8)).bytes
            seeds.append(s)
            members.append(Validator(name: "v\(i)", publicKey: Ed25519PrivateKey(seed: s)!.publicKey))
        }
        let set = try! ValidatorSet(members)
        parameters = ConsensusParameters(chainID: origin, validators: set, timeouts: timeouts)
        var ordered: [[UInt8]] = []
        keys = set.validators.enumerated().map { index, v in
            let i = members.firstIndex { $0.publicKey == v.publicKey }!
            ordered.append(seeds[i])
            return try! ValidatorKey(index: index, seed: seeds[i], validators: set, origin: "test.cinnabar.example/consensus")
        }
        self.seeds = ordered
        genesis = try! LedgerChain(origin: origin, validators: set)
    }

    var n: Int { parameters.count }
    var quorum: Int { parameters.quorum }

    func proposer(height: UInt64 = 1, round: Int) -> Int { parameters.proposer(height: height, round: round) }

    /// A validator that does not propose in any of `rounds` at `height`.
    func bystander(height: UInt64 = 1, rounds: [Int]) -> Int {
        (0..<n).first { v in !rounds.contains { proposer(height: height, round: $0) == v } }!
    }

    /// A valid height-1 block holding `tag` as its one entry.
    func block(_ tag: String, chain: LedgerChain? = nil, proposer: String = "v0", lines: String = "") -> [UInt8] {
        let c = chain ?? genesis
        return c.makeBlock(entries: [[LeafTag.record.rawValue] + Array(tag.utf8)], proposedTimeMillis: 1_000,
                           proposer: proposer, signatureLines: lines).encoded
    }

    /// A block whose id binds but which is not valid (its proposer is not a validator).
    func invalidBlock(_ tag: String) -> [UInt8] { block(tag, proposer: "mallory") }

    func id(_ value: [UInt8], chain: LedgerChain? = nil) -> ValueID { (chain ?? genesis).evaluate(value)!.id }

    func vote(_ type: VoteType, round: Int, _ id: ValueID?, from v: Int, height: UInt64 = 1) -> SignedVote {
        let vote = Vote(type: type, height: height, round: round, valueID: id, validator: v)
        return SignedVote(vote: vote, signature: keys[v].privateKey.signature(for: vote.signBytes(chainID: origin)))
    }

    func proposal(round: Int, _ value: [UInt8], validRound: Int = -1, pol: [SignedVote] = [], height: UInt64 = 1,
                  chain: LedgerChain? = nil, from: Int? = nil) -> SignedProposal {
        let p = Proposal(height: height, round: round, validRound: validRound, valueID: id(value, chain: chain),
                         proposer: from ?? proposer(height: height, round: round))
        return SignedProposal(proposal: p, signature: keys[p.proposer].privateKey.signature(for: p.signBytes(chainID: origin)),
                              value: value, proofOfLock: pol)
    }

    /// A started core for validator `me` at height 1.
    func core(me: Int) -> (Tendermint, [Output]) {
        var core = Tendermint(parameters: parameters, me: me, height: 1, evaluator: genesis)
        let out = core.step(.start)
        return (core, out)
    }
}

/// Feeds a core its own signed messages, as the replica does after the signer guard signs.
struct Driven {
    let consortium: Consortium
    var core: Tendermint
    var outputs: [Output] = []

    init(_ consortium: Consortium, me: Int) {
        self.consortium = consortium
        (core, outputs) = consortium.core(me: me)
        selfSign()
    }

    var me: Int { core.me! }

    /// Gives the core an input, then signs and feeds back every sign request, collecting outputs.
    @discardableResult
    mutating func step(_ input: Input) -> [Output] {
        let before = outputs.count
        outputs += core.step(input)
        selfSign(from: before)
        return Array(outputs[before...])
    }

    private mutating func selfSign(from start: Int = 0) {
        var i = start
        while i < outputs.count {
            if case let .sign(request) = outputs[i] {
                let key = consortium.keys[me].privateKey
                let signature = key.signature(for: request.signBytes(chainID: consortium.origin))
                switch request {
                case let .proposal(p, value, pol):
                    outputs += core.step(.ownProposal(SignedProposal(proposal: p, signature: signature, value: value, proofOfLock: pol)))
                case let .vote(v):
                    outputs += core.step(.ownVote(SignedVote(vote: v, signature: signature)))
                }
            }
            i += 1
        }
    }

    /// The votes this core asked to sign, in order.
    func signedVotes(_ list: [Output]? = nil) -> [Vote] {
        (list ?? outputs).compactMap { if case let .sign(.vote(v)) = $0 { return v } else { return nil } }
    }

    func scheduled(_ list: [Output]) -> [Timeout] {
        list.compactMap { if case let .schedule(t, _) = $0 { return t } else { return nil } }
    }

    var decision: Decision? { core.decision }
}
