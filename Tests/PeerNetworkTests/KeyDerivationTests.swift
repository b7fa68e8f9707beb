// A validator has one key: its Noise static key is derived from its Ed25519 key, privately from the
// seed and publicly from the public key in genesis, and both derivations must meet.
import CinnabarCrypto
@testable import PeerNetwork
import XCTest

private struct ConversionFile: Decodable {
    struct Vector: Decodable { let ed25519Seed, x25519PrivateKey, x25519PublicKey: String }
    let vectors: [Vector]
}

final class KeyDerivationTests: XCTestCase {
    func testLibsodiumConversionVector() throws {
        for vector in try loadVectorFile("ed25519-to-x25519.json", as: ConversionFile.self).vectors {
            let seed = bytes(hex: vector.ed25519Seed)
            let pair = try XCTUnwrap(X25519KeyPair(ed25519Seed: seed))
            XCTAssertEqual(pair.privateKey, bytes(hex: vector.x25519PrivateKey))
            XCTAssertEqual(pair.publicKey, bytes(hex: vector.x25519PublicKey))
            let edPublic = try XCTUnwrap(Ed25519PrivateKey(seed: seed)).publicKey.bytes
            XCTAssertEqual(X25519KeyPair.publicKey(ed25519PublicKey: edPublic), bytes(hex: vector.x25519PublicKey))
        }
    }

    func testBothSidesDeriveTheSameSharedSecret() throws {
        for _ in 0..<16 {
            let (alice, bob) = (Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate())
            let aliceNoise = try XCTUnwrap(X25519KeyPair(ed25519Seed: alice.seed))
            let bobNoise = try XCTUnwrap(X25519KeyPair(ed25519Seed: bob.seed))
            let alicePublic = try XCTUnwrap(X25519KeyPair.publicKey(ed25519PublicKey: alice.publicKey.bytes))
            let bobPublic = try XCTUnwrap(X25519KeyPair.publicKey(ed25519PublicKey: bob.publicKey.bytes))
            XCTAssertEqual(aliceNoise.publicKey, alicePublic, "the seed and the public key map to one X25519 key")
            XCTAssertEqual(bobNoise.publicKey, bobPublic)
            let secret = try aliceNoise.sharedSecret(with: bobPublic)
            XCTAssertEqual(secret, try bobNoise.sharedSecret(with: alicePublic))
            XCTAssertNotEqual(secret, [UInt8](repeating: 0, count: 32))
        }
    }

    func testInvalidEd25519PublicKeysHaveNoNoiseKey() {
        XCTAssertNil(X25519KeyPair.publicKey(ed25519PublicKey: [UInt8](repeating: 0, count: 32)), "a low-order point")
        XCTAssertNil(X25519KeyPair.publicKey(ed25519PublicKey: [UInt8](repeating: 7, count: 31)), "a short key")
        XCTAssertNil(X25519KeyPair(ed25519Seed: [UInt8](repeating: 7, count: 31)), "a short seed")
    }
}

final class KeyRedactionTests: XCTestCase {
    func testPrintingAnIdentityOrAKeyPairNeverShowsThePrivateKey() throws {
        let seed = Ed25519PrivateKey.generate().seed
        let identity = PeerIdentity(index: 3, seed: seed)
        let pair = try XCTUnwrap(X25519KeyPair(ed25519Seed: seed))
        var dumped = ""
        dump(identity, to: &dumped)
        dump(pair, to: &dumped)
        let shown = [String(describing: identity), String(reflecting: identity), "\(pair)", String(reflecting: pair), dumped]
        for secret in [seed, pair.privateKey] {
            for text in shown {
                XCTAssertFalse(text.contains("\(secret)") || text.contains(lowercaseHex(secret)), text)
            }
        }
        let fields = dumped.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces).dropFirst(2).prefix { $0 != ":" } }
        XCTAssertFalse(fields.contains("seed") || fields.contains("privateKey"), "dump lists no private field: \(dumped)")
        XCTAssertTrue(String(describing: identity).contains("index: 3"))
    }
}
