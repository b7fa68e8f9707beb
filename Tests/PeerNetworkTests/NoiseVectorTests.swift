// The Noise core (no sockets) against the cacophony vectors for Noise_IK_25519_ChaChaPoly_SHA256,
// then the ways a handshake must fail: tampering, another prologue, another pinned key, truncation,
// a low-order ephemeral key, a replayed transport message.
import CinnabarCrypto
@testable import PeerNetwork
import XCTest

private struct NoiseVectorFile: Decodable {
    struct Vector: Decodable {
        let name, initPrologue, initStatic, initEphemeral, initRemoteStatic: String
        let respPrologue, respStatic, respEphemeral: String
        let messages: [Message]
    }
    struct Message: Decodable { let payload, ciphertext: String }
    let vectors: [Vector]
}

final class NoiseVectorTests: XCTestCase {
    private let prologue = Array("cinnabar-peer/v1\ntest-chain".utf8)

    func testCacophonyVectorsAreReproducedByteForByte() throws {
        let file = try loadVectorFile("noise-ik-25519-chachapoly-sha256.json", as: NoiseVectorFile.self)
        XCTAssertFalse(file.vectors.isEmpty)
        for vector in file.vectors {
            XCTAssertEqual(vector.name, NoiseHandshake.protocolName)
            let initiatorStatic = try XCTUnwrap(X25519KeyPair(privateKey: bytes(hex: vector.initStatic)))
            let responderStatic = try XCTUnwrap(X25519KeyPair(privateKey: bytes(hex: vector.respStatic)))
            XCTAssertEqual(responderStatic.publicKey, bytes(hex: vector.initRemoteStatic))
            var initiator = NoiseHandshake(
                role: .initiator, prologue: bytes(hex: vector.initPrologue), localStatic: initiatorStatic,
                remoteStaticKey: bytes(hex: vector.initRemoteStatic), ephemeral: X25519KeyPair(privateKey: bytes(hex: vector.initEphemeral)))
            var responder = NoiseHandshake(
                role: .responder, prologue: bytes(hex: vector.respPrologue), localStatic: responderStatic,
                remoteStaticKey: nil, ephemeral: X25519KeyPair(privateKey: bytes(hex: vector.respEphemeral)))
            let messages = vector.messages.map { (payload: bytes(hex: $0.payload), ciphertext: bytes(hex: $0.ciphertext)) }
            XCTAssertGreaterThan(messages.count, 2)

            // -> e, es, s, ss
            XCTAssertEqual(try initiator.writeMessage(payload: messages[0].payload), messages[0].ciphertext)
            XCTAssertEqual(try responder.readMessage(messages[0].ciphertext), messages[0].payload)
            XCTAssertEqual(responder.remoteStaticKey, initiatorStatic.publicKey, "the responder learns the initiator's key")
            // <- e, ee, se
            XCTAssertEqual(try responder.writeMessage(payload: messages[1].payload), messages[1].ciphertext)
            XCTAssertEqual(try initiator.readMessage(messages[1].ciphertext), messages[1].payload)
            XCTAssertTrue(initiator.isComplete && responder.isComplete)
            XCTAssertEqual(initiator.handshakeHash, responder.handshakeHash)

            // Transport messages alternate, initiator first.
            var (initiatorSend, initiatorReceive) = initiator.transportCiphers()
            var (responderSend, responderReceive) = responder.transportCiphers()
            for (i, message) in messages.dropFirst(2).enumerated() {
                if i % 2 == 0 {
                    XCTAssertEqual(try initiatorSend.encrypt(message.payload), message.ciphertext, "transport message \(i + 2)")
                    XCTAssertEqual(try responderReceive.decrypt(message.ciphertext), message.payload)
                } else {
                    XCTAssertEqual(try responderSend.encrypt(message.payload), message.ciphertext, "transport message \(i + 2)")
                    XCTAssertEqual(try initiatorReceive.decrypt(message.ciphertext), message.payload)
                }
            }
        }
    }

    func testEveryTamperedByteOfMessageOneIsRefused() throws {
        let (initiatorStatic, responderStatic) = (X25519KeyPair.generate(), X25519KeyPair.generate())
        var initiator = NoiseHandshake.initiator(prologue: prologue, localStatic: initiatorStatic, remoteStaticKey: responderStatic.publicKey)
        let message = try initiator.writeMessage(payload: Array("hello".utf8))
        for position in message.indices {
            var tampered = message
            tampered[position] ^= 0x01
            var responder = NoiseHandshake.responder(prologue: prologue, localStatic: responderStatic)
            XCTAssertThrowsError(try responder.readMessage(tampered), "byte \(position)") { error in
                XCTAssertEqual(error as? NoiseError, .decryptionFailed, "byte \(position)")
            }
        }
    }

