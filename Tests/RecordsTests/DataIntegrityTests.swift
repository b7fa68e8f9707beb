// W3C Data Integrity eddsa-jcs-2022: the W3C vector reproduced exactly, every refusal with its
// stable code, the @context rule of Verify Proof, and proof sets of several signers.
import CinnabarCrypto
import Foundation
import Records
import XCTest

final class DataIntegrityTests: XCTestCase {
    private struct Vector {
        let publicKeyMultibase: String
        let privateKeyMultibase: String
        let unsecuredDocument: JSONValue
        let canonicalDocument: String
        let proofConfig: JSONValue
        let signatureHex: String
        let proofValue: String

        /// The vector's document with its proof: proofConfig plus proofValue.
        var securedDocument: JSONValue {
            guard case var .object(proof) = proofConfig, case var .object(members) = unsecuredDocument else { fatalError("objects") }
            proof["proofValue"] = .string(proofValue)
            members["proof"] = .object(proof)
            return .object(members)
        }
    }

    private func loadVector() throws -> Vector {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/eddsa-jcs-2022.json")
        let json = try JSONParser.parse(Array(try Data(contentsOf: url)), maxBytes: 1 << 20)
        func string(_ name: String) throws -> String { try XCTUnwrap(json[name]?.string, name) }
        return Vector(publicKeyMultibase: try string("publicKeyMultibase"), privateKeyMultibase: try string("privateKeyMultibase"),
                      unsecuredDocument: try XCTUnwrap(json["unsecuredDocument"]), canonicalDocument: try string("canonicalDocument"),
                      proofConfig: try XCTUnwrap(json["proofConfig"]), signatureHex: try string("signatureHex"),
                      proofValue: try string("proofValue"))
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    private func key(_ byte: UInt8) -> Ed25519PrivateKey { Ed25519PrivateKey(seed: [UInt8](repeating: byte, count: 32))! }

    /// The code of the `DataIntegrityError` that `body` throws, or "accepted".
    private func code(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "accepted"
        } catch let error as DataIntegrityError {
            return error.code
        } catch {
            return "unexpected \(error)"
        }
    }

    /// `document` with `change` applied to its members.
    private func changing(_ document: JSONValue, _ change: (inout JSONObject) -> Void) -> JSONValue {
        guard case var .object(members) = document else { fatalError("an object") }
        change(&members)
        return .object(members)
    }

    /// `document` with `change` applied to the members of its single proof.
    private func changingProof(_ document: JSONValue, _ change: @escaping (inout JSONObject) -> Void) -> JSONValue {
        changing(document) { members in
            guard case var .object(proof) = members["proof"] else { fatalError("one proof") }
            change(&proof)
            members["proof"] = .object(proof)
        }
    }

    func testVectorPrivateKeyDerivesThePublicKey() throws {
        let vector = try loadVector()
        let privateKey = try XCTUnwrap(Multikey.ed25519PrivateKey(multibase: vector.privateKeyMultibase))
        let publicKey = try XCTUnwrap(Multikey.ed25519PublicKey(multibase: vector.publicKeyMultibase))
        XCTAssertEqual(privateKey.publicKey, publicKey)
        XCTAssertEqual(Multikey.encode(publicKey: privateKey.publicKey), vector.publicKeyMultibase)
        XCTAssertEqual(Multikey.encode(privateKey: privateKey), vector.privateKeyMultibase)
    }

    func testVectorCanonicalDocument() throws {
        let vector = try loadVector()
        XCTAssertEqual(CanonicalJSON.serialize(vector.unsecuredDocument), Array(vector.canonicalDocument.utf8))
    }

    func testSigningReproducesTheVector() throws {
        let vector = try loadVector()
        let privateKey = try XCTUnwrap(Multikey.ed25519PrivateKey(multibase: vector.privateKeyMultibase))
        let proof = DataIntegrity.sign(document: vector.unsecuredDocument,
                                       created: try XCTUnwrap(vector.proofConfig["created"]?.string),
                                       verificationMethod: try XCTUnwrap(vector.proofConfig["verificationMethod"]?.string),
                                       key: privateKey)
        XCTAssertEqual(proof.proofValue, vector.proofValue)
        XCTAssertEqual(hex(try XCTUnwrap(Multibase.decodeBase58BTC(proof.proofValue))), vector.signatureHex)
        XCTAssertEqual(proof.context, vector.unsecuredDocument["@context"])
        XCTAssertEqual(proof.proofPurpose, "assertionMethod")
        XCTAssertEqual(proof.json, vector.securedDocument["proof"])
        XCTAssertEqual(CanonicalJSON.serialize(changing(proof.json) { $0["proofValue"] = nil }),
                       CanonicalJSON.serialize(vector.proofConfig))
        XCTAssertEqual(DataIntegrity.secure(document: vector.unsecuredDocument, proofs: [proof]), vector.securedDocument)
    }

