// Writing and reading records over HTTP: `POST /v1/records` (admission, then a receipt once the
// block is durable), `GET /v1/records/{id}`, and the citizen's `GET /v1/verify/{code}`.
// Handlers parse, call the node, and format; the rules live in Records and Node.
import CinnabarCrypto
import Foundation
import Hummingbird
import Ledger
import MerkleLog
import Node
import Records
import SignedNote
import Storage
import Synchronization

/// A receipt as the API returns it: everything needed to check the entry offline.
struct ReceiptBody: Encodable {
    let record_id: String
    let leaf_index: UInt64
    let duplicate: Bool
    /// Base64 of the exact leaf data, tag byte included.
    let leaf: String
    let leaf_hash: String
    /// RFC 9162 order, leaf side first.
    let inclusion_proof: [String]
    let tree_size: UInt64
    /// The signed checkpoint note of `tree_size`.
    let checkpoint: String
    /// The same proof as C2SP tlog-proof text.
    let tlog_proof: String
    let block_height: UInt64
    /// Block time of the entry (RFC 3339, China Standard Time).
    let logged_at: String

    /// The same object as the Encodable form, written by hand: on the write path JSONEncoder
    /// cost more than the rest of the receipt.
    var json: [UInt8] {
        var w = JSONObjectWriter()
        w.field("block_height", block_height)
        w.field("checkpoint", checkpoint)
        w.field("duplicate", duplicate)
        w.field("inclusion_proof", inclusion_proof)
        w.field("leaf", leaf)
        w.field("leaf_hash", leaf_hash)
        w.field("leaf_index", leaf_index)
        w.field("logged_at", logged_at)
        w.field("record_id", record_id)
        w.field("tlog_proof", tlog_proof)
        w.field("tree_size", tree_size)
        return w.finish()
    }
}

/// One parsed checkpoint note and its text.
final class LatestNote: Sendable {
    let entry = Mutex<(text: String, note: Note)?>(nil)
}

