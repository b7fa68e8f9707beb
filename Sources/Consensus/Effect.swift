// What the replica asks its node to do after each input: send, schedule a timer, build a block,
// persist a decision. The node acts on effects in order.

/// What the node must do, in order, after giving the replica an input.
public enum Effect: Hashable, Sendable, CustomStringConvertible {
    /// Send to every other validator (own messages are already counted).
    case send(ConsensusMessage)
    /// Call `handle(.timeout(t))` after this many milliseconds of the local monotonic clock.
    case schedule(Timeout, afterMillis: UInt64)
    /// getValue(): build a block on the committed tip and call `proposeValue`.
    case requestValue(height: UInt64, round: Int)
    /// The block at `decision.height` is decided: persist block + certificate (fsync), apply it,
    /// call `signCheckpoint`, then `startNextHeight`.
    case decided(Decision)
    /// A validator equivocated; keep the evidence.
    case evidence(Evidence)
    /// The signer guard refused to sign (the message was not sent).
    case refused(SignRefusal)

    public var description: String {
        switch self {
        case let .send(m): "send \(m)"
        case let .schedule(t, ms): "schedule \(t) +\(ms)ms"
        case let .requestValue(h, r): "getValue(h\(h) r\(r))"
        case let .decided(d): d.description
        case let .evidence(e): e.description
        case let .refused(r): "refused: \(r)"
        }
    }
}
