// The payload of every record type (domain.md §6.3) and the envelope around it (§6.2), written
// once as `Schema` values. No field holds personal data in clear: people appear only as keyed
// HMACs (or a masked display name), files only as digests (domain.md §5).

/// Schemas of the envelope and of each record type's payload.
public enum RecordSchemas {
    /// The envelope's schema version string.
    public static let version = "cinnabar/record/v1"

    static let text = Schema.string(.text(maxLength: 200))
    static let shortText = Schema.string(.text(maxLength: 64))
    static let decisionNumber = Schema.string(.text(maxLength: 64))
    static let date = Schema.string(.date)
    static let dateTime = Schema.string(.dateTime)
    static let digest = Schema.string(.digestHex)
    static func oneOf(_ options: [String]) -> Schema { .enumeration(options) }
    static func list(_ item: Schema, max: Int = 32, min: Int = 0) -> Schema { .array(item, minItems: min, maxItems: max) }

    static let digests = list(.object([Field("alg", oneOf(["sha256", "sm3"])), Field("value", digest)]), max: 4, min: 1)
    static let rendition = Schema.object([
        Field("lang", .string(.languageTag)),
        Field("format", oneOf(["OFD", "PDF"])),
        Field("role", oneOf(["original", "equal_text", "translation"])),
        Field("sha256", digest),
        Field("sm3", digest, required: false),
    ])
    static let keyEntry = Schema.object([
        Field("key_id", .string(.keyID)),
        Field("alg", oneOf(["ed25519"])),
        Field("public_key_multibase", .string(.multibaseKey)),
    ])
    static let publication = Schema.object([
        Field("public", .boolean),
        Field("from", date),
        Field("min_until", date, required: false),
        Field("max_until", date, required: false),
    ])

