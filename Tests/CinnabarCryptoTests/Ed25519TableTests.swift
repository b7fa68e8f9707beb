// The table verifier (ed25519_tables.c) against libsodium: it must accept exactly the signatures
// crypto_sign_verify_detached accepts, for every key it builds a table for.
import CCinnabar
import CSodium
import XCTest

@testable import CinnabarCrypto

final class Ed25519TableTests: XCTestCase {
    /// A key's table, built at once (the process cache waits for 16 valid signatures). There is
    /// none if the libsodium loaded is not 1.0.18: then these tests fail until the table verifier
    /// is checked against that version's verify, as it was against 1.0.18's.
    private func table(_ key: [UInt8]) throws -> VerificationTable {
        try XCTUnwrap(VerificationTable(key: key), "no table for \(hex(key)) (libsodium \(String(cString: sodium_version_string())))")
    }

    private func tableAccepts(_ table: VerificationTable, _ signature: [UInt8], _ message: [UInt8]) -> Bool {
        message.withUnsafeBufferPointer { ccinnabar_ed25519_verify(table.pointer, signature, $0.baseAddress, $0.count) == 0 }
    }

    private func libsodiumAccepts(_ key: [UInt8], _ signature: [UInt8], _ message: [UInt8]) -> Bool {
        Ed25519PublicKey(bytes: key)!.isValidSignatureByLibsodium(signature, for: message)
    }

