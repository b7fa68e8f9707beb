// A change of the validator set (consensus.md §2.10): leaf tag 0x02, carrying the new set and the
// approvals of a quorum of the current one. It is the last entry of its block h and the new set
// decides from height h + 1. This file fixes its bytes, its approval bytes and the rules valid(v)
// applies to it; LedgerChain (consensus) and ValidatorEpochs (light clients) both call them.
import CinnabarCrypto

/// The new validator set and the current validators' approvals of it. Encoding (big-endian, see
/// Specs/ledger-format.md §2.1):
/// `0x02 ‖ version u8 = 1 ‖ new set (u32 count ‖ count × (str16 name ‖ 32-byte key), in key
///  order) ‖ u16 approvalCount ‖ approvalCount × (u16 index in the current set ‖ 64-byte signature)`,
/// approvals in strictly increasing index order, nothing after them.
public struct ValidatorSetChange: Equatable, Sendable {
    public static let version: UInt8 = 1
    /// The most validators a set may have after a change, and the most approvals a leaf carries.
    /// Far above the n ≤ 7 consensus.md plans for; it bounds the decoder.
    public static let maxValidators = 256
    /// The domain tag that starts every approval's signed bytes. The leading NUL keeps them apart
    /// from C2SP note text; the name keeps them apart from consensus votes ("\0ledger-consensus/v1").
    public static let approvalDomain = Array("\u{0}ledger-validator-set/v1".utf8)

    /// One current validator's consent: its index in the CURRENT set (sorted by key) and its
    /// Ed25519 signature over `approvalMessage(origin:epoch:current:new:)`.
    public struct Approval: Hashable, Sendable {
        public let validator: Int
        public let signature: [UInt8]

        /// Nil unless the index fits its u16 field and the signature is 64 bytes.
        public init?(validator: Int, signature: [UInt8]) {
            guard validator >= 0, validator <= Int(UInt16.max), signature.count == 64 else { return nil }
            self.validator = validator
            self.signature = signature
        }
    }

    /// What a change does: exactly one of these (the "one change at a time" rule).
    public enum Step: Equatable, Sendable, CustomStringConvertible {
        case added(Validator)
        case removed(Validator)
        /// Same name, new key.
        case rotated(name: String, from: Ed25519PublicKey, to: Ed25519PublicKey)

        public var description: String {
            switch self {
            case let .added(v): "adds \(v.name)"
            case let .removed(v): "removes \(v.name)"
            case let .rotated(name, _, _): "gives \(name) a new key"
            }
        }
    }

    public let newSet: ValidatorSet
    /// In increasing validator index, at most one per validator.
    public let approvals: [Approval]

    /// A change to `newSet`. Approvals are put in index order; of two for the same validator the
    /// first given is kept (a validator counts once however often it appears).
    public init(newSet: ValidatorSet, approvals: [Approval]) {
        var seen = Set<Int>()
        self.newSet = newSet
        self.approvals = approvals.filter { seen.insert($0.validator).inserted }.sorted { $0.validator < $1.validator }
    }

    /// The bytes every approver signs:
    /// `"\0ledger-validator-set/v1" ‖ str16 origin ‖ u64 epoch ‖ hash(current set) ‖ hash(new set)`,
    /// where `epoch` numbers the current set: 0 for the genesis set, one more after each change.
    ///
    /// Consensus.md §2.10 sketches `(origin, h, newSet)`; the epoch and the current set's hash
    /// stand in for the height, so that operators can approve without knowing the height the change
    /// will land at. Neither can be replayed: an approval names the set it changes and the number of
    /// changes before it, and each applied change moves that number on, so even a set that comes
    /// back (add v, then remove v) needs new approvals to change again.
    public static func approvalMessage(origin: String, epoch: UInt64, current: ValidatorSet, new: ValidatorSet) -> [UInt8] {
        var w = BinaryWriter()
        w.raw(approvalDomain)
        w.string(origin)
        w.u64(epoch)
        w.hash(current.hash)
        w.hash(new.hash)
        return w.bytes
    }

    /// The approval that `key` gives to moving from `current` (the set of epoch `epoch`) to `new`;
    /// nil if `key` is not a current validator's.
    public static func approve(origin: String, epoch: UInt64, current: ValidatorSet, new: ValidatorSet,
                               key: Ed25519PrivateKey) -> Approval? {
        guard let index = current.validators.firstIndex(where: { $0.publicKey == key.publicKey }) else { return nil }
        let message = approvalMessage(origin: origin, epoch: epoch, current: current, new: new)
        return Approval(validator: index, signature: key.signature(for: message))!
    }

    /// The indices in `current` of the validators whose approval of this change verifies.
    /// Approvals naming no current validator, or signed over other bytes, are not among them.
    public func verifiedApprovers(origin: String, epoch: UInt64, current: ValidatorSet) -> Set<Int> {
        let message = ValidatorSetChange.approvalMessage(origin: origin, epoch: epoch, current: current, new: newSet)
        var approvers = Set<Int>()
        for a in approvals where a.validator < current.validators.count
            && current.validators[a.validator].publicKey.isValidSignature(a.signature, for: message) {
            approvers.insert(a.validator)
        }
        return approvers
    }

