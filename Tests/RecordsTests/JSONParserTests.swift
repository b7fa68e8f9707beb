// The strict RFC 8259 parser: what it accepts, and every refusal with its stable code and offset.
import Records
import XCTest

final class JSONParserTests: XCTestCase {
    private func parse(_ text: String, maxBytes: Int = 1 << 20) throws -> JSONValue {
        try JSONParser.parse(Array(text.utf8), maxBytes: maxBytes)
    }

    private func refusal(_ bytes: [UInt8], maxBytes: Int = 1 << 20) -> JSONError? {
        do {
            _ = try JSONParser.parse(bytes, maxBytes: maxBytes)
            return nil
        } catch {
            return error
        }
    }

    func testAcceptsEveryKindOfValue() throws {
        let cases: [(text: String, value: JSONValue)] = [
            ("null", .null),
            ("true", .bool(true)),
            ("false", .bool(false)),
            ("0", .integer(0)),
            ("-0", .integer(0)),
            ("42", .integer(42)),
            ("9223372036854775807", .integer(.max)),
            ("-9223372036854775808", .integer(.min)),
            ("9223372036854775808", .double(9_223_372_036_854_775_808)),
            ("-9223372036854775809", .double(-9_223_372_036_854_775_808)),
            ("1.5", .double(1.5)),
            ("1E2", .double(100)),
            ("1e+2", .double(100)),
            ("1e-2", .double(0.01)),
            ("-0.0", .double(-0.0)),
            ("1e-400", .double(0)),
            ("\"\"", .string("")),
            ("\"a\\\"b\"", .string("a\"b")),
            ("\"\\\\ \\/ \\b \\f \\n \\r \\t\"", .string("\\ / \u{8} \u{C} \n \r \t")),
            ("\"\\u00e9\\u00E9\"", .string("\u{E9}\u{E9}")),
            ("\"\\ud83d\\ude02\"", .string("\u{1F602}")),
            ("\"\\u0000\"", .string("\u{0}")),
            ("\"\u{7F}\u{80}\u{20AC}\u{1F602}\"", .string("\u{7F}\u{80}\u{20AC}\u{1F602}")),
            (" \t\r\n[ 1 , [ ] , { } ] \n", .array([.integer(1), .array([]), .object([:])])),
            ("{\"a\":{\"b\":[null]},\"c\":\"d\"}", .object(["a": .object(["b": .array([.null])]), "c": .string("d")])),
        ]
        for (text, value) in cases {
            XCTAssertEqual(try parse(text), value, text)
        }
    }

    func testIntegersAndDoublesAreToldApart() throws {
        XCTAssertEqual(try parse("123456789012").integer, 123_456_789_012)
        XCTAssertNil(try parse("1.0").integer)
        XCTAssertNil(try parse("1e0").integer)
        XCTAssertNil(try parse("9223372036854775808").integer)
    }

    func testStringsAreNotNormalised() throws {
        // U+1E0D U+0307 and e U+0301 stay as written (RFC 8785 §3.2.2.2 forbids normalising).
        XCTAssertEqual(try parse("\"\\u1e0d\\u0307\"").string.map { Array($0.utf8) }, [0xE1, 0xB8, 0x8D, 0xCC, 0x87])
        XCTAssertEqual(try parse("\"e\u{301}\"").string.map { Array($0.utf8) }, [0x65, 0xCC, 0x81])
    }

