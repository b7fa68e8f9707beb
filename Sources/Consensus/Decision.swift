// A decided height: the block and the certificate that proves it (Algorithm 1, line 51).

/// A decision (Algorithm 1, line 51): the block decided at `height`, with its certificate.
public struct Decision: Hashable, Sendable, CustomStringConvertible {
    public let height: UInt64
    public let round: Int
    public let value: EvaluatedValue
    public let certificate: CommitCertificate

    public init(height: UInt64, round: Int, value: EvaluatedValue, certificate: CommitCertificate) {
        precondition(certificate.height == height && certificate.valueID == value.id, "certificate for another block")
        self.height = height
        self.round = round
        self.value = value
        self.certificate = certificate
    }

    public var description: String { "decide(h\(height) r\(round) \(value.id))" }
}
