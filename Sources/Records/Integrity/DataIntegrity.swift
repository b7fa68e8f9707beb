// W3C Data Integrity proofs with the eddsa-jcs-2022 cryptosuite (vc-di-eddsa v1.0 §3.3): the
// Ed25519 signature of SHA-256(JCS(proof configuration)) ‖ SHA-256(JCS(unsecured document)),
// one proof or a proof set (vc-data-integrity v1.0, "Proof Sets") under the document's "proof".
import CinnabarCrypto

/// Why a proof was refused. `code` is stable for the API and CLI.
public struct DataIntegrityError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The kinds of refusal; the raw value is the stable machine code.
    public enum Kind: String, Sendable {
        /// The document has no `proof` member.
        case proofMissing = "proof_missing"
        /// A proof is not a well-formed eddsa-jcs-2022 DataIntegrityProof.
        case proofMalformed = "proof_malformed"
        /// A proof is of another type or cryptosuite.
        case unsupportedCryptosuite = "unsupported_cryptosuite"
        /// The signature does not verify (or the proof's @context does not match the document's).
        case signatureInvalid = "signature_invalid"
    }

    /// What went wrong.
    public let kind: Kind
    /// A one-line human explanation.
    public let reason: String

    /// The stable machine code: `proof_missing`, `proof_malformed`, `unsupported_cryptosuite` or
    /// `signature_invalid`.
    public var code: String { kind.rawValue }

    /// `code: reason`, on one line.
    public var description: String { "\(code): \(reason)" }

    /// Creates an error of `kind`.
    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }
}

/// One eddsa-jcs-2022 `DataIntegrityProof` (vc-data-integrity v1.0 §2.1; vc-di-eddsa v1.0 §2.2.1).
public struct DataIntegrityProof: Hashable, Sendable {
    /// The `type` of every proof this suite makes and accepts.
    public static let proofType = "DataIntegrityProof"

    /// Always `DataIntegrityProof`.
    public var type: String { Self.proofType }
    /// Always `eddsa-jcs-2022`.
    public var cryptosuite: String { DataIntegrity.cryptosuite }
    /// When the proof was made: an XML Schema 1.1 dateTime, e.g. `2023-02-24T23:36:38Z`.
    /// Optional in Data Integrity; every proof `DataIntegrity.sign` makes has one.
    public var created: String?
    /// The URL of the key that verifies the proof.
    public var verificationMethod: String
    /// Why the proof was made, e.g. `assertionMethod`.
    public var proofPurpose: String
    /// 'z' + base58btc of the 64-byte Ed25519 signature.
    public var proofValue: String { didSet { decoded = nil } }
    /// The 64 bytes `init(json:)` decoded from `proofValue`, so that verifying does not decode
    /// them again (the other checks of `signatureBytes` still run). Not part of the proof's identity.
    private var decoded: [UInt8]?
    /// The document's `@context` at signing time, when it had one (vc-di-eddsa v1.0 §3.3.1 step 2).
    public var context: JSONValue?
    /// Any other members of the proof (`id`, `expires`, `domain`, `challenge`, `nonce`, …).
    /// They are part of the signed proof configuration, so they are kept exactly.
    public var additionalMembers: JSONObject

    /// The members this type names; any others are `additionalMembers`.
    private static let knownMembers: [String] = [
        "type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue", "@context",
    ]

    init(created: String?, verificationMethod: String, proofPurpose: String, proofValue: String,
         context: JSONValue?, additionalMembers: JSONObject = [:]) {
        self.created = created
        self.verificationMethod = verificationMethod
        self.proofPurpose = proofPurpose
        self.proofValue = proofValue
        self.context = context
        self.additionalMembers = additionalMembers
    }

