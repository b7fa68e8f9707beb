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

    /// The same object as the Encodable form, in canonical JSON (sorted keys, JCS escapes; both
    /// tested byte for byte), written member by member in their sorted order: on the write path a
    /// JSON tree and its sort cost more than the rest of the receipt.
    var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(leaf.utf8.count + 2 * checkpoint.utf8.count + 50 * inclusion_proof.count + 400)
        write(into: &out)
        out.append(0x0A)
        return out
    }

    /// Appends the receipt's canonical JSON object to `out`.
    func write(into out: inout [UInt8]) {
        func member(_ name: StaticString, first: Bool = false) {
            out.append(first ? UInt8(ascii: "{") : UInt8(ascii: ","))
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        member("block_height", first: true); CanonicalJSON.writeInteger(Int64(block_height), into: &out)
        member("checkpoint"); CanonicalJSON.writeString(checkpoint, into: &out)
        member("duplicate"); out.append(contentsOf: duplicate ? Array("true".utf8) : Array("false".utf8))
        member("inclusion_proof"); out.append(UInt8(ascii: "["))
        for (i, hash) in inclusion_proof.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            CanonicalJSON.writeString(hash, into: &out)
        }
        out.append(UInt8(ascii: "]"))
        member("leaf"); CanonicalJSON.writeString(leaf, into: &out)
        member("leaf_hash"); CanonicalJSON.writeString(leaf_hash, into: &out)
        member("leaf_index"); CanonicalJSON.writeInteger(Int64(leaf_index), into: &out)
        member("logged_at"); CanonicalJSON.writeString(logged_at, into: &out)
        member("record_id"); CanonicalJSON.writeString(record_id, into: &out)
        member("tlog_proof"); CanonicalJSON.writeString(tlog_proof, into: &out)
        member("tree_size"); CanonicalJSON.writeInteger(Int64(tree_size), into: &out)
        out.append(UInt8(ascii: "}"))
    }
}

/// Registers the record routes.
public struct RecordRoutes: Sendable {
    let node: LedgerNode
    let codeKey: CodeKey?
    /// Citizen answers by code, reused while the tree size and the date are unchanged (an answer
    /// depends on nothing else: a code names one record for ever). Two generations, bounded; in
    /// memory only, so the store still holds no code in clear.
    let answers = AnswerCache(capacity: 8192)

    /// `codeKey` lets the node answer code lookups; without it `/v1/verify` answers 503.
    public init(node: LedgerNode, codeKey: CodeKey?) {
        self.node = node
        self.codeKey = codeKey
    }

    public func register(on router: Router<NodeRequestContext>) {
        router.post("/v1/records") { request, _ in try await submit(request) }
        router.post("/v1/batches") { request, _ in try await submitBatch(request) }
        router.get("/v1/records/{id}") { _, context in try record(context.parameters.get("id") ?? "") }
        router.get("/v1/verify/{code}") { _, context in try verify(context.parameters.get("code") ?? "") }
        router.get("/v1/bundles/{code}") { _, context in try bundle(context.parameters.get("code") ?? "") }
        router.get("/v1/practitioners/{licence}/credit") { _, context in try credit(context.parameters.get("licence") ?? "") }
        router.post("/v1/verify") { request, _ in try await verifyFile(request) }
        registerOrganisationRoutes(on: router)
    }