    func testVerifiesTheVector() throws {
        let vector = try loadVector()
        let publicKey = try XCTUnwrap(Multikey.ed25519PublicKey(multibase: vector.publicKeyMultibase))
        XCTAssertEqual(code { try DataIntegrity.verify(securedDocument: vector.securedDocument, publicKey: publicKey) }, "accepted")
        let proofs = try DataIntegrity.proofs(of: vector.securedDocument)
        XCTAssertEqual(proofs.count, 1)
        XCTAssertEqual(proofs[0].type, "DataIntegrityProof")
        XCTAssertEqual(proofs[0].cryptosuite, "eddsa-jcs-2022")
        XCTAssertEqual(proofs[0].created, "2023-02-24T23:36:38Z")
        XCTAssertEqual(code { try DataIntegrity.verify(document: vector.securedDocument, proof: proofs[0], publicKey: publicKey) }, "accepted")
        // The unsecured document verifies with the proof too: the proof is detached from it.
        XCTAssertEqual(code { try DataIntegrity.verify(document: vector.unsecuredDocument, proof: proofs[0], publicKey: publicKey) }, "accepted")
    }

    /// A proof read from JSON keeps its decoded signature, but a proof changed afterwards is
    /// checked as it now stands: a bad `created` or a `previousProof` is malformed, a new
    /// `proofValue` is decoded again.
    func testAProofChangedAfterReadingIsCheckedAsItStands() throws {
        let vector = try loadVector()
        let publicKey = try XCTUnwrap(Multikey.ed25519PublicKey(multibase: vector.publicKeyMultibase))
        let read = try DataIntegrity.proofs(of: vector.securedDocument)[0]
        var badDate = read
        badDate.created = "2023-02-30T00:00:00Z"
        XCTAssertEqual(code { try DataIntegrity.verify(document: vector.securedDocument, proof: badDate, publicKey: publicKey) }, "proof_malformed")
        var chained = read
        chained.additionalMembers["previousProof"] = .string("urn:uuid:1")
        XCTAssertEqual(code { try DataIntegrity.verify(document: vector.securedDocument, proof: chained, publicKey: publicKey) }, "proof_malformed")
        var shortValue = read
        shortValue.proofValue = "z1111"
        XCTAssertEqual(code { try DataIntegrity.verify(document: vector.securedDocument, proof: shortValue, publicKey: publicKey) }, "proof_malformed")
        XCTAssertEqual(code { try DataIntegrity.verify(document: vector.securedDocument, proof: read, publicKey: publicKey) }, "accepted")
    }

