// The one place that decides who may write what (domain.md §6.1, §6.3 and its write rule).
// Admission calls it to refuse a record; derivation calls it again to ignore anything that
// slipped in. Signatures are checked in `Admission`; this file is about roles and targets.

/// What permission checks need to know about an earlier record.
public struct RecordSummary: Equatable, Sendable {
    public let recordID: String
    public let type: RecordType
    public let writerOrg: String
    /// For DOCUMENT_ISSUED: the document type.
    public let docType: DocumentType?
    public let leafIndex: UInt64
    /// For PRACTITIONER_REGISTERED: the licence number it registers.
    public let licence: String?

    public init(recordID: String, type: RecordType, writerOrg: String, docType: DocumentType?, leafIndex: UInt64, licence: String? = nil) {
        self.recordID = recordID
        self.type = type
        self.writerOrg = writerOrg
        self.docType = docType
        self.leafIndex = leafIndex
        self.licence = licence
    }

    /// The summary of `record` at `leafIndex`.
    public init(_ record: Record, leafIndex: UInt64) {
        self.init(recordID: record.recordID, type: record.type, writerOrg: record.writerOrg,
                  docType: record.string("doc_type").flatMap(DocumentType.init(rawValue:)), leafIndex: leafIndex,
                  licence: record.type == .practitionerRegistered ? record.string("licence_number") : nil)
    }
}

/// Why a writer may not write a record. Stable codes.
public enum PermissionError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownWriter(String)
    case writerNotActive(String)
    case roleMismatch(claimed: Role, registered: Role)
    case roleMayNotWrite(Role, RecordType)
    case missingReference(String)
    case wrongTargetType(RecordType)
    case notOriginalIssuer
    case subjectMismatch(String)
    case governanceQuorum(have: Int, need: Int)

    public var code: String {
        switch self {
        case .unknownWriter: "writer_unknown"
        case .writerNotActive: "writer_not_active"
        case .roleMismatch: "writer_role_mismatch"
        case .roleMayNotWrite: "role_may_not_write"
        case .missingReference: "reference_not_found"
        case .wrongTargetType: "reference_wrong_type"
        case .notOriginalIssuer: "not_original_issuer"
        case .subjectMismatch: "reference_subject_mismatch"
        case .governanceQuorum: "governance_quorum_not_met"
        }
    }

    public var description: String {
        switch self {
        case let .unknownWriter(org): "organisation \(org) is not a member"
        case let .writerNotActive(org): "organisation \(org) is suspended or removed"
        case let .roleMismatch(claimed, registered): "writer claims role \(claimed.rawValue) but is registered as \(registered.rawValue)"
        case let .roleMayNotWrite(role, type): "a \(role.rawValue) may not write \(type.rawValue)"
        case let .missingReference(id): "referenced record \(id) is not in the ledger"
        case let .wrongTargetType(type): "the referenced record is a \(type.rawValue), which this record cannot change"
        case .notOriginalIssuer: "only the organisation that wrote the original record may change its status"
        case let .subjectMismatch(why): "the record is about another subject than the one it refers to: \(why)"
        case let .governanceQuorum(have, need): "\(have) governance signatures; \(need) needed"
        }
    }
}

/// The write rules.
public enum Permissions {
    /// The roles that may write `type` at all (before target-specific rules). Governance records
    /// are written by governance members (justice administration and courts) with a quorum.
    public static func roles(for type: RecordType) -> Set<Role> {
        switch type {
        case .memberAdmitted, .memberKeyRotated, .memberSuspended, .memberRemoved: [.justiceAdmin, .court]
        case .orgRegistered, .orgStatusChanged: [.justiceAdmin]
        case .practitionerRegistered, .practitionerStatusChanged: [.justiceAdmin, .arbitrationCommission]
        case .caseOpened: [.notaryOffice, .forensicLab, .arbitrationCommission, .legalAidCenter, .court]
        case .evidenceDeposited: [.notaryOffice, .forensicLab, .court, .arbitrationCommission]
        case .documentIssued, .documentCorrected, .documentSuperseded, .documentRelated:
            Set(DocumentType.allCases.map(\.issuer))
        case .documentRevoked: Set(DocumentType.allCases.map(\.issuer)).union([.court])
        case .documentEnforcementStatus: [.court]
        case .creditEvent, .creditAmended, .creditObjectionFiled, .creditObjectionResolved:
            [.justiceAdmin, .association]
        case .creditAnnulled: [.justiceAdmin, .association, .court]
        case .creditPublicationEnded: [.justiceAdmin, .association]
        case .payloadErased: [.notaryOffice, .forensicLab, .court, .arbitrationCommission, .legalAidCenter, .justiceAdmin, .association]
        }
    }