    /// The one step from `current` to `new`, or `invalidSetChange` if there is not exactly one:
    /// one validator added (a name and a key not in `current`), one removed, or one re-keyed.
    public static func step(from current: ValidatorSet, to new: ValidatorSet) throws(LedgerError) -> Step {
        let old = Dictionary(uniqueKeysWithValues: current.validators.map { ($0.name, $0) })
        let next = Dictionary(uniqueKeysWithValues: new.validators.map { ($0.name, $0) })
        let added = new.validators.filter { old[$0.name] == nil }
        let removed = current.validators.filter { next[$0.name] == nil }
        let rekeyed = new.validators.filter { v in old[v.name].map { $0.publicKey != v.publicKey } ?? false }
        switch (added.count, removed.count, rekeyed.count) {
        case (1, 0, 0): return .added(added[0])
        case (0, 1, 0): return .removed(removed[0])
        case (0, 0, 1): return .rotated(name: rekeyed[0].name, from: old[rekeyed[0].name]!.publicKey, to: rekeyed[0].publicKey)
        case (0, 0, 0): throw .invalidSetChange("the new set is the current set")
        default:
            throw .invalidSetChange("one validator at a time: this adds \(added.count), removes \(removed.count) and re-keys \(rekeyed.count)")
        }
    }

    /// Everything valid(v) requires of a change to `current`, the set of epoch `epoch` of log
    /// `origin`: one step,
    /// a key name for every new validator, a leaf within bounds, every approval verifying, and
    /// approvals from at least Q = ⌊2n/3⌋ + 1 distinct current validators. Returns the step.
    @discardableResult
    public func check(origin: String, epoch: UInt64, current: ValidatorSet) throws(LedgerError) -> Step {
        let step = try ValidatorSetChange.step(from: current, to: newSet)
        guard newSet.validators.count <= ValidatorSetChange.maxValidators else {
            throw .invalidSetChange("\(newSet.validators.count) validators; at most \(ValidatorSetChange.maxValidators)")
        }
        for v in newSet.validators where (try? v.verifierKey(origin: origin)) == nil {
            throw .invalidSetChange("validator \"\(v.name)\" gives no valid key name under \(origin)")
        }
        let bytes = leafData.count
        guard bytes <= LeafLimits.maxBytes else { throw .invalidSetChange("the leaf is \(bytes) bytes; the limit is \(LeafLimits.maxBytes)") }
        let approvers = verifiedApprovers(origin: origin, epoch: epoch, current: current)
        if let bad = approvals.first(where: { !approvers.contains($0.validator) }) {
            throw .unapprovedSetChange("the approval at index \(bad.validator) is not a current validator's signature over this change")
        }
        guard approvers.count >= current.quorum else {
            throw .unapprovedSetChange("approved by \(approvers.count) of the \(current.validators.count) current validators; \(current.quorum) needed")
        }
        return step
    }

    /// The leaf data, tag byte included.
    public var leafData: [UInt8] {
        var w = BinaryWriter()
        w.u8(LeafTag.validatorSetChange.rawValue)
        w.u8(ValidatorSetChange.version)
        newSet.write(to: &w)
        precondition(approvals.count <= Int(UInt16.max), "one approval per u16 index at most")
        w.u16(UInt16(approvals.count))
        for a in approvals {
            w.u16(UInt16(a.validator))
            w.raw(a.signature)
        }
        return w.bytes
    }

    /// Decodes a change leaf; rejects another tag or version, more than 64 KiB, a set out of key
    /// order or over the bound, approvals out of index order or over the bound, truncation and
    /// trailing bytes. Says nothing about whether the change is approved: see `check`.
    public init(leafData: [UInt8]) throws(LedgerError) {
        guard leafData.count <= LeafLimits.maxBytes else { throw .malformedSetChange("the leaf is over \(LeafLimits.maxBytes) bytes") }
        var r = BinaryReader(leafData)
        guard r.u8() == LeafTag.validatorSetChange.rawValue else { throw .malformedSetChange("not a validator-set change leaf") }
        guard r.u8() == ValidatorSetChange.version else { throw .malformedSetChange("unknown version") }
        let newSet: ValidatorSet
        do { newSet = try ValidatorSet(reading: &r, maxCount: ValidatorSetChange.maxValidators) } catch {
            throw .malformedSetChange("new set: \(error)")
        }
        guard let count = r.u16() else { throw .malformedSetChange("truncated before the approvals") }
        guard count <= ValidatorSetChange.maxValidators else { throw .malformedSetChange("\(count) approvals; at most \(ValidatorSetChange.maxValidators)") }
        var approvals: [Approval] = []
        for _ in 0..<count {
            guard let index = r.u16(), let signature = r.bytes(64) else { throw .malformedSetChange("truncated approval") }
            guard approvals.last.map({ $0.validator < Int(index) }) ?? true else {
                throw .malformedSetChange("approvals are not in strictly increasing validator order")
            }
            approvals.append(Approval(validator: Int(index), signature: signature)!)
        }
        guard r.isAtEnd else { throw .malformedSetChange("bytes after the approvals") }
        self.init(newSet: newSet, approvals: approvals)
    }
}
