// RFC 8785 (JCS): the vectors byte for byte, then escaping, UTF-16 member order, ECMAScript
// number formatting, nesting and the admission check `isCanonical`.
import Foundation
import Records
import XCTest

final class CanonicalJSONTests: XCTestCase {
    private func canonical(_ value: JSONValue) -> String {
        String(decoding: CanonicalJSON.serialize(value), as: UTF8.self)
    }

    private func canonical(parsing text: String) throws -> String {
        canonical(try JSONParser.parse(Array(text.utf8), maxBytes: 1 << 20))
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    func testRFC8785Vectors() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/jcs.json")
        let file = try JSONParser.parse(Array(try Data(contentsOf: url)), maxBytes: 1 << 20)
        let cases = try XCTUnwrap(file["cases"]?.array)
        XCTAssertEqual(cases.count, 4)
        for vector in cases {
            let name = try XCTUnwrap(vector["name"]?.string)
            let input = try XCTUnwrap(vector["input"]?.string)
            let expectedHex = try XCTUnwrap(vector["canonical_utf8_hex"]?.string)
            let output = CanonicalJSON.serialize(try JSONParser.parse(Array(input.utf8), maxBytes: 1 << 20))
            XCTAssertEqual(hex(output), expectedHex, name)
            XCTAssertEqual(output, Array(try XCTUnwrap(vector["canonical"]?.string).utf8), name)
            XCTAssertTrue(CanonicalJSON.isCanonical(output), name)
            XCTAssertFalse(CanonicalJSON.isCanonical(Array(input.utf8)), name)
        }
    }

    func testEveryControlCharacterIsEscapedAsJSONStringifyDoes() {
        let expected = [
            "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
            "\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f",
            "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
            "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
        ]
        for (code, escape) in expected.enumerated() {
            let scalar = Unicode.Scalar(UInt8(code))
            XCTAssertEqual(canonical(.string(String(Character(scalar)))), "\"\(escape)\"", "U+\(code)")
        }
    }

    func testOtherCharactersAreEscapedOnlyWhereJCSSays() {
        let cases: [(String, String)] = [
            ("\"", "\"\\\"\""),
            ("\\", "\"\\\\\""),
            ("/", "\"/\""),
            ("</script>", "\"</script>\""),
            ("\u{7F}", "\"\u{7F}\""),
            ("\u{80}", "\"\u{80}\""),
            ("\u{2028}\u{2029}", "\"\u{2028}\u{2029}\""),
            ("\u{E9}", "\"\u{E9}\""),
            ("e\u{301}", "\"e\u{301}\""),
            ("\u{1F602}", "\"\u{1F602}\""),
            ("\u{FFFF}\u{10FFFF}", "\"\u{FFFF}\u{10FFFF}\""),
            ("a\tb\u{1}c\"d", "\"a\\tb\\u0001c\\\"d\""),
        ]
        for (input, expected) in cases {
            let output = CanonicalJSON.serialize(.string(input))
            XCTAssertEqual(output, Array(expected.utf8), input.debugDescription)
        }
        // U+2028 is raw UTF-8 (E2 80 A8), not \u2028.
        XCTAssertEqual(CanonicalJSON.serialize(.string("\u{2028}")), [0x22, 0xE2, 0x80, 0xA8, 0x22])
    }

    func testMembersSortByUTF16CodeUnitsNotByScalar() {
        // By scalar: "z" < U+E000 < U+F8FF < U+1F602 < U+10FFFF. By UTF-16: the supplementary
        // scalars are surrogates D83D…/DBFF…, which sort before the private-use E000 and F8FF.
        let object: JSONValue = .object([
            "\u{F8FF}": .integer(1), "\u{1F602}": .integer(2), "\u{E000}": .integer(3),
            "z": .integer(4), "\u{10FFFF}": .integer(5), "\u{FFFF}": .integer(6), "\u{D7FF}": .integer(7),
        ])
        XCTAssertEqual(canonical(object), "{\"z\":4,\"\u{D7FF}\":7,\"\u{1F602}\":2,\"\u{10FFFF}\":5,\"\u{E000}\":3,\"\u{F8FF}\":1,\"\u{FFFF}\":6}")
    }