/// A JSON object written field by field, strings escaped as RFC 8259 §7 requires.
struct JSONObjectWriter {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]

    init() { bytes.reserveCapacity(4096) }

    private mutating func name(_ n: String) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        string(n)
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { utf8 in
            // Runs without anything to escape (base64, hex, most text) are copied whole.
            var runStart = 0
            for (i, c) in utf8.enumerated() where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                switch c {
                case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
                case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
                case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                default: bytes += Array(String(format: "\\u%04x", c).utf8)
                }
                runStart = i + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func field(_ n: String, _ value: String) { name(n); string(value) }
    mutating func field(_ n: String, _ value: UInt64) { name(n); bytes += Array(String(value).utf8) }
    mutating func field(_ n: String, _ value: Bool) { name(n); bytes += Array((value ? "true" : "false").utf8) }
    mutating func field(_ n: String, _ values: [String]) {
        name(n)
        bytes.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { bytes.append(UInt8(ascii: ",")) }
            string(v)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func finish() -> [UInt8] { bytes + [UInt8(ascii: "}"), 0x0A] }
}

/// Registers the record routes.
public struct RecordRoutes: Sendable {
    let node: LedgerNode
    let codeKey: CodeKey?
    /// Citizen answers, reused while the tree size and the date are unchanged (an answer depends
    /// on nothing else). Two generations, bounded.
    let answers = AnswerCache(capacity: 8192)
    /// The latest checkpoint note, parsed once per block rather than once per receipt.
    let lastNote = LatestNote()

    /// `codeKey` lets the node answer code lookups; without it `/v1/verify` answers 503.
    public init(node: LedgerNode, codeKey: CodeKey?) {
        self.node = node
        self.codeKey = codeKey
    }

    public func register(on router: Router<NodeRequestContext>) {
        router.post("/v1/records") { request, _ in try await submit(request) }
        router.get("/v1/records/{id}") { _, context in try record(context.parameters.get("id") ?? "") }
        router.get("/v1/verify/{code}") { _, context in try verify(context.parameters.get("code") ?? "") }
        router.get("/v1/bundles/{code}") { _, context in try bundle(context.parameters.get("code") ?? "") }
        router.get("/v1/practitioners/{licence}/credit") { _, context in try credit(context.parameters.get("licence") ?? "") }
        router.post("/v1/verify") { request, _ in try await verifyFile(request) }
        registerOrganisationRoutes(on: router)
    }

    func submit(_ request: Request) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: LeafLimits.maxBytes) } catch {
            throw Problem(.contentTooLarge, code: "record_too_large", title: "Record too large",
                          detail: "a record is at most \(Record.maxBytes) bytes")
        }
        let bytes = Array(body.readableBytesView)
        let wait = request.uri.queryParameters["wait"].map { $0 != "false" } ?? true
        if !wait {
            // Check it now, so a refused record is refused now; then sequence it in the background.
            let admitted: LedgerNode.Admitted
            do { admitted = try node.admit(record: bytes) } catch let error as SubmitError {
                throw Problem.refused(code: error.code, detail: error.description)
            }
            switch admitted {
            case let .duplicate(receipt, recordID):
                return json(try receiptBody(recordID: recordID, index: receipt.index, duplicate: true), status: .ok)
            case let .admitted(record, leaf):
                let node = self.node
                Task { _ = try? await node.sequence(record, leaf: leaf) }
                return json(["record_id": record.recordID, "status": "accepted"], status: .accepted)
            }
        }
        let submitted: (receipt: Receipt, recordID: String)
        do { submitted = try await node.submitRecord(bytes) } catch let error as SubmitError {
            switch error {
            case .busy: throw Problem(.serviceUnavailable, code: error.code, title: "Busy", detail: error.description).retryAfter(1)
            case .stopped: throw Problem(.serviceUnavailable, code: error.code, title: "Stopping", detail: error.description)
            case .storageFailed: throw Problem(.internalServerError, code: error.code, title: "Storage failed", detail: error.description)
            case .rejected, .refused: throw Problem.refused(code: error.code, detail: error.description)
            }
        }
        let receipt = submitted.receipt
        let answer = receipt.duplicate
            ? try receiptBody(recordID: submitted.recordID, index: receipt.index, duplicate: true)
            : try receiptBody(recordID: submitted.recordID, leaf: [LeafTag.record.rawValue] + bytes, receipt: receipt)
        return Response(status: receipt.duplicate ? .ok : .created, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: answer.json)))
    }

    /// `text` parsed, from the one-entry cache when it is the latest checkpoint.
    func parsedNote(_ text: String) throws -> Note {
        if let hit = lastNote.entry.withLock({ $0?.text == text ? $0?.note : nil }) { return hit }
        let note = try Note(parsing: text)
        lastNote.entry.withLock { $0 = (text, note) }
        return note
    }

    /// The receipt of a new entry, from what the sequencer returned: no store reads but the proof.
    func receiptBody(recordID: String, leaf: [UInt8], receipt: Receipt) throws -> ReceiptBody {
        let proof = try node.store.hashReader.inclusionProof(index: receipt.index, size: receipt.size)
        let tlog = try TlogProof(index: receipt.index, hashes: proof, note: try parsedNote(receipt.signedCheckpoint))
        return ReceiptBody(
            record_id: recordID, leaf_index: receipt.index, duplicate: false, leaf: Base64.encode(leaf),
            leaf_hash: RFC6962.leafHash(leaf).base64, inclusion_proof: proof.map { $0.base64 }, tree_size: receipt.size,
            checkpoint: receipt.signedCheckpoint, tlog_proof: tlog.formatted, block_height: receipt.height,
            logged_at: RecordWriter.timestamp(Date(timeIntervalSince1970: Double(receipt.timeMillis) / 1000)))
    }

    /// The receipt of the entry at `index` under the latest checkpoint.
    func receiptBody(recordID: String, index: UInt64, duplicate: Bool) throws -> ReceiptBody {
        guard let tip = node.store.tip, let note = try node.store.checkpoint(height: tip.height),
              let leaf = try node.store.leaf(at: index), let block = try node.store.block(containingLeaf: index) else {
            throw Problem(.internalServerError, code: "store_inconsistent", title: "Store inconsistent", detail: "leaf \(index) has no block")
        }
        let proof = try node.store.hashReader.inclusionProof(index: index, size: tip.size)
        let tlog = try TlogProof(index: index, hashes: proof, note: try Note(parsing: note))
        return ReceiptBody(
            record_id: recordID, leaf_index: index, duplicate: duplicate, leaf: Base64.encode(leaf),
            leaf_hash: RFC6962.leafHash(leaf).base64, inclusion_proof: proof.map { $0.base64 }, tree_size: tip.size,
            checkpoint: note, tlog_proof: tlog.formatted, block_height: block.height,
            logged_at: RecordWriter.timestamp(Date(timeIntervalSince1970: Double(block.timeMillis) / 1000)))
    }

    struct RecordBody: Encodable {
        let record: String
        let type: String
        let writer_org: String
        let status: String?
        let history: [String]
        let receipt: ReceiptBody
    }

    func record(_ id: String) throws -> Response {
        guard StringFormat.recordID.accepts(id) else {
            throw Problem.badRequest("invalid_record_id", "a record id is 32 lower-case hex digits")
        }
        guard let logged = try node.records.logged(id) else { throw Problem.notFound("record_not_found", "no record \(id)") }
        let status = try node.records.documentView(id, today: RecordWriter.today())?.status.rawValue
        return json(RecordBody(record: String(decoding: logged.record.bytes, as: UTF8.self), type: logged.record.type.rawValue,
                               writer_org: logged.record.writerOrg, status: status, history: try node.records.history(of: id),
                               receipt: try receiptBody(recordID: id, index: logged.leafIndex, duplicate: false)))
    }

    struct VerifyBody: Encodable {
        struct Event: Encodable { let type: String; let date: String; let decision_number: String? }
        let code: String
        let record_id: String
        let result: String
        let kind: String
        /// SHA-256 (hex) of every current rendition of a document, or of an evidence file.
        let sha256: [String]
        let document_type: String?
        let document_number: String?
        let issuer: String
        let issuer_name: String?
        let issued_at: String?
        let valid_until: String?
        let holder: String?
        let void_ab_initio: Bool?
        let revoked_from: String?
        let history: [Event]
        let caveat: String
        let receipt: ReceiptBody
    }

    func verify(_ input: String) throws -> Response {
        let code: VerificationCode
        do { code = try VerificationCode(parsing: input.removingPercentEncoding ?? input) } catch {
            throw Problem.badRequest(error.code, error.description)
        }
        guard let codeKey else {
            throw Problem(.serviceUnavailable, code: "no_code_key", title: "Lookups unavailable", detail: "this node holds no code key")
        }
        guard let summary = node.records.record(code: code, codeKey: codeKey), let logged = try node.records.logged(summary.recordID) else {
            throw Problem.notFound("NOT_FOUND", "no record carries the code \(code.grouped)")
        }
        let key = "\(summary.recordID)|\(node.store.size)|\(RecordWriter.today())"
        if let cached = answers.get(key) { return cachedJSON(cached) }
        let r = logged.record
        let view = try node.records.documentView(r.recordID, today: RecordWriter.today())
        let issuer = node.records.registry.members[r.writerOrg]
        let history = (view?.history ?? []).map {
            VerifyBody.Event(type: $0.record.type.rawValue, date: String(RecordWriter.timestamp(Date(timeIntervalSince1970: Double($0.timeMillis) / 1000)).prefix(10)),
                             decision_number: $0.record.string("decision_number") ?? $0.record.string("ruling_number"))
        }
        let digests: [String]
        if let view {
            digests = view.renditions.compactMap { $0["sha256"]?.string }
        } else {
            digests = (r.payload["content_digests"]?.array ?? []).filter { $0["alg"]?.string == "sha256" }.compactMap { $0["value"]?.string }
        }
        let body = VerifyBody(
            code: code.grouped, record_id: r.recordID, result: view?.status.rawValue ?? "VALID", kind: r.type.rawValue, sha256: digests,
            document_type: r.string("doc_type"), document_number: r.string("doc_number"), issuer: r.writerOrg,
            issuer_name: issuer?.name, issued_at: r.string("issued_at"), valid_until: r.string("valid_until"),
            holder: r.string("holder_masked"), void_ab_initio: view.map { $0.voidAbInitio }, revoked_from: view?.revokedFrom,
            history: history,
            caveat: "Proves that this record was logged unchanged at the time shown and by whom; not the truth of its content.",
            receipt: try receiptBody(recordID: r.recordID, index: logged.leafIndex, duplicate: false))
        let bytes = JSON.encode(body)
        answers.put(key, bytes)
        return cachedJSON(bytes)
    }

    private func cachedJSON(_ bytes: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(bytes: JSON.encode(value))))
    }
}

