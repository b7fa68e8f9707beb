// Shared test helpers: the signed-note vectors from Tests/Vectors, deterministic keys, and an
// assertion that an expression throws a NoteError with a given stable code.
import CinnabarCrypto
import Foundation
import SignedNote
import XCTest

/// Tests/Vectors/signed-note.json.
struct SignedNoteVectors: Decodable {
    struct Signing: Decodable {
        let skey: String
        let vkey: String
        let text: String
        let signatureLine: String

        enum CodingKeys: String, CodingKey {
            case skey, vkey, text
            case signatureLine = "signature_line"
        }
    }

    struct Verifying: Decodable {
        let vkey: String
        let note: String
    }

    let signing: [Signing]
    let verifying: [Verifying]

    static func load(file: StaticString = #filePath) throws -> SignedNoteVectors {
        // …/Tests/SignedNoteTests/X.swift → …/Tests/Vectors/signed-note.json
        let url = URL(fileURLWithPath: "\(file)").deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/signed-note.json")
        return try JSONDecoder().decode(SignedNoteVectors.self, from: Data(contentsOf: url))
    }
}

/// A signing key whose seed is derived from its name, so tests are reproducible.
func testKey(_ name: String) -> NoteSigningKey {
    do {
        return try NoteSigningKey(name: name, seed: SHA256.hash("test seed for \(name)").bytes)
    } catch {
        preconditionFailure("test key \(name): \(error)")
    }
}

/// An error with a stable machine code.
protocol CodedError: Error {
    var code: String { get }
}

extension NoteError: CodedError {}
extension WitnessRefusal: CodedError {}

/// Asserts that `expression` throws an `E` whose code is `code`; returns the error.
@discardableResult
func assertError<E: CodedError, T>(
    _ type: E.Type, _ code: String, _ expression: () throws -> T, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) -> E? {
    do {
        let value = try expression()
        XCTFail("expected \(code), got a value: \(value) \(message)", file: file, line: line)
    } catch let error as E {
        XCTAssertEqual(error.code, code, "\(error) \(message)", file: file, line: line)
        return error
    } catch {
        XCTFail("expected \(E.self) \(code), got \(error) \(message)", file: file, line: line)
    }
    return nil
}

/// Asserts that `expression` throws a `NoteError` whose code is `code`; returns the error.
@discardableResult
func assertNoteError<T>(
    _ code: String, _ expression: @autoclosure () throws -> T, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) -> NoteError? {
    assertError(NoteError.self, code, expression, message, file: file, line: line)
}

/// A note with one signature line replaced by `transform` of its decoded bytes.
func replacingSignature(
    in note: Note, at index: Int, _ transform: (NoteSignature) throws -> NoteSignature
) throws -> Note {
    var lines = note.signatures
    lines[index] = try transform(lines[index])
    return try Note(text: note.text, signatures: lines)
}