    // RFC 8032 §7.1, TEST 1–3.
    func testRFC8032Vectors() throws {
        let vectors: [(key: String, message: String, signature: String)] = [
            ("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
             "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
            ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
             "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
            ("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
             "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
        ]
        for v in vectors {
            let key = bytes(v.key), message = bytes(v.message), signature = bytes(v.signature)
            XCTAssertTrue(libsodiumAccepts(key, signature, message))
            let t = try table(key)
            XCTAssertTrue(tableAccepts(t, signature, message), v.key)
            var other = message
            other.append(0)
            XCTAssertFalse(tableAccepts(t, signature, other), v.key)
        }
    }

    /// Valid signatures on random messages, and every single-bit change of one signature and of
    /// its message: the two verifiers agree on all of them.
    func testAgreesWithLibsodiumOnRandomAndAlteredSignatures() throws {
        for round in 0..<8 {
            let key = Ed25519PrivateKey.generate()
            let t = try table(key.publicKey.bytes)
            for length in [0, 1, 32, 64, 200, 1000] {
                let message = secureRandomBytes(count: length)
                let signature = key.signature(for: message)
                XCTAssertTrue(tableAccepts(t, signature, message))
                XCTAssertTrue(libsodiumAccepts(key.publicKey.bytes, signature, message))
            }
            let message = secureRandomBytes(count: 64)
            let signature = key.signature(for: message)
            let flips = round == 0 ? Array(0..<512) : (0..<64).map { _ in Int.random(in: 0..<512) }
            for bit in flips {
                var altered = signature
                altered[bit / 8] ^= UInt8(1) << (bit % 8)
                XCTAssertEqual(tableAccepts(t, altered, message), libsodiumAccepts(key.publicKey.bytes, altered, message), "bit \(bit)")
                XCTAssertFalse(tableAccepts(t, altered, message), "bit \(bit)")
            }
            for bit in 0..<(8 * message.count) where round == 0 || bit % 37 == 0 {
                var altered = message
                altered[bit / 8] ^= UInt8(1) << (bit % 8)
                XCTAssertFalse(tableAccepts(t, signature, altered), "message bit \(bit)")
            }
            let stranger = Ed25519PrivateKey.generate()
            XCTAssertFalse(tableAccepts(t, stranger.signature(for: message), message))
        }
    }

    /// S + L satisfies the verification equation as S does; both verifiers must refuse it
    /// because S must be canonical.
    func testSignatureWithNonCanonicalScalarIsRefused() throws {
        let key = Ed25519PrivateKey.generate()
        let t = try table(key.publicKey.bytes)
        let message = secureRandomBytes(count: 64)
        var signature = key.signature(for: message)
        let s = Array(signature[32...])
        signature.replaceSubrange(32..., with: add(s, groupOrder))
        XCTAssertFalse(libsodiumAccepts(key.publicKey.bytes, signature, message))
        XCTAssertFalse(tableAccepts(t, signature, message))
    }

    /// A signature forged with the key's discrete logarithm a: S = h·a + r for the R of a chosen
    /// r·B plus `extra` (a point of small order), so that [S]B − [h]A = r·B.
    private func forged(r: [UInt8]?, plus extra: [UInt8]?, rawR: [UInt8]? = nil, message: [UInt8]) throws
        -> (key: [UInt8], signature: [UInt8], combination: [UInt8]) {
        var a = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_random(&a)
        var publicKey = [UInt8](repeating: 0, count: 32)
        XCTAssertEqual(crypto_scalarmult_ed25519_base_noclamp(&publicKey, a), 0)
        var rPoint = [UInt8](repeating: 0, count: 32)
        if let r { XCTAssertEqual(crypto_scalarmult_ed25519_base_noclamp(&rPoint, r), 0) }
        if let extra { XCTAssertEqual(crypto_core_ed25519_add(&rPoint, rPoint, extra), 0) }
        if let rawR { rPoint = rawR }
        var digest = [UInt8](repeating: 0, count: 64)
        crypto_hash_sha512(&digest, rPoint + publicKey + message, UInt64(64 + message.count))
        var h = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_reduce(&h, digest)
        var s = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_mul(&s, h, a)
        if let r { crypto_core_ed25519_scalar_add(&s, s, r) }
        let t = try table(publicKey)
        var combination = [UInt8](repeating: 0, count: 32)
        ccinnabar_ed25519_combination(t.pointer, s, h, &combination)
        return (publicKey, rPoint + s, combination)
    }

    /// R the identity (either sign bit) with S = h·a: the equation holds, and libsodium refuses R of
    /// small order; so must the table.
    func testSignatureWithIdentityRIsRefused() throws {
        let message = Array("forged".utf8)
        for signBit: UInt8 in [0, 0x80] {
            var identity = [UInt8](repeating: 0, count: 32)
            identity[0] = 1
            identity[31] = signBit
            let f = try forged(r: nil, plus: nil, rawR: identity, message: message)
            var canonicalIdentity = identity
            canonicalIdentity[31] = 0
            XCTAssertEqual(f.combination, canonicalIdentity, "[S]B − [h]A is the identity")
            XCTAssertFalse(libsodiumAccepts(f.key, f.signature, message))
            XCTAssertFalse(tableAccepts(try table(f.key), f.signature, message))
        }
    }

    /// R = r·B + (0, −1), a point of order 2 added: [S]B − [h]A = r·B differs from R by a point of
    /// small order. libsodium 1.0.18 compares encodings and refuses it (later releases may not,
    /// which is why tables need 1.0.18); the table refuses it too. Without the extra point the
    /// same construction verifies, so the refusal is the torsion's.
    func testSignatureWhoseRHasATorsionComponentIsRefused() throws {
        let message = Array("torsion".utf8)
        var r = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_random(&r)
        var minusOne = [UInt8](repeating: 0xff, count: 32)
        minusOne[0] = 0xec
        minusOne[31] = 0x7f
        let honest = try forged(r: r, plus: nil, message: message)
        XCTAssertTrue(libsodiumAccepts(honest.key, honest.signature, message))
        XCTAssertTrue(tableAccepts(try table(honest.key), honest.signature, message))
        let twisted = try forged(r: r, plus: minusOne, message: message)
        XCTAssertFalse(libsodiumAccepts(twisted.key, twisted.signature, message))
        XCTAssertFalse(tableAccepts(try table(twisted.key), twisted.signature, message))
    }

    /// [s]B − [h]A against libsodium's own scalar multiplications, for edge and random scalars.
    func testCombinationMatchesLibsodium() throws {
        var ell1 = groupOrder
        ell1[0] -= 1  // L − 1
        var one = [UInt8](repeating: 0, count: 32)
        one[0] = 1
        for _ in 0..<4 {
            let key = Ed25519PrivateKey.generate().publicKey.bytes
            let t = try table(key)
            var scalars: [[UInt8]] = [one, ell1]
            for _ in 0..<40 {
                var x = [UInt8](repeating: 0, count: 32)
                crypto_core_ed25519_scalar_random(&x)
                scalars.append(x)
            }
            for (i, s) in scalars.enumerated() {
                let h = scalars[(i * 7 + 3) % scalars.count]
                var sB = [UInt8](repeating: 0, count: 32), hA = [UInt8](repeating: 0, count: 32)
                var expected = [UInt8](repeating: 0, count: 32), actual = [UInt8](repeating: 0, count: 32)
                XCTAssertEqual(crypto_scalarmult_ed25519_base_noclamp(&sB, s), 0)
                XCTAssertEqual(crypto_scalarmult_ed25519_noclamp(&hA, h, key), 0)
                XCTAssertEqual(crypto_core_ed25519_sub(&expected, sB, hA), 0)
                ccinnabar_ed25519_combination(t.pointer, s, h, &actual)
                XCTAssertEqual(actual, expected, "s \(hex(s)) h \(hex(h))")
            }
        }
    }

    /// When every slot is taken, a key verifies by libsodium however often it signs.
    func testKeysBeyondTheCapacityStayWithLibsodium() {
        VerificationTables.removeAll()
        let message = secureRandomBytes(count: 64)
        for _ in 0..<VerificationTables.capacity {
            let key = Ed25519PrivateKey.generate()
            let signature = key.signature(for: message)
            for _ in 0..<VerificationTables.usesBeforeTable { XCTAssertTrue(key.publicKey.isValidSignature(signature, for: message)) }
            XCTAssertTrue(VerificationTables.hasTable(key.publicKey))
        }
        let late = Ed25519PrivateKey.generate()
        let signature = late.signature(for: message)
        for _ in 0..<(2 * VerificationTables.usesBeforeTable) { XCTAssertTrue(late.publicKey.isValidSignature(signature, for: message)) }
        XCTAssertFalse(VerificationTables.hasTable(late.publicKey))
        XCTAssertEqual(VerificationTables.count, VerificationTables.capacity)
        VerificationTables.removeAll()
    }

    /// Keys that are not the canonical encoding of a point of prime order get no table; the
    /// public API then answers with libsodium, as for any key. A key of order 2L, a·B + (0, −1),
    /// has signatures libsodium accepts (those whose h is even), so it is counted like any key and
    /// refused its table when its count comes due; the other keys libsodium refuses outright.
    func testKeysWithoutPrimeOrderGetNoTableAndStayWithLibsodium() throws {
        VerificationTables.removeAll()  // a free slot, so that only the refusal keeps the table away
        var minusOne = [UInt8](repeating: 0xff, count: 32)
        minusOne[0] = 0xec
        minusOne[31] = 0x7f
        var a = [UInt8](repeating: 0, count: 32)
        crypto_core_ed25519_scalar_random(&a)
        var mixed = [UInt8](repeating: 0, count: 32)
        XCTAssertEqual(crypto_scalarmult_ed25519_base_noclamp(&mixed, a), 0)
        XCTAssertEqual(crypto_core_ed25519_add(&mixed, mixed, minusOne), 0)
        XCTAssertNil(VerificationTable(key: mixed))
        let mixedKey = Ed25519PublicKey(bytes: mixed)!
        var valid = 0
        while valid < VerificationTables.usesBeforeTable + 4 {
            let message = secureRandomBytes(count: 64)
            var r = [UInt8](repeating: 0, count: 32)
            crypto_core_ed25519_scalar_random(&r)
            var rPoint = [UInt8](repeating: 0, count: 32)
            XCTAssertEqual(crypto_scalarmult_ed25519_base_noclamp(&rPoint, r), 0)
            var digest = [UInt8](repeating: 0, count: 64)
            crypto_hash_sha512(&digest, rPoint + mixed + message, UInt64(64 + message.count))
            var h = [UInt8](repeating: 0, count: 32)
            crypto_core_ed25519_scalar_reduce(&h, digest)
            guard h[0] & 1 == 0 else { continue }  // [h](0, −1) vanishes only for even h
            var s = [UInt8](repeating: 0, count: 32)
            crypto_core_ed25519_scalar_mul(&s, h, a)
            crypto_core_ed25519_scalar_add(&s, s, r)
            XCTAssertTrue(mixedKey.isValidSignatureByLibsodium(rPoint + s, for: message))
            XCTAssertTrue(mixedKey.isValidSignature(rPoint + s, for: message))
            valid += 1
        }
        XCTAssertFalse(VerificationTables.hasTable(mixedKey))

        let signer = Ed25519PrivateKey.generate()
        var nonCanonical = [UInt8](repeating: 0xff, count: 32)  // y = 2^255 − 1 ≥ p
        nonCanonical[31] = 0x7f
        for bad in [minusOne, nonCanonical, [UInt8](repeating: 0, count: 32)] {
            XCTAssertNil(VerificationTable(key: bad), hex(bad))
            let publicKey = Ed25519PublicKey(bytes: bad)!
            let message = secureRandomBytes(count: 64)
            let signature = signer.signature(for: message)
            XCTAssertFalse(publicKey.isValidSignatureByLibsodium(signature, for: message))
            XCTAssertFalse(publicKey.isValidSignature(signature, for: message))
            XCTAssertFalse(VerificationTables.hasTable(publicKey))
        }
    }

    /// The public API gives a key its table once 16 of its signatures have verified (invalid ones
    /// do not count) and answers the same before and after.
    func testAKeyGetsItsTableAfterSixteenValidSignatures() {
        VerificationTables.removeAll()  // earlier tests in this process may have used every slot
        let key = Ed25519PrivateKey.generate()
        let message = secureRandomBytes(count: 64)
        let signature = key.signature(for: message)
        var wrong = signature
        wrong[5] ^= 1
        for _ in 0..<40 { XCTAssertFalse(key.publicKey.isValidSignature(wrong, for: message)) }
        XCTAssertFalse(VerificationTables.hasTable(key.publicKey), "invalid signatures earned a table")
        for valid in 1...(VerificationTables.usesBeforeTable + 4) {
            XCTAssertEqual(VerificationTables.hasTable(key.publicKey), valid > VerificationTables.usesBeforeTable, "valid \(valid)")
            XCTAssertTrue(key.publicKey.isValidSignature(signature, for: message), "valid \(valid)")
            XCTAssertFalse(key.publicKey.isValidSignature(wrong, for: message), "valid \(valid)")
        }
    }

    /// Tables exist only over the libsodium whose verify they were checked against.
    func testTablesAreBuiltOnlyOverLibsodium1018() {
        let key = Ed25519PrivateKey.generate().publicKey.bytes
        XCTAssertEqual(VerificationTable(key: key) != nil, String(cString: sodium_version_string()) == "1.0.18")
    }

    // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
    private let groupOrder: [UInt8] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ]

    func testGroupOrderConstantIsTheOrder() {
        var wide = groupOrder + [UInt8](repeating: 0, count: 32)
        var reduced = [UInt8](repeating: 1, count: 32)
        crypto_core_ed25519_scalar_reduce(&reduced, wide)
        XCTAssertEqual(reduced, [UInt8](repeating: 0, count: 32))
        wide[0] -= 1
        crypto_core_ed25519_scalar_reduce(&reduced, wide)
        XCTAssertEqual(reduced, Array(wide[..<32]))
    }

    private func add(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var carry = 0
        for i in 0..<32 {
            let sum = Int(a[i]) + Int(b[i]) + carry
            out[i] = UInt8(sum & 0xff)
            carry = sum >> 8
        }
        return out
    }

    private func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0 ..< $0 + 2], as: UTF8.self), radix: 16)! }
    }

    private func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }
}