extension Problem {
    /// A record admission refused it: 422 with the admission's stable code.
    static func refused(code: String, detail: String) -> Problem {
        Problem(.unprocessableContent, code: code, title: "Record refused", detail: detail)
    }

    func retryAfter(_ seconds: Int) -> Problem {
        var copy = self
        copy.headers[.retryAfter] = String(seconds)
        return copy
    }
}

extension RecordRoutes {
    /// `GET /v1/bundles/{code}`: the offline proof bundle of the record a code names.
    func bundle(_ input: String) throws -> Response {
        let code: VerificationCode
        do { code = try VerificationCode(parsing: input.removingPercentEncoding ?? input) } catch {
            throw Problem.badRequest(error.code, error.description)
        }
        guard let codeKey, let summary = node.records.record(code: code, codeKey: codeKey),
              let bundle = try ProofBundle.make(node: node, recordID: summary.recordID) else {
            throw Problem.notFound("NOT_FOUND", "no record carries the code \(code.grouped)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store",
                                               .contentDisposition: "attachment; filename=\"\(code.value).cinnabar-bundle.json\""],
                        body: .init(byteBuffer: ByteBuffer(bytes: Array(try encoder.encode(bundle)))))
    }
}

extension RecordRoutes {
    struct CreditBody: Encodable {
        struct Entry: Encodable {
            let record_id: String
            let state: String
            let class_: String?
            let measure_code: String?
            let severity: String?
            let legal_basis: [String]
            let decision_number: String?
            let decided_at: String?
            let issuer: String
            let public_reason: String?
            enum CodingKeys: String, CodingKey {
                case record_id, state, class_ = "class", measure_code, severity, legal_basis, decision_number, decided_at, issuer, public_reason
            }
        }
        let licence_number: String
        let as_of: String
        let entries: [Entry]
    }

