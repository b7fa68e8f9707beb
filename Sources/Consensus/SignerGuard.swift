// The signer guard (consensus.md §2.8.1): the only place a validator's key signs. It never signs
// two different messages for one (height, round, step), nor two inconsistent checkpoints, and
// every signature is durable (fsync) before it leaves the node, so this holds across crashes.
// Messages signed in one step of the replica (a proposal and the votes it leads to, with n = 1)
// are made durable together by one `sync()`, before the replica returns any of them.
import CinnabarCrypto
import Ledger
import SignedNote

/// A validator's signing keys behind a durable, append-only record of everything signed.
///
/// File `signer.log`, records framed by `RecordFile`:
/// - `0x00` — created: the state exists (written by `SignerGuard.create`, at key creation);
/// - `0x01 ‖ u64 h ‖ u32 r ‖ u8 step ‖ 32-byte SHA-256(sign-bytes) ‖ 64-byte signature`;
/// - `0x02 ‖ u64 size ‖ 32-byte root ‖ 64-byte signature` — a checkpoint signature.
///
/// Rules: a message is signed only if its (h, r, step) is after the last one signed (order
/// proposal < prevote < precommit); the same sign-bytes at a remembered (h, r, step) — any of the
/// last `rememberedHeights` heights — get the remembered signature (replay is idempotent, also of
/// several heights a node recovers from kept WALs); anything else is refused. A checkpoint is signed
/// only if its size is larger than the last one's; a (size, root) among the last
/// `rememberedCheckpoints` signed gets the same signature again (a node that recovers several
/// decided blocks from its WAL re-publishes their checkpoints); anything else is refused.
/// If the file is missing the guard refuses to start (`signerStateMissing`).
public final class SignerGuard {
    public static let fileName = "signer.log"
    /// Compaction threshold: at a new height, the log is rewritten once it holds more records
    /// (well above what compaction keeps: about four records for each remembered height).
    public static let compactAfterRecords = 2048
    /// Checkpoint signatures kept for idempotent re-signing, newest last. As many as the heights a
    /// one-validator node may replay after a crash (its store flushes every few dozen heights).
    public static let rememberedCheckpoints = 128
    /// Heights whose signed messages are kept for idempotent re-signing.
    public static let rememberedHeights: UInt64 = 128

    struct Position: Comparable, Hashable {
        let height: UInt64
        let round: Int
        let step: Step
        static func < (a: Position, b: Position) -> Bool {
            (a.height, a.round, a.step.rawValue) < (b.height, b.round, b.step.rawValue)
        }
    }

    struct Signed {
        let position: Position
        let digest: Hash
        let signature: [UInt8]
    }

    struct SignedCheckpoint {
        let size: UInt64
        let root: Hash
        let signature: [UInt8]
    }

    private let store: DurableStore
    private let key: Ed25519PrivateKey
    private let checkpointKey: NoteSigningKey
    private let chainID: String
    /// The last message signed, and the messages signed at the last `rememberedHeights` heights
    /// (for idempotent replay).
    private var last: Signed?
    private var recent: [Position: Signed] = [:]
    /// The last checkpoints signed, oldest first (at most `rememberedCheckpoints`).
    private var checkpoints: [SignedCheckpoint] = []
    private var lastCheckpoint: SignedCheckpoint? { checkpoints.last }
    private var records: Int
    /// Framed records of signatures made since the last `sync()`: nothing signed may leave the
    /// node until they are durable.
    private var unsynced: [UInt8] = []
    /// Signatures made (not returned from memory): bench accounting.
    public private(set) var signaturesMade = 0

    /// Creates the signer state for a key that has never signed. Throws `signerStateExists`.
    public static func create(in store: DurableStore) throws {
        guard try store.read(fileName) == nil else { throw ConsensusError.signerStateExists }
        try store.append(fileName, RecordFile.frame([0x00]))
        try store.sync(fileName)
    }

    /// Opens the guard. Throws `signerStateMissing` if `create` never ran here (or the file was
    /// lost), `corruptRecord`/`malformedRecord` if the file is damaged.
    public init(store: DurableStore, key: Ed25519PrivateKey, checkpointKey: NoteSigningKey, chainID: String) throws {
        precondition(checkpointKey.verifierKey.publicKey == key.publicKey, "one key signs votes and checkpoints")
        self.store = store
        self.key = key
        self.checkpointKey = checkpointKey
        self.chainID = chainID
        guard let payloads = try RecordFile.recover(store, SignerGuard.fileName), payloads.first == [0x00] else {
            throw ConsensusError.signerStateMissing
        }
        records = payloads.count
        for payload in payloads.dropFirst() { try load(payload) }
    }

    private func load(_ payload: [UInt8]) throws {
        var r = BinaryReader(payload)
        let bad = ConsensusError.malformedRecord(file: SignerGuard.fileName, reason: "undecodable signer record")
        switch r.u8() {
        case 0x01:
            guard let h = r.u64(), let rd = r.u32(), let s = r.u8(), let step = Step(rawValue: s), let digest = r.hash(),
                  let sig = WireCodec.signature(&r), r.isAtEnd else { throw bad }
            remember(Signed(position: Position(height: h, round: Int(rd), step: step), digest: digest, signature: sig))
        case 0x02:
            guard let size = r.u64(), let root = r.hash(), let sig = WireCodec.signature(&r), r.isAtEnd else { throw bad }
            rememberCheckpoint(SignedCheckpoint(size: size, root: root, signature: sig))
        default: throw bad
        }
    }