    /// The body of a write, at most `limit` bytes (else `tooLarge`), on a node that takes writes
    /// (an observer answers 421).
    func writeBody(_ request: Request, upTo limit: Int, tooLarge: @autoclosure () -> Problem) async throws -> [UInt8] {
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: limit) } catch { throw tooLarge() }
        guard !node.isObserver else {
            throw Problem(.misdirectedRequest, code: "observer", title: "Read-only mirror",
                          detail: "this node is an observer: it mirrors the ledger and takes no writes; send records to a validator")
        }
        return Array(body.readableBytesView)
    }

    func submit(_ request: Request) async throws -> Response {
        let bytes = try await writeBody(request, upTo: LeafLimits.maxBytes, tooLarge: .recordTooLarge)
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
            case let .admitted(admitted, leaf):
                let node = self.node
                Task { _ = try? await node.sequence(admitted, leaf: leaf) }
                return json(["record_id": admitted.record.recordID, "status": "accepted"], status: .accepted)
            }
        }
        let submitted: (receipt: Receipt, recordID: String)
        do { submitted = try await node.submitRecord(bytes) } catch let error as SubmitError {
            throw Problem(submission: error)
        }
        let answer = try receiptBody(submitted, record: bytes)
        return Response(status: answer.duplicate ? .ok : .created, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: answer.json)))
    }

    /// The receipt of a submission: built from the sequencer's answer for a new entry, read from
    /// the store for a duplicate.
    func receiptBody(_ submitted: (receipt: Receipt, recordID: String), record bytes: [UInt8]) throws -> ReceiptBody {
        let receipt = submitted.receipt
        return receipt.duplicate
            ? try receiptBody(recordID: submitted.recordID, index: receipt.index, duplicate: true)
            : try receiptBody(recordID: submitted.recordID, leaf: [LeafTag.record.rawValue] + bytes, receipt: receipt)
    }


    /// The receipt of a new entry, from what the sequencer returned: no store reads but the proof.
    func receiptBody(recordID: String, leaf: [UInt8], receipt: Receipt) throws -> ReceiptBody {
        try receiptBody(recordID: recordID, index: receipt.index, duplicate: false, leaf: leaf, size: receipt.size,
                        signedCheckpoint: receipt.signedCheckpoint, blockHeight: receipt.height, blockTimeMillis: receipt.timeMillis)
    }

    /// The receipt of the entry at `index` under the latest checkpoint, read from the store.
    func receiptBody(recordID: String, index: UInt64, duplicate: Bool) throws -> ReceiptBody {
        guard let tip = node.store.tip, let note = try node.store.checkpoint(height: tip.height),
              let leaf = try node.store.leaf(at: index), let block = try node.store.block(containingLeaf: index) else {
            throw Problem(.internalServerError, code: "store_inconsistent", title: "Store inconsistent", detail: "leaf \(index) has no block")
        }
        return try receiptBody(recordID: recordID, index: index, duplicate: duplicate, leaf: leaf, size: tip.size,
                               signedCheckpoint: note, blockHeight: block.height, blockTimeMillis: block.timeMillis)
    }

    /// A receipt: the leaf, its inclusion proof under the checkpoint of `size` (also as C2SP
    /// tlog-proof text), and its block's height and time.
    private func receiptBody(recordID: String, index: UInt64, duplicate: Bool, leaf: [UInt8], size: UInt64,
                             signedCheckpoint: String, blockHeight: UInt64, blockTimeMillis: UInt64) throws -> ReceiptBody {
        let proof = try node.store.hashReader.inclusionProof(index: index, size: size).map(\.base64)
        // The stored checkpoint is the signed note the node published: it is the tlog-proof's note
        // as it stands, with no parse and no second formatting per receipt.
        return ReceiptBody(
            record_id: recordID, leaf_index: index, duplicate: duplicate, leaf: Base64.encode(leaf),
            leaf_hash: RFC6962.leafHash(leaf).base64, inclusion_proof: proof, tree_size: size,
            checkpoint: signedCheckpoint,
            tlog_proof: TlogProof.text(index: index, base64Hashes: proof, signedNote: signedCheckpoint),
            block_height: blockHeight,
            logged_at: RecordWriter.timestamp(Date(timeIntervalSince1970: Double(blockTimeMillis) / 1000)))
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
        do { code = try VerificationCode(parsing: input.contains("%") ? input.removingPercentEncoding ?? input : input) } catch {
            throw Problem.badRequest(error.code, error.description)
        }
        guard let codeKey else {
            throw Problem(.serviceUnavailable, code: "no_code_key", title: "Lookups unavailable", detail: "this node holds no code key")
        }
        let key = "\(code.value)|\(node.store.size)|\(RecordWriter.today())"
        if let cached = answers.get(key) { return cachedJSON(cached) }
        guard let summary = node.records.record(code: code, codeKey: codeKey), let logged = try node.records.logged(summary.recordID) else {
            throw Problem.notFound("NOT_FOUND", "no record carries the code \(code.grouped)")
        }
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
        let bytes = ByteBuffer(bytes: JSON.encode(body))
        answers.put(key, bytes)
        return cachedJSON(bytes)
    }

    /// The answer's buffer is shared, not copied (a ByteBuffer is copy-on-write; responses only read it).
    private func cachedJSON(_ bytes: ByteBuffer) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"], body: .init(byteBuffer: bytes))
    }

    func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(bytes: JSON.encode(value))))
    }
}

extension Problem {
    /// Why a submission was not logged, as the API answers it: 422 for a refused record, 503 when
    /// busy (retry after a second) or stopping, 500 when the block could not be stored.
    init(submission error: SubmitError) {
        switch error {
        case .busy: self = Problem(.serviceUnavailable, code: error.code, title: "Busy", detail: error.description).retryAfter(1)
        case .stopped: self.init(.serviceUnavailable, code: error.code, title: "Stopping", detail: error.description)
        case .storageFailed: self.init(.internalServerError, code: error.code, title: "Storage failed", detail: error.description)
        case .rejected, .refused: self = Problem.refused(code: error.code, detail: error.description)
        }
    }

    /// A record longer than a leaf can hold: 413, before any parsing.
    static let recordTooLarge = Problem(.contentTooLarge, code: "record_too_large", title: "Record too large",
                                        detail: "a record is at most \(Record.maxBytes) bytes")

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
              let bundle = try ProofBundle.make(node: node, recordID: summary.recordID,
                                                validatorSetChanges: try RecordIndex.setChanges(store: node.store).map { ($0.index, $0.leafData) }) else {
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
    private let entries = Mutex<(current: [String: ByteBuffer], previous: [String: ByteBuffer])>(([:], [:]))
    private let capacity: Int
    init(capacity: Int) { self.capacity = capacity }

    func get(_ key: String) -> ByteBuffer? {
        entries.withLock { e in
            if let hit = e.current[key] { return hit }
            guard let old = e.previous[key] else { return nil }
            e.current[key] = old
            return old
        }
    }

    func put(_ key: String, _ value: ByteBuffer) {
        entries.withLock { e in
            if e.current.count >= capacity / 2 { e.previous = e.current; e.current = [:] }
            e.current[key] = value
        }
    }
}
