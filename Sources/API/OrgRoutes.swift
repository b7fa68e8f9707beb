// Organisation-only reads (issue 4): the full history behind a code and the records of a case
// (一案一码), for the organisations that took part and for courts and the justice bureau.
// The caller is authenticated by an RFC 9421 signature with its registered key (MessageSignatures).
import CinnabarCrypto
import Foundation
import HTTPTypes
import Hummingbird
import Node
import Records

extension RecordRoutes {
    func registerOrganisationRoutes(on router: Router<NodeRequestContext>) {
        router.get("/v1/history/{code}") { request, context in
            try history(request, code: context.parameters.get("code") ?? "", caseOnly: false)
        }
        router.get("/v1/cases/{code}") { request, context in
            try history(request, code: context.parameters.get("code") ?? "", caseOnly: true)
        }
    }

    /// The member organisation that signed `request`, or a 401/403 problem.
    func authenticatedMember(_ request: Request) throws -> Member {
        let signed: MessageSignature.Signed
        do {
            signed = try MessageSignature.parse(signatureInput: request.headers[.signatureInput], signature: request.headers[.signature])
        } catch {
            throw signatureProblem(error)
        }
        guard let method = VerificationMethod(parsing: signed.keyID), let member = node.records.registry.members[method.org],
              member.status == .active, let key = member.keys[method.keyID] else {
            throw Problem(.forbidden, code: "NOT_A_MEMBER", title: "Not a member",
                          detail: "\(signed.keyID) is not an active key of an active member organisation")
        }
        let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        do {
            try MessageSignature.verify(signed, method: request.method.rawValue, target: target, key: key,
                                        now: Int64(Date().timeIntervalSince1970))
        } catch {
            throw signatureProblem(error)
        }
        return member
    }

    private func signatureProblem(_ error: MessageSignatureError) -> Problem {
        var problem = Problem(.unauthorized, code: error == .missing ? "SIGNATURE_REQUIRED" : "SIGNATURE_INVALID",
                              title: "Organisation signature needed", detail: error.description)
        problem.headers[.acceptSignature] = MessageSignature.acceptSignature
        return problem
    }

    /// `GET /v1/history/{code}` and `GET /v1/cases/{code}`: every record behind a code, in log
    /// order, with writer, key and leaf. For a case: its records and each one's history.
    func history(_ request: Request, code input: String, caseOnly: Bool) throws -> Response {
        let code: VerificationCode
        do { code = try VerificationCode(parsing: input.removingPercentEncoding ?? input) } catch {
            throw Problem.badRequest(error.code, error.description)
        }
        let member = try authenticatedMember(request)
        guard let codeKey else {
            throw Problem(.serviceUnavailable, code: "no_code_key", title: "Lookups unavailable", detail: "this node holds no code key")
        }
        guard let root = node.records.record(code: code, codeKey: codeKey) else {
            throw Problem.notFound("NOT_FOUND", "no record carries the code \(code.grouped)")
        }
        if caseOnly, root.type != .caseOpened {
            throw Problem.badRequest("not_a_case", "\(code.grouped) is a \(root.type.rawValue) code, not a case (K…) code")
        }
        var ids = [root.recordID]
        if root.type == .caseOpened { ids += try node.records.records(inCase: root.recordID) }
        var seen = Set<String>()
        var records: [LoggedRecord] = []
        var queue = ids
        while let id = queue.first {
            queue.removeFirst()
            guard seen.insert(id).inserted, let logged = try node.records.logged(id) else { continue }
            records.append(logged)
            queue += try node.records.history(of: id)
        }
        records.sort { $0.leafIndex < $1.leafIndex }
        let mayRead = member.role == .court || member.role == .justiceAdmin || records.contains { $0.record.writerOrg == member.org }
        guard mayRead else {
            throw Problem(.forbidden, code: "NOT_AUTHORISED", title: "Not authorised",
                          detail: "only courts, the justice bureau and organisations that wrote one of its records may read the history of \(code.grouped)")
        }
        let registry = node.records.registry
        let items: [JSONValue] = records.map { logged in
            let r = logged.record
            let writer = registry.members[r.writerOrg]
            return .object([
                "record_id": .string(r.recordID),
                "type": .string(r.type.rawValue),
                "leaf_index": .integer(Int64(logged.leafIndex)),
                "writer_org": .string(r.writerOrg),
                "writer_name": writer.map { .string($0.name) } ?? .null,
                "writer_role": .string(r.writerRole.rawValue),
                "key_id": .string(r.keyID),
                "created_at": .string(r.createdAt),
                "logged_at": .string(RecordWriter.timestamp(Date(timeIntervalSince1970: Double(logged.timeMillis) / 1000))),
                "record": (try? JSONParser.parse(r.bytes, maxBytes: r.bytes.count)) ?? .null,
            ])
        }
        let body: JSONValue = .object([
            "code": .string(code.grouped),
            "kind": .string(root.type.rawValue),
            "record_id": .string(root.recordID),
            "read_by": .string(member.org),
            "records": .array(items),
        ])
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: CanonicalJSON.serialize(body) + [0x0A])))
    }
}

extension HTTPField.Name {
    static let signatureInput = Self("Signature-Input")!
    static let signature = Self("Signature")!
    static let acceptSignature = Self("Accept-Signature")!
}