    func testRefusalsHaveStableCodes() throws {
        let vector = try loadVector()
        let publicKey = try XCTUnwrap(Multikey.ed25519PublicKey(multibase: vector.publicKeyMultibase))
        let secured = vector.securedDocument
        let proofValue = vector.proofValue
        let middle = proofValue.index(proofValue.startIndex, offsetBy: 40)
        let flipped = String(proofValue[..<middle]) + (proofValue[middle] == "A" ? "B" : "A") + String(proofValue[proofValue.index(after: middle)...])
        let cases: [(name: String, document: JSONValue, key: Ed25519PublicKey, code: String)] = [
            ("changed document field", changing(secured) { $0["name"] = .string("Alumni Credential!") }, publicKey, "signature_invalid"),
            ("changed nested field", changing(secured) { $0["credentialSubject"] = .object(["id": .string("did:example:abcdefgh"), "alumniOf": .string("Another School")]) }, publicKey, "signature_invalid"),
            ("added document field", changing(secured) { $0["extra"] = .bool(true) }, publicKey, "signature_invalid"),
            ("removed document field", changing(secured) { $0["issuer"] = nil }, publicKey, "signature_invalid"),
            ("changed created", changingProof(secured) { $0["created"] = .string("2023-02-24T23:36:39Z") }, publicKey, "signature_invalid"),
            ("changed proofPurpose", changingProof(secured) { $0["proofPurpose"] = .string("authentication") }, publicKey, "signature_invalid"),
            ("changed verificationMethod", changingProof(secured) { $0["verificationMethod"] = .string("https://vc.example/issuers/5678#key-2") }, publicKey, "signature_invalid"),
            ("added proof member", changingProof(secured) { $0["nonce"] = .string("1234") }, publicKey, "signature_invalid"),
            ("flipped signature character", changingProof(secured) { $0["proofValue"] = .string(flipped) }, publicKey, "signature_invalid"),
            ("wrong key", secured, key(1).publicKey, "signature_invalid"),
            ("proof @context dropped", changingProof(secured) { $0["@context"] = nil }, publicKey, "signature_invalid"),
            ("document @context reordered", changing(secured) {
                $0["@context"] = .array([.string("https://www.w3.org/ns/credentials/examples/v2"), .string("https://www.w3.org/ns/credentials/v2")])
            }, publicKey, "signature_invalid"),
            ("document @context shortened", changing(secured) { $0["@context"] = .string("https://www.w3.org/ns/credentials/v2") }, publicKey, "signature_invalid"),
            ("document @context removed", changing(secured) { $0["@context"] = nil }, publicKey, "signature_invalid"),
            ("no proof", vector.unsecuredDocument, publicKey, "proof_missing"),
            ("document not an object", .array([secured]), publicKey, "proof_malformed"),
            ("proof is a string", changing(secured) { $0["proof"] = .string(proofValue) }, publicKey, "proof_malformed"),
            ("empty proof set", changing(secured) { $0["proof"] = .array([]) }, publicKey, "proof_malformed"),
            ("proof set of a string", changing(secured) { $0["proof"] = .array([.string("x")]) }, publicKey, "proof_malformed"),
            ("no proofValue", changingProof(secured) { $0["proofValue"] = nil }, publicKey, "proof_malformed"),
            ("proofValue not multibase base58btc", changingProof(secured) { $0["proofValue"] = .string(String(proofValue.dropFirst())) }, publicKey, "proof_malformed"),
            ("proofValue of 63 bytes", changingProof(secured) { $0["proofValue"] = .string(Multibase.base58BTC([UInt8](repeating: 9, count: 63))) }, publicKey, "proof_malformed"),
            ("proofValue not base58", changingProof(secured) { $0["proofValue"] = .string("z0OIl") }, publicKey, "proof_malformed"),
            ("no verificationMethod", changingProof(secured) { $0["verificationMethod"] = nil }, publicKey, "proof_malformed"),
            ("no proofPurpose", changingProof(secured) { $0["proofPurpose"] = nil }, publicKey, "proof_malformed"),
            ("created not a string", changingProof(secured) { $0["created"] = .integer(1_677_281_798) }, publicKey, "proof_malformed"),
            ("created not a dateTime", changingProof(secured) { $0["created"] = .string("2023-02-30T23:36:38Z") }, publicKey, "proof_malformed"),
            ("proof chain", changingProof(secured) { $0["previousProof"] = .string("urn:uuid:1") }, publicKey, "proof_malformed"),
            ("no type", changingProof(secured) { $0["type"] = nil }, publicKey, "proof_malformed"),
            ("other cryptosuite", changingProof(secured) { $0["cryptosuite"] = .string("eddsa-rdfc-2022") }, publicKey, "unsupported_cryptosuite"),
            ("no cryptosuite", changingProof(secured) { $0["cryptosuite"] = nil }, publicKey, "unsupported_cryptosuite"),
            ("other proof type", changingProof(secured) { $0["type"] = .string("Ed25519Signature2020") }, publicKey, "unsupported_cryptosuite"),
        ]
        for (name, document, key, expected) in cases {
            XCTAssertEqual(code { try DataIntegrity.verify(securedDocument: document, publicKey: key) }, expected, name)
        }
    }

