// base58btc, multibase 'z' and Ed25519 Multikeys: known values, refusals and round trips.
import CinnabarCrypto
import Records
import XCTest

final class Base58Tests: XCTestCase {
    private func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    /// Known values (the Bitcoin Core base58 vectors and draft-msporny-base58 examples).
    private let known: [(hex: String, base58: String)] = [
        ("", ""),
        ("61", "2g"),
        ("626262", "a3gV"),
        ("636363", "aPEr"),
        ("73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"),
        ("00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"),
        ("516b6fcd0f", "ABnLTmg"),
        ("bf4f89001e670274dd", "3SEo3LWLoPntC"),
        ("572e4794", "3EFU7m"),
        ("ecac89cad93923c02321", "EJDM8drfXA6uyA"),
        ("10c8511e", "Rt5zm"),
        ("00000000000000000000", "1111111111"),
        ("000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
         "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"),
        ("000000287fb4cd", "111233QC4"),
        ("48656c6c6f20576f726c6421", "2NEpo7TZRRrLZSi2U"),
    ]

    func testKnownValues() {
        for (hex, base58) in known {
            XCTAssertEqual(Base58.encode(bytes(hex: hex)), base58, hex)
            XCTAssertEqual(Base58.decode(base58), bytes(hex: hex), base58)
        }
    }

    func testLeadingZeroBytesAreLeadingOnes() {
        let cases: [([UInt8], String)] = [
            ([0], "1"), ([0, 0, 0], "111"), ([0, 0, 1], "112"), ([1], "2"), ([0, 57], "1z"), ([0, 58], "121"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(Base58.encode(input), expected, "\(input)")
            XCTAssertEqual(Base58.decode(expected), input, expected)
        }
    }

    func testCharactersOutsideTheAlphabetAreRefused() {
        for text in ["0", "O", "I", "l", "+", "/", "=", " ", "2g ", "2g\n", "é", "z0", "1O1"] {
            XCTAssertNil(Base58.decode(text), text.debugDescription)
        }
    }

    func testRoundTrips() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15  // a fixed xorshift seed: the same bytes every run
        func next() -> UInt8 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        for length in 0...80 {
            for leadingZeros in 0...3 where leadingZeros <= length {
                let input = [UInt8](repeating: 0, count: leadingZeros) + (leadingZeros..<length).map { _ in next() }
                let text = Base58.encode(input)
                XCTAssertEqual(Base58.decode(text), input, text)
                XCTAssertTrue(text.utf8.allSatisfy { Base58.alphabet.contains($0) })
            }
        }
    }

    func testMultibaseNeedsTheZPrefix() {
        XCTAssertEqual(Multibase.base58BTC([0x61]), "z2g")
        XCTAssertEqual(Multibase.decodeBase58BTC("z2g"), [0x61])
        XCTAssertEqual(Multibase.decodeBase58BTC("z"), [])
        for text in ["2g", "Z2g", "u2g", "", "z0"] {
            XCTAssertNil(Multibase.decodeBase58BTC(text), text)
        }
    }

    func testEd25519Multikeys() throws {
        let key = try XCTUnwrap(Ed25519PrivateKey(seed: [UInt8](repeating: 7, count: 32)))
        let publicText = Multikey.encode(publicKey: key.publicKey)
        XCTAssertTrue(publicText.hasPrefix("z6Mk"), publicText)
        XCTAssertEqual(Multikey.ed25519PublicKey(multibase: publicText), key.publicKey)
        let privateText = Multikey.encode(privateKey: key)
        XCTAssertTrue(privateText.hasPrefix("z3u2"), privateText)
        XCTAssertEqual(Multikey.ed25519PrivateKey(multibase: privateText)?.seed, key.seed)
        // Each kind refuses the other's prefix, wrong lengths and other bases.
        XCTAssertNil(Multikey.ed25519PublicKey(multibase: privateText))
        XCTAssertNil(Multikey.ed25519PrivateKey(multibase: publicText))
        XCTAssertNil(Multikey.ed25519PublicKey(multibase: Multibase.base58BTC(Multikey.ed25519PublicKeyPrefix + [UInt8](repeating: 1, count: 31))))
        XCTAssertNil(Multikey.ed25519PublicKey(multibase: Multibase.base58BTC(Multikey.ed25519PublicKeyPrefix + [UInt8](repeating: 1, count: 33))))
        XCTAssertNil(Multikey.ed25519PublicKey(multibase: Multibase.base58BTC(key.publicKey.bytes)))
        XCTAssertNil(Multikey.ed25519PublicKey(multibase: String(publicText.dropFirst())))
    }
}