    /// Reads a proof object. Checks the type and cryptosuite first (`unsupported_cryptosuite`),
    /// then that `verificationMethod`, `proofPurpose` and `proofValue` are strings, `created` (if
    /// present) an XML Schema dateTime and `proofValue` a 'z' multibase of 64 bytes
    /// (`proof_malformed`). Proof chains (`previousProof`) are not supported (`proof_malformed`).
    public init(json: JSONValue) throws(DataIntegrityError) {
        guard case let .object(members) = json else { throw DataIntegrityError(.proofMalformed, "a proof must be a JSON object") }
        guard let type = members["type"]?.string else { throw DataIntegrityError(.proofMalformed, "the proof has no string type") }
        guard type == Self.proofType else {
            throw DataIntegrityError(.unsupportedCryptosuite, "proof type \(type.debugDescription) is not \(Self.proofType)")
        }
        let suite = members["cryptosuite"]?.string
        guard suite == DataIntegrity.cryptosuite else {
            throw DataIntegrityError(.unsupportedCryptosuite, "cryptosuite \(suite?.debugDescription ?? "(none)") is not \(DataIntegrity.cryptosuite)")
        }
        func string(_ name: String) throws(DataIntegrityError) -> String {
            guard let value = members[name]?.string else { throw DataIntegrityError(.proofMalformed, "the proof has no string \(name)") }
            return value
        }
        var created: String?
        if let value = members["created"] {
            guard let text = value.string else { throw DataIntegrityError(.proofMalformed, "the proof's created is not a string") }
            created = text
        }
        self.init(created: created, verificationMethod: try string("verificationMethod"),
                  proofPurpose: try string("proofPurpose"), proofValue: try string("proofValue"),
                  context: members["@context"],
                  additionalMembers: members.filter { !Self.knownMembers.contains($0.key) })
        decoded = try signatureBytes()
    }

    /// The proof as a JSON object, `proofValue` included: what goes under a document's `proof`.
    public var json: JSONValue {
        var members = options
        members["proofValue"] = .string(proofValue)
        return .object(members)
    }

    /// The proof options: the proof without `proofValue` (vc-di-eddsa v1.0 §3.3.2 step 2).
    var options: JSONObject {
        var members = additionalMembers
        members["type"] = .string(type)
        members["cryptosuite"] = .string(cryptosuite)
        if let created { members["created"] = .string(created) }
        members["verificationMethod"] = .string(verificationMethod)
        members["proofPurpose"] = .string(proofPurpose)
        if let context { members["@context"] = context }
        return members
    }

    /// The checks of vc-di-eddsa v1.0 §3.3.5 step 3 and of the proof's own shape, and the
    /// 64 signature bytes in `proofValue`.
    func signatureBytes() throws(DataIntegrityError) -> [UInt8] {
        if let created, !XMLSchemaDateTime.isValid(created) {
            throw DataIntegrityError(.proofMalformed, "created \(created.debugDescription) is not an XML Schema dateTime")
        }
        guard additionalMembers["previousProof"] == nil else {
            throw DataIntegrityError(.proofMalformed, "proof chains (previousProof) are not supported")
        }
        if let decoded { return decoded }
        guard let signature = Multibase.decodeBase58BTC(proofValue), signature.count == 64 else {
            throw DataIntegrityError(.proofMalformed, "proofValue is not 'z' + base58btc of a 64-byte Ed25519 signature")
        }
        return signature
    }
}

extension DataIntegrityProof {
    public static func == (a: DataIntegrityProof, b: DataIntegrityProof) -> Bool {
        a.created == b.created && a.verificationMethod == b.verificationMethod && a.proofPurpose == b.proofPurpose
            && a.proofValue == b.proofValue && a.context == b.context && a.additionalMembers == b.additionalMembers
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(created)
        hasher.combine(verificationMethod)
        hasher.combine(proofPurpose)
        hasher.combine(proofValue)
        hasher.combine(context)
        hasher.combine(additionalMembers)
    }
}

/// Creating and verifying eddsa-jcs-2022 Data Integrity proofs (vc-di-eddsa v1.0 §3.3).
public enum DataIntegrity {
    /// The cryptosuite identifier.
    public static let cryptosuite = "eddsa-jcs-2022"

    /// Creates a proof (vc-di-eddsa v1.0 §3.3.1, Create Proof): the proof options (type,
    /// cryptosuite, `created`, `verificationMethod`, `proofPurpose`, and the document's
    /// `@context` if it has one) are JCS-canonicalised and hashed, the document too, and the
    /// 64-byte hash data is signed with Ed25519.
    ///
    /// `document` must be a JSON object and `created` an XML Schema dateTime (programmer errors
    /// otherwise). Any `proof` member of `document` is left out of what is signed, so signing a
    /// secured document makes one more proof of its proof set (vc-data-integrity v1.0, "Proof Sets").
    public static func sign(document: JSONValue, created: String, verificationMethod: String,
                            proofPurpose: String = "assertionMethod", key: Ed25519PrivateKey) -> DataIntegrityProof {
        guard case let .object(members) = document else { preconditionFailure("a Data Integrity document is a JSON object") }
        precondition(XMLSchemaDateTime.isValid(created), "created must be an XML Schema dateTime, e.g. 2023-02-24T23:36:38Z")
        var proof = DataIntegrityProof(created: created, verificationMethod: verificationMethod, proofPurpose: proofPurpose,
                                       proofValue: "", context: members["@context"])
        let hashData = hashData(proofConfig: CanonicalJSON.serialize(.object(proof.options)),
                                document: CanonicalJSON.serialize(members, omitting: "proof"))
        proof.proofValue = Multibase.base58BTC(key.signature(for: hashData))
        return proof
    }

