// Status derivation (domain.md §6.4): a document's current status and a practitioner's public
// credit profile are projections of the log at query time. Records that break the write rules
// are ignored here even if they were logged.

/// A logged record with its position and consensus time.
public struct LoggedRecord: Sendable {
    public let record: Record
    public let leafIndex: UInt64
    /// The block time of the record (Unix ms), from its block trailer.
    public let timeMillis: UInt64
    public init(record: Record, leafIndex: UInt64, timeMillis: UInt64) {
        self.record = record
        self.leafIndex = leafIndex
        self.timeMillis = timeMillis
    }
    public var summary: RecordSummary { RecordSummary(record, leafIndex: leafIndex) }
}

/// The answer a verifier shows (domain.md §6.5).
public enum DocumentStatus: String, Sendable, Equatable {
    case valid = "VALID"
    case validCorrected = "VALID_CORRECTED"
    case superseded = "SUPERSEDED"
    case suspended = "SUSPENDED"
    case notEnforceable = "NOT_ENFORCEABLE"
    case revoked = "REVOKED"
    case expired = "EXPIRED"
}

/// A document's derived state.
public struct DocumentView: Sendable {
    public let document: LoggedRecord
    public let status: DocumentStatus
    /// For REVOKED: void from the start (自始无效) or from `revokedFrom`.
    public let voidAbInitio: Bool
    public let revokedFrom: String?
    /// The newest renditions (after corrections).
    public let renditions: [JSONValue]
    /// The newer document that supersedes this one, if any.
    public let supersededBy: String?
    /// Status-changing records that count, in log order.
    public let history: [LoggedRecord]
}

/// Derivation of document status and credit profiles.
public enum Derivation {
    /// Derives the status of `document` (a DOCUMENT_ISSUED record) on date `today` (YYYY-MM-DD),
    /// from the records that refer to it, in log order. Unauthorised records are ignored.
    public static func document(_ document: LoggedRecord, events: [LoggedRecord], today: String,
                                registry: Registry, lookup: (String) -> RecordSummary?) -> DocumentView {
        precondition(document.record.type == .documentIssued, "not a document")
        let id = document.record.recordID
        let counted = events.sorted { $0.leafIndex < $1.leafIndex }.filter { event in
            guard event.leafIndex > document.leafIndex else { return false }
            let r = event.record
            let aboutThis = r.target == id || (r.oldRef == id && r.type == .documentSuperseded)
            guard aboutThis else { return false }
            return (try? Permissions.check(r, registry: registry, requireActive: false, lookup: lookup)) != nil
        }
        var renditions = document.record.payload["renditions"]?.array ?? []
        var corrected = false
        var supersededBy: String?
        var enforcement: String?
        var refusedEnforcement = false
        var revocations: [Record] = []
        for event in counted {
            let r = event.record
            switch r.type {
            case .documentCorrected:
                corrected = true
                renditions = r.payload["renditions"]?.array ?? renditions
            case .documentSuperseded:
                supersededBy = r.newRef
            case .documentEnforcementStatus:
                enforcement = r.string("status")
                // 不予执行 is final (仲裁法 art 63): a later "resumed" cannot lift it.
                if enforcement == "not_enforced" { refusedEnforcement = true }
            case .documentRevoked:
                revocations.append(r)
            default:
                break
            }
        }
        var status: DocumentStatus = corrected ? .validCorrected : .valid
        if supersededBy != nil { status = .superseded }
        if let validUntil = document.record.string("valid_until"), today > validUntil { status = .expired }
        switch enforcement {
        case "suspended": status = .suspended
        case "not_enforced", "terminated": status = .notEnforceable
        default: break
        }
        if refusedEnforcement { status = .notEnforceable }
        // Revocation is terminal. Of several, the strongest in force counts: void from the start
        // over from a date, and of dated ones the earliest that has taken effect.
        var voidAbInitio = false
        var revokedFrom: String?
        if revocations.contains(where: { $0.string("effect") == "void_ab_initio" }) {
            status = .revoked
            voidAbInitio = true
        } else if let earliest = revocations.compactMap({ $0.string("effective_from") }).filter({ today >= $0 }).min() {
            status = .revoked
            revokedFrom = earliest
        }
        return DocumentView(document: document, status: status, voidAbInitio: voidAbInitio, revokedFrom: revokedFrom,
                            renditions: renditions, supersededBy: supersededBy, history: counted)
    }

    /// One credit event as the public sees it.
    public struct CreditEntry: Sendable {
        public enum State: String, Sendable { case published = "PUBLIC", underObjection = "UNDER_OBJECTION", amended = "AMENDED", annulled = "ANNULLED" }
        public let event: LoggedRecord
        public let state: State
        /// The event's fields after amendments.
        public let fields: JSONObject
        /// For ANNULLED: the public reason code (行政处罚法 art 48).
        public let publicReason: String?
    }

    /// The public credit profile of a subject on `today`: events inside their publication window,
    /// with amendments applied, objections shown, annulled events shown as annulled with the reason.
    public static func creditProfile(events: [LoggedRecord], today: String, registry: Registry,
                                     lookup: (String) -> RecordSummary?) -> [CreditEntry] {
        let ordered = events.sorted { $0.leafIndex < $1.leafIndex }
        let allowed = ordered.filter {
            (try? Permissions.check($0.record, registry: registry, requireActive: false, lookup: lookup)) != nil
        }
        var out: [CreditEntry] = []
        for event in allowed where event.record.type == .creditEvent {
            let id = event.record.recordID
            let later = allowed.filter { $0.record.target == id && $0.leafIndex > event.leafIndex }
            var fields = event.record.payload
            var amended = false
            var openObjections: Set<String> = []
            var annulment: Record?
            var ended = false
            for change in later {
                let r = change.record
                switch r.type {
                case .creditAmended:
                    amended = true
                    for key in ["measure_code", "severity", "legal_basis", "publication"] { if let v = r.payload[key] { fields[key] = v } }
                case .creditObjectionFiled:
                    if let ref = r.string("objection_ref") { openObjections.insert(ref) }
                case .creditObjectionResolved:
                    if let ref = r.string("objection_ref") { openObjections.remove(ref) }
                case .creditAnnulled:
                    if annulment == nil { annulment = r }
                case .creditPublicationEnded:
                    // Publication may end (by expiry or credit repair) only once the minimum period
                    // has passed, and only from the day it says.
                    let minUntil = fields["publication"]?["min_until"]?.string ?? ""
                    let endedAt = r.string("ended_at") ?? ""
                    if endedAt >= minUntil && today >= endedAt { ended = true }
                default:
                    break
                }
            }
            let publication = fields["publication"]
            guard publication?["public"]?.bool == true, !ended else { continue }
            guard let from = publication?["from"]?.string, today >= from else { continue }
            if let maxUntil = publication?["max_until"]?.string, today > maxUntil { continue }
            // Only a published event needs its withdrawal notice (行政处罚法 art 48); showing an
            // annulled event outside its window would publish it.
            if let annulment {
                out.append(CreditEntry(event: event, state: .annulled, fields: fields, publicReason: annulment.string("public_reason_code")))
                continue
            }
            let state: CreditEntry.State = !openObjections.isEmpty ? .underObjection : amended ? .amended : .published
            out.append(CreditEntry(event: event, state: state, fields: fields, publicReason: nil))
        }
        return out
    }
}