    /// Checks that `record`'s writer may write it, given the registry and earlier records.
    /// `lookup` returns committed records by id. `governanceSigners` is the set of distinct
    /// governance organisations whose proofs verified (for membership records). Derivation passes
    /// `requireActive: false`: a record is judged by the rules, not by its writer's later suspension.
    public static func check(_ record: Record, registry: Registry, governanceSigners: Set<String> = [],
                             requireActive: Bool = true, lookup: (String) -> RecordSummary?) throws(PermissionError) {
        guard let writer = registry.members[record.writerOrg] else { throw .unknownWriter(record.writerOrg) }
        guard writer.status == .active || !requireActive else { throw .writerNotActive(record.writerOrg) }
        guard writer.role == record.writerRole else { throw .roleMismatch(claimed: record.writerRole, registered: writer.role) }
        let role = writer.role
        guard roles(for: record.type).contains(role) else { throw .roleMayNotWrite(role, record.type) }

        // Every ref must point at a committed record.
        var targets: [String: RecordSummary] = [:]
        for ref in record.refs {
            guard let summary = lookup(ref.recordID) else { throw .missingReference(ref.recordID) }
            if ref.rel == "case", summary.type != .caseOpened { throw .wrongTargetType(summary.type) }
            if ref.rel == "evidence", summary.type != .evidenceDeposited { throw .wrongTargetType(summary.type) }
            targets[ref.rel] = summary
        }

        switch record.type {
        case .memberAdmitted, .memberKeyRotated, .memberSuspended, .memberRemoved:
            guard registry.governance.contains(record.writerOrg) else { throw .roleMayNotWrite(role, record.type) }
            let have = governanceSigners.intersection(registry.governance).count
            guard have >= registry.governanceQuorum else { throw .governanceQuorum(have: have, need: registry.governanceQuorum) }

        case .practitionerRegistered:
            // Arbitration commissions appoint arbitrators only; the justice administration the rest.
            let isArbitrator = record.string("profession") == Profession.arbitrator.rawValue
            if role == .arbitrationCommission, !isArbitrator { throw .roleMayNotWrite(role, record.type) }

        case .practitionerStatusChanged:
            // A status change names the registration it changes: a commission changes only the
            // arbitrators it appointed; the justice administration any practitioner (domain.md §6.3).
            let target = try requireTarget(targets["target"], record.type)
            guard target.writerOrg == record.writerOrg || role == .justiceAdmin else { throw .notOriginalIssuer }
            guard record.string("licence_number") == target.licence else {
                throw .subjectMismatch("licence \(record.string("licence_number") ?? "?") but the registration is of \(target.licence ?? "?")")
            }

        case .documentIssued:
            guard let docType = record.string("doc_type").flatMap(DocumentType.init(rawValue:)), docType.issuer == role else {
                throw .roleMayNotWrite(role, record.type)
            }

        case .documentCorrected:
            let target = try requireTarget(targets["target"], record.type)
            guard target.writerOrg == record.writerOrg else { throw .notOriginalIssuer }

        case .documentRevoked:
            let target = try requireTarget(targets["target"], record.type)
            // The issuer revokes (公证复查, withdrawal); a court sets aside an arbitral award (仲裁法 art 58).
            let courtOnAward = role == .court && (target.docType?.isArbitral ?? false)
            guard target.writerOrg == record.writerOrg || courtOnAward else { throw .notOriginalIssuer }

        case .documentEnforcementStatus:
            let target = try requireTarget(targets["target"], record.type)
            guard target.docType?.isArbitral ?? false else { throw .wrongTargetType(target.type) }

        case .documentSuperseded, .documentRelated:
            let new = try requireTarget(targets["new"], record.type)
            let old = try requireTarget(targets["old"], record.type)
            // Written by the issuer of the new document. A supersession also changes the old
            // document's status, so by the write rule the old document must be the writer's own too.
            guard new.writerOrg == record.writerOrg else { throw .notOriginalIssuer }
            guard record.type == .documentRelated || old.writerOrg == record.writerOrg else { throw .notOriginalIssuer }

        case .creditEvent:
            guard let cls = record.string("class").flatMap(CreditClass.init(rawValue:)), cls.writers.contains(role) else {
                throw .roleMayNotWrite(role, record.type)
            }

        case .creditAmended, .creditObjectionFiled, .creditObjectionResolved:
            let target = try requireTarget(targets["target"], record.type)
            guard target.writerOrg == record.writerOrg else { throw .notOriginalIssuer }

        case .creditAnnulled:
            // The issuer corrects itself; a reviewing authority (justice administration on 复议,
            // a court on judgment) may annul another body's decision.
            let target = try requireTarget(targets["target"], record.type)
            guard target.writerOrg == record.writerOrg || role == .justiceAdmin || role == .court else { throw .notOriginalIssuer }

        case .creditPublicationEnded:
            let target = try requireTarget(targets["target"], record.type)
            guard target.writerOrg == record.writerOrg || role == .justiceAdmin else { throw .notOriginalIssuer }

        case .payloadErased:
            let target = try requireTarget(targets["target"], record.type)
            guard target.writerOrg == record.writerOrg else { throw .notOriginalIssuer }

        case .orgRegistered, .orgStatusChanged, .caseOpened, .evidenceDeposited:
            break
        }
    }

    private static func requireTarget(_ summary: RecordSummary?, _ type: RecordType) throws(PermissionError) -> RecordSummary {
        guard let summary else { throw .missingReference("(none)") }
        guard type.targetTypes?.contains(summary.type) ?? true else { throw .wrongTargetType(summary.type) }
        return summary
    }
}