    func testProofContextMayBeAPrefixOfTheDocumentContext() throws {
        // Verify Proof step 4 (vc-di-eddsa v1.0 §3.3.2): the document's @context must start with
        // the proof's, and the proof's stands in for it, so contexts appended later still verify.
        let signer = key(2)
        let base = "https://www.w3.org/ns/credentials/v2"
        let document: JSONValue = .object(["@context": .array([.string(base)]), "claim": .string("x")])
        let proof = DataIntegrity.sign(document: document, created: "2025-01-01T00:00:00Z", verificationMethod: "did:example:2#k", key: signer)
        XCTAssertEqual(proof.context, .array([.string(base)]))
        let extended = changing(DataIntegrity.secure(document: document, proofs: [proof])) {
            $0["@context"] = .array([.string(base), .string("https://example.org/more/v1")])
        }
        XCTAssertEqual(code { try DataIntegrity.verify(securedDocument: extended, publicKey: signer.publicKey) }, "accepted")
        let replaced = changing(extended) { $0["@context"] = .array([.string("https://example.org/more/v1"), .string(base)]) }
        XCTAssertEqual(code { try DataIntegrity.verify(securedDocument: replaced, publicKey: signer.publicKey) }, "signature_invalid")
        // A string @context counts as a one-element list.
        let single = changing(extended) { $0["@context"] = .string(base) }
        XCTAssertEqual(code { try DataIntegrity.verify(securedDocument: single, publicKey: signer.publicKey) }, "accepted")
    }

    func testDocumentWithoutContextGetsNoProofContext() throws {
        let signer = key(3)
        let document: JSONValue = .object(["type": .string("NOTE"), "n": .integer(7)])
        let proof = DataIntegrity.sign(document: document, created: "2025-06-01T12:00:00Z", verificationMethod: "cinnabar:org:X#k1",
                                       proofPurpose: "authentication", key: signer)
        XCTAssertNil(proof.context)
        XCTAssertNil(proof.json["@context"])
        XCTAssertEqual(proof.json["proofPurpose"], .string("authentication"))
        let secured = DataIntegrity.secure(document: document, proofs: [proof])
        XCTAssertEqual(code { try DataIntegrity.verify(securedDocument: secured, publicKey: signer.publicKey) }, "accepted")
        let withContext = changing(secured) { $0["@context"] = .string("https://www.w3.org/ns/credentials/v2") }
        XCTAssertEqual(code { try DataIntegrity.verify(securedDocument: withContext, publicKey: signer.publicKey) }, "signature_invalid")
        // The secured document survives canonical bytes and the parser unchanged.
        let bytes = CanonicalJSON.serialize(secured)
        XCTAssertTrue(CanonicalJSON.isCanonical(bytes))
        let reparsed = try JSONParser.parse(bytes, maxBytes: 1 << 16)
        XCTAssertEqual(code { try DataIntegrity.verify(securedDocument: reparsed, publicKey: signer.publicKey) }, "accepted")
    }

    func testProofSetOfThreeSignersVerifiesEachProofIndividually() throws {
        let signers = [key(10), key(11), key(12)]
        let document: JSONValue = .object(["type": .string("MEMBER_ADMITTED"), "org": .string("91350100M000100Y43")])
        let proofs = signers.enumerated().map { index, signer in
            DataIntegrity.sign(document: document, created: "2025-03-0\(index + 1)T08:00:00Z",
                               verificationMethod: "cinnabar:org:ORG\(index)#k1", key: signer)
        }
        let secured = DataIntegrity.secure(document: document, proofs: proofs)
        XCTAssertEqual(secured["proof"]?.array?.count, 3)
        let read = try DataIntegrity.proofs(of: secured)
        XCTAssertEqual(read, proofs)
        for (i, proof) in read.enumerated() {
            for (j, signer) in signers.enumerated() {
                let result = code { try DataIntegrity.verify(document: secured, proof: proof, publicKey: signer.publicKey) }
                XCTAssertEqual(result, i == j ? "accepted" : "signature_invalid", "proof \(i), key \(j)")
            }
        }
        // One key cannot stand for a set of three.
        XCTAssertEqual(code { try DataIntegrity.verify(securedDocument: secured, publicKey: signers[0].publicKey) }, "proof_malformed")
        // Changing the document breaks every proof; tampering with one proof breaks only it.
        let changed = changing(secured) { $0["org"] = .string("91350100M000100Y44") }
        for (proof, signer) in zip(read, signers) {
            XCTAssertEqual(code { try DataIntegrity.verify(document: changed, proof: proof, publicKey: signer.publicKey) }, "signature_invalid")
        }
        var tampered = read
        tampered[1].created = "2025-03-09T08:00:00Z"
        let results = zip(tampered, signers).map { proof, signer in
            code { try DataIntegrity.verify(document: secured, proof: proof, publicKey: signer.publicKey) }
        }
        XCTAssertEqual(results, ["accepted", "signature_invalid", "accepted"])
    }