    /// The payload schema of each record type.
    public static func payload(_ type: RecordType) -> Schema {
        switch type {
        case .memberAdmitted:
            return .object([
                Field("org", .string(.usci)),
                Field("role", oneOf(Role.allCases.map(\.rawValue))),
                Field("name", text),
                Field("keys", list(keyEntry, max: 8, min: 1)),
                Field("cert_serial", shortText, required: false),
                Field("filing_number", shortText, required: false),   // 区块链信息服务备案编号
                Field("mlps_level", .integer(min: 1, max: 5), required: false),  // 等保 level
                Field("crypto_assessment_report", shortText, required: false),   // 密评 report no.
            ])
        case .memberKeyRotated:
            return .object([
                Field("org", .string(.usci)),
                Field("add_keys", list(keyEntry, max: 8)),
                Field("retire_key_ids", list(.string(.keyID), max: 8)),
            ])
        case .memberSuspended, .memberRemoved:
            return .object([Field("org", .string(.usci)), Field("decision_number", decisionNumber), Field("effective_at", date)])
        case .orgRegistered:
            return .object([
                Field("org", .string(.usci)),
                Field("kind", oneOf(["law_firm", "notary_office", "forensic_lab", "arbitration_commission", "legal_aid_center"])),
                Field("name", text),
                Field("licence_number", .string(.licence), required: false),
                Field("scope", list(shortText, max: 16), required: false),
                Field("status", oneOf(OrgStatus.allCases.map(\.rawValue))),
            ])
        case .orgStatusChanged:
            return .object([
                Field("org", .string(.usci)),
                Field("status", oneOf(OrgStatus.allCases.map(\.rawValue))),
                Field("decision_number", decisionNumber),
                Field("effective_at", date),
            ])
        case .practitionerRegistered:
            return .object([
                Field("licence_number", .string(.licence)),
                Field("profession", oneOf(Profession.allCases.map(\.rawValue))),
                Field("org", .string(.usci)),
                Field("scope", list(shortText, max: 16), required: false),
                Field("status", oneOf(PractitionerStatus.allCases.map(\.rawValue))),
                Field("code_hmac", .string(.hmac), required: false),
            ])
        case .practitionerStatusChanged:
            return .object([
                Field("licence_number", .string(.licence)),
                Field("status", oneOf(PractitionerStatus.allCases.map(\.rawValue))),
                Field("decision_number", decisionNumber),
                Field("effective_from", date),
                Field("effective_until", date, required: false),
            ])
        case .caseOpened:
            return .object([
                Field("code_hmac", .string(.hmac)),
                Field("case_kind", oneOf(["notarial", "appraisal", "arbitration", "legal_aid", "litigation"])),
                Field("opened_at", date),
            ])
        case .evidenceDeposited:
            return .object([
                Field("code_hmac", .string(.hmac)),
                Field("content_digests", digests),
                Field("size_bytes", .integer(min: 0, max: Int64(1) << 50)),
                Field("media_type", shortText),
                Field("capture", .object([
                    Field("mode", oneOf(["notarial_capture", "notarial_custody", "forensic_extraction", "court_fixation", "party_upload"])),
                    Field("tool", shortText),
                    Field("tool_version", shortText),
                    Field("started_at", dateTime),
                    Field("ended_at", dateTime),
                    Field("env_check_report_sha256", digest, required: false),   // 清洁性检查报告
                    Field("source_locator_hmac", .string(.hmac), required: false),
                    Field("operator_licence", .string(.licence), required: false),
                    Field("witness_licence", .string(.licence), required: false),
                ])),
                Field("depositor_relation", oneOf(["party", "agent", "neutral_notary", "forensic_lab", "court"])),
                Field("tsa_token_sha256", digest, required: false),
                Field("offchain", .object([
                    Field("store_id", shortText),
                    Field("enc_alg", oneOf(["SM4-GCM", "AES-256-GCM"])),
                    Field("key_id", .string(.keyID)),
                    Field("retain_until", date),
                ]), required: false),
            ])
        case .documentIssued:
            return .object([
                Field("doc_type", oneOf(DocumentType.allCases.map(\.rawValue))),
                Field("doc_number", decisionNumber),
                Field("code_hmac", .string(.hmac)),
                Field("ecert_id", .string(.text(maxLength: 128)), required: false),
                Field("issued_at", date),
                Field("effective_from", date, required: false),
                Field("valid_until", date, required: false),
                Field("practitioners", list(.object([Field("licence_number", .string(.licence)),
                                                     Field("role", oneOf(["notary", "appraiser", "arbitrator", "lawyer", "legal_aid_worker"]))]), max: 16)),
                Field("renditions", list(rendition, max: 16, min: 1)),
                Field("holder_hmac", .string(.hmac), required: false),
                Field("holder_masked", .string(.maskedName), required: false),
                Field("seal_cert_serials", list(shortText, max: 8), required: false),
            ])
        case .documentCorrected:
            return .object([
                Field("kind", oneOf(["supplement", "testimony_correction", "format"])),   // 补正 / 更正证词 / 格式
                Field("renditions", list(rendition, max: 16, min: 1)),
                Field("reason_code", shortText),
                Field("decision_number", decisionNumber),
                Field("effective_at", date),
            ])
        case .documentRevoked:
            return .object([
                Field("scope", oneOf(["whole", "part"])),
                Field("effect", oneOf(["void_ab_initio", "from_date"])),
                Field("effective_from", date),
                Field("reason", oneOf(["content_unlawful", "contrary_to_facts", "procedure_unlawful", "set_aside_by_court", "withdrawn", "other"])),
                Field("decision_number", decisionNumber),
                Field("announced_at", date, required: false),
            ])
        case .documentSuperseded:
            return .object([
                Field("relation", oneOf(["reissued", "renewed", "changed", "replaced"])),   // 换发 / 延续 / 变更 / 重新出具
                Field("effective_at", date),
            ])
        case .documentRelated:
            return .object([
                Field("relation", oneOf(["supplementary_appraisal", "re_appraisal", "related"])),   // 补充鉴定 / 重新鉴定
            ])
        case .documentEnforcementStatus:
            return .object([
                Field("status", oneOf(["not_enforced", "suspended", "terminated", "resumed"])),   // 不予/中止/终结/恢复执行
                Field("ruling_number", decisionNumber),
                Field("effective_at", date),
            ])
        case .creditEvent:
            return .object([
                Field("subject", .object([Field("kind", oneOf(["practitioner", "organisation"])),
                                          Field("id", .string(.text(maxLength: 32)))])),
                Field("profession", oneOf(Profession.allCases.map(\.rawValue))),
                Field("class", oneOf(CreditClass.allCases.map(\.rawValue))),
                Field("measure_code", shortText),
                Field("severity", oneOf(["general", "serious"])),
                Field("legal_basis", list(shortText, max: 8, min: 1)),
                Field("decision_number", decisionNumber),
                Field("decided_at", date),
                Field("effective_at", date),
                Field("publication", publication),
                Field("decision_doc_sha256", digest, required: false),
            ])
        case .creditAmended:
            return .object([
                Field("reason", oneOf(["clerical", "review"])),
                Field("measure_code", shortText, required: false),
                Field("severity", oneOf(["general", "serious"]), required: false),
                Field("legal_basis", list(shortText, max: 8, min: 1), required: false),
                Field("publication", publication, required: false),
            ])
        case .creditAnnulled:
            return .object([
                Field("cause", oneOf(["changed", "revoked", "confirmed_unlawful", "confirmed_void"])),
                Field("by", oneOf(["reconsideration", "judgment", "self_correction"])),
                Field("ruling_number", decisionNumber),
                Field("public_reason_code", shortText),
                Field("annulled_at", date),
            ])
        case .creditObjectionFiled:
            return .object([Field("objection_ref", shortText), Field("filed_at", date)])
        case .creditObjectionResolved:
            return .object([Field("objection_ref", shortText), Field("outcome", oneOf(["upheld", "rejected"])), Field("resolved_at", date)])
        case .creditPublicationEnded:
            return .object([Field("cause", oneOf(["expired", "credit_repair"])),
                            Field("repair_decision_number", decisionNumber, required: false),
                            Field("ended_at", date)])
        case .payloadErased:
            return .object([Field("what", oneOf(["blob", "key"])), Field("legal_basis", oneOf(["pipl_47", "retention_expiry"])),
                            Field("erased_at", date)])
        }
    }