    /// `GET /v1/practitioners/{licence}/credit`: the public credit profile on today's date.
    func credit(_ licence: String) throws -> Response {
        guard StringFormat.licence.accepts(licence) else {
            throw Problem.badRequest("invalid_licence_number", "a licence number is 4–32 of 0-9, A-Z, a-z and -")
        }
        let today = RecordWriter.today()
        let entries = try node.records.creditProfile(subject: licence, today: today).map { e in
            CreditBody.Entry(record_id: e.event.record.recordID, state: e.state.rawValue, class_: e.fields["class"]?.string,
                             measure_code: e.fields["measure_code"]?.string, severity: e.fields["severity"]?.string,
                             legal_basis: e.fields["legal_basis"]?.array?.compactMap(\.string) ?? [],
                             decision_number: e.fields["decision_number"]?.string, decided_at: e.fields["decided_at"]?.string,
                             issuer: e.event.record.writerOrg, public_reason: e.publicReason)
        }
        return json(CreditBody(licence_number: licence, as_of: today, entries: entries))
    }
}

/// A bounded two-generation cache of encoded answers.
final class AnswerCache: Sendable {
    private let entries = Mutex<(current: [String: [UInt8]], previous: [String: [UInt8]])>(([:], [:]))
    private let capacity: Int
    init(capacity: Int) { self.capacity = capacity }

    func get(_ key: String) -> [UInt8]? {
        entries.withLock { e in
            if let hit = e.current[key] { return hit }
            guard let old = e.previous[key] else { return nil }
            e.current[key] = old
            return old
        }
    }

    func put(_ key: String, _ value: [UInt8]) {
        entries.withLock { e in
            if e.current.count >= capacity / 2 { e.previous = e.current; e.current = [:] }
            e.current[key] = value
        }
    }
}
