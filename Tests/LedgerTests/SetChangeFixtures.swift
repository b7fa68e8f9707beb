// Validators with deterministic keys, and changes approved by chosen members: the material of the
// validator-set change and light-client tests.
import CinnabarCrypto
import Ledger
import MerkleLog
import SignedNote

enum Members {
    static let origin = "ledger.test.example/cinnabar"

    /// The key of `label` (a validator's name, or a name and a generation for a rotated key).
    static func key(_ label: String) -> Ed25519PrivateKey {
        Ed25519PrivateKey(seed: SHA256.hash("validator-set-change-test/\(label)").bytes)!
    }

    static func validator(_ name: String, key label: String? = nil) -> Validator {
        Validator(name: name, publicKey: key(label ?? name).publicKey)
    }

    static func set(_ names: [String]) -> ValidatorSet { try! ValidatorSet(names.map { validator($0) }) }

    static func set(_ validators: [Validator]) -> ValidatorSet { try! ValidatorSet(validators) }

    /// The private key behind validator `v`, whatever the label it was made from.
    static func privateKey(of v: Validator, labels: [String]) -> Ed25519PrivateKey {
        labels.map(key).first { $0.publicKey == v.publicKey }!
    }

    /// A change from `current` (epoch `epoch`) to `new` approved by the validators named `approvers`.
    static func change(_ current: ValidatorSet, _ new: ValidatorSet, approvers: [String], epoch: UInt64 = 0,
                       labels: [String] = []) -> ValidatorSetChange {
        let approvals = approvers.map { name in
            let v = current.validator(named: name)!
            return ValidatorSetChange.approve(origin: origin, epoch: epoch, current: current, new: new,
                                              key: privateKey(of: v, labels: [name] + labels))!
        }
        return ValidatorSetChange(newSet: new, approvals: approvals)
    }
}

/// A log built block by block, as the ledger would write it: entries, an optional change as the
/// last entry, then the trailer; checkpoints signed by whichever keys a test chooses.
struct BlockLog {
    var leaves: [[UInt8]] = []
    var height: UInt64 = 0

    var size: UInt64 { UInt64(leaves.count) }
    var root: Hash { RFC6962.rootHash(leaves.map(RFC6962.leafHash)[...]) }

    /// Appends a block of `records` (and `change`, last) decided by `set`; returns its size.
    @discardableResult
    mutating func block(records: Int = 1, change: ValidatorSetChange? = nil, set: ValidatorSet) -> UInt64 {
        let previousSize = size, previousRoot = root
        height += 1
        let entries = (0..<records).map { [LeafTag.record.rawValue] + Array("record \(height).\($0)".utf8) } + (change.map { [$0.leafData] } ?? [])
        leaves += entries
        let trailer = BlockTrailer(origin: Members.origin, height: height, previousSize: previousSize, previousRoot: previousRoot,
                                   timeMillis: 1_000 * height, proposer: set.validators[0].name, entryCount: UInt32(entries.count),
                                   validatorSetHash: set.hash, nextValidatorSetHash: (change?.newSet ?? set).hash,
                                   lastCosigsHash: SHA256.hash(""))
        leaves.append(trailer.leafData)
        return size
    }

    /// The checkpoint of the tree's first `size` leaves, signed by validators `(name, key label)`.
    func checkpoint(size: UInt64? = nil, signers: [(String, String)]) -> String {
        let n = size ?? self.size
        let root = RFC6962.rootHash(leaves.prefix(Int(n)).map(RFC6962.leafHash)[...])
        let keys = signers.map { try! NoteSigningKey(name: "\(Members.origin)/\($0.0)", seed: Members.key($0.1).seed) }
        return try! Note.sign(text: "\(Members.origin)\n\(n)\n\(root.base64)\n", with: keys).formatted
    }

    func checkpoint(size: UInt64? = nil, signedBy names: [String]) -> String {
        checkpoint(size: size, signers: names.map { ($0, $0) })
    }

    func proof(index: UInt64, size: UInt64) -> [Hash] {
        try! MemoryHashReader(leafHashes: leaves.map(RFC6962.leafHash)).inclusionProof(index: index, size: size)
    }
}
