// How an application message travels as Noise transport messages (Specs/peer-protocol.md §3): a
// header frame with its length, then its bytes in chunks that fill each Noise message. Pure code.

/// The chunking of application messages into transport plaintexts.
enum MessageFraming {
    /// Noise's limit on any message, ciphertext and tag included (rev 34 §3).
    static let maxNoiseMessageBytes = 65_535
    /// The most plaintext one transport message carries: the limit less the 16-byte tag.
    static let maxChunkBytes = maxNoiseMessageBytes - ChaChaPoly.tagBytes
    /// The header plaintext: the message length as a big-endian u32.
    static let headerBytes = 4

    /// The plaintexts that carry `message`: its header, then chunks of `maxChunkBytes` (the last
    /// one shorter; none for an empty message).
    static func plaintexts(of message: [UInt8]) -> [ArraySlice<UInt8>] {
        precondition(message.count <= Int(UInt32.max), "a message length fits in a u32")
        let length = UInt32(message.count)
        let header: [UInt8] = [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        let chunks = stride(from: 0, to: message.count, by: maxChunkBytes).map {
            message[$0..<min($0 + maxChunkBytes, message.count)]
        }
        return [header[...]] + chunks
    }
}

/// Why a stream of transport plaintexts is not a well-formed sequence of messages.
enum FramingError: Error, Equatable, CustomStringConvertible {
    /// A header plaintext that is not 4 bytes.
    case malformedHeader(bytes: Int)
    /// A declared length above the configured bound.
    case messageTooLarge(declaredBytes: Int, maxBytes: Int)
    /// A chunk of another size than the canonical chunking gives.
    case malformedChunk(bytes: Int, expectedBytes: Int)

    var description: String {
        switch self {
        case .malformedHeader(let bytes): "a message header of \(bytes) bytes, not \(MessageFraming.headerBytes)"
        case .messageTooLarge(let declared, let max): "a message of \(declared) bytes declared, above the limit of \(max)"
        case .malformedChunk(let bytes, let expected): "a chunk of \(bytes) bytes where \(expected) were due"
        }
    }
}

/// Rebuilds messages from transport plaintexts, accepting only the canonical chunking of
/// `MessageFraming.plaintexts(of:)`, so that there is one encoding of every message.
struct MessageAssembler {
    /// The largest declared length accepted.
    let maxMessageBytes: Int
    private var remainingBytes: Int?  // nil: a header is due
    private var message: [UInt8] = []

    init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Takes the next plaintext; returns a message once its last byte has arrived.
    mutating func consume(_ plaintext: [UInt8]) throws(FramingError) -> [UInt8]? {
        guard let remaining = remainingBytes else {
            guard plaintext.count == MessageFraming.headerBytes else { throw .malformedHeader(bytes: plaintext.count) }
            let declared = plaintext.reduce(0) { $0 << 8 | Int($1) }
            guard declared <= maxMessageBytes else { throw .messageTooLarge(declaredBytes: declared, maxBytes: maxMessageBytes) }
            if declared == 0 { return [] }
            remainingBytes = declared
            // Grown as chunks arrive, so a declared length costs nothing until its bytes come.
            message = []
            message.reserveCapacity(min(declared, MessageFraming.maxChunkBytes))
            return nil
        }
        let expected = min(remaining, MessageFraming.maxChunkBytes)
        guard plaintext.count == expected else { throw .malformedChunk(bytes: plaintext.count, expectedBytes: expected) }
        message.append(contentsOf: plaintext)
        guard remaining > expected else {
            remainingBytes = nil
            defer { message = [] }
            return message
        }
        remainingBytes = remaining - expected
        return nil
    }
}
