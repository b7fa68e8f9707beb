// Admission of a submitted record: canonical bytes and schema, the writer's signature(s) against
// registered keys, then the write rules. What passes is a record the ledger may log.
import CinnabarCrypto

/// Why a record was refused at admission. Stable codes for the API and CLI.
public enum AdmissionError: Error, Equatable, Sendable, CustomStringConvertible {
    case record(RecordError)
    case unknownKey(String)
    /// The key belongs to a member that is suspended or removed.
    case memberNotActive(org: String, status: Member.Status)
    case signatureInvalid(String)
    case permission(PermissionError)

    public var code: String {
        switch self {
        case let .record(e): e.code
        case .unknownKey: "key_unknown"
        case .memberNotActive: "member_not_active"
        case .signatureInvalid: "signature_invalid"
        case let .permission(e): e.code
        }
    }

    public var description: String {
        switch self {
        case let .record(e): e.description
        case let .unknownKey(m): "no active registered key \(m)"
        case let .memberNotActive(org, status): "organisation \(org) is \(status.rawValue): its keys sign nothing new"
        case let .signatureInvalid(m): "the proof by \(m) does not verify"
        case let .permission(e): e.description
        }
    }
}

/// The admission pipeline (pure: the registry and the record lookup are passed in).
public enum Admission {
    /// Parses and fully checks record bytes (the leaf without its 0x01 tag).
    public static func admit(_ bytes: [UInt8], registry: Registry,
                             lookup: (String) -> RecordSummary?) throws(AdmissionError) -> AdmittedRecord {
        let record: Record
        do { record = try Record(bytes: bytes) } catch { throw .record(error) }
        let signers = try verifySignatures(record, registry: registry)
        do { try Permissions.check(record, registry: registry, governanceSigners: signers.orgs, lookup: lookup) } catch {
            throw .permission(error)
        }
        return AdmittedRecord(record: record, writerKey: signers.writerKey)
    }

    /// Verifies every proof against the registry; returns the organisations that signed and the
    /// key the writer's proof verified under.
    /// Ordinary records carry exactly one proof, by the writer's declared key; governance records a
    /// proof set that includes the writer's, one proof per organisation.
    public static func verifySignatures(_ record: Record, registry: Registry) throws(AdmissionError) -> (orgs: Set<String>, writerKey: Ed25519PublicKey) {
        let proofs: [DataIntegrityProof]
        do { proofs = try record.proofs() } catch { throw .record(error) }
        guard record.type.isGovernance || proofs.count == 1 else {
            throw .record(.badProof("a \(record.type.rawValue) record carries exactly one proof"))
        }
        let writerMethod = VerificationMethod(org: record.writerOrg, keyID: record.keyID)
        var signers: Set<String> = []
        var writerKey: Ed25519PublicKey?
        let unsecured = record.unsecuredBytes
        for proof in proofs {
            guard let method = VerificationMethod(parsing: proof.verificationMethod) else {
                throw .record(.badProof("verificationMethod \(proof.verificationMethod) is not cinnabar:org:<USCI>#<key id>"))
            }
            let key = try registeredKey(method, registry: registry)
            do {
                if proof.context == nil {
                    try DataIntegrity.verify(unsecuredCanonical: unsecured, proof: proof, publicKey: key)
                } else {
                    try DataIntegrity.verify(document: record.json, proof: proof, publicKey: key)
                }
            } catch {
                throw .signatureInvalid(method.string)
            }
            guard signers.insert(method.org).inserted else {
                throw .record(.badProof("two proofs by organisation \(method.org)"))
            }
            if method == writerMethod { writerKey = key }
        }
        guard let writerKey else { throw .record(.badProof("no proof by the writer's key \(writerMethod.string)")) }
        return (signers, writerKey)
    }

    /// The active key `method` names in `registry`, or why there is none. For a record whose
    /// signature was checked earlier, on an older registry, this is what is left to check: a
    /// rotation may have retired the key since, or the member may be suspended.
    public static func registeredKey(_ method: VerificationMethod, registry: Registry) throws(AdmissionError) -> Ed25519PublicKey {
        guard let key = registry.key(org: method.org, keyID: method.keyID) else {
            if let member = registry.members[method.org], member.status != .active, member.keys[method.keyID] != nil {
                throw .memberNotActive(org: method.org, status: member.status)
            }
            throw .unknownKey(method.string)
        }
        return key
    }
}

/// A record that passed full admission, with the key its writer's proof verified under. Whoever
/// logs it later, on a newer registry, checks that this key is still the one registered under its
/// id: a rotation may since have retired the id, or given it to other key bytes.
public final class AdmittedRecord: Sendable {
    public let record: Record
    public let writerKey: Ed25519PublicKey
    public init(record: Record, writerKey: Ed25519PublicKey) {
        self.record = record
        self.writerKey = writerKey
    }
}