    /// Relations a ref may name.
    public static let refRelations = ["target", "new", "old", "case", "evidence"]

    static let proofSchema = Schema.anyObject

    /// The full schema of a record of `type`: envelope, its payload and the writer's proof(s).
    public static func record(_ type: RecordType) -> Schema { schemas[type]! }

    /// Made once: admission checks every record against one of these.
    private static let schemas = Dictionary(uniqueKeysWithValues: RecordType.allCases.map { ($0, makeRecord($0)) })

    private static func makeRecord(_ type: RecordType) -> Schema {
        .object([
            Field("schema", .enumeration([version])),
            Field("type", .enumeration([type.rawValue])),
            Field("record_id", .string(.recordID)),
            Field("writer_org", .string(.usci)),
            Field("writer_role", .enumeration(Role.allCases.map(\.rawValue))),
            Field("key_id", .string(.keyID)),
            Field("created_at", dateTime),
            Field("refs", list(.object([Field("record_id", .string(.recordID)), Field("rel", .enumeration(refRelations))]), max: 16)),
            Field("payload", payload(type)),
            Field("proof", .oneOf([proofSchema, .array(proofSchema, minItems: 2, maxItems: 16)])),
        ])
    }
}

/// Status of an organisation (正常 / 停业整改 / 注销 / 吊销).
public enum OrgStatus: String, CaseIterable, Sendable {
    case normal, suspendedForRectification = "suspended_for_rectification", deregistered, revoked
}

/// Professions whose practitioners the ledger records.
public enum Profession: String, CaseIterable, Sendable {
    case lawyer, notary, appraiser, arbitrator
}

/// Practice status (执业 / 暂停 / 停止执业 / 注销 / 吊销).
public enum PractitionerStatus: String, CaseIterable, Sendable {
    case practising, suspended, stopped, deregistered, revoked
}

extension RecordSchemas {
    /// The published JSON Schema (draft 2020-12) of a record type, as in `Specs/records/`.
    public static func publishedSchema(_ type: RecordType) -> JSONValue {
        guard case var .object(schema) = record(type).jsonSchema else { preconditionFailure("records are objects") }
        schema["$schema"] = .string("https://json-schema.org/draft/2020-12/schema")
        schema["$id"] = .string("https://cinnabar.example/schemas/records/\(type.rawValue).schema.json")
        schema["title"] = .string("Cinnabar record \(type.rawValue)")
        schema["description"] = .string("A \(type.rawValue) record (\(version)): RFC 8785 canonical JSON, signed with W3C Data Integrity eddsa-jcs-2022. Generated from Sources/Records/Model/RecordSchemas.swift by `cinnabar schemas`; the test suite checks they agree.")
        return .object(schema)
    }

    /// Human-readable JSON with sorted keys (two-space indent), for published files.
    public static func pretty(_ value: JSONValue, indent: String = "") -> String {
        let inner = indent + "  "
        switch value {
        case let .object(members):
            if members.isEmpty { return "{}" }
            let body = members.keys.sorted().map { key in
                inner + String(decoding: CanonicalJSON.serialize(.string(key)), as: UTF8.self) + ": " + pretty(members[key]!, indent: inner)
            }
            return "{\n" + body.joined(separator: ",\n") + "\n" + indent + "}"
        case let .array(elements):
            if elements.isEmpty { return "[]" }
            return "[\n" + elements.map { inner + pretty($0, indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        default:
            return String(decoding: CanonicalJSON.serialize(value), as: UTF8.self)
        }
    }
}
