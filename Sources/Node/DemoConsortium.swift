// The organisations of a development ledger: a notary office, a forensic lab, a court, the
// justice bureau, an arbitration commission, a legal-aid centre and a lawyers' association,
// each with a fresh signing key in the node directory (mode 0600), and the consortium's
// verification-code key. Demo codes and names only: nothing here identifies a real body.
import CinnabarCrypto
import Foundation
import Records
import Storage

/// An organisation's record-signing key file: JSON with the org, its role, the key id and the
/// multibase private key. Created 0600; refused if others may read it.
public struct OrganisationKey: Codable, Sendable {
    public var org: String
    public var role: String
    public var name: String
    public var keyID: String
    public var privateKeyMultibase: String

    enum CodingKeys: String, CodingKey {
        case org, role, name
        case keyID = "key_id"
        case privateKeyMultibase = "private_key_multibase"
    }

    /// The signer for `RecordDraft.signed(by:)`.
    public func signer() throws -> RecordSigner {
        guard let key = Multikey.ed25519PrivateKey(multibase: privateKeyMultibase) else {
            throw StorageError(code: "key_file", "the key of \(org) is not a multibase Ed25519 private key")
        }
        return RecordSigner(org: org, keyID: keyID, key: key)
    }

    /// Writes the key as a new 0600 file.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try SecretFile.create(at: path, contents: Array(try encoder.encode(self)) + [0x0A])
    }

    /// Reads a key file, refusing one that group or others may read.
    public static func load(_ path: String) throws -> OrganisationKey {
        let data = try SecretFile.read(path)
        do { return try JSONDecoder().decode(OrganisationKey.self, from: Data(data)) } catch {
            throw StorageError(code: "key_file", "\(path) is not an organisation key file")
        }
    }
}

/// Files that hold secrets: created with mode 0600, read only if nobody else can.
public enum SecretFile {
    public static func create(at path: String, contents: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw StorageError(code: "key_file", "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard write(fd, contents, contents.count) == contents.count, fsync(fd) == 0 else {
            throw StorageError(code: "key_file", "cannot write \(path)")
        }
    }

    public static func read(_ path: String) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0, let data = FileManager.default.contents(atPath: path) else {
            throw StorageError(code: "key_file", "cannot read \(path)")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw StorageError(code: "key_file", "\(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)")
        }
        return Array(data)
    }
}

/// The consortium's verification-code key: HMAC key for `code_hmac` fields and the code index.
/// Held by member nodes and their issuing clients, never published.
public struct CodeKey: Sendable {
    public let bytes: [UInt8]
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// `code_hmac` of a verification code: unpadded base64url HMAC-SHA256 of its 16 characters.
    public func hmac(_ code: VerificationCode) -> String { Base64URL.encode(raw(code)) }
    /// The raw 32-byte HMAC (the index key).
    public func raw(_ code: VerificationCode) -> [UInt8] { HMACSHA256.authenticationCode(key: bytes, message: Array(code.value.utf8)) }

    public static func generate(at path: String) throws {
        try SecretFile.create(at: path, contents: Array(Base64.encode(secureRandomBytes(count: 32)).utf8) + [0x0A])
    }

    public static func load(_ path: String) throws -> CodeKey {
        let text = String(decoding: try SecretFile.read(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = Base64.decode(text), bytes.count == 32 else { throw StorageError(code: "key_file", "\(path) is not a code key") }
        return CodeKey(bytes: bytes)
    }
}

/// The demo organisations of `cinnabar dev init`.
public enum DemoConsortium {
    /// (file slug, USCI without check character, role, name).
    static let organisations: [(slug: String, prefix: String, role: Role, name: String)] = [
        ("notary", "12510100MB0000001", .notaryOffice, "成都市示例公证处 (demo)"),
        ("lab", "12510100MB0000002", .forensicLab, "四川示例司法鉴定中心 (demo)"),
        ("court", "11510100MB0000003", .court, "成都市示例中级人民法院 (demo)"),
        ("bureau", "11510000MB0000004", .justiceAdmin, "四川省示例司法厅 (demo)"),
        ("arbitration", "12510100MB0000005", .arbitrationCommission, "成都示例仲裁委员会 (demo)"),
        ("legal-aid", "12510100MB0000006", .legalAidCenter, "成都市示例法律援助中心 (demo)"),
        ("lawyers", "51510000MB0000007", .association, "四川省示例律师协会 (demo)"),
    ]

    /// Writes `orgs/<slug>.key` for each demo organisation and `codes.key`; returns the genesis parts.
    static func create(in directory: NodeDirectory) throws -> ([Genesis.Organisation], Genesis.Governance) {
        try FileManager.default.createDirectory(atPath: directory.orgsPath, withIntermediateDirectories: true)
        var orgs: [Genesis.Organisation] = []
        var governance: [String] = []
        for o in organisations {
            let org = try OrganizationCode.withCheckCharacter(prefix17: o.prefix).value
            let key = Ed25519PrivateKey.generate()
            try OrganisationKey(org: org, role: o.role.rawValue, name: o.name, keyID: "k1",
                                privateKeyMultibase: Multikey.encode(privateKey: key)).write(to: directory.orgKeyPath(o.slug))
            orgs.append(Genesis.Organisation(org: org, role: o.role.rawValue, name: o.name, keys: ["k1": Multikey.encode(publicKey: key.publicKey)]))
            if o.role == .justiceAdmin || o.role == .court { governance.append(org) }
        }
        try CodeKey.generate(at: directory.codeKeyPath)
        return (orgs, Genesis.Governance(members: governance, quorum: governance.count))
    }
}
