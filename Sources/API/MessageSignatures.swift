// RFC 9421 HTTP Message Signatures, the one profile Cinnabar accepts on organisation-only reads:
// Ed25519 (RFC 9421 §3.3.6) over the derived components "@method", "@path" and "@query", with
// `created` and `keyid` (the organisation's registered key, `cinnabar:org:<USCI>#<key id>`).
// The same code builds the signature base for the CLI client and checks it on the node.
import CinnabarCrypto

/// Why a request signature was not accepted.
public enum MessageSignatureError: Error, Equatable, CustomStringConvertible {
    case missing
    case malformed(String)
    case wrongProfile(String)
    case stale(seconds: Int64)
    case badSignature

    public var description: String {
        switch self {
        case .missing: "this route needs an RFC 9421 request signature (Signature-Input and Signature headers) by a member organisation"
        case let .malformed(why): "the request signature headers are malformed: \(why)"
        case let .wrongProfile(why): "the request signature does not follow Cinnabar's profile: \(why)"
        case let .stale(seconds): "the request signature was created \(seconds) s away from the node's clock (at most \(MessageSignature.maxSkewSeconds) s)"
        case .badSignature: "the request signature does not verify with the registered key"
        }
    }
}

/// Cinnabar's RFC 9421 profile.
public enum MessageSignature {
    /// The signature label clients use (any label is accepted on input).
    public static let label = "cinnabar"
    /// Covered components, in this order (RFC 9421 §2.2).
    public static let components = ["@method", "@path", "@query"]
    /// How far `created` may be from the node's clock.
    public static let maxSkewSeconds: Int64 = 300
    /// Sent with a 401 so a client learns what to sign (RFC 9421 §5.1).
    public static let acceptSignature = "\(label)=(\"@method\" \"@path\" \"@query\");keyid;created;alg=\"ed25519\""

    /// A parsed `Signature-Input` member with its `Signature` (the covered components are always
    /// `components`: anything else is refused while parsing).
    public struct Signed: Equatable, Sendable {
        public let created: Int64
        public let keyID: String
        /// The serialised inner list with its parameters: the value of "@signature-params".
        public let parameters: String
        public let signature: [UInt8]
    }

    /// The `@signature-params` value for a signature created at `created` by `keyID`.
    public static func parameters(created: Int64, keyID: String) -> String {
        "(\"@method\" \"@path\" \"@query\");created=\(created);keyid=\"\(keyID)\";alg=\"ed25519\""
    }

    /// The signature base of RFC 9421 §2.5: one line per covered component, then the parameters.
    /// `target` is the request target as sent (path and optional `?query`).
    public static func base(method: String, target: String, parameters: String) -> [UInt8] {
        let (path, query) = split(target)
        return Array("\"@method\": \(method.uppercased())\n\"@path\": \(path)\n\"@query\": ?\(query)\n\"@signature-params\": \(parameters)".utf8)
    }

    /// The two headers that sign a request.
    public static func headers(method: String, target: String, created: Int64, keyID: String,
                               key: Ed25519PrivateKey) -> (signatureInput: String, signature: String) {
        let parameters = parameters(created: created, keyID: keyID)
        let signature = key.signature(for: base(method: method, target: target, parameters: parameters))
        return ("\(label)=\(parameters)", "\(label)=:\(Base64.encode(signature)):")
    }

    /// Parses the headers; nil headers are `.missing`.
    public static func parse(signatureInput: String?, signature: String?) throws(MessageSignatureError) -> Signed {
        guard let signatureInput, let signature else { throw .missing }
        var p = FieldParser(signatureInput)
        let label = try p.key()
        try p.expect("=")
        let listStart = p.position
        try p.expect("(")
        var components: [String] = []
        p.skipSpaces()
        while !p.take(")") {
            components.append(try p.string())
            p.skipSpaces()
        }
        var created: Int64?
        var keyID: String?
        var alg: String?
        while p.take(";") {
            let name = try p.key()
            try p.expect("=")
            switch name {
            case "created": created = try p.integer()
            case "keyid": keyID = try p.string()
            case "alg": alg = try p.string()
            case "expires", "nonce", "tag": _ = try p.bareOrString()
            default: throw .malformed("unknown signature parameter \(name)")
            }
        }
        let parameters = p.text(from: listStart)
        guard p.atEnd else { throw .malformed("only one signature may be sent") }
        guard components == MessageSignature.components else {
            throw .wrongProfile("it must cover exactly \"@method\" \"@path\" \"@query\", in that order")
        }
        guard let created else { throw .wrongProfile("the created parameter is missing") }
        guard let keyID else { throw .wrongProfile("the keyid parameter is missing") }
        guard alg == nil || alg == "ed25519" else { throw .wrongProfile("alg must be ed25519") }

        let prefix = label + "=:"
        guard signature.hasPrefix(prefix), signature.hasSuffix(":"), signature.count > prefix.count + 1,
              let bytes = Base64.decode(String(signature.dropFirst(prefix.count).dropLast())), bytes.count == 64 else {
            throw .malformed("Signature must be \(label)=:<base64 of 64 bytes>:")
        }
        return Signed(created: created, keyID: keyID, parameters: parameters, signature: bytes)
    }

