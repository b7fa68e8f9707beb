// Errors of the consensus persistence and driver, with stable codes (STYLE.md: errors are part
// of the interface). Each one stops the node: an operator must look before it signs again.

/// Why the consensus engine refused to go on.
public enum ConsensusError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The signer state file is missing: signing could repeat an old signature differently.
    case signerStateMissing
    /// A record in the middle of a file is damaged: the file cannot be trusted past it.
    case corruptRecord(file: String, offset: Int)
    /// A record decoded to something the engine cannot have written.
    case malformedRecord(file: String, reason: String)
    /// The signer state already exists where a fresh one was to be created.
    case signerStateExists

    public var code: String {
        switch self {
        case .signerStateMissing: "signer_state_missing"
        case .corruptRecord: "corrupt_record"
        case .malformedRecord: "malformed_record"
        case .signerStateExists: "signer_state_exists"
        }
    }

    public var description: String {
        switch self {
        case .signerStateMissing:
            "the signer state file is missing; refusing to sign (restore it, or re-initialise only if this key never signed)"
        case let .corruptRecord(file, offset):
            "\(file): damaged record at byte \(offset) with intact data after it; halting (an operator must restore the file)"
        case let .malformedRecord(file, reason): "\(file): \(reason)"
        case .signerStateExists: "the signer state file already exists"
        }
    }
}

/// Why the signer guard would not sign.
public enum SignRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    /// (height, round, step) is not after the last signed one, and the bytes differ from what was
    /// signed there (or nothing is remembered there).
    case wouldDoubleSign(height: UInt64, round: Int, step: Step)
    /// A checkpoint of a smaller size, or of the same size with another root, was already signed.
    case inconsistentCheckpoint(size: UInt64)

    public var code: String {
        switch self {
        case .wouldDoubleSign: "would_double_sign"
        case .inconsistentCheckpoint: "inconsistent_checkpoint"
        }
    }

    public var description: String {
        switch self {
        case let .wouldDoubleSign(h, r, s): "refusing to sign a second, different message for h\(h) r\(r) \(s)"
        case let .inconsistentCheckpoint(size): "refusing to sign checkpoint size \(size): it is not after the last one signed"
        }
    }
}