    func testMemberOrderTable() {
        let ordered: [[String]] = [
            ["", "a", "ab", "b"],
            ["A", "B", "_", "a"],
            ["1", "10", "111", "2"],
            ["peach", "p\u{E9}ch\u{E9}", "p\u{EA}che", "sin"],
            ["\u{7F}", "\u{80}", "\u{FF}", "\u{100}", "\u{20AC}"],
            ["a\u{1F602}", "a\u{E000}"],
            ["\u{1F600}", "\u{1F602}", "\u{FB33}"],
        ]
        for expected in ordered {
            let object = JSONValue.object(JSONObject(uniqueKeysWithValues: expected.reversed().map { ($0, JSONValue.null) }))
            let text = "{" + expected.map { "\"\($0)\":null" }.joined(separator: ",") + "}"
            XCTAssertEqual(canonical(object), text, expected.debugDescription)
        }
    }

    func testDoublesAreWrittenAsECMAScriptNumberToString() {
        let cases: [(Double, String)] = [
            (0, "0"),
            (-0.0, "0"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1e-7, "1e-7"),
            (1e-6, "0.000001"),
            (123_456_789_012, "123456789012"),
            (0.1, "0.1"),
            (Double.leastNonzeroMagnitude, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (56.0, "56"),
            (-1.5, "-1.5"),
            (1.0000000000000002, "1.0000000000000002"),
            (123e-20, "1.23e-18"),
            (0.000001234, "0.000001234"),
            (12.5e-7, "0.00000125"),
            (1e23, "1e+23"),
            (4.35, "4.35"),
            (100, "100"),
            (-2.5e25, "-2.5e+25"),
            // RFC 8785 Appendix B, by IEEE 754 bit pattern.
            (Double(bitPattern: 0x0000_0000_0000_0000), "0"),
            (Double(bitPattern: 0x8000_0000_0000_0000), "0"),
            (Double(bitPattern: 0x0000_0000_0000_0001), "5e-324"),
            (Double(bitPattern: 0x8000_0000_0000_0001), "-5e-324"),
            (Double(bitPattern: 0x7FEF_FFFF_FFFF_FFFF), "1.7976931348623157e+308"),
            (Double(bitPattern: 0xFFEF_FFFF_FFFF_FFFF), "-1.7976931348623157e+308"),
            (Double(bitPattern: 0x4340_0000_0000_0000), "9007199254740992"),
            (Double(bitPattern: 0xC340_0000_0000_0000), "-9007199254740992"),
            (Double(bitPattern: 0x4430_0000_0000_0000), "295147905179352830000"),
            (Double(bitPattern: 0x44B5_2D02_C7E1_4AF5), "9.999999999999997e+22"),
            (Double(bitPattern: 0x44B5_2D02_C7E1_4AF6), "1e+23"),
            (Double(bitPattern: 0x44B5_2D02_C7E1_4AF7), "1.0000000000000001e+23"),
            (Double(bitPattern: 0x444B_1AE4_D6E2_EF4E), "999999999999999700000"),
            (Double(bitPattern: 0x444B_1AE4_D6E2_EF4F), "999999999999999900000"),
            (Double(bitPattern: 0x444B_1AE4_D6E2_EF50), "1e+21"),
            (Double(bitPattern: 0x3EB0_C6F7_A0B5_ED8C), "9.999999999999997e-7"),
            (Double(bitPattern: 0x3EB0_C6F7_A0B5_ED8D), "0.000001"),
            (Double(bitPattern: 0x41B3_DE43_5555_5553), "333333333.3333332"),
            (Double(bitPattern: 0x41B3_DE43_5555_5554), "333333333.33333325"),
            (Double(bitPattern: 0x41B3_DE43_5555_5555), "333333333.3333333"),
            (Double(bitPattern: 0x41B3_DE43_5555_5556), "333333333.3333334"),
            (Double(bitPattern: 0x41B3_DE43_5555_5557), "333333333.33333343"),
            (Double(bitPattern: 0xBECB_F647_612F_3696), "-0.0000033333333333333333"),
            (Double(bitPattern: 0x4314_3FF3_C1CB_0959), "1424953923781206.2"),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(canonical(.double(value)), expected, "bits \(String(value.bitPattern, radix: 16))")
        }
    }

    func testIntegersAreWrittenPlainly() {
        let cases: [(Int64, String)] = [
            (0, "0"), (-1, "-1"), (7, "7"), (123_456_789_012, "123456789012"),
            (9_007_199_254_740_991, "9007199254740991"),
            (.max, "9223372036854775807"), (.min, "-9223372036854775808"),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(canonical(.integer(value)), expected)
        }
    }

    func testParsedNumbersCanonicalise() throws {
        let cases: [(String, String)] = [
            ("56.0", "56"), ("-0", "0"), ("-0.0", "0"), ("1E2", "100"), ("0.1e1", "1"), ("1e21", "1e+21"),
            ("1e-7", "1e-7"), ("-1.5E-7", "-1.5e-7"), ("0.0000010", "0.000001"),
            ("12345678901234567890", "12345678901234567000"), ("1e-400", "0"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(try canonical(parsing: input), expected, input)
        }
    }

    func testNestedStructures() throws {
        XCTAssertEqual(try canonical(parsing: "{\"b\":[{\"d\":1,\"c\":[true,false,null]}],\"a\":{},\"c\":[]}"),
                       "{\"a\":{},\"b\":[{\"c\":[true,false,null],\"d\":1}],\"c\":[]}")
        XCTAssertEqual(try canonical(parsing: " [ { \"y\" : { \"b\" : 2 , \"a\" : 1 } } , [ [ ] ] ] "),
                       "[{\"y\":{\"a\":1,\"b\":2}},[[]]]")
        let deep = String(repeating: "{\"k\":[", count: 32) + "0" + String(repeating: "]}", count: 32)
        XCTAssertEqual(try canonical(parsing: deep), deep)
        XCTAssertTrue(CanonicalJSON.isCanonical(Array(deep.utf8)))
    }

    func testIsCanonical() {
        let cases: [(String, Bool)] = [
            ("{\"a\":1,\"b\":2}", true),
            ("{\"b\":2,\"a\":1}", false),
            ("{\"a\": 1}", false),
            (" {\"a\":1}", false),
            ("{\"a\":1}\n", false),
            ("[1, 2]", false),
            ("\"a/b\"", true),
            ("\"a\\/b\"", false),
            ("\"\\u001f\"", true),
            ("\"\\u001F\"", false),
            ("\"\\u0041\"", false),
            ("\"\\u00e9\"", false),
            ("\"\u{E9}\"", true),
            ("\"\\n\"", true),
            ("\"\\u000a\"", false),
            ("\"\\u2028\"", false),
            ("1", true),
            ("1.0", false),
            ("1e2", false),
            ("-0", false),
            ("0", true),
            ("1e+21", true),
            ("1e21", false),
            ("{\"a\":1,\"a\":1}", false),
            ("{", false),
            ("", false),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(CanonicalJSON.isCanonical(Array(text.utf8)), expected, text)
        }
    }

    func testSerializeIntoAppendsToABuffer() {
        var buffer: [UInt8] = Array("x=".utf8)
        CanonicalJSON.serialize(.object(["b": .integer(1), "a": .array([.string("\n")])]), into: &buffer)
        XCTAssertEqual(String(decoding: buffer, as: UTF8.self), "x={\"a\":[\"\\n\"],\"b\":1}")
    }
}
