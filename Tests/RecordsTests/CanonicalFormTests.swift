// The parser's own judgement of canonical form (used on admission instead of serialising every
// record) agrees with the serialiser's, on random documents and on every way of writing them
// non-canonically; and removing the proof member from canonical bytes is the same as
// serialising the document without it.
import Records
import XCTest

final class CanonicalFormTests: XCTestCase {
    /// SplitMix64: a small seeded generator, so failures replay.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// Characters that exercise every JCS string rule: escapes, '/', controls, non-ASCII, astral.
    static let alphabet: [String] = ["a", "b", "Z", "/", "\"", "\\", "\n", "\t", "\u{1}", "\u{1F}", "\u{7F}", "é", "中", "\u{2028}", "😀", "\u{E000}", "A"]

    func randomString(_ r: inout Random) -> String {
        (0..<r.below(6)).map { _ in Self.alphabet[r.below(Self.alphabet.count)] }.joined()
    }

    func randomValue(_ r: inout Random, depth: Int) -> JSONValue {
        switch r.below(depth > 2 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(r.below(2) == 0)
        case 2: return .integer(Int64(bitPattern: r.next()) >> r.below(64))
        case 3: return .string(randomString(&r))
        case 4: return r.below(4) == 0 ? .double(Double(r.below(1000)) / 8) : .integer(Int64(r.below(3)) - 1)
        case 5: return .array((0..<r.below(4)).map { _ in randomValue(&r, depth: depth + 1) })
        default:
            var members: JSONObject = [:]
            for _ in 0..<r.below(5) { members[randomString(&r)] = randomValue(&r, depth: depth + 1) }
            return .object(members)
        }
    }

    /// An object written with its members in `order` (so possibly out of JCS order).
    func objectText(_ members: [(String, JSONValue)]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (k, (key, value)) in members.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out += CanonicalJSON.serialize(.string(key)) + [UInt8(ascii: ":")] + CanonicalJSON.serialize(value)
        }
        return out + [UInt8(ascii: "}")]
    }

    /// Ways to write the same document that are not (or may not be) canonical.
    func variants(of canonical: [UInt8], _ r: inout Random) -> [[UInt8]] {
        let text = String(decoding: canonical, as: UTF8.self)
        var out: [[UInt8]] = [canonical]
        let replacements: [(String, String)] = [
            ("/", "\\/"), ("A", "\\u0041"), ("\\n", "\\u000a"), ("\\u001f", "\\u001F"), ("\\t", "\\u0009"),
            (":", " :"), (",", ", "), ("{", "{\n"), ("]", " ]"), (":0", ":-0"), (":1", ":1.0"), (":2", ":2e0"),
            ("é", "\\u00e9"), ("\u{7F}", "\\u007f"), ("\\u0001", "\\u0001"),
        ]
        for (from, to) in replacements where text.contains(from) {
            out.append(Array(text.replacingOccurrences(of: from, with: to).utf8))
        }
        let inserted = r.below(canonical.count + 1)
        out.append(Array(canonical[..<inserted]) + [0x20] + Array(canonical[inserted...]))
        return out
    }

    func testTheParsersJudgementOfCanonicalFormIsTheSerialisers() throws {
        var r = Random(state: 20261129)
        var checked = 0, canonicalSeen = 0
        for _ in 0..<3000 {
            let value = randomValue(&r, depth: 0)
            let canonical = CanonicalJSON.serialize(value)
            var texts = variants(of: canonical, &r)
            if case let .object(members) = value, members.count > 1 {
                var generator = SeededGenerator(r: r)
                texts.append(objectText(members.shuffled(using: &generator).map { ($0.key, $0.value) }))
                texts.append(objectText(members.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))  // code point, not UTF-16, order
            }
            for text in texts {
                guard let parsed = try? JSONParser.parseReportingForm(text, maxBytes: 1 << 20) else { continue }
                let expected = CanonicalJSON.isCanonical(text)
                XCTAssertEqual(parsed.isCanonical, expected, String(decoding: text, as: UTF8.self))
                checked += 1
                if expected { canonicalSeen += 1 }
            }
        }
        XCTAssertGreaterThan(checked, 8000)
        XCTAssertGreaterThan(canonicalSeen, 3000, "canonical texts are among them")
        XCTAssertGreaterThan(checked - canonicalSeen, 5000, "and many non-canonical ones")
    }

    func testTheRFC8785VectorsAreJudgedAlike() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Vectors/jcs.json")
        let file = try JSONParser.parse(Array(try Data(contentsOf: url)), maxBytes: 1 << 20)
        for vector in try XCTUnwrap(file["cases"]?.array) {
            let input = Array(try XCTUnwrap(vector["input"]?.string).utf8)
            let canonical = Array(try XCTUnwrap(vector["canonical"]?.string).utf8)
            XCTAssertFalse(try JSONParser.parseReportingForm(input, maxBytes: 1 << 20).isCanonical)
            XCTAssertTrue(try JSONParser.parseReportingForm(canonical, maxBytes: 1 << 20).isCanonical)
        }
    }

    func testRemovingTheProofMemberIsSerialisingWithoutIt() throws {
        var r = Random(state: 7)
        for n in 0..<2000 {
            guard case var .object(members) = randomValue(&r, depth: 1) else { continue }
            members["proof"] = randomValue(&r, depth: 1)
            if n % 3 == 0 { members = members.filter { $0.key == "proof" || $0.key > "proof" } }  // proof first
            if n % 5 == 0 { members = ["proof": members["proof"]!] }                           // proof alone
            let bytes = CanonicalJSON.serialize(.object(members))
            let parsed = try JSONParser.parseReportingForm(bytes, maxBytes: 1 << 20)
            XCTAssertEqual(parsed.removingMember("proof", from: bytes), CanonicalJSON.serialize(.object(members.filter { $0.key != "proof" })),
                           String(decoding: bytes, as: UTF8.self))
        }
        let none = Array("{\"a\":1}".utf8)
        XCTAssertNil(try JSONParser.parseReportingForm(none, maxBytes: 64).removingMember("proof", from: none))
    }
}

/// Lets the seeded generator drive `shuffled(using:)`.
struct SeededGenerator: RandomNumberGenerator {
    var r: CanonicalFormTests.Random
    mutating func next() -> UInt64 { r.next() }
}
