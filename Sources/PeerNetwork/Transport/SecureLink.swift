// A Noise IK session over one TCP connection (Specs/peer-protocol.md §2–§3): the dialer's and the
// listener's side of the handshake, then the encrypted, framed message stream in one direction.

/// Frames on the wire: a u16 big-endian length, then that many bytes of Noise message.
private enum WireFrame {
    static func write(_ noiseMessage: [UInt8], into buffer: inout [UInt8]) {
        precondition(noiseMessage.count <= MessageFraming.maxNoiseMessageBytes, "a Noise message fits in a u16 length")
        buffer.append(UInt8(noiseMessage.count >> 8))
        buffer.append(UInt8(noiseMessage.count & 0xFF))
        buffer.append(contentsOf: noiseMessage)
    }

    static func read(from socket: TCPSocket, deadline: ContinuousClock.Instant?) throws(LinkFailure) -> [UInt8] {
        let prefix = try socket.receive(exactly: 2, deadline: deadline)
        let length = Int(prefix[0]) << 8 | Int(prefix[1])
        guard length >= ChaChaPoly.tagBytes else { throw .garbage("a frame of \(length) bytes, shorter than a tag") }
        return try socket.receive(exactly: length, deadline: deadline)
    }
}

/// The two sides of the handshake. The dialer sends message 1, reads message 2, then sends an
/// empty transport message that confirms the link: the listener accepts a link only once that
/// confirmation decrypts, which a replayed message 1 can never produce.
enum LinkHandshake {
    /// The prologue both sides hash first: links of different chains never complete.
    static func prologue(chainID: String) -> [UInt8] { Array("cinnabar-peer/v1\n\(chainID)".utf8) }

    /// The dialer's side; returns the cipher for sending.
    static func dial(_ socket: TCPSocket, prologue: [UInt8], localStatic: X25519KeyPair, remoteStaticKey: [UInt8],
                     deadline: ContinuousClock.Instant) throws(LinkFailure) -> CipherState {
        var handshake = NoiseHandshake.initiator(prologue: prologue, localStatic: localStatic, remoteStaticKey: remoteStaticKey)
        var out: [UInt8] = []
        WireFrame.write(try noise { try handshake.writeMessage() }, into: &out)
        try socket.sendAll(out)
        let reply = try WireFrame.read(from: socket, deadline: deadline)
        guard reply.count == NoiseHandshake.messageTwoOverheadBytes else {
            throw .garbage("handshake message 2 of \(reply.count) bytes, not \(NoiseHandshake.messageTwoOverheadBytes)")
        }
        _ = try noise { try handshake.readMessage(reply) }
        var send = handshake.transportCiphers().send
        out = []
        WireFrame.write(try noise { try send.encrypt([UInt8]()) }, into: &out)
        try socket.sendAll(out)
        return send
    }

    /// The listener's side. `admit` maps the dialer's static key to a peer index, or nil to refuse
    /// it. Returns that index and the cipher for receiving.
    static func accept(_ socket: TCPSocket, prologue: [UInt8], localStatic: X25519KeyPair, deadline: ContinuousClock.Instant,
                       admit: ([UInt8]) -> Int?) throws(LinkFailure) -> (peer: Int, receive: CipherState) {
        var handshake = NoiseHandshake.responder(prologue: prologue, localStatic: localStatic)
        let first = try WireFrame.read(from: socket, deadline: deadline)
        guard first.count == NoiseHandshake.messageOneOverheadBytes else {
            throw .garbage("handshake message 1 of \(first.count) bytes, not \(NoiseHandshake.messageOneOverheadBytes)")
        }
        _ = try noise { try handshake.readMessage(first) }
        let remoteKey = handshake.remoteStaticKey!
        guard let peer = admit(remoteKey) else {
            throw .garbage("static key \(lowercaseHex(remoteKey.prefix(8)))… is not in the peer set")
        }
        var out: [UInt8] = []
        WireFrame.write(try noise { try handshake.writeMessage() }, into: &out)
        try socket.sendAll(out)
        var receive = handshake.transportCiphers().receive
        let confirmation = try noise { try receive.decrypt(WireFrame.read(from: socket, deadline: deadline)) }
        guard confirmation.isEmpty else { throw .garbage("the link confirmation carries \(confirmation.count) bytes") }
        return (peer, receive)
    }

    /// Runs a Noise step, turning its error into a protocol violation of the other side.
    private static func noise<T>(_ step: () throws -> T) throws(LinkFailure) -> T {
        do { return try step() } catch let failure as LinkFailure { throw failure } catch { throw .garbage("handshake: \(error)") }
    }
}

/// The sending half of an established link.
struct SecureSender {
    /// How many bytes of frames are gathered before one `send` call.
    private static let writeBatchBytes = 256 * 1024

    let socket: TCPSocket
    private var cipher: CipherState

    init(socket: TCPSocket, cipher: CipherState) {
        self.socket = socket
        self.cipher = cipher
    }

    /// Encrypts and writes one application message: its header frame, then its chunks.
    mutating func send(_ message: [UInt8]) throws(LinkFailure) {
        var out: [UInt8] = []
        out.reserveCapacity(min(message.count, Self.writeBatchBytes) + 64)
        for plaintext in MessageFraming.plaintexts(of: message) {
            let ciphertext: [UInt8]
            do { ciphertext = try cipher.encrypt(plaintext) } catch { throw .closed("\(error)") }
            WireFrame.write(ciphertext, into: &out)
            if out.count >= Self.writeBatchBytes {
                try socket.sendAll(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        if !out.isEmpty { try socket.sendAll(out) }
    }
}

/// The receiving half of an established link.
struct SecureReceiver {
    let socket: TCPSocket
    private var cipher: CipherState
    private var assembler: MessageAssembler

    init(socket: TCPSocket, cipher: CipherState, maxMessageBytes: Int) {
        self.socket = socket
        self.cipher = cipher
        self.assembler = MessageAssembler(maxMessageBytes: maxMessageBytes)
    }

    /// Blocks until the next whole message has arrived and decrypted.
    mutating func receive() throws(LinkFailure) -> [UInt8] {
        while true {
            let frame = try WireFrame.read(from: socket, deadline: nil)
            let plaintext: [UInt8]
            do { plaintext = try cipher.decrypt(frame) } catch { throw .garbage("transport message: \(error)") }
            do {
                if let message = try assembler.consume(plaintext) { return message }
            } catch {
                throw .garbage("framing: \(error)")
            }
        }
    }
}
