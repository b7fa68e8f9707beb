// Noise's HandshakeState (rev 34 §5.3) for the one pattern the peer links use, IK (§7.5):
//     <- s
//     ...
//     -> e, es, s, ss
//     <- e, ee, se
// Written for this pattern alone, so each message is a few straight lines, not a token interpreter.

/// One side of a Noise_IK_25519_ChaChaPoly_SHA256 handshake. No I/O: it turns payloads into
/// handshake messages and back. After any throw the handshake is spoiled: discard it.
public struct NoiseHandshake: Sendable {
    /// Who speaks first: the initiator knows the responder's static key beforehand.
    public enum Role: Sendable { case initiator, responder }

    /// The full protocol name, hashed into `h` first (§8).
    public static let protocolName = "Noise_IK_25519_ChaChaPoly_SHA256"
    /// Message 1 less its payload: e (32) ‖ encrypted s (32 + 16) ‖ the payload's tag (16).
    public static let messageOneOverheadBytes = 96
    /// Message 2 less its payload: e (32) ‖ the payload's tag (16).
    public static let messageTwoOverheadBytes = 48

    /// This side's role.
    public let role: Role
    private var symmetric: SymmetricState
    private let localStatic: X25519KeyPair
    private var localEphemeral: X25519KeyPair?
    private var remoteEphemeral: [UInt8]?
    /// `rs`: pinned for the initiator; for the responder, learnt from message 1 (check it against
    /// the keys you accept before writing message 2).
    public private(set) var remoteStaticKey: [UInt8]?
    private var messagesDone = 0

    /// The initiator, which pins the responder's static public key.
    public static func initiator(prologue: [UInt8], localStatic: X25519KeyPair, remoteStaticKey: [UInt8]) -> NoiseHandshake {
        NoiseHandshake(role: .initiator, prologue: prologue, localStatic: localStatic, remoteStaticKey: remoteStaticKey, ephemeral: nil)
    }

    /// The responder, which learns the initiator's static key from message 1.
    public static func responder(prologue: [UInt8], localStatic: X25519KeyPair) -> NoiseHandshake {
        NoiseHandshake(role: .responder, prologue: prologue, localStatic: localStatic, remoteStaticKey: nil, ephemeral: nil)
    }

    /// Initialize() of §5.3. `ephemeral` fixes the ephemeral key, which only test vectors may do:
    /// a reused ephemeral key breaks every guarantee Noise gives.
    init(role: Role, prologue: [UInt8], localStatic: X25519KeyPair, remoteStaticKey: [UInt8]?, ephemeral: X25519KeyPair?) {
        precondition((role == .initiator) == (remoteStaticKey != nil), "IK: only the initiator knows rs beforehand")
        precondition(remoteStaticKey.map { $0.count == X25519KeyPair.byteCount } ?? true, "an X25519 public key is 32 bytes")
        self.role = role
        self.localStatic = localStatic
        self.remoteStaticKey = remoteStaticKey
        self.localEphemeral = ephemeral
        symmetric = SymmetricState(protocolName: Self.protocolName)
        symmetric.mixHash(prologue)
        // The pre-message "<- s": both sides hash the responder's static public key.
        symmetric.mixHash(role == .initiator ? remoteStaticKey! : localStatic.publicKey)
    }

    /// True once both messages are written or read.
    public var isComplete: Bool { messagesDone == 2 }

    /// `h` (§11.2): equal on both sides of a completed handshake.
    public var handshakeHash: [UInt8] { symmetric.handshakeHash }

    /// WriteMessage of §5.3: the initiator writes message 1, the responder message 2.
    public mutating func writeMessage(payload: [UInt8] = []) throws -> [UInt8] {
        switch (role, messagesDone) {
        case (.initiator, 0):  // -> e, es, s, ss
            let e = ephemeral()
            symmetric.mixHash(e.publicKey)
            symmetric.mixKey(try e.sharedSecret(with: remoteStaticKey!))
            let encryptedStatic = try symmetric.encryptAndHash(localStatic.publicKey)
            symmetric.mixKey(try localStatic.sharedSecret(with: remoteStaticKey!))
            let body = try symmetric.encryptAndHash(payload)
            messagesDone = 1
            return e.publicKey + encryptedStatic + body
        case (.responder, 1):  // <- e, ee, se
            let e = ephemeral()
            symmetric.mixHash(e.publicKey)
            symmetric.mixKey(try e.sharedSecret(with: remoteEphemeral!))
            symmetric.mixKey(try e.sharedSecret(with: remoteStaticKey!))
            let body = try symmetric.encryptAndHash(payload)
            messagesDone = 2
            return e.publicKey + body
        default:
            preconditionFailure("IK: the initiator writes message 1, the responder writes message 2")
        }
    }

    /// ReadMessage of §5.3: the responder reads message 1, the initiator message 2. Returns the payload.
    public mutating func readMessage(_ message: [UInt8]) throws -> [UInt8] {
        let keyBytes = X25519KeyPair.byteCount
        switch (role, messagesDone) {
        case (.responder, 0):  // -> e, es, s, ss
            guard message.count >= Self.messageOneOverheadBytes else { throw NoiseError.malformedMessage }
            let re = Array(message[0..<keyBytes])
            symmetric.mixHash(re)
            symmetric.mixKey(try localStatic.sharedSecret(with: re))
            let rs = try symmetric.decryptAndHash(Array(message[keyBytes..<(2 * keyBytes + ChaChaPoly.tagBytes)]))
            symmetric.mixKey(try localStatic.sharedSecret(with: rs))
            let payload = try symmetric.decryptAndHash(Array(message[(2 * keyBytes + ChaChaPoly.tagBytes)...]))
            remoteEphemeral = re
            remoteStaticKey = rs
            messagesDone = 1
            return payload
        case (.initiator, 1):  // <- e, ee, se
            guard message.count >= Self.messageTwoOverheadBytes else { throw NoiseError.malformedMessage }
            let re = Array(message[0..<keyBytes])
            symmetric.mixHash(re)
            symmetric.mixKey(try localEphemeral!.sharedSecret(with: re))
            symmetric.mixKey(try localStatic.sharedSecret(with: re))
            let payload = try symmetric.decryptAndHash(Array(message[keyBytes...]))
            remoteEphemeral = re
            messagesDone = 2
            return payload
        default:
            preconditionFailure("IK: the responder reads message 1, the initiator reads message 2")
        }
    }

    /// Split() once the handshake is complete: the transport ciphers, oriented for this side.
    public func transportCiphers() -> (send: CipherState, receive: CipherState) {
        precondition(isComplete, "the handshake is not complete")
        let (initiatorToResponder, responderToInitiator) = symmetric.split()
        return role == .initiator ? (initiatorToResponder, responderToInitiator) : (responderToInitiator, initiatorToResponder)
    }

    private mutating func ephemeral() -> X25519KeyPair {
        if localEphemeral == nil { localEphemeral = .generate() }
        return localEphemeral!
    }
}
