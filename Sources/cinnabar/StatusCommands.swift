// The rest of what issuers write from the command line: supersede a document by a newer one,
// amend a credit event, record an objection and its outcome; and the organisation-only read of
// a code's full history, signed with RFC 9421 by the organisation's key.
import API
import ArgumentParser
import CinnabarCrypto
import Foundation
import Node
import Records

struct Supersede: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record that a newer document replaces an older one (换发 / 延续 / 变更 / 重新出具); the old one reads SUPERSEDED.")
    @Argument(help: "The old document's verification code.") var oldCode: String
    @Argument(help: "The new document's verification code.") var newCode: String
    @Option(help: "reissued, renewed, changed or replaced.") var relation = "replaced"
    @Option(help: "Effective date (YYYY-MM-DD; default today).") var effective: String?
    @OptionGroup var writer: WriterOptions

    func run() throws {
        try checkDate(effective, "--effective")
        let old = try writer.recordID(code: oldCode)
        let new = try writer.recordID(code: newCode)
        let r = try writer.writer().record(.documentSuperseded, refs: [Ref(recordID: old, rel: "old"), Ref(recordID: new, rel: "new")], payload: [
            "relation": .string(relation), "effective_at": .string(effective ?? RecordWriter.today()),
        ])
        try writer.post(r.bytes, describing: "superseded \(oldCode) by \(newCode)")
    }
}

struct CreditAmendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "amend", abstract: "Amend a credit event (clerical fix or review outcome).")
    @Argument(help: "The credit event's record id.") var recordID: String
    @Option(help: "clerical or review.") var reason: String
    @Option(help: "The corrected measure code.") var measure: String?
    @Option(help: "general or serious.") var severity: String?
    @Option(help: "Corrected legal basis (repeatable).") var basis: [String] = []
    @OptionGroup var writer: WriterOptions

    func run() throws {
        var payload: JSONObject = ["reason": .string(reason)]
        if let measure { payload["measure_code"] = .string(measure) }
        if let severity { payload["severity"] = .string(severity) }
        if !basis.isEmpty { payload["legal_basis"] = .array(basis.map(JSONValue.string)) }
        let r = try writer.writer().record(.creditAmended, refs: [Ref(recordID: recordID, rel: "target")], payload: payload)
        try writer.post(r.bytes, describing: "amended \(recordID)")
    }
}

struct CreditObjectionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "objection", abstract: "Record an objection (异议) to a credit event, or its outcome.",
        subcommands: [File.self, Resolve.self])

    struct File: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record that an objection was filed; the event shows as under objection.")
        @Argument(help: "The credit event's record id.") var recordID: String
        @Option(help: "The objection's reference number.") var ref: String
        @OptionGroup var writer: WriterOptions

        func run() throws {
            let r = try writer.writer().record(.creditObjectionFiled, refs: [Ref(recordID: recordID, rel: "target")], payload: [
                "objection_ref": .string(ref), "filed_at": .string(RecordWriter.today()),
            ])
            try writer.post(r.bytes, describing: "objection \(ref) filed against \(recordID)")
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record the outcome of an objection: upheld or rejected.")
        @Argument(help: "The credit event's record id.") var recordID: String
        @Option(help: "The objection's reference number.") var ref: String
        @Option(help: "upheld or rejected.") var outcome: String
        @OptionGroup var writer: WriterOptions

        func run() throws {
            let r = try writer.writer().record(.creditObjectionResolved, refs: [Ref(recordID: recordID, rel: "target")], payload: [
                "objection_ref": .string(ref), "outcome": .string(outcome), "resolved_at": .string(RecordWriter.today()),
            ])
            try writer.post(r.bytes, describing: "objection \(ref) \(outcome)")
        }
    }
}

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show every record behind a code (or, with --case, a case's records) with writer, key and leaf: organisations only.",
        discussion: "The request is signed (RFC 9421, Ed25519) with the organisation key; the node answers courts, the justice bureau and organisations that wrote one of the records.")
    @Argument(help: "A verification code (document, deposit or case).") var code: String
    @Option(name: .customLong("as"), help: "The organisation key file (orgs/<name>.key).") var keyFile: String
    @Option(help: "The node URL.") var node: String
    @Flag(help: "Read a case (一案一码): all its records.") var `case` = false
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let parsed: VerificationCode
        do { parsed = try VerificationCode(parsing: code) } catch { throw CLIError("\(error)") }
        let key = try OrganisationKey.load(keyFile)
        let signer = try key.signer()
        let target = "/v1/\(self.case ? "cases" : "history")/\(parsed.value)"
        let headers = MessageSignature.headers(method: "GET", target: target, created: Int64(Date().timeIntervalSince1970),
                                               keyID: signer.verificationMethod, key: signer.key)
        let answer = try NodeClient.send("GET", normalisedNode(node) + target,
                                         headers: ["Signature-Input": headers.signatureInput, "Signature": headers.signature])
        let body = try NodeClient.json(answer)
        if json { NodeClient.printJSON(answer.body); return }
        say("\(parsed.grouped): \(body["kind"] as? String ?? "?") \(body["record_id"] as? String ?? "")")
        for r in body["records"] as? [[String: Any]] ?? [] {
            say("  leaf \(r["leaf_index"] ?? "?")  \(r["logged_at"] as? String ?? "")  \(r["type"] as? String ?? "?")  by \(r["writer_name"] as? String ?? r["writer_org"] as? String ?? "?") (key \(r["key_id"] as? String ?? "?"))  \(r["record_id"] as? String ?? "")")
        }
    }
}
