// What issuers do from the command line: issue a document, correct it, revoke it, record credit
// events and annul them. Each builds a signed record with the organisation's key and posts it.
import ArgumentParser
import CinnabarCrypto
import Foundation
import Node
import Records

/// Options every writing command shares.
struct WriterOptions: ParsableArguments {
    @Option(name: .customLong("as"), help: "The organisation key file (orgs/<name>.key).") var keyFile: String
    @Option(help: "The node URL, e.g. http://127.0.0.1:8080.") var node: String
    @Flag(help: "Print the receipt as JSON.") var json = false

    func writer(codeKey: String? = nil) throws -> RecordWriter {
        let key = try OrganisationKey.load(keyFile)
        let codes = try codeKey.map { try CodeKey.load($0) } ?? CodeKey(bytes: [UInt8](repeating: 0, count: 32))
        return try RecordWriter(key: key, codeKey: codes)
    }

    /// Posts a signed record and prints what happened (with `code`, the record's own verification
    /// code, in the JSON receipt); returns the receipt.
    @discardableResult
    func post(_ bytes: [UInt8], describing what: String, code: VerificationCode? = nil) throws -> [String: Any] {
        let answer = try NodeClient.send("POST", "\(normalisedNode(node))/v1/records", body: bytes)
        let receipt = try NodeClient.json(answer)
        if json { NodeClient.printReceipt(answer.body, code: code) } else {
            say("\(what): record \(receipt["record_id"] ?? "?") at leaf \(receipt["leaf_index"] ?? "?"), logged at \(receipt["logged_at"] ?? "?")")
        }
        return receipt
    }

    /// The record id a code names, looked up on the node.
    func recordID(code: String) throws -> String {
        let parsed: VerificationCode
        do { parsed = try VerificationCode(parsing: code) } catch { throw CLIError("\(error)") }
        guard let id = try NodeClient.json(try NodeClient.send("GET", "\(normalisedNode(node))/v1/verify/\(parsed.value)"))["record_id"] as? String else {
            throw CLIError("the node did not return a record for \(parsed.grouped)")
        }
        return id
    }
}

/// Renditions from files: SHA-256 of each, with its language; the first is the original.
func renditions(_ files: [String], langs: [String]) throws -> [JSONValue] {
    try files.enumerated().map { i, path in
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        let lang = i < langs.count ? langs[i] : "zh-Hans"
        guard StringFormat.languageTag.accepts(lang) else { throw CLIError("\(lang) is not a BCP 47 language tag") }
        return .object([
            "lang": .string(lang), "format": .string(path.lowercased().hasSuffix(".ofd") ? "OFD" : "PDF"),
            "role": .string(i == 0 ? "original" : "equal_text"), "sha256": .string(SHA256.hash(Array(data)).hex),
        ])
    }
}

func checkDate(_ s: String?, _ option: String) throws {
    if let s, !StringFormat.date.accepts(s) { throw CLIError("\(option) must be YYYY-MM-DD, got \(s)") }
}

struct Issue: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue a document (its files are hashed here and never sent); print its verification code.")
    @Argument(help: "The document's files (renditions), original first.") var files: [String]
    @Option(help: "Document type: \(DocumentType.allCases.map(\.rawValue).joined(separator: ", ")).") var type: String
    @Option(help: "The official document number.") var number: String
    @Option(help: "The holder's name (only a keyed HMAC and a masked form reach the ledger).") var holderName: String
    @Option(help: "The holder's ID number (only a keyed HMAC reaches the ledger).") var holderId: String
    @Option(help: "Languages of the files, comma-separated BCP 47 tags (default zh-Hans).") var langs = "zh-Hans"
    @Option(help: "Valid until (YYYY-MM-DD).") var validUntil: String?
    @Option(help: "The consortium code key file (codes.key).") var codeKey: String
    @OptionGroup var writer: WriterOptions

    func run() throws {
        guard let docType = DocumentType(rawValue: type) else { throw CLIError("unknown --type \(type)") }
        guard !files.isEmpty else { throw CLIError("give at least one file") }
        try checkDate(validUntil, "--valid-until")
        let w = try writer.writer(codeKey: codeKey)
        let doc = w.document(docType, number: number, holderName: holderName, holderID: holderId,
                             renditions: try renditions(files, langs: langs.split(separator: ",").map(String.init)),
                             validUntil: validUntil)
        try writer.post(doc.bytes, describing: "issued \(docType.rawValue) \(number)", code: doc.code)
        let code = doc.code
        if !writer.json { say("code \(code.grouped)   (print it on the document, with its QR: \(code.qrPayload(host: "VERIFY.SC-LEGAL.EXAMPLE")))") }
    }
}

