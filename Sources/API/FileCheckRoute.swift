// `POST /v1/verify`: "is this the document / the exhibit?" from a file's SHA-256, with or without
// a code. The body is either JSON `{"sha256": hex, "code": optional}` (the browser hashes the file
// locally and sends only the digest) or the file itself as application/octet-stream, hashed as
// it streams in and never stored.
import CinnabarCrypto
import Foundation
import Hummingbird
import Node
import Records

extension RecordRoutes {
    /// The largest file the node hashes for a caller (bigger ones: send the digest).
    static let maxUploadBytes = 256 << 20
    static let maxDigestRequestBytes = 4096

    func verifyFile(_ request: Request) async throws -> Response {
        var request = request
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let digest: Hash
        var codeText = request.uri.queryParameters["code"].map(String.init)
        if contentType.hasPrefix("application/octet-stream") {
            var stream = SHA256.Stream()
            var total = 0
            for try await piece in request.body {
                total += piece.readableBytes
                guard total <= RecordRoutes.maxUploadBytes else {
                    throw Problem(.contentTooLarge, code: "file_too_large", title: "File too large",
                                  detail: "the node hashes files up to \(RecordRoutes.maxUploadBytes >> 20) MiB; send {\"sha256\": …} instead")
                }
                piece.withUnsafeReadableBytes { stream.update($0) }
            }
            digest = stream.finish()
        } else if contentType.hasPrefix("application/json") {
            let body: ByteBuffer
            do { body = try await request.collectBody(upTo: RecordRoutes.maxDigestRequestBytes) } catch {
                throw Problem(.contentTooLarge, code: "request_too_large", title: "Request too large",
                              detail: "a digest request is at most \(RecordRoutes.maxDigestRequestBytes) bytes")
            }
            let json: JSONValue
            do { json = try JSONParser.parse(Array(body.readableBytesView), maxBytes: RecordRoutes.maxDigestRequestBytes) } catch {
                throw Problem.badRequest("invalid_json", "the body is not JSON: \(error)")
            }
            guard let object = json.object, Set(object.keys).isSubset(of: ["sha256", "code"]) else {
                throw Problem.badRequest("invalid_request", "the body is {\"sha256\": \"<64 hex digits>\", \"code\": \"<optional code>\"}")
            }
            guard let hex = object["sha256"]?.string, let parsed = Hash(hex: hex) else {
                throw Problem.badRequest("invalid_digest", "sha256 must be 64 hexadecimal digits")
            }
            digest = parsed
            if let code = object["code"] {
                guard let text = code.string else { throw Problem.badRequest("invalid_request", "code must be a string") }
                codeText = text
            }
        } else {
            throw Problem(.unsupportedMediaType, code: "unsupported_media_type", title: "Unsupported media type",
                          detail: "send application/json {\"sha256\": …} or the file as application/octet-stream")
        }

        var code: VerificationCode?
        if let codeText {
            do { code = try VerificationCode(parsing: codeText) } catch { throw Problem.badRequest(error.code, error.description) }
        }
        var within: String?
        if let code {
            guard let codeKey else {
                throw Problem(.serviceUnavailable, code: "no_code_key", title: "Lookups unavailable", detail: "this node holds no code key")
            }
            guard let summary = node.records.record(code: code, codeKey: codeKey) else {
                throw Problem.notFound("NOT_FOUND", "no record carries the code \(code.grouped)")
            }
            within = summary.recordID
        }
        let today = RecordWriter.today()
        let matches = try node.records.files(sha256: digest, today: today, within: within)
        let registry = node.records.registry
        let items: [JSONValue] = matches.map { m in
            let r = m.subject.record
            var item: JSONObject = [
                "record_id": .string(r.recordID),
                "kind": .string(r.type.rawValue),
                "result": .string(m.view?.status.rawValue ?? "VALID"),
                "current": .bool(m.current),
                "listed_by": .string(m.listedBy.record.recordID),
                "issuer": .string(r.writerOrg),
                "logged_at": .string(RecordWriter.timestamp(Date(timeIntervalSince1970: Double(m.listedBy.timeMillis) / 1000))),
            ]
            if let code { item["code"] = .string(code.grouped) }
            if let name = registry.members[r.writerOrg]?.name { item["issuer_name"] = .string(name) }
            for (payloadKey, answerKey) in [("doc_type", "document_type"), ("doc_number", "document_number"), ("issued_at", "issued_at")] {
                if let v = r.string(payloadKey) { item[answerKey] = .string(v) }
            }
            if let rendition = m.rendition?.object {
                item["rendition"] = .object(rendition.filter { ["role", "format", "lang"].contains($0.key) })
            }
            return .object(item)
        }
        var body: JSONObject = ["sha256": .string(digest.hex), "matched": .bool(!items.isEmpty), "matches": .array(items)]
        if let code { body["code"] = .string(code.grouped) }
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: CanonicalJSON.serialize(.object(body)) + [0x0A])))
    }
}