    func testAnotherPrologueFailsAtMessageOne() throws {
        let (initiatorStatic, responderStatic) = (X25519KeyPair.generate(), X25519KeyPair.generate())
        var initiator = NoiseHandshake.initiator(prologue: Array("cinnabar-peer/v1\nchain-a".utf8), localStatic: initiatorStatic,
                                                 remoteStaticKey: responderStatic.publicKey)
        var responder = NoiseHandshake.responder(prologue: Array("cinnabar-peer/v1\nchain-b".utf8), localStatic: responderStatic)
        XCTAssertThrowsError(try responder.readMessage(initiator.writeMessage())) { error in
            XCTAssertEqual(error as? NoiseError, .decryptionFailed)
        }
    }

    func testPinningAnotherResponderKeyFailsAtMessageOne() throws {
        let (initiatorStatic, responderStatic) = (X25519KeyPair.generate(), X25519KeyPair.generate())
        var initiator = NoiseHandshake.initiator(prologue: prologue, localStatic: initiatorStatic, remoteStaticKey: X25519KeyPair.generate().publicKey)
        var responder = NoiseHandshake.responder(prologue: prologue, localStatic: responderStatic)
        XCTAssertThrowsError(try responder.readMessage(initiator.writeMessage())) { error in
            XCTAssertEqual(error as? NoiseError, .decryptionFailed)
        }
    }

    func testImpostorResponderFailsAtMessageTwo() throws {
        // An impostor that accepts message 1 without the pinned key cannot write a message 2 the
        // initiator accepts: it lacks the private key for es and ss.
        let (initiatorStatic, responderStatic) = (X25519KeyPair.generate(), X25519KeyPair.generate())
        var initiator = NoiseHandshake.initiator(prologue: prologue, localStatic: initiatorStatic, remoteStaticKey: responderStatic.publicKey)
        var genuine = NoiseHandshake.responder(prologue: prologue, localStatic: responderStatic)
        _ = try genuine.readMessage(initiator.writeMessage())
        var reply = try genuine.writeMessage()
        reply[reply.count - 1] ^= 0x80
        XCTAssertThrowsError(try initiator.readMessage(reply)) { error in
            XCTAssertEqual(error as? NoiseError, .decryptionFailed)
        }
    }

    func testTruncatedMessagesAreMalformed() throws {
        let (initiatorStatic, responderStatic) = (X25519KeyPair.generate(), X25519KeyPair.generate())
        var initiator = NoiseHandshake.initiator(prologue: prologue, localStatic: initiatorStatic, remoteStaticKey: responderStatic.publicKey)
        let message = try initiator.writeMessage()
        XCTAssertEqual(message.count, NoiseHandshake.messageOneOverheadBytes)
        var responder = NoiseHandshake.responder(prologue: prologue, localStatic: responderStatic)
        XCTAssertThrowsError(try responder.readMessage(Array(message.dropLast()))) { error in
            XCTAssertEqual(error as? NoiseError, .malformedMessage)
        }
        var complete = NoiseHandshake.responder(prologue: prologue, localStatic: responderStatic)
        _ = try complete.readMessage(message)
        let reply = try complete.writeMessage()
        XCTAssertEqual(reply.count, NoiseHandshake.messageTwoOverheadBytes)
        XCTAssertThrowsError(try initiator.readMessage(Array(reply.prefix(NoiseHandshake.messageTwoOverheadBytes - 1)))) { error in
            XCTAssertEqual(error as? NoiseError, .malformedMessage)
        }
    }

    func testLowOrderEphemeralKeyIsRefused() throws {
        let responderStatic = X25519KeyPair.generate()
        var responder = NoiseHandshake.responder(prologue: prologue, localStatic: responderStatic)
        let zeroPoint = [UInt8](repeating: 0, count: NoiseHandshake.messageOneOverheadBytes)
        XCTAssertThrowsError(try responder.readMessage(zeroPoint)) { error in
            XCTAssertEqual(error as? NoiseError, .weakPublicKey)
        }
    }

    func testReplayedTransportMessageFails() throws {
        let (initiatorStatic, responderStatic) = (X25519KeyPair.generate(), X25519KeyPair.generate())
        var initiator = NoiseHandshake.initiator(prologue: prologue, localStatic: initiatorStatic, remoteStaticKey: responderStatic.publicKey)
        var responder = NoiseHandshake.responder(prologue: prologue, localStatic: responderStatic)
        XCTAssertEqual(try responder.readMessage(initiator.writeMessage()), [])
        XCTAssertEqual(try initiator.readMessage(responder.writeMessage()), [])
        var (send, _) = initiator.transportCiphers()
        var (_, receive) = responder.transportCiphers()
        let ciphertext = try send.encrypt(Array("vote".utf8))
        XCTAssertEqual(try receive.decrypt(ciphertext), Array("vote".utf8))
        XCTAssertThrowsError(try receive.decrypt(ciphertext)) { error in
            XCTAssertEqual(error as? NoiseError, .decryptionFailed)
        }
    }
}