struct Correct: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Correct a document (补正): new renditions; it stays valid.")
    @Argument(help: "The document's verification code.") var code: String
    @Argument(help: "The corrected files, original first.") var files: [String]
    @Option(help: "supplement (补正), testimony_correction (更正证词) or format.") var kind = "supplement"
    @Option(help: "The correction decision number.") var decision: String
    @Option(help: "A reason code.") var reason = "clerical_error"
    @Option(help: "Languages of the files, comma-separated.") var langs = "zh-Hans"
    @OptionGroup var writer: WriterOptions

    func run() throws {
        let target = try writer.recordID(code: code)
        let w = try writer.writer()
        let r = w.record(.documentCorrected, refs: [Ref(recordID: target, rel: "target")], payload: [
            "kind": .string(kind), "renditions": .array(try renditions(files, langs: langs.split(separator: ",").map(String.init))),
            "reason_code": .string(reason), "decision_number": .string(decision), "effective_at": .string(RecordWriter.today()),
        ])
        try writer.post(r.bytes, describing: "corrected")
    }
}

struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Revoke a document: void from the start, or from a date with --from.")
    @Argument(help: "The document's verification code.") var code: String
    @Option(help: "The revocation decision number.") var decision: String
    @Option(help: "content_unlawful, contrary_to_facts, procedure_unlawful, set_aside_by_court, withdrawn, other.") var reason: String
    @Option(help: "Revoked from this date (YYYY-MM-DD) instead of void from the start.") var from: String?
    @OptionGroup var writer: WriterOptions

    func run() throws {
        try checkDate(from, "--from")
        let target = try writer.recordID(code: code)
        let r = try writer.writer().record(.documentRevoked, refs: [Ref(recordID: target, rel: "target")], payload: [
            "scope": .string("whole"), "effect": .string(from == nil ? "void_ab_initio" : "from_date"),
            "effective_from": .string(from ?? RecordWriter.today()), "reason": .string(reason),
            "decision_number": .string(decision), "announced_at": .string(RecordWriter.today()),
        ])
        try writer.post(r.bytes, describing: from == nil ? "revoked (void from the start)" : "revoked from \(from!)")
    }
}

struct Credit: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record practitioner credit events, amend or annul them, and record objections.",
                                                    subcommands: [CreditEventCommand.self, CreditAmendCommand.self, CreditAnnulCommand.self, CreditObjectionCommand.self])
}

struct CreditEventCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "event", abstract: "Record a credit event (reward, penalty, discipline, …).")
    @Option(help: "The practitioner's licence number.") var subject: String
    @Option(help: "lawyer, notary, appraiser or arbitrator.") var profession: String
    @Option(name: .customLong("class"), help: "\(CreditClass.allCases.map(\.rawValue).joined(separator: ", ")).") var creditClass: String
    @Option(help: "The measure code (e.g. warning).") var measure: String
    @Option(help: "general or serious.") var severity = "general"
    @Option(help: "Legal basis (repeatable).") var basis: [String]
    @Option(help: "The decision number.") var decision: String
    @Option(help: "Publish from (YYYY-MM-DD; default today).") var publicFrom: String?
    @Option(help: "Earliest end of publication.") var minUntil: String?
    @Option(help: "Latest end of publication.") var maxUntil: String?
    @OptionGroup var writer: WriterOptions

    func run() throws {
        try checkDate(publicFrom, "--public-from")
        try checkDate(minUntil, "--min-until")
        try checkDate(maxUntil, "--max-until")
        let today = RecordWriter.today()
        var publication: JSONObject = ["public": .bool(true), "from": .string(publicFrom ?? today)]
        if let minUntil { publication["min_until"] = .string(minUntil) }
        if let maxUntil { publication["max_until"] = .string(maxUntil) }
        let r = try writer.writer().record(.creditEvent, payload: [
            "subject": .object(["kind": .string("practitioner"), "id": .string(subject)]), "profession": .string(profession),
            "class": .string(creditClass), "measure_code": .string(measure), "severity": .string(severity),
            "legal_basis": .array(basis.map(JSONValue.string)), "decision_number": .string(decision),
            "decided_at": .string(today), "effective_at": .string(today), "publication": .object(publication),
        ])
        try writer.post(r.bytes, describing: "credit event \(creditClass)/\(measure) for \(subject)")
    }
}

struct CreditAnnulCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "annul", abstract: "Annul a credit event (复议, 判决 or self-correction).")
    @Argument(help: "The credit event's record id.") var recordID: String
    @Option(help: "changed, revoked, confirmed_unlawful or confirmed_void.") var cause: String
    @Option(help: "reconsideration, judgment or self_correction.") var by: String
    @Option(help: "The ruling number.") var ruling: String
    @Option(help: "The public reason code shown in place of the event.") var publicReason: String
    @OptionGroup var writer: WriterOptions

    func run() throws {
        let r = try writer.writer().record(.creditAnnulled, refs: [Ref(recordID: recordID, rel: "target")], payload: [
            "cause": .string(cause), "by": .string(by), "ruling_number": .string(ruling),
            "public_reason_code": .string(publicReason), "annulled_at": .string(RecordWriter.today()),
        ])
        try writer.post(r.bytes, describing: "annulled \(recordID)")
    }
}