    private func rememberCheckpoint(_ c: SignedCheckpoint) {
        checkpoints.append(c)
        if checkpoints.count > SignerGuard.rememberedCheckpoints { checkpoints.removeFirst() }
    }

    private func remember(_ s: Signed) {
        if let last, last.position.height != s.position.height, s.position.height >= SignerGuard.rememberedHeights {
            let oldest = s.position.height - SignerGuard.rememberedHeights + 1
            recent = recent.filter { $0.key.height >= oldest }
        }
        recent[s.position] = s
        last = s
    }

    /// Signs a proposal or vote. Returns the signature, or why it refuses. The signature must not
    /// leave the node before `sync()` returns (the replica syncs before it returns any effect).
    public func sign(_ request: SignRequest) throws -> Result<[UInt8], SignRefusal> {
        let bytes = request.signBytes(chainID: chainID)
        let digest = SHA256.hash(bytes)
        let position = Position(height: request.height, round: request.round, step: request.step)
        if let known = recent[position] {
            return known.digest == digest ? .success(known.signature) : .failure(.wouldDoubleSign(
                height: position.height, round: position.round, step: position.step))
        }
        if let last, position <= last.position {
            return .failure(.wouldDoubleSign(height: position.height, round: position.round, step: position.step))
        }
        let signature = key.signature(for: bytes)
        signaturesMade += 1
        var w = BinaryWriter()
        w.u8(0x01)
        w.u64(position.height)
        w.u32(UInt32(position.round))
        w.u8(position.step.rawValue)
        w.hash(digest)
        w.raw(signature)
        unsynced += RecordFile.frame(w.bytes)
        records += 1
        remember(Signed(position: position, digest: digest, signature: signature))
        return .success(signature)
    }

    /// True if something signed is waiting for `sync()`.
    public var hasUnsyncedSignatures: Bool { !unsynced.isEmpty }

    /// Makes every signature made so far durable: one write and one fsync for all of them, so a
    /// crash keeps all, none, or a torn prefix (truncated on open: those never left the node).
    public func sync() throws {
        guard !unsynced.isEmpty else { return }
        try store.append(SignerGuard.fileName, unsynced)
        try store.sync(SignerGuard.fileName)
        unsynced = []
    }

    /// Signs checkpoint `(origin, size, root)` with the C2SP note key, durably (or, without
    /// `syncing`, at the next `sync()`, which must come before the signature leaves); refuses a
    /// size below the last signed one, or the same size with another root.
    public func signCheckpoint(origin: String, size: UInt64, root: Hash, syncing: Bool = true) throws -> Result<NoteSignature, SignRefusal> {
        let text = LedgerChain.checkpointText(origin: origin, size: size, root: root)
        if let lc = lastCheckpoint, size <= lc.size {
            guard let known = checkpoints.last(where: { $0.size == size }), known.root == root else {
                return .failure(.inconsistentCheckpoint(size: size))
            }
            // Made unsynced in a step that then failed before its sync: durable before it leaves.
            if syncing { try sync() }
            return .success(try NoteSignature(keyName: checkpointKey.name, keyID: checkpointKey.keyID, signature: known.signature))
        }
        let line = try checkpointKey.signature(for: text)
        signaturesMade += 1
        var w = BinaryWriter()
        w.u8(0x02)
        w.u64(size)
        w.hash(root)
        w.raw(line.signature)
        unsynced += RecordFile.frame(w.bytes)
        if syncing { try sync() }  // durable before the signature is returned
        records += 1
        rememberCheckpoint(SignedCheckpoint(size: size, root: root, signature: line.signature))
        return .success(line)
    }

    /// Rewrites the log as its creation record, the remembered messages (the last one last) and
    /// checkpoints, if it has grown past `compactAfterRecords`. Call only between heights, before
    /// anything of the new height is signed; nothing replay may need is dropped.
    public func compactIfNeeded() throws {
        try sync()
        guard records > SignerGuard.compactAfterRecords else { return }
        var bytes = RecordFile.frame([0x00])
        let messages = recent.values.sorted { $0.position < $1.position }
        for m in messages {
            var w = BinaryWriter()
            w.u8(0x01)
            w.u64(m.position.height)
            w.u32(UInt32(m.position.round))
            w.u8(m.position.step.rawValue)
            w.hash(m.digest)
            w.raw(m.signature)
            bytes += RecordFile.frame(w.bytes)
        }
        for c in checkpoints {
            var w = BinaryWriter()
            w.u8(0x02)
            w.u64(c.size)
            w.hash(c.root)
            w.raw(c.signature)
            bytes += RecordFile.frame(w.bytes)
        }
        try store.replace(SignerGuard.fileName, with: bytes)
        records = 1 + messages.count + checkpoints.count
    }
}