    func testSigningASecuredDocumentJoinsItsProofSet() throws {
        let first = key(20)
        let second = key(21)
        let document: JSONValue = .object(["a": .integer(1)])
        let proof1 = DataIntegrity.sign(document: document, created: "2025-01-01T00:00:00Z", verificationMethod: "m1", key: first)
        let secured = DataIntegrity.secure(document: document, proofs: [proof1])
        let proof2 = DataIntegrity.sign(document: secured, created: "2025-01-01T00:00:00Z", verificationMethod: "m2", key: second)
        XCTAssertEqual(proof2, DataIntegrity.sign(document: document, created: "2025-01-01T00:00:00Z", verificationMethod: "m2", key: second))
        let set = DataIntegrity.secure(document: document, proofs: [proof1, proof2])
        let proofs = try DataIntegrity.proofs(of: set)
        XCTAssertEqual(code { try DataIntegrity.verify(document: set, proof: proofs[0], publicKey: first.publicKey) }, "accepted")
        XCTAssertEqual(code { try DataIntegrity.verify(document: set, proof: proofs[1], publicKey: second.publicKey) }, "accepted")
    }

    func testProofMembersBeyondTheSuiteAreKeptAndSigned() throws {
        let vector = try loadVector()
        let withID = changingProof(vector.securedDocument) { $0["id"] = .string("urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544") }
        let proof = try XCTUnwrap(DataIntegrity.proofs(of: withID).first)
        XCTAssertEqual(proof.additionalMembers, ["id": .string("urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544")])
        XCTAssertEqual(proof.json, withID["proof"])
        // The vector was signed without the id, so with it the proof configuration differs.
        let publicKey = try XCTUnwrap(Multikey.ed25519PublicKey(multibase: vector.publicKeyMultibase))
        XCTAssertEqual(code { try DataIntegrity.verify(securedDocument: withID, publicKey: publicKey) }, "signature_invalid")
    }

    func testCreatedMustBeAnXMLSchemaDateTime() throws {
        let vector = try loadVector()
        let valid = [
            "2023-02-24T23:36:38Z", "2023-02-24T23:36:38.123Z", "2023-02-24T23:36:38+01:00", "2023-02-24T23:36:38-14:00",
            "2023-02-24T23:36:38", "2024-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2023-02-24T24:00:00Z",
            "-0044-03-15T12:00:00Z", "12345-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
        ]
        let invalid = [
            "", "2023-02-24", "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2023-13-01T00:00:00Z", "2023-04-31T00:00:00Z",
            "2023-02-24 23:36:38Z", "2023-02-24t23:36:38Z", "2023-02-24T23:36:38z", "2023-02-24T23:60:00Z",
            "2023-02-24T23:59:60Z", "2023-02-24T24:00:01Z", "2023-02-24T24:00:00.5Z", "2023-02-24T23:36:38+14:01",
            "2023-02-24T23:36:38+0100", "02023-01-01T00:00:00Z", "23-02-24T23:36:38Z", "2023-02-24T23:36:38.Z",
            "2023-02-24T23:36:38ZZ", "2023-2-24T23:36:38Z",
        ]
        for (created, accepted) in valid.map({ ($0, true) }) + invalid.map({ ($0, false) }) {
            let document = changingProof(vector.securedDocument) { $0["created"] = .string(created) }
            let result = code { _ = try DataIntegrity.proofs(of: document) }
            XCTAssertEqual(result, accepted ? "accepted" : "proof_malformed", created)
        }
    }

    func testErrorCodesAreStable() {
        let kinds: [(DataIntegrityError.Kind, String)] = [
            (.proofMissing, "proof_missing"), (.proofMalformed, "proof_malformed"),
            (.unsupportedCryptosuite, "unsupported_cryptosuite"), (.signatureInvalid, "signature_invalid"),
        ]
        for (kind, code) in kinds {
            let error = DataIntegrityError(kind, "why")
            XCTAssertEqual(error.code, code)
            XCTAssertEqual(error.description, "\(code): why")
        }
    }
}
