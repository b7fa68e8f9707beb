// A court (or anyone who is not a validator) running a C2SP tlog-witness: its directory (the
// cosigning key, a 0600 file, and the recorded tree heads) and the service that answers
// add-checkpoint, recording each new tree head durably before the cosignature leaves.
import CinnabarCrypto
import ConsensusStorage
import Foundation
import SignedNote
import Storage
import Synchronization

/// The files of a witness directory: `witness.key` (mode 0600) and `state/tree-heads`.
public struct WitnessDirectory: Sendable {
    public let path: String
    public init(_ path: String) { self.path = path }

    /// The witness's signing key; its name is the witness's name on cosignature lines.
    public var keyPath: String { path + "/witness.key" }
    /// The recorded tree heads, replaced atomically (a directory of mode 0700).
    public var statePath: String { path + "/state" }

    public func loadKey() throws -> NoteSigningKey { try KeyFile.load(keyPath) }

    /// Creates a witness directory: a fresh key named `name` and an empty state. Fails if the
    /// directory already has a key.
    public static func initialise(at path: String, name: String) throws -> NoteSigningKey {
        let dir = WitnessDirectory(path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard !FileManager.default.fileExists(atPath: dir.keyPath) else {
            throw StorageError(code: "already_initialised", "\(path) already holds a witness (witness.key exists)")
        }
        let key = try NoteSigningKey.generate(name: name)
        try TreeHeadFile(directory: dir.statePath).write([:])
        try KeyFile.create(key, at: dir.keyPath)
        return key
    }
}

/// The recorded tree heads, one file: a header line, then for each log its origin, size and base64
/// root, one per line (a three-line checkpoint body). Written to a temporary file, fsync'd,
/// renamed over the old one and the directory fsync'd (`FileStore.replace`): a crash leaves the old
/// heads or the new ones, never a mix.
struct TreeHeadFile {
    static let name = "tree-heads"
    static let header = "cinnabar-witness-state/v1\n"
    let store: FileStore

    init(directory: String) throws {
        store = try FileStore(directory: directory)
    }

    /// The heads by origin bytes. Throws if the file is missing (the witness would forget what it
    /// cosigned) or malformed.
    func read() throws -> [[UInt8]: TreeHead] {
        guard let bytes = try store.read(TreeHeadFile.name) else {
            throw StorageError(
                code: "witness_state_missing",
                "\(store.directory)/\(TreeHeadFile.name) is missing: this witness no longer knows what it cosigned, and refuses to cosign; restore it from a backup")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix(TreeHeadFile.header) else {
            throw StorageError(code: "witness_state_malformed", "\(store.directory)/\(TreeHeadFile.name) has no \(TreeHeadFile.header) header")
        }
        let lines = text.dropFirst(TreeHeadFile.header.count).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard lines.count % 3 == 0 else {
            throw StorageError(code: "witness_state_malformed", "\(store.directory)/\(TreeHeadFile.name) is not origin, size, root line triples")
        }
        var heads: [[UInt8]: TreeHead] = [:]
        var at = lines.startIndex
        while at < lines.endIndex {
            let body = lines[at..<at + 3].map { $0 + "\n" }.joined()
            do {
                let checkpoint = try Checkpoint(parsing: body)
                heads[Array(checkpoint.origin.utf8)] = TreeHead(checkpoint)
            } catch {
                throw StorageError(code: "witness_state_malformed", "\(store.directory)/\(TreeHeadFile.name): \(error)")
            }
            at += 3
        }
        return heads
    }

    /// Replaces the file with `heads`, durably.
    func write(_ heads: [[UInt8]: TreeHead]) throws {
        var text = TreeHeadFile.header
        for (origin, head) in heads.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let checkpoint = try Checkpoint(origin: String(decoding: origin, as: UTF8.self), size: head.size, root: head.root)
            text += checkpoint.text
        }
        try store.replace(TreeHeadFile.name, with: Array(text.utf8))
    }
}

/// The witness's add-checkpoint service: one request at a time decides against the recorded head,
/// makes a new head durable, then cosigns (tlog-witness: checking the old size and persisting the
/// new checkpoint are atomic, and the checkpoint is persisted before responding).
public final class WitnessService: Sendable {
    /// The pure rules, the key and the known logs.
    public let witness: TlogWitness
    private let clockSeconds: @Sendable () -> UInt64
    private struct State {
        var heads: [[UInt8]: TreeHead]
        let file: TreeHeadFile
    }
    private let state: Mutex<State>

    /// Opens the witness in `directory` for `logs` (origin and the policy its checkpoints must
    /// satisfy). Throws if the key or the recorded heads cannot be read.
    public init(directory: WitnessDirectory, logs: [(origin: String, policy: TlogPolicy)],
                clockSeconds: @escaping @Sendable () -> UInt64 = { UInt64(Date().timeIntervalSince1970) }) throws {
        witness = TlogWitness(key: try directory.loadKey(), logs: logs)
        let file = try TreeHeadFile(directory: directory.statePath)
        state = Mutex(State(heads: try file.read(), file: file))
        self.clockSeconds = clockSeconds
    }

    /// Answers an add-checkpoint body with the cosignature line (the 200 body), or throws the
    /// `WitnessRefusal` to answer with; an I/O failure while recording throws and cosigns nothing.
    public func addCheckpoint(_ body: some Collection<UInt8>) throws -> String {
        let request = try AddCheckpointRequest(parsing: body)
        let origin = Array(request.checkpoint.origin.utf8)
        return try state.withLock { state in
            let recorded = state.heads[origin]
            let head = try witness.check(request, recorded: recorded)
            if head != recorded {
                var heads = state.heads
                heads[origin] = head
                try state.file.write(heads)
                state.heads = heads
            }
            return witness.cosign(request.checkpoint, timestamp: clockSeconds()).line
        }
    }

    /// The tree head recorded for `origin`, or nil if the witness never cosigned that log.
    public func recorded(origin: String) -> TreeHead? {
        state.withLock { $0.heads[Array(origin.utf8)] }
    }
}
