// The one binary encoding of consensus messages and WAL inputs: fixed-width big-endian integers,
// length-prefixed blobs (consensus.md §2.3). Decoding is strict and bounded; anything malformed
// is rejected before the core sees it.
import CinnabarCrypto
import Ledger
import SignedNote

/// Encoders and strict decoders for everything consensus writes or sends.
public enum WireCodec {
    public static let maxProofOfLock = 1024
    public static let maxPrecommits = 1024

    // MARK: Votes and proposals

    static func put(_ v: Vote, _ w: inout BinaryWriter) {
        w.u8(v.type.rawValue)
        w.u64(v.height)
        w.u32(UInt32(v.round))
        if let id = v.valueID {
            w.u8(1)
            w.hash(id.hash)
        } else {
            w.u8(0)
        }
        w.u16(UInt16(v.validator))
    }

    static func put(_ v: SignedVote, _ w: inout BinaryWriter) {
        precondition(v.signature.count == 64, "Ed25519 signatures are 64 bytes")
        put(v.vote, &w)
        w.raw(v.signature)
    }

    static func put(_ p: SignedProposal, _ w: inout BinaryWriter) {
        precondition(p.signature.count == 64, "Ed25519 signatures are 64 bytes")
        let h = p.proposal
        w.u64(h.height)
        w.u32(UInt32(h.round))
        w.u32(h.validRound < 0 ? SignBytes.noRound : UInt32(h.validRound))
        w.hash(h.valueID.hash)
        w.u16(UInt16(h.proposer))
        w.raw(p.signature)
        w.blob(p.value)
        w.u16(UInt16(p.proofOfLock.count))
        for v in p.proofOfLock { put(v, &w) }
    }

    static func put(_ c: CommitCertificate, _ w: inout BinaryWriter) {
        w.u64(c.height)
        w.u32(UInt32(c.round))
        w.hash(c.valueID.hash)
        w.u16(UInt16(c.precommits.count))
        for v in c.precommits { put(v, &w) }
    }

    static func round(_ r: inout BinaryReader) -> Int? {
        guard let x = r.u32(), x <= UInt32(ConsensusParameters.maxRound) else { return nil }
        return Int(x)
    }

    static func signature(_ r: inout BinaryReader) -> [UInt8]? {
        var sig: [UInt8] = []
        sig.reserveCapacity(64)
        for _ in 0..<64 {
            guard let b = r.u8() else { return nil }
            sig.append(b)
        }
        return sig
    }

    static func vote(_ r: inout BinaryReader) -> Vote? {
        guard let t = r.u8(), let type = VoteType(rawValue: t), let height = r.u64(), let round = round(&r),
              let flag = r.u8() else { return nil }
        var id: ValueID?
        switch flag {
        case 0: id = nil
        case 1:
            guard let h = r.hash() else { return nil }
            id = ValueID(hash: h)
        default: return nil
        }
        guard let validator = r.u16() else { return nil }
        return Vote(type: type, height: height, round: round, valueID: id, validator: Int(validator))
    }

    static func signedVote(_ r: inout BinaryReader) -> SignedVote? {
        guard let v = vote(&r), let sig = signature(&r) else { return nil }
        return SignedVote(vote: v, signature: sig)
    }

    static func signedProposal(_ r: inout BinaryReader) -> SignedProposal? {
        guard let height = r.u64(), let round = round(&r), let vrRaw = r.u32(), let id = r.hash(),
              let proposer = r.u16(), let sig = signature(&r), let value = r.blob(),
              value.count <= LedgerBlock.maxEncodedBytes, let polCount = r.u16(), Int(polCount) <= maxProofOfLock
        else { return nil }
        let validRound: Int
        if vrRaw == SignBytes.noRound {
            validRound = -1
        } else {
            guard vrRaw < UInt32(round) else { return nil }
            validRound = Int(vrRaw)
        }
        var pol: [SignedVote] = []
        for _ in 0..<polCount {
            guard let v = signedVote(&r) else { return nil }
            pol.append(v)
        }
        let p = Proposal(height: height, round: round, validRound: validRound, valueID: ValueID(hash: id), proposer: Int(proposer))
        return SignedProposal(proposal: p, signature: sig, value: value, proofOfLock: pol)
    }

    static func certificate(_ r: inout BinaryReader) -> CommitCertificate? {
        guard let height = r.u64(), let round = round(&r), let id = r.hash(), let count = r.u16(),
              Int(count) <= maxPrecommits else { return nil }
        var votes: [SignedVote] = []
        for _ in 0..<count {
            guard let v = signedVote(&r) else { return nil }
            votes.append(v)
        }
        return CommitCertificate(height: height, round: round, valueID: ValueID(hash: id), precommits: votes)
    }

