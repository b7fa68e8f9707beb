// Verification codes (domain.md §6.6): the check character catches every single substitution and
// every adjacent or jump transposition, typed forms normalise to one code, each rejection has its
// stable code, and generation is uniform over the alphabet.
import Records
import XCTest

/// A deterministic byte source for `VerificationCode.generate(kind:random:)`: SplitMix64 (Steele,
/// Lea and Flood, OOPSLA 2014), 32 bytes per call.
struct SeededCodeBytes {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for _ in 0..<4 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            withUnsafeBytes(of: z.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }
}

/// `count` codes from a seeded source, cycling through the kinds.
func seededVerificationCodes(_ count: Int, seed: UInt64) -> [VerificationCode] {
    var source = SeededCodeBytes(seed: seed)
    return (0..<count).map { i in
        VerificationCode.generate(kind: CodeKind.allCases[i % CodeKind.allCases.count]) { source.next() }
    }
}

/// Asserts that parsing `input` throws `expected`; returns the error.
@discardableResult
func assertVerificationCodeError(
    _ input: String, _ expected: VerificationCodeError, file: StaticString = #filePath, line: UInt = #line
) -> VerificationCodeError? {
    do {
        let code = try VerificationCode(parsing: input)
        XCTFail("\(input.debugDescription) parsed as \(code.value), expected \(expected.code)", file: file, line: line)
    } catch {
        XCTAssertEqual(error, expected, "input \(input.debugDescription)", file: file, line: line)
        return error
    }
    return nil
}

final class VerificationCodeTests: XCTestCase {
    /// The codes of the generation tests: 2,000 from a fixed seed, all eight kinds.
    private static let generated = seededVerificationCodes(2_000, seed: 0x6369_6E6E_6162_6172)
    /// The codes whose every mutation is tried.
    private static let mutationSample = generated.prefix(500)

    /// The symbols of a code as ASCII bytes.
    private func symbols(_ code: VerificationCode) -> [UInt8] { Array(code.value.utf8) }

