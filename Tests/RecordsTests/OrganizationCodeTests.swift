// Unified social credit codes (GB 32100-2015): real published codes validate, every single-character
// mutation and neighbour swap of them fails, and demo codes get a valid check character.
import Records
import XCTest

final class OrganizationCodeTests: XCTestCase {
    /// Real codes published in public code and in domain.md, each with where it was found.
    private let realCodes: [(code: String, source: String)] = [
        ("91350100M000100Y43", "the GB 32100-2015 example, in many validators' tests (e.g. hutool-rs parity tests)"),
        ("91310110666007217T", "dromara/hutool CreditCodeUtilTest.isCreditCode"),
        ("91310115591693856A", "dromara/hutool CreditCodeUtilTest.isCreditCodeBySimple"),
        ("91440300708461136T", "a public ID validator's test list of 真实在册企业统一社会信用代码"),
        ("91110108551385082Q", "the same list"),
        ("11100000000013338W", "domain.md §2.1, the authority in GB/T 36904 type code 11100000000013338W050"),
        ("113700000045046442", "domain.md §2.1, the issuer in the GB/T 36904 identifier example"),
    ]

    func testGB32100WeightsArePowersOfThreeModulo31() throws {
        let published = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
        XCTAssertEqual(GB32100.alphabet, "0123456789ABCDEFGHJKLMNPQRTUWXY")
        for (i, weight) in published.enumerated() {
            var power = 1
            for _ in 0..<i { power = power * 3 % 31 }
            XCTAssertEqual(weight, power, "weight \(i)")
            // A payload that is 1 at position i and 0 elsewhere has the check value −wᵢ mod 31.
            let payload = String(repeating: "0", count: i) + "1" + String(repeating: "0", count: 16 - i)
            let check = try XCTUnwrap(GB32100.checkCharacter(for: payload))
            XCTAssertEqual((31 - GB32100.value(of: check)!) % 31, weight, "weight \(i) as the check sees it")
        }
        XCTAssertNil(GB32100.checkCharacter(for: "9135010OM000100Y4"), "O is not in the alphabet")
    }

    func testRealCodesValidate() throws {
        for (code, source) in realCodes {
            XCTAssertEqual(try OrganizationCode(parsing: code).value, code, source)
            let remade = try OrganizationCode.withCheckCharacter(prefix17: String(code.prefix(17)))
            XCTAssertEqual(remade.value, code, "the check character of \(code)")
        }
    }

    func testEverySingleCharacterMutationOfARealCodeFails() {
        var tried = 0
        var misses: [String] = []
        for (code, _) in realCodes {
            let original = Array(code)
            for position in 0..<OrganizationCode.length {
                for symbol in GB32100.alphabet where symbol != original[position] {
                    var mutated = original
                    mutated[position] = symbol
                    tried += 1
                    if (try? OrganizationCode(parsing: String(mutated))) != nil { misses.append(String(mutated)) }
                }
            }
        }
        XCTAssertEqual(tried, realCodes.count * 18 * 30)
        XCTAssertEqual(misses, [])
    }

    func testEveryNeighbourAndJumpSwapOfARealCodeFails() {
        var tried = 0
        var misses: [String] = []
        for (code, _) in realCodes {
            let original = Array(code)
            for gap in [1, 2] {
                for i in 0..<(OrganizationCode.length - gap) where original[i] != original[i + gap] {
                    var swapped = original
                    swapped.swapAt(i, i + gap)
                    tried += 1
                    if (try? OrganizationCode(parsing: String(swapped))) != nil { misses.append(String(swapped)) }
                }
            }
        }
        XCTAssertGreaterThan(tried, 100)
        XCTAssertEqual(misses, [])
    }

    func testMalformedCodesAreRejected() {
        let table: [(input: String, why: String)] = [
            // A real code from an early pilot region that does not satisfy the standard's check
            // (hutool CreditCodeUtilTest.isCreditCode2, after bluesky335/IDCheck).
            ("91350211M00013FA1N", "check character"),
            ("91350100M000100Y44", "check character"),
            ("9135010OM000100Y43", "character 8"),  // letter O for zero
            ("91350100M0001OOY43", "character 14"),
            ("91350100m000100y43", "character 9"),  // stored codes are upper case
            ("91S50100M000100Y43", "character 3"),
            ("91350100M000100Y4", "17 characters"),
            ("91350100M000100Y433", "19 characters"),
            (" 91350100M000100Y43", "19 characters"),
            ("", "0 characters"),
            ("９１３５０１００Ｍ０００１００Ｙ４３", "character 1"),
        ]
        for row in table {
            do {
                let code = try OrganizationCode(parsing: row.input)
                XCTFail("\(row.input.debugDescription) parsed as \(code.value)")
            } catch {
                XCTAssertEqual(error.code, "org_code_invalid")
                XCTAssertTrue(error.description.contains(row.why), "\(row.input): \(error)")
                XCTAssertFalse(error.description.contains("\n"))
            }
        }
    }

    func testDemoCodesGetACheckCharacter() throws {
        let demo = try OrganizationCode.withCheckCharacter(prefix17: "91510100MA6CDEM01")
        XCTAssertEqual(demo.value.count, 18)
        XCTAssertEqual(try OrganizationCode(parsing: demo.value), demo)
        for bad in ["91510100MA6CDEM01X", "91510100MA6CDEM0", "91510100MA6CDEMO1"] {
            XCTAssertThrowsError(try OrganizationCode.withCheckCharacter(prefix17: bad), bad) { error in
                XCTAssertEqual((error as? OrganizationCodeError)?.code, "org_code_invalid")
            }
        }
    }
}