    /// `document` with `proofs` as its `proof` member: one proof as an object, several as a
    /// proof set (an array). Any proofs it had are replaced.
    public static func secure(document: JSONValue, proofs: [DataIntegrityProof]) -> JSONValue {
        guard case var .object(members) = document else { preconditionFailure("a Data Integrity document is a JSON object") }
        precondition(!proofs.isEmpty, "a secured document has at least one proof")
        members["proof"] = proofs.count == 1 ? proofs[0].json : .array(proofs.map(\.json))
        return .object(members)
    }

    /// The proofs of a secured document: its `proof` member, one object or a non-empty array of
    /// them (a proof set, vc-data-integrity v1.0 "Proof Sets"), each read by `DataIntegrityProof(json:)`.
    public static func proofs(of securedDocument: JSONValue) throws(DataIntegrityError) -> [DataIntegrityProof] {
        guard case let .object(members) = securedDocument else {
            throw DataIntegrityError(.proofMalformed, "a secured document must be a JSON object")
        }
        guard let proof = members["proof"] else { throw DataIntegrityError(.proofMissing, "the document has no proof") }
        switch proof {
        case .object:
            return [try DataIntegrityProof(json: proof)]
        case let .array(elements):
            guard !elements.isEmpty else { throw DataIntegrityError(.proofMalformed, "the proof set is empty") }
            var proofs: [DataIntegrityProof] = []
            proofs.reserveCapacity(elements.count)
            for element in elements { proofs.append(try DataIntegrityProof(json: element)) }
            return proofs
        default:
            throw DataIntegrityError(.proofMalformed, "proof must be an object or an array of objects")
        }
    }

    /// Verifies a secured document that carries exactly one proof, made by `publicKey`
    /// (vc-di-eddsa v1.0 §3.3.2). A proof set names several keys: check each of its proofs with
    /// `proofs(of:)` and `verify(document:proof:publicKey:)`.
    public static func verify(securedDocument: JSONValue, publicKey: Ed25519PublicKey) throws(DataIntegrityError) {
        let proofs = try proofs(of: securedDocument)
        guard proofs.count == 1 else {
            throw DataIntegrityError(.proofMalformed, "the document has a set of \(proofs.count) proofs; verify each with its own key")
        }
        try verify(document: securedDocument, proof: proofs[0], publicKey: publicKey)
    }

    /// Verifies one proof of `document` with `publicKey` (vc-di-eddsa v1.0 §3.3.2, Verify Proof).
    ///
    /// `document` is the secured document (or the unsecured one): its `proof` member, whatever
    /// it holds, is removed to get the unsecured document, which every proof of a set signs.
    /// If the proof has an `@context`, the document's `@context` must start with the same values
    /// in the same order, and the proof's `@context` stands in for the document's (step 4).
    public static func verify(document: JSONValue, proof: DataIntegrityProof, publicKey: Ed25519PublicKey) throws(DataIntegrityError) {
        guard case let .object(members) = document else {
            throw DataIntegrityError(.proofMalformed, "a secured document must be a JSON object")
        }
        let signature = try proof.signatureBytes()
        let unsecured: [UInt8]
        if let proofContext = proof.context {
            guard let documentContext = members["@context"],
                  contextValues(documentContext).starts(with: contextValues(proofContext)) else {
                throw DataIntegrityError(.signatureInvalid, "the document's @context does not start with the proof's @context")
            }
            var substituted = members
            substituted["@context"] = proofContext
            unsecured = CanonicalJSON.serialize(substituted, omitting: "proof")
        } else {
            unsecured = CanonicalJSON.serialize(members, omitting: "proof")
        }
        let hashData = hashData(proofConfig: CanonicalJSON.serialize(.object(proof.options)), document: unsecured)
        guard publicKey.isValidSignature(signature, for: hashData) else {
            throw DataIntegrityError(.signatureInvalid, "the signature of \(proof.verificationMethod) does not verify")
        }
    }