    func testDomainExampleHasAValidCheckCharacter() throws {
        let code = try VerificationCode(parsing: "NK7Q-3HXD-9PRT-WM45")
        XCTAssertEqual(code.value, "NK7Q3HXD9PRTWM45")
        XCTAssertEqual(code.grouped, "NK7Q-3HXD-9PRT-WM45")
        XCTAssertEqual(code.kind, .notarial)
        // By hand: values N=22 K=19 7 Q=24 3 H=17 X=29 D=13 9 P=23 R=25 T=26 W=28 M=21 4 and
        // weights 3^i mod 31 give Σ vᵢwᵢ = 4552 = 146 · 31 + 26, so c = 31 − 26 = 5.
        let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10]
        let values = [22, 19, 7, 24, 3, 17, 29, 13, 9, 23, 25, 26, 28, 21, 4]
        XCTAssertEqual(zip(values, weights).map(*).reduce(0, +), 4552)
        XCTAssertEqual(GB32100.checkCharacter(for: "NK7Q3HXD9PRTWM4"), "5")
        for other in GB32100.alphabet where other != "5" {
            assertVerificationCodeError("NK7Q3HXD9PRTWM4\(other)", .badCheckCharacter)
        }
    }

    func testGeneratedCodesParseBack() throws {
        let codes = Self.generated
        XCTAssertEqual(codes.count, 2_000)
        XCTAssertEqual(Set(codes).count, codes.count, "69 bits: no two codes alike")
        for (i, code) in codes.enumerated() {
            XCTAssertEqual(code.value.count, VerificationCode.length)
            XCTAssertEqual(code.kind, CodeKind.allCases[i % CodeKind.allCases.count])
            XCTAssertEqual(code.value.first, code.kind.rawValue, "the kind letter leads")
            XCTAssertTrue(code.value.allSatisfy { GB32100.value(of: $0) != nil })
            XCTAssertEqual(try VerificationCode(parsing: code.value), code)
            XCTAssertEqual(try VerificationCode(parsing: code.grouped), code)
            XCTAssertEqual(try VerificationCode(parsing: code.value.lowercased()), code)
        }
    }

    func testEverySingleSubstitutionIsRejected() {
        var tried = 0
        var misses: [String] = []
        var wrongReasons: [String] = []
        for code in Self.mutationSample {
            let original = symbols(code)
            for position in 0..<VerificationCode.length {
                for symbol in GB32100.alphabet.utf8 where symbol != original[position] {
                    var mutated = original
                    mutated[position] = symbol
                    let text = String(decoding: mutated, as: UTF8.self)
                    tried += 1
                    do {
                        _ = try VerificationCode(parsing: text)
                        misses.append(text)
                    } catch {
                        // A new first letter that is no kind is caught before the check character.
                        let isKind = CodeKind(rawValue: Character(Unicode.Scalar(symbol))) != nil
                        let expected = position == 0 && !isKind ? "code_unknown_kind" : "code_bad_check_character"
                        if error.code != expected { wrongReasons.append("\(text): \(error.code)") }
                    }
                }
            }
        }
        XCTAssertEqual(tried, 500 * 16 * 30)
        XCTAssertEqual(misses.count, 0, "substitutions accepted: \(misses.prefix(5))")
        XCTAssertEqual(wrongReasons, [])
    }

    func testEveryAdjacentAndJumpTranspositionIsRejected() {
        for gap in [1, 2] {
            var tried = 0
            var misses: [String] = []
            for code in Self.mutationSample {
                let original = symbols(code)
                for i in 0..<(VerificationCode.length - gap) where original[i] != original[i + gap] {
                    var swapped = original
                    swapped.swapAt(i, i + gap)
                    let text = String(decoding: swapped, as: UTF8.self)
                    tried += 1
                    if (try? VerificationCode(parsing: text)) != nil { misses.append(text) }
                }
            }
            // 500 codes × (16 − gap) pairs, less the few pairs of equal symbols (1 in 31).
            XCTAssertGreaterThan(tried, 500 * (16 - gap) * 29 / 31, "gap \(gap)")
            XCTAssertEqual(misses.count, 0, "gap \(gap) transpositions accepted: \(misses.prefix(5))")
        }
    }

    func testTypedFormsNormaliseToTheSameCode() throws {
        let example = "NK7Q3HXD9PRTWM45"
        // A code with 0s and 1s, to read O as 0 and I as 1.
        let prefix = "N0K1Q3HXD9PRT01"
        let digits = prefix + String(try XCTUnwrap(GB32100.checkCharacter(for: prefix)))
        let table: [(input: String, value: String)] = [
            ("NK7Q3HXD9PRTWM45", example),
            ("nk7q3hxd9prtwm45", example),
            ("Nk7Q-3hXd-9PrT-wM45", example),
            ("  NK7Q 3HXD 9PRT WM45  ", example),
            ("\tNK7Q3HXD9PRTWM45\r\n", example),
            ("NK7Q-3HXD-9PRT-WM45", example),
            ("NK7Q–3HXD–9PRT–WM45", example),  // en dash
            ("NK7Q—3HXD—9PRT—WM45", example),  // em dash
            ("NK7Q‐3HXD‑9PRT−WM45", example),  // hyphen, non-breaking hyphen, minus sign
            ("ＮＫ７Ｑ－３ＨＸＤ－９ＰＲＴ－ＷＭ４５", example),  // full-width forms
            ("ｎｋ７ｑ　３ｈｘｄ　９ｐｒｔ　ｗｍ４５", example),  // full-width lower case, ideographic space
            ("NK7Q\u{00A0}3HXD\u{200B}9PRT\u{FEFF}WM45", example),  // no-break space, zero-width space, BOM
            ("nk7q–3hxd ９prt-ｗm45", example),
            (digits, digits),
            ("NOK1Q3HXD9PRT01" + digits.suffix(1), digits),
            ("N0KIQ3HXD9PRT0I" + digits.suffix(1), digits),
            ("no-kiq3-hxd9-prtoi" + digits.suffix(1).lowercased(), digits),
            ("ＮＯＫＩＱ３ＨＸＤ９ＰＲＴＯＩ" + digits.suffix(1), digits),
        ]
        for row in table {
            XCTAssertEqual(try VerificationCode(parsing: row.input).value, row.value, row.input.debugDescription)
        }
    }

    func testEachRejectionHasItsStableCode() {
        let table: [(input: String, error: VerificationCodeError, code: String, suggestion: Character?)] = [
            ("NK7Q-3HXD-9PRT-WM4S", .badCharacter("S", position: 16), "code_bad_character", "5"),
            ("NK7V-3HXD-9PRT-WM45", .badCharacter("V", position: 4), "code_bad_character", "U"),
            ("zk7q3hxd9prtwm45", .badCharacter("Z", position: 1), "code_bad_character", "2"),
            ("ＮＫ７Ｑ３ＨＸＤ９ＰＲＴＷＭ４Ｓ", .badCharacter("S", position: 16), "code_bad_character", "5"),
            ("NK7Q.3HXD.9PRT.WM45", .badCharacter(".", position: 5), "code_bad_character", nil),
            ("NK7Q_3HXD_9PRT_WM45", .badCharacter("_", position: 5), "code_bad_character", nil),
            // A Cyrillic А looks like A.
            ("NK7Q3HXD9PRTWM4\u{0410}", .badCharacter("\u{0410}", position: 16), "code_bad_character", nil),
            ("验证码NK7Q3HXD9PRTWM45", .badCharacter("验", position: 1), "code_bad_character", nil),
            ("NK7Q3HXD9PRTWM4\u{0}", .badCharacter("\u{0}", position: 16), "code_bad_character", nil),
            ("", .wrongLength(0), "code_wrong_length", nil),
            (" - – ", .wrongLength(0), "code_wrong_length", nil),
            ("NK7Q3HXD9PRTWM4", .wrongLength(15), "code_wrong_length", nil),
            ("NK7Q-3HXD-9PRT-WM45-5", .wrongLength(17), "code_wrong_length", nil),
            ("BK7Q3HXD9PRTWM45", .unknownKind("B"), "code_unknown_kind", nil),
            ("0K7Q3HXD9PRTWM45", .unknownKind("0"), "code_unknown_kind", nil),
            ("OK7Q3HXD9PRTWM45", .unknownKind("0"), "code_unknown_kind", nil),
            ("NK7Q3HXD9PRTWM46", .badCheckCharacter, "code_bad_check_character", nil),
            ("NK7Q3HXD9PRTMW45", .badCheckCharacter, "code_bad_check_character", nil),
        ]
        for row in table {
            guard let error = assertVerificationCodeError(row.input, row.error) else { continue }
            XCTAssertEqual(error.code, row.code)
            XCTAssertEqual(error.suggestion, row.suggestion)
            XCTAssertFalse(error.description.isEmpty)
            XCTAssertFalse(error.description.contains("\n"), "one line: \(error)")
            if let suggestion = row.suggestion {
                XCTAssertTrue(error.description.hasSuffix("did you mean \(suggestion)?"), "\(error)")
            }
        }
        XCTAssertTrue(VerificationCodeError.badCharacter("\u{0410}", position: 16).description.contains("U+0410"))
        XCTAssertTrue(VerificationCodeError.badCharacter("\u{0}", position: 16).description.contains("U+0000"))
        XCTAssertTrue(VerificationCodeError.unknownKind("B").description.contains("N, F, A, Y, L, E, P, K"))
    }

    func testRandomSymbolsAreUniform() {
        // χ² with 30 degrees of freedom: mean 30, P(χ² > 80) ≈ 2·10⁻⁶. With a fixed seed the test
        // is deterministic; the bound is loose, yet `byte % 31` without rejection exceeds it.
        let bound = 80.0
        let codes = seededVerificationCodes(4_000, seed: 42)
        var all = [Int](repeating: 0, count: 31)
        var byPosition = [[Int]](repeating: [Int](repeating: 0, count: 31), count: VerificationCode.length)
        for code in codes {
            for (position, symbol) in code.value.enumerated() {
                let value = GB32100.value(of: symbol)!
                byPosition[position][value] += 1
                if (1...VerificationCode.randomSymbolCount).contains(position) { all[value] += 1 }
            }
        }
        XCTAssertEqual(all.reduce(0, +), 4_000 * 14)
        XCTAssertLessThan(chiSquare(all), bound, "all random symbols: \(all)")
        for position in 1...VerificationCode.length - 1 {
            XCTAssertLessThan(chiSquare(byPosition[position]), bound, "position \(position): \(byPosition[position])")
        }
        // The same number of bytes mapped with modulo bias (values 0–7 get 9 bytes of 256, the
        // rest 8) fails the same bound: the test can tell.
        var source = SeededCodeBytes(seed: 42)
        var biased = [Int](repeating: 0, count: 31)
        var drawn = 0
        while drawn < 4_000 * 14 {
            for byte in source.next() where drawn < 4_000 * 14 {
                biased[Int(byte) % 31] += 1
                drawn += 1
            }
        }
        XCTAssertGreaterThan(chiSquare(biased), bound)
    }

    func testBytesFrom248UpAreSkipped() throws {
        // 248 = 8 · 31: bytes 0…247 map to value byte % 31, bytes 248…255 are rejected.
        var calls = 0
        let code = VerificationCode.generate(kind: .legalCase) {
            calls += 1
            return calls == 1 ? [248, 255, 0, 31, 62, 247, 30, 249] : Array(10...18) + [250, 5]
        }
        XCTAssertEqual(calls, 2, "5 symbols from the first call, 9 from the second, the rest unused")
        // Values 0 0 0 30 30, then 10…18; check character by hand: Σ vᵢ·3^i ≡ 29, c = 2.
        XCTAssertEqual(code.value, "K000YYABCDEFGHJ2")
        XCTAssertEqual(code.kind, .legalCase)
        XCTAssertEqual(try VerificationCode(parsing: code.value), code)
    }

    func testKindLettersAndNames() throws {
        XCTAssertEqual(String(CodeKind.allCases.map(\.rawValue)), "NFAYLEPK")
        XCTAssertEqual(CodeKind.allCases.map(\.englishName).count, Set(CodeKind.allCases.map(\.englishName)).count)
        var source = SeededCodeBytes(seed: 7)
        for kind in CodeKind.allCases {
            XCTAssertNotNil(GB32100.value(of: kind.rawValue), "\(kind) letter is in the alphabet")
            XCTAssertFalse(kind.englishName.isEmpty)
            XCTAssertFalse(kind.chineseName.isEmpty)
            let code = VerificationCode.generate(kind: kind) { source.next() }
            XCTAssertEqual(code.kind, kind)
            XCTAssertEqual(try VerificationCode(parsing: code.grouped).kind, kind)
        }
        XCTAssertEqual(CodeKind.legalCase.chineseName, "案件")
        XCTAssertEqual(CodeKind.forensic.englishName, "Forensic appraisal")
    }

    func testDefaultRandomnessIsTheCSPRNG() throws {
        let codes = (0..<100).map { _ in VerificationCode.generate(kind: .evidenceDeposit) }
        XCTAssertEqual(Set(codes).count, 100)
        for code in codes { XCTAssertEqual(try VerificationCode(parsing: code.value), code) }
    }

    func testQRPayloadIsTheUpperCaseURL() throws {
        let code = try VerificationCode(parsing: "nk7q-3hxd-9prt-wm45")
        XCTAssertEqual(code.qrPayload(host: "verify.sc-legal.example"),
                       "HTTPS://VERIFY.SC-LEGAL.EXAMPLE/V/NK7Q3HXD9PRTWM45")
    }

    /// Pearson's χ² of `counts` against the uniform distribution.
    private func chiSquare(_ counts: [Int]) -> Double {
        let expected = Double(counts.reduce(0, +)) / Double(counts.count)
        return counts.reduce(0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
    }
}
