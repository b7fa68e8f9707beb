// Who writes (domain.md §6.1) and what they write (§6.3): the roles of member organisations and
// the record types of the ledger.

/// The role of a member organisation. Writers are organisations, never individuals.
public enum Role: String, CaseIterable, Sendable, Codable {
    /// 司法厅/司法局 — registers organisations and practitioners, records administrative credit events.
    case justiceAdmin = "JUSTICE_ADMIN"
    /// 律协/公证协会/鉴定协会 — industry discipline and awards.
    case association = "ASSOCIATION"
    /// 公证处 — notarial certificates, evidence deposits.
    case notaryOffice = "NOTARY_OFFICE"
    /// 司法鉴定机构 — appraisal opinions and inspection reports, evidence deposits.
    case forensicLab = "FORENSIC_LAB"
    /// 仲裁委员会 — awards and mediation statements; arbitrator rosters.
    case arbitrationCommission = "ARBITRATION_COMMISSION"
    /// 法律援助中心 — legal-aid decisions.
    case legalAidCenter = "LEGAL_AID_CENTER"
    /// 人民法院 — sets aside awards, rules on enforcement, deposits exhibits; a governance member.
    case court = "COURT"
}

/// Every record type of domain.md §6.3.
public enum RecordType: String, CaseIterable, Sendable, Codable {
    case memberAdmitted = "MEMBER_ADMITTED"
    case memberKeyRotated = "MEMBER_KEY_ROTATED"
    case memberSuspended = "MEMBER_SUSPENDED"
    case memberRemoved = "MEMBER_REMOVED"
    case orgRegistered = "ORG_REGISTERED"
    case orgStatusChanged = "ORG_STATUS_CHANGED"
    case practitionerRegistered = "PRACTITIONER_REGISTERED"
    case practitionerStatusChanged = "PRACTITIONER_STATUS_CHANGED"
    case caseOpened = "CASE_OPENED"
    case evidenceDeposited = "EVIDENCE_DEPOSITED"
    case documentIssued = "DOCUMENT_ISSUED"
    case documentCorrected = "DOCUMENT_CORRECTED"
    case documentRevoked = "DOCUMENT_REVOKED"
    case documentSuperseded = "DOCUMENT_SUPERSEDED"
    case documentRelated = "DOCUMENT_RELATED"
    case documentEnforcementStatus = "DOCUMENT_ENFORCEMENT_STATUS"
    case creditEvent = "CREDIT_EVENT"
    case creditAmended = "CREDIT_AMENDED"
    case creditAnnulled = "CREDIT_ANNULLED"
    case creditObjectionFiled = "CREDIT_OBJECTION_FILED"
    case creditObjectionResolved = "CREDIT_OBJECTION_RESOLVED"
    case creditPublicationEnded = "CREDIT_PUBLICATION_ENDED"
    case payloadErased = "PAYLOAD_ERASED"

    /// Membership records need a quorum of governance signatures (domain.md §6.1 GOVERNANCE).
    public var isGovernance: Bool {
        switch self {
        case .memberAdmitted, .memberKeyRotated, .memberSuspended, .memberRemoved: true
        default: false
        }
    }

    /// The record type a status record of this type must point at (its `target` ref), if any.
    public var targetTypes: Set<RecordType>? {
        switch self {
        case .documentCorrected, .documentRevoked, .documentEnforcementStatus: [.documentIssued]
        case .documentSuperseded, .documentRelated: [.documentIssued]
        case .creditAmended, .creditAnnulled, .creditObjectionFiled, .creditObjectionResolved, .creditPublicationEnded:
            [.creditEvent]
        case .practitionerStatusChanged: [.practitionerRegistered]
        case .payloadErased: [.evidenceDeposited, .documentIssued, .creditEvent, .caseOpened]
        default: nil
        }
    }
}

/// Kinds of document (domain.md §2) and the role that issues each.
public enum DocumentType: String, CaseIterable, Sendable {
    case notarialCertificate = "notarial_certificate"      // 公证书
    case appraisalOpinion = "appraisal_opinion"            // 司法鉴定意见书
    case inspectionReport = "inspection_report"            // 司法鉴定检验报告书
    case arbitralAward = "arbitral_award"                  // 裁决书
    case mediationStatement = "mediation_statement"        // 调解书
    case legalAidDecision = "legal_aid_decision"           // 法律援助决定书
    case lawFirmLetter = "law_firm_letter"                 // 律所函 (issued through the justice bureau)

    /// The only role that may issue this kind of document.
    public var issuer: Role {
        switch self {
        case .notarialCertificate: .notaryOffice
        case .appraisalOpinion, .inspectionReport: .forensicLab
        case .arbitralAward, .mediationStatement: .arbitrationCommission
        case .legalAidDecision: .legalAidCenter
        case .lawFirmLetter: .justiceAdmin
        }
    }

    /// Awards and mediation statements can be set aside or have their enforcement ruled on by a court.
    public var isArbitral: Bool { self == .arbitralAward || self == .mediationStatement }

    /// The verification-code kind letter printed on this document (domain.md §6.6).
    public var codeKind: Character {
        switch self {
        case .notarialCertificate: "N"
        case .appraisalOpinion, .inspectionReport: "F"
        case .arbitralAward, .mediationStatement: "A"
        case .legalAidDecision: "Y"
        case .lawFirmLetter: "L"
        }
    }
}

/// Classes of credit event and who may record them (domain.md §3, §6.3).
public enum CreditClass: String, CaseIterable, Sendable {
    case reward
    case adminPenalty = "admin_penalty"
    case industryDiscipline = "industry_discipline"
    case complaintOutcome = "complaint_outcome"
    case annualAssessment = "annual_assessment"
    case integrityRating = "integrity_rating"

    /// Roles that may record an event of this class.
    public var writers: Set<Role> {
        switch self {
        case .adminPenalty, .annualAssessment, .integrityRating: [.justiceAdmin]
        case .industryDiscipline: [.association]
        case .reward, .complaintOutcome: [.justiceAdmin, .association]
        }
    }
}
