// RFC 9457 problem details: every API error is one of these, with a stable `code`.
import Foundation
import Hummingbird

/// An RFC 9457 problem document, thrown by handlers and rendered as `application/problem+json`.
public struct Problem: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    /// Stable machine-readable code (also the last segment of `type`).
    public let code: String
    public let title: String
    public let detail: String
    /// Extra headers (e.g. Retry-After).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, title: String, detail: String) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
    }

    struct Body: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String
        let code: String
    }

    /// The RFC 9457 members, as the body of an answer or as one line's outcome in a batch.
    var body: Body {
        Body(type: "https://cinnabar.example/problems/\(code)", title: title, status: Int(status.code), detail: detail, code: code)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: JSON.encode(body))))
    }

    static func badRequest(_ code: String, _ detail: String) -> Problem {
        Problem(.badRequest, code: code, title: "Bad request", detail: detail)
    }
    static func notFound(_ code: String, _ detail: String) -> Problem {
        Problem(.notFound, code: code, title: "Not found", detail: detail)
    }
}

/// JSON for API bodies (not for anything hashed or signed: those use canonical encoders).
enum JSON {
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding our own plain structs cannot fail.
        return Array(try! encoder.encode(value)) + [UInt8(ascii: "\n")]
    }
}