    /// Verifies one proof over an unsecured document already in canonical form (its bytes
    /// without the `proof` member). Only for proofs without their own `@context`.
    public static func verify(unsecuredCanonical unsecured: [UInt8], proof: DataIntegrityProof, publicKey: Ed25519PublicKey) throws(DataIntegrityError) {
        precondition(proof.context == nil, "a proof with an @context substitutes the document's: use verify(document:)")
        let signature = try proof.signatureBytes()
        let hashData = hashData(proofConfig: CanonicalJSON.serialize(.object(proof.options)), document: unsecured)
        guard publicKey.isValidSignature(signature, for: hashData) else {
            throw DataIntegrityError(.signatureInvalid, "the signature of \(proof.verificationMethod) does not verify")
        }
    }

    /// vc-di-eddsa v1.0 §3.3.4: SHA-256(canonical proof configuration) ‖ SHA-256(canonical document).
    static func hashData(proofConfig: [UInt8], document: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2 * Hash.byteCount)
        SHA256.hash(proofConfig).withUnsafeBytes { out.append(contentsOf: $0) }
        SHA256.hash(document).withUnsafeBytes { out.append(contentsOf: $0) }
        return out
    }

    /// An @context as a list: an array's elements, or the single value.
    private static func contextValues(_ context: JSONValue) -> [JSONValue] {
        if case let .array(values) = context { values } else { [context] }
    }
}

/// The lexical space of XML Schema 1.1 Part 2 §3.3.7 dateTime, which Data Integrity requires of
/// `created` (vc-di-eddsa v1.0 §3.3.5 step 3): `-?YYYY-MM-DDThh:mm:ss(.s+)?(Z|(+|-)hh:mm)?` with a
/// year of at least four digits (no leading zero beyond four), a day that exists in its month
/// (proleptic Gregorian leap years), 24:00:00 only as the end of a day, offsets up to ±14:00.
enum XMLSchemaDateTime {
    static func isValid(_ text: String) -> Bool {
        let b = Array(text.utf8)
        var i = 0
        func digits(_ count: Int) -> Int? {
            guard b.count - i >= count else { return nil }
            var value = 0
            for _ in 0..<count {
                guard b[i] &- UInt8(ascii: "0") < 10 else { return nil }
                value = value * 10 + Int(b[i] - UInt8(ascii: "0"))
                i += 1
            }
            return value
        }
        func expect(_ c: Unicode.Scalar) -> Bool {
            guard i < b.count, b[i] == UInt8(ascii: c) else { return false }
            i += 1
            return true
        }
        _ = expect("-")
        let yearStart = i
        while i < b.count, b[i] &- UInt8(ascii: "0") < 10 { i += 1 }
        let yearDigits = i - yearStart
        guard yearDigits >= 4, yearDigits <= 12, yearDigits == 4 || b[yearStart] != UInt8(ascii: "0") else { return false }
        i = yearStart
        guard let year = digits(yearDigits), expect("-"), let month = digits(2), (1...12).contains(month), expect("-"),
              let day = digits(2), day >= 1, day <= daysIn(month: month, year: year), expect("T"),
              let hour = digits(2), expect(":"), let minute = digits(2), expect(":"), let second = digits(2)
        else { return false }
        var fractionIsZero = true
        if expect(".") {
            let fractionStart = i
            while i < b.count, b[i] &- UInt8(ascii: "0") < 10 {
                if b[i] != UInt8(ascii: "0") { fractionIsZero = false }
                i += 1
            }
            guard i > fractionStart else { return false }
        }
        let inDay = hour <= 23 && minute <= 59 && second <= 59
        let endOfDay = hour == 24 && minute == 0 && second == 0 && fractionIsZero
        guard inDay || endOfDay else { return false }
        if i == b.count { return true }
        if expect("Z") { return i == b.count }
        guard expect("+") || expect("-"), let offsetHours = digits(2), expect(":"), let offsetMinutes = digits(2),
              (offsetHours <= 13 && offsetMinutes <= 59) || (offsetHours == 14 && offsetMinutes == 0)
        else { return false }
        return i == b.count
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
