// The member organisations and their keys: fixed at genesis, then changed only by governance
// records (MEMBER_ADMITTED, MEMBER_KEY_ROTATED, MEMBER_SUSPENDED, MEMBER_REMOVED).
import CinnabarCrypto

/// A member organisation as the registry knows it.
public struct Member: Equatable, Sendable {
    public enum Status: String, Sendable { case active, suspended, removed }
    public let org: String
    public let role: Role
    public let name: String
    /// Registered verification keys by key id.
    public var keys: [String: Ed25519PublicKey]
    public var status: Status

    public init(org: String, role: Role, name: String, keys: [String: Ed25519PublicKey], status: Status = .active) {
        self.org = org
        self.role = role
        self.name = name
        self.keys = keys
        self.status = status
    }
}

/// Who may sign: the members, their keys, and the governance quorum.
public struct Registry: Equatable, Sendable {
    public private(set) var members: [String: Member]
    /// Organisations whose signatures count toward governance (justice administration and courts).
    public let governance: Set<String>
    /// Distinct governance signatures a membership record needs.
    public let governanceQuorum: Int

    public init(members: [Member], governance: Set<String>, governanceQuorum: Int) {
        self.members = Dictionary(uniqueKeysWithValues: members.map { ($0.org, $0) })
        self.governance = governance
        self.governanceQuorum = governanceQuorum
    }

    /// The active key `keyID` of `org`, or nil.
    public func key(org: String, keyID: String) -> Ed25519PublicKey? {
        guard let m = members[org], m.status == .active else { return nil }
        return m.keys[keyID]
    }

    /// Applies an admitted membership record. Other record types leave the registry unchanged.
    public mutating func apply(_ record: Record) {
        guard record.type.isGovernance, let org = record.string("org") else { return }
        switch record.type {
        case .memberAdmitted:
            guard let role = record.string("role").flatMap(Role.init(rawValue:)) else { return }
            members[org] = Member(org: org, role: role, name: record.string("name") ?? "", keys: Registry.keys(record.payload["keys"]))
        case .memberKeyRotated:
            guard var m = members[org] else { return }
            for (id, key) in Registry.keys(record.payload["add_keys"]) { m.keys[id] = key }
            for id in record.payload["retire_key_ids"]?.array ?? [] { if let id = id.string { m.keys[id] = nil } }
            members[org] = m
        case .memberSuspended:
            members[org]?.status = .suspended
        case .memberRemoved:
            members[org]?.status = .removed
        default:
            break
        }
    }

    static func keys(_ value: JSONValue?) -> [String: Ed25519PublicKey] {
        var out: [String: Ed25519PublicKey] = [:]
        for entry in value?.array ?? [] {
            guard let id = entry["key_id"]?.string, let mb = entry["public_key_multibase"]?.string,
                  let key = Multikey.ed25519PublicKey(multibase: mb) else { continue }
            out[id] = key
        }
        return out
    }
}