    func testRefusalsHaveStableCodesAndOffsets() {
        func b(_ text: String) -> [UInt8] { Array(text.utf8) }
        let deepArrays = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        let deepObjects = String(repeating: "{\"a\":", count: 65) + "1" + String(repeating: "}", count: 65)
        let cases: [(name: String, bytes: [UInt8], code: String, offset: Int)] = [
            ("empty document", b(""), "invalid_json", 0),
            ("whitespace only", b("  "), "invalid_json", 2),
            ("unclosed object", b("{"), "invalid_json", 1),
            ("unclosed array", b("[1"), "invalid_json", 2),
            ("trailing comma in array", b("[1,]"), "invalid_json", 3),
            ("trailing comma in object", b("{\"a\":1,}"), "invalid_json", 7),
            ("leading zero", b("01"), "invalid_json", 0),
            ("negative leading zero", b("-01"), "invalid_json", 1),
            ("lone minus", b("-"), "invalid_json", 1),
            ("fraction without digits", b("1."), "invalid_json", 2),
            ("fraction without integer", b(".5"), "invalid_json", 0),
            ("exponent without digits", b("1e"), "invalid_json", 2),
            ("plus sign", b("+1"), "invalid_json", 0),
            ("hexadecimal number", b("0x10"), "invalid_json", 1),
            ("NaN", b("NaN"), "invalid_json", 0),
            ("Infinity", b("-Infinity"), "invalid_json", 1),
            ("number beyond a double", b("[1e400]"), "invalid_json", 1),
            ("trailing garbage", b("{} x"), "invalid_json", 3),
            ("two values", b("1 2"), "invalid_json", 2),
            ("truncated literal", b("tru"), "invalid_json", 0),
            ("literal in the wrong case", b("True"), "invalid_json", 0),
            ("missing colon", b("{\"a\" 1}"), "invalid_json", 5),
            ("number as member name", b("{1:2}"), "invalid_json", 1),
            ("single quotes", b("'a'"), "invalid_json", 0),
            ("unknown escape", b("\"\\x\""), "invalid_json", 1),
            ("short unicode escape", b("\"\\u12\""), "invalid_json", 3),
            ("lone high surrogate", b("\"\\ud800\""), "invalid_json", 1),
            ("lone low surrogate", b("\"\\udc00\""), "invalid_json", 1),
            ("high surrogate before a non-surrogate", b("\"\\ud800\\u0041\""), "invalid_json", 1),
            ("surrogates in the wrong order", b("\"x\\ude02\\ud83d\""), "invalid_json", 2),
            ("raw tab in a string", b("\"a\tb\""), "invalid_json", 2),
            ("raw newline in a string", b("\"a\nb\""), "invalid_json", 2),
            ("raw NUL in a string", [0x22, 0x00, 0x22], "invalid_json", 1),
            ("raw control after an escape", b("\"\\n\u{1F}\""), "invalid_json", 3),
            ("unterminated string", b("[\"abc"), "invalid_json", 1),
            ("overlong UTF-8", [0x22, 0xC0, 0xAF, 0x22], "invalid_json", 1),
            ("UTF-8 encoded surrogate", [0x22, 0xED, 0xA0, 0x80, 0x22], "invalid_json", 1),
            ("UTF-8 beyond U+10FFFF", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], "invalid_json", 1),
            ("lone continuation byte", [0x22, 0x80, 0x22], "invalid_json", 1),
            ("truncated UTF-8 sequence", [0x22, 0xE2, 0x82, 0x22], "invalid_json", 1),
            ("UTF-8 cut by the end of input", [0x22, 0xF0, 0x9F], "invalid_json", 1),
            ("invalid byte outside a string", [0xFF], "invalid_json", 0),
            ("byte-order mark", [0xEF, 0xBB, 0xBF, 0x31], "invalid_json", 0),
            ("duplicate member", b("{\"a\":1,\"a\":2}"), "duplicate_key", 7),
            ("duplicate member after unescaping", b("{\"a\":1,\"\\u0061\":2}"), "duplicate_key", 7),
            ("nested duplicate member", b("[{\"k\":{},\"k\":[]}]"), "duplicate_key", 9),
            ("canonically equivalent members", b("{\"\u{E9}\":1,\"e\u{301}\":2}"), "duplicate_key", 8),
            ("65 nested arrays", b(deepArrays), "too_deep", 64),
            ("65 nested objects", b(deepObjects), "too_deep", 320),
            ("larger than the limit", b("[1,2,3]"), "too_large", 6),
        ]
        for (name, bytes, code, offset) in cases {
            guard let error = refusal(bytes, maxBytes: name == "larger than the limit" ? 6 : 1 << 20) else {
                XCTFail("\(name): accepted")
                continue
            }
            XCTAssertEqual(error.code, code, "\(name): \(error)")
            XCTAssertEqual(error.offset, offset, "\(name): \(error)")
            XCTAssertTrue(error.description.hasPrefix("\(code) at byte \(offset): "), "\(name): \(error)")
            XCTAssertFalse(error.description.contains("\n"), name)
        }
    }

    func testNestingUpToTheLimitIsAccepted() throws {
        let arrays = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        XCTAssertNoThrow(try parse(arrays))
        let objects = String(repeating: "{\"a\":", count: 64) + "1" + String(repeating: "}", count: 64)
        XCTAssertNoThrow(try parse(objects))
        XCTAssertThrowsError(try JSONParser.parse(Array(arrays.utf8), maxBytes: 1000, maxDepth: 63)) { error in
            XCTAssertEqual((error as? JSONError)?.code, "too_deep")
        }
    }

    func testSizeLimitIsInclusive() throws {
        XCTAssertEqual(try parse("[1,2,3]", maxBytes: 7), .array([.integer(1), .integer(2), .integer(3)]))
        XCTAssertEqual(refusal(Array("[1,2,3]".utf8), maxBytes: 6)?.kind, .tooLarge)
    }

    func testErrorCodesAreStable() {
        let kinds: [(JSONError.Kind, String)] = [
            (.invalidJSON, "invalid_json"), (.duplicateKey, "duplicate_key"), (.tooDeep, "too_deep"), (.tooLarge, "too_large"),
        ]
        for (kind, code) in kinds {
            XCTAssertEqual(JSONError(kind, offset: 0, reason: "x").code, code)
        }
    }

    /// Past 16 members the parser finds repeated names with a set instead of a search: both ways
    /// refuse a repeat (also a canonically equivalent one) at its offset, and accept distinct names.
    func testLargeObjectsRefuseRepeatedNamesToo() throws {
        let names = (0..<40).map { "k\($0)" }
        let distinct = "{" + names.map { "\"\($0)\":1" }.joined(separator: ",") + "}"
        XCTAssertEqual(try parse(distinct).object?.count, 40)
        for repeatAt in [3, 17, 39] {
            let members = names.map { "\"\($0)\":1" } + ["\"\(names[repeatAt])\":2"]
            let text = "{" + members.joined(separator: ",") + "}"
            let error = refusal(Array(text.utf8))
            XCTAssertEqual(error?.code, "duplicate_key", "repeat of member \(repeatAt)")
            XCTAssertEqual(error?.offset, text.utf8.count - "\"\(names[repeatAt])\":2}".utf8.count)
        }
        let equivalent = "{" + names.map { "\"\($0)\":1" }.joined(separator: ",") + ",\"\u{E9}\":1,\"e\u{301}\":2}"
        XCTAssertEqual(refusal(Array(equivalent.utf8))?.code, "duplicate_key")
    }

    /// Objects are unordered: the same members in another order are equal and hash alike.
    func testObjectsCompareAndHashWithoutOrder() throws {
        let a = try parse("{\"x\":1,\"y\":[true,{\"p\":\"q\",\"r\":null}]}")
        let b = try parse("{\"y\":[true,{\"r\":null,\"p\":\"q\"}],\"x\":1}")
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.hashValue, b.hashValue)
        XCTAssertNotEqual(a, try parse("{\"x\":1,\"y\":[true,{\"p\":\"q\"}]}"))
        XCTAssertNotEqual(a, try parse("{\"x\":2,\"y\":[true,{\"p\":\"q\",\"r\":null}]}"))
        var edited = a.object!
        edited["x"] = nil
        XCTAssertEqual(edited.keys, ["y"])
        edited["z"] = .integer(3)
        XCTAssertEqual(edited["z"], .integer(3))
        XCTAssertEqual(CanonicalJSON.serialize(.object(edited)), Array("{\"y\":[true,{\"p\":\"q\",\"r\":null}],\"z\":3}".utf8))
    }
}