    /// The bytes of a commit certificate (block store, block sync).
    public static func encode(_ c: CommitCertificate) -> [UInt8] {
        var w = BinaryWriter()
        put(c, &w)
        return w.bytes
    }

    /// Decodes a commit certificate; nil if malformed or with trailing bytes.
    public static func decodeCertificate(_ bytes: [UInt8]) -> CommitCertificate? {
        strict(bytes) { certificate(&$0) }
    }

    /// What `read` makes of `bytes`, kept only if it read every byte (no trailing data).
    static func strict<T>(_ bytes: [UInt8], _ read: (inout BinaryReader) -> T?) -> T? {
        var r = BinaryReader(bytes)
        guard let value = read(&r), r.isAtEnd else { return nil }
        return value
    }

    // MARK: Messages

    /// The bytes of a message on the wire.
    public static func encode(_ m: ConsensusMessage) -> [UInt8] {
        var w = BinaryWriter()
        switch m {
        case let .proposal(p):
            w.u8(1)
            put(p, &w)
        case let .vote(v):
            w.u8(2)
            put(v, &w)
        case let .checkpointSignature(s):
            w.u8(3)
            w.u64(s.height)
            w.u16(UInt16(s.validator))
            w.string(s.line.description)
        case let .commit(c, value):
            w.u8(4)
            put(c, &w)
            w.blob(value)
        case let .status(v, h, r):
            w.u8(5)
            w.u16(UInt16(v))
            w.u64(h)
            w.u32(UInt32(r))
        }
        return w.bytes
    }

    /// Decodes a message; nil for anything malformed, truncated or with trailing bytes.
    public static func decodeMessage(_ bytes: [UInt8]) -> ConsensusMessage? {
        strict(bytes) { r -> ConsensusMessage? in
            switch r.u8() {
            case 1: return signedProposal(&r).map { .proposal($0) }
            case 2: return signedVote(&r).map { .vote($0) }
            case 3:
                guard let h = r.u64(), let v = r.u16(), let text = r.string(),
                      let note = try? Note(parsing: "x\n\n" + text + "\n"), note.signatures.count == 1 else { return nil }
                return .checkpointSignature(CheckpointSignature(height: h, validator: Int(v), line: note.signatures[0]))
            case 4:
                guard let c = certificate(&r), let value = r.blob(), value.count <= LedgerBlock.maxEncodedBytes else { return nil }
                return .commit(c, value: value)
            case 5:
                guard let v = r.u16(), let h = r.u64(), let rd = round(&r) else { return nil }
                return .status(validator: Int(v), height: h, round: rd)
            default: return nil
            }
        }
    }

    // MARK: WAL inputs

    /// The bytes of a WAL record. `start` and own messages are never logged.
    public static func encode(_ input: Input) -> [UInt8] {
        var w = BinaryWriter()
        switch input {
        case .start, .ownProposal, .ownVote:
            preconditionFailure("\(input) is not logged")
        case let .proposal(p):
            w.u8(1)
            put(p, &w)
        case let .vote(v):
            w.u8(2)
            put(v, &w)
        case let .timeout(t):
            w.u8(5)
            w.u8(t.kind.rawValue)
            w.u64(t.height)
            w.u32(UInt32(t.round))
        case let .proposalValue(h, r, value):
            w.u8(6)
            w.u64(h)
            w.u32(UInt32(r))
            w.blob(value)
        case let .commit(c, value):
            w.u8(7)
            put(c, &w)
            w.blob(value)
        }
        return w.bytes
    }

    /// Decodes a WAL record; nil if malformed.
    public static func decodeInput(_ bytes: [UInt8]) -> Input? {
        strict(bytes) { r -> Input? in
            switch r.u8() {
            case 1: return signedProposal(&r).map { .proposal($0) }
            case 2: return signedVote(&r).map { .vote($0) }
            case 5:
                guard let k = r.u8(), let kind = TimeoutKind(rawValue: k), let h = r.u64(), let rd = round(&r) else { return nil }
                return .timeout(Timeout(kind: kind, height: h, round: rd))
            case 6:
                guard let h = r.u64(), let rd = round(&r), let value = r.blob() else { return nil }
                return .proposalValue(height: h, round: rd, value: value)
            case 7:
                guard let c = certificate(&r), let value = r.blob() else { return nil }
                return .commit(c, value: value)
            default: return nil
            }
        }
    }
}