    /// Checks freshness and the Ed25519 signature of a parsed request signature.
    public static func verify(_ signed: Signed, method: String, target: String, key: Ed25519PublicKey,
                              now: Int64) throws(MessageSignatureError) {
        let skew = signed.created - now
        guard abs(skew) <= maxSkewSeconds else { throw .stale(seconds: skew) }
        guard key.isValidSignature(signed.signature, for: base(method: method, target: target, parameters: signed.parameters)) else {
            throw .badSignature
        }
    }

    /// Path (at least "/") and the query without its "?".
    static func split(_ target: String) -> (path: Substring, query: Substring) {
        guard let mark = target.firstIndex(of: "?") else { return (target.isEmpty ? "/" : target[...], "") }
        let path = target[..<mark]
        return (path.isEmpty ? "/" : path, target[target.index(after: mark)...])
    }
}

/// Just enough of RFC 8941 structured fields for one signature-input member.
private struct FieldParser {
    let bytes: [UInt8]
    var position = 0
    init(_ text: String) { bytes = Array(text.utf8) }

    var atEnd: Bool { position == bytes.count }

    mutating func take(_ c: Character) -> Bool {
        guard position < bytes.count, bytes[position] == c.asciiValue! else { return false }
        position += 1
        return true
    }

    mutating func expect(_ c: Character) throws(MessageSignatureError) {
        guard take(c) else { throw .malformed("expected \(c) at byte \(position)") }
    }

    mutating func skipSpaces() { while position < bytes.count, bytes[position] == 0x20 { position += 1 } }

    /// RFC 8941 §3.1.2 key: lcalpha or "*", then lcalpha / DIGIT / "_" / "-" / "." / "*".
    mutating func key() throws(MessageSignatureError) -> String {
        let start = position
        while position < bytes.count {
            let c = bytes[position]
            let first = position == start
            guard (0x61...0x7A).contains(c) || c == 0x2A || (!first && ((0x30...0x39).contains(c) || c == 0x5F || c == 0x2D || c == 0x2E)) else { break }
            position += 1
        }
        guard position > start else { throw .malformed("expected a key at byte \(start)") }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// RFC 8941 §3.3.3 string: printable ASCII in quotes, with \" and \\ escapes.
    mutating func string() throws(MessageSignatureError) -> String {
        try expect("\"")
        var out: [UInt8] = []
        while position < bytes.count {
            let c = bytes[position]
            position += 1
            if c == 0x22 { return String(decoding: out, as: UTF8.self) }
            if c == 0x5C {
                guard position < bytes.count, bytes[position] == 0x22 || bytes[position] == 0x5C else { throw .malformed("bad escape in a string") }
                out.append(bytes[position])
                position += 1
            } else {
                guard (0x20...0x7E).contains(c) else { throw .malformed("a string holds a non-printable byte") }
                out.append(c)
            }
        }
        throw .malformed("unterminated string")
    }

    /// RFC 8941 §3.3.1 integer (at most 15 digits).
    mutating func integer() throws(MessageSignatureError) -> Int64 {
        let start = position
        if position < bytes.count, bytes[position] == 0x2D { position += 1 }
        while position < bytes.count, (0x30...0x39).contains(bytes[position]) { position += 1 }
        let digits = bytes[start..<position].filter { $0 != 0x2D }.count
        guard digits > 0, digits <= 15, let value = Int64(String(decoding: bytes[start..<position], as: UTF8.self)) else {
            throw .malformed("expected an integer at byte \(start)")
        }
        return value
    }

    mutating func bareOrString() throws(MessageSignatureError) -> String {
        if position < bytes.count, bytes[position] == 0x22 { return try string() }
        return String(try integer())
    }

    func text(from start: Int) -> String { String(decoding: bytes[start..<position], as: UTF8.self) }
}
