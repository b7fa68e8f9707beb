// Framed, checksummed records in an append-only file: the format of the consensus WAL, the
// signer log and the simulator's block store. Recovery tells a torn tail (truncated: its
// effect never left the node) from damage in the middle (halt).
import CinnabarCrypto
import Ledger

/// Record framing: `u32 length ‖ u32 check ‖ payload`, where `check` is the first four bytes,
/// big-endian, of SHA-256(u32 length ‖ payload).
public enum RecordFile {
    public static let headerBytes = 8
    public static let maxPayloadBytes = 80 << 20

    /// The framed bytes of one record.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count <= maxPayloadBytes, "record too large")
        var out: [UInt8] = []
        out.reserveCapacity(headerBytes + payload.count)
        appendBigEndian(UInt32(payload.count), to: &out)
        appendBigEndian(check(payload), to: &out)
        out += payload
        return out
    }

    static func check<Payload: ContiguousBytes>(_ payload: Payload) -> UInt32 {
        var length: [UInt8] = []
        payload.withUnsafeBytes { appendBigEndian(UInt32($0.count), to: &length) }
        let digest = length.withUnsafeBytes { l in payload.withUnsafeBytes { SHA256.hash(l, $0) } }
        return digest.withUnsafeBytes { d in d.prefix(4).reduce(0) { $0 << 8 | UInt32($1) } }
    }

    private static func appendBigEndian(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }

    /// The records of a file and where the good prefix ends.
    public struct Parsed: Sendable {
        public var records: [[UInt8]]
        /// Bytes of intact records; anything after is a torn tail.
        public var validBytes: Int
    }

    /// Splits `bytes` into records. The last record may be torn (incomplete, a bad check that
    /// ends exactly at the end of the file, or a header followed only by zero bytes): parsing
    /// stops before it. A bad record followed by more bytes throws `corruptRecord`.
    public static func parse(_ bytes: [UInt8], file: String) throws(ConsensusError) -> Parsed {
        var records: [[UInt8]] = []
        var at = 0
        while at < bytes.count {
            let rest = bytes.count - at
            if rest < headerBytes { break }  // torn header
            var r = BinaryReader(bytes[at..<(at + headerBytes)])
            let length = Int(r.u32()!)
            let claimed = r.u32()!
            if length > maxPayloadBytes {
                if bytes[at...].allSatisfy({ $0 == 0 }) { break }
                throw .corruptRecord(file: file, offset: at)
            }
            let end = at + headerBytes + length
            if end > bytes.count { break }  // torn payload
            let payload = bytes[(at + headerBytes)..<end]
            if check(payload) != claimed {
                if end == bytes.count || bytes[at...].allSatisfy({ $0 == 0 }) { break }
                throw .corruptRecord(file: file, offset: at)
            }
            records.append(Array(payload))
            at = end
        }
        return Parsed(records: records, validBytes: at)
    }

    /// Reads a file's records, truncating a torn tail durably. Nil if the file does not exist.
    public static func recover(_ store: DurableStore, _ name: String) throws -> [[UInt8]]? {
        guard let bytes = try store.read(name) else { return nil }
        let parsed = try parse(bytes, file: name)
        if parsed.validBytes < bytes.count { try store.truncate(name, to: parsed.validBytes) }
        return parsed.records
    }
}
