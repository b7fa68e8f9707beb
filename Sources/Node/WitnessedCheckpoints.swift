// The node's checkpoints that external witnesses cosigned (c2sp.org/tlog-witness): for each of
// the last few sizes, the validators' note and the witnesses' cosignature lines received for it.
// Kept in memory: after a restart the node pushes its tip again and the witnesses cosign it anew.
import SignedNote
import Synchronization

/// Recent witnessed checkpoints, bounded. Filled by the node's witness pushers, read by the API
/// (`GET /v1/checkpoint/witnessed`) and by proof bundles.
public final class WitnessedCheckpoints: Sendable {
    /// How many checkpoint sizes are kept; older ones are dropped first.
    public static let maxSizesKept = 16

    private struct Entry {
        let size: UInt64
        /// The checkpoint note with the validators' signatures, as the node published it.
        let note: Note
        var cosignatures: [NoteSignature]
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    /// Records `cosignature`, already verified with its witness's key, on `note` (the checkpoint of
    /// `size` with the validators' signatures). A newer line from the same key replaces the older.
    public func add(_ cosignature: Cosignature, on note: Note, size: UInt64) {
        let line = cosignature.noteSignature
        entries.withLock { entries in
            if let i = entries.firstIndex(where: { $0.size == size && $0.note == note }) {
                entries[i].cosignatures.removeAll { $0.keyName == line.keyName && $0.keyID == line.keyID }
                entries[i].cosignatures.append(line)
            } else {
                entries.append(Entry(size: size, note: note, cosignatures: [line]))
                entries.sort { $0.size < $1.size }
                if entries.count > WitnessedCheckpoints.maxSizesKept { entries.removeFirst() }
            }
        }
    }

    /// The checkpoint of at least `minimumSize` leaves cosigned by the most witnesses (the largest
    /// of those), its note with every cosignature line appended; nil if none is kept.
    public func best(coveringSize minimumSize: UInt64 = 0) -> (size: UInt64, note: Note)? {
        entries.withLock { entries in
            guard let entry = entries.filter({ $0.size >= minimumSize })
                .max(by: { ($0.cosignatures.count, $0.size) < ($1.cosignatures.count, $1.size) }),
                let note = try? entry.note.adding(entry.cosignatures) else { return nil }
            return (entry.size, note)
        }
    }
}
