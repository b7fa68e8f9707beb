// The bytes of a leaf (DESIGN.md §2.1): one tag byte, then the body. Records, validator-set
// changes and block trailers share one tree, told apart by the tag.

/// The first byte of every leaf's data.
public enum LeafTag: UInt8, Sendable, CaseIterable {
    /// A signed record (canonical JSON).
    case record = 0x01
    /// A governance-approved change of the validator set.
    case validatorSetChange = 0x02
    /// The last leaf of every block (`BlockTrailer`).
    case blockTrailer = 0x03
}

/// Limits on leaves.
public enum LeafLimits {
    /// A leaf's data, tag included, fits the u16 length prefix of a C2SP entry bundle.
    public static let maxBytes = 65_535
}

/// Why a submitted leaf was refused before it reached the log.
public enum LeafError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case tooLarge(bytes: Int)
    case unknownTag(UInt8)
    case reservedTag(LeafTag)

    /// A stable, machine-readable code.
    public var code: String {
        switch self {
        case .empty: "leaf_empty"
        case .tooLarge: "leaf_too_large"
        case .unknownTag: "leaf_unknown_tag"
        case .reservedTag: "leaf_reserved_tag"
        }
    }

    public var description: String {
        switch self {
        case .empty: "leaf is empty"
        case let .tooLarge(bytes): "leaf is \(bytes) bytes; the limit is \(LeafLimits.maxBytes)"
        case let .unknownTag(tag): "leaf tag 0x\(String(tag, radix: 16)) is not defined"
        case let .reservedTag(tag): "leaf tag \(tag) is written by the ledger itself, not submitted"
        }
    }

    /// Checks a submitted leaf: non-empty, within the size limit, a tag writers may use.
    public static func check(submitted leaf: [UInt8]) throws(LeafError) {
        guard let first = leaf.first else { throw .empty }
        guard leaf.count <= LeafLimits.maxBytes else { throw .tooLarge(bytes: leaf.count) }
        guard let tag = LeafTag(rawValue: first) else { throw .unknownTag(first) }
        guard tag == .record else { throw .reservedTag(tag) }
    }
}
