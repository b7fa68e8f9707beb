// C2SP tlog-policy: which logs and witnesses a verifier trusts and which quorum of witness
// signatures makes a checkpoint valid. Cinnabar lists its validators as witnesses in a k-of-n group.

/// A transparency log trust policy (c2sp.org/tlog-policy): known logs, known witnesses, named
/// groups with thresholds, and the quorum. Values are always valid: every initializer checks
/// every rule of the spec.
public struct TlogPolicy: Hashable, Sendable, CustomStringConvertible {
    /// The most `log` lines accepted (the spec asks for at least 32).
    public static let maxLogs = 64
    /// The most `witness` lines accepted (the spec asks for at least 32).
    public static let maxWitnesses = 256
    /// The most `group` lines accepted (the spec asks for at least 32).
    public static let maxGroups = 256
    /// The largest policy file accepted, in bytes.
    public static let maxBytes = 256 * 1024

    /// A `log <vkey> [<url>]` line. The key name MUST be the log's origin line.
    public struct Log: Sendable {
        /// The log's verifier key.
        public let key: NoteVerifierKey
        /// An application-specific URL, if given.
        public let url: String?

        /// A log entry.
        public init(key: NoteVerifierKey, url: String? = nil) {
            self.key = key
            self.url = url
        }
    }

    /// A `witness <name> <vkey> [<url>]` line. Cinnabar's validators are witnesses with plain
    /// Ed25519 (0x01) keys; external witnesses use `cosignature/v1` (0x04) keys.
    public struct Witness: Sendable {
        /// The policy-local name used in groups and the quorum.
        public let name: String
        /// The witness's verifier key (type 0x01 or 0x04).
        public let key: NoteVerifierKey
        /// An application-specific URL (tlog-witness submission prefix), if given.
        public let url: String?

        /// A witness entry.
        public init(name: String, key: NoteVerifierKey, url: String? = nil) {
            self.name = name
            self.key = key
            self.url = url
        }
    }

    /// How many members of a group must have witnessed a checkpoint.
    public enum Threshold: Hashable, Sendable {
        /// k = n.
        case all
        /// k = 1.
        case any
        /// At least k, 1 ≤ k ≤ n.
        case atLeast(Int)

        /// k for a group of `memberCount` members.
        public func required(of memberCount: Int) -> Int {
            switch self {
            case .all: memberCount
            case .any: 1
            case let .atLeast(k): k
            }
        }
    }

    /// A `group <name> all|any|<k> <name>...` line: witnessed iff at least k of its n members are.
    public struct Group: Sendable {
        /// The group's name, in the namespace it shares with witnesses.
        public let name: String
        /// The threshold as written.
        public let threshold: Threshold
        /// Names of witnesses and groups defined earlier, each used as a member at most once.
        public let members: [String]

        /// A group entry.
        public init(name: String, threshold: Threshold, members: [String]) {
            self.name = name
            self.threshold = threshold
            self.members = members
        }

        /// k, the number of members that must have witnessed.
        public var required: Int { threshold.required(of: members.count) }
    }

    /// The `quorum` line.
    public enum Quorum: Sendable, Equatable {
        /// `quorum none`: no witness signatures are required.
        case none
        /// `quorum <name>`: the named witness or group must have witnessed.
        case named(String)

        /// Equal when both are `none` or both name the same bytes.
        public static func == (a: Quorum, b: Quorum) -> Bool {
            switch (a, b) {
            case (.none, .none): true
            case let (.named(x), .named(y)): x.sameBytes(as: y)
            default: false
            }
        }
    }

    /// The known logs; any one of them signing suffices. Empty if the log is known from context.
    public let logs: [Log]
    /// The known witnesses.
    public let witnesses: [Witness]
    /// The groups, in definition order (each refers only to earlier names).
    public let groups: [Group]
    /// The quorum.
    public let quorum: Quorum

    /// A policy from its parts, checked by the same rules as a parsed file. Errors give the line
    /// number that the entry has in `formatted` (logs, then witnesses, then groups, then quorum).
    public init(logs: [Log], witnesses: [Witness], groups: [Group], quorum: Quorum) throws {
        var builder = PolicyBuilder()
        var line = 0
        for log in logs { line += 1; try builder.add(log, line: line) }
        for witness in witnesses { line += 1; try builder.add(witness, line: line) }
        for group in groups { line += 1; try builder.add(group, line: line) }
        line += 1
        try builder.set(quorum, line: line)
        self = try builder.finish()
    }

    fileprivate init(checkedLogs: [Log], witnesses: [Witness], groups: [Group], quorum: Quorum) {
        self.logs = checkedLogs
        self.witnesses = witnesses
        self.groups = groups
        self.quorum = quorum
    }

    /// Parses a policy file (tlog-policy §Policy file syntax and structure). Items are separated
    /// by spaces and tabs; blank lines and lines whose first item starts with "#" are ignored; the
    /// only control characters allowed are tab and newline. A missing newline after the last line
    /// is tolerated. Throws `malformedPolicy` with the line number and the broken rule.
    public init(parsing text: String) throws {
        let size = text.utf8.count
        guard size <= TlogPolicy.maxBytes else {
            throw NoteError.malformedPolicy(line: 0, "policy is \(size) bytes, more than \(TlogPolicy.maxBytes)")
        }
        var builder = PolicyBuilder()
        let lines = Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (i, raw) in lines.enumerated() {
            try builder.parse(raw, line: i + 1)
        }
        self = try builder.finish()
    }

    /// The policy file: logs, witnesses, groups in order, then the quorum; comments are not kept.
    public var formatted: String {
        var lines: [String] = []
        for log in logs { lines.append((["log", log.key.vkey] + (log.url.map { [$0] } ?? [])).joined(separator: " ")) }
        for w in witnesses {
            lines.append((["witness", w.name, w.key.vkey] + (w.url.map { [$0] } ?? [])).joined(separator: " "))
        }
        for g in groups {
            let threshold =
                switch g.threshold {
                case .all: "all"
                case .any: "any"
                case let .atLeast(k): String(k)
                }
            lines.append((["group", g.name, threshold] + g.members).joined(separator: " "))
        }
        switch quorum {
        case .none: lines.append("quorum none")
        case let .named(name): lines.append("quorum \(name)")
        }
        return lines.map { $0 + "\n" }.joined()
    }

    /// The policy file.
    public var description: String { formatted }

    /// Verifies a checkpoint note against the policy and returns the checkpoint.
    ///
    /// The note text must be a checkpoint. If the policy lists logs, one of them must have signed
    /// it and that log's key name must be the origin (tlog-policy §Defining a log). The witnesses
    /// whose signatures verified must satisfy the quorum. Any signature line from a listed key that
    /// fails to verify rejects the note (signed-note §Signatures); lines from other keys are ignored.
    /// Throws `malformedCheckpoint`, `signatureInvalid`, `noVerifiedSignature`, `originMismatch`
    /// or `quorumNotMet` (saying how many members of which group signed, and who).
    public func verify(note: Note) throws -> Checkpoint {
        let checkpoint = try Checkpoint(parsing: note.text)
        let verified = Set(try note.verifiedKeys(among: logs.map(\.key) + witnesses.map(\.key)))
        if !logs.isEmpty {
            let signedLogs = logs.filter { verified.contains($0.key) }
            guard !signedLogs.isEmpty else {
                let names = logs.map { "\($0.key.name)+\(hex8($0.key.keyID))" }.joined(separator: ", ")
                throw NoteError.noVerifiedSignature(
                    "checkpoint of \(quoted(checkpoint.origin)) is signed by none of the policy's logs (\(names))")
            }
            guard signedLogs.contains(where: { $0.key.name.sameBytes(as: checkpoint.origin) }) else {
                throw NoteError.originMismatch(origin: checkpoint.origin, logKeyNames: signedLogs.map(\.key.name))
            }
        }
        let signed = Set(witnesses.filter { verified.contains($0.key) }.map { Array($0.name.utf8) })
        let quorumCheck = QuorumEvaluation(policy: self, signedWitnesses: signed)
        if case let .named(name) = quorum, !quorumCheck.isWitnessed(name) {
            throw NoteError.quorumNotMet(quorumCheck.explainFailure(of: name))
        }
        return checkpoint
    }

    /// Policies are equal when their formatted files are the same bytes.
    public static func == (a: TlogPolicy, b: TlogPolicy) -> Bool {
        a.formatted.sameBytes(as: b.formatted)
    }

    /// Hashes the formatted file's bytes.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(Array(formatted.utf8))
    }
}

/// The first item of a policy line.
private enum Keyword: String {
    case log, witness, group, quorum

    /// The keyword spelled by exactly these bytes, or nil.
    init?(_ item: String) {
        guard let keyword = Keyword(rawValue: item), item.sameBytes(as: keyword.rawValue) else { return nil }
        self = keyword
    }
}

private func parseKey(_ vkey: String, line: Int) throws -> NoteVerifierKey {
    do {
        return try NoteVerifierKey(parsing: vkey)
    } catch let error as NoteError {
        throw NoteError.malformedPolicy(line: line, error.description)
    }
}

private func parseThreshold(_ item: String, line: Int) throws -> TlogPolicy.Threshold {
    if item.sameBytes(as: "all") { return .all }
    if item.sameBytes(as: "any") { return .any }
    guard item.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let k = Int(item) else {
        throw NoteError.malformedPolicy(line: line, "threshold \(quoted(item)) is not all, any or a decimal number")
    }
    return .atLeast(k)
}

/// Applies the rules of tlog-policy one entry at a time, in file order.
private struct PolicyBuilder {
    private enum Entry {
        case witness(Int)
        case group(Int)
    }

    private var logs: [TlogPolicy.Log] = []
    private var witnesses: [TlogPolicy.Witness] = []
    private var groups: [TlogPolicy.Group] = []
    private var quorum: TlogPolicy.Quorum?
    /// Witness and group names (one namespace), as bytes: names are opaque octet strings.
    private var names: [[UInt8]: Entry] = [:]
    /// Names already listed as a member of some group, with the group's name.
    private var memberOf: [[UInt8]: String] = [:]
    /// Every public key so far and who holds it: duplicates are refused.
    private var keyHolders: [[UInt8]: String] = [:]

    /// Parses one line of a policy file and applies it; blank and comment lines do nothing.
    mutating func parse(_ raw: ArraySlice<UInt8>, line: Int) throws {
        // tlog-policy §Character set: 0x09, 0x0A, 0x20-0x7E and 0x80-0xFF only.
        if let bad = raw.first(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
            throw NoteError.malformedPolicy(line: line, "control character 0x\(hex2(bad)) is not allowed")
        }
        let items = raw.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 }).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard let keyword = items.first, !keyword.utf8.starts(with: "#".utf8) else { return }
        let args = Array(items.dropFirst())
        let source = String(decoding: raw, as: UTF8.self)
        switch Keyword(keyword) {
        case .log:
            guard (1...2).contains(args.count) else {
                throw NoteError.malformedPolicy(line: line, "\(quoted(source)) is not log <vkey> [<url>]")
            }
            try add(
                TlogPolicy.Log(key: parseKey(args[0], line: line), url: args.count > 1 ? args[1] : nil), line: line)
        case .witness:
            guard (2...3).contains(args.count) else {
                throw NoteError.malformedPolicy(
                    line: line, "\(quoted(source)) is not witness <name> <vkey> [<url>]")
            }
            let witness = TlogPolicy.Witness(
                name: args[0], key: try parseKey(args[1], line: line), url: args.count > 2 ? args[2] : nil)
            try add(witness, line: line)
        case .group:
            guard args.count >= 3 else {
                throw NoteError.malformedPolicy(
                    line: line, "\(quoted(source)) is not group <name> all|any|<k> <name>...")
            }
            try add(
                TlogPolicy.Group(
                    name: args[0], threshold: try parseThreshold(args[1], line: line),
                    members: Array(args[2...])), line: line)
        case .quorum:
            guard args.count == 1 else {
                throw NoteError.malformedPolicy(line: line, "\(quoted(source)) is not quorum <name>")
            }
            try set(args[0].sameBytes(as: "none") ? .none : .named(args[0]), line: line)
        case nil:
            throw NoteError.malformedPolicy(line: line, "unknown keyword \(quoted(keyword))")
        }
    }

    mutating func add(_ log: TlogPolicy.Log, line: Int) throws {
        guard logs.count < TlogPolicy.maxLogs else {
            throw NoteError.malformedPolicy(line: line, "more than \(TlogPolicy.maxLogs) logs")
        }
        try checkURL(log.url, line: line)
        try claim(log.key, for: "log \(log.key.name)", line: line)
        logs.append(log)
    }

    mutating func add(_ witness: TlogPolicy.Witness, line: Int) throws {
        guard witnesses.count < TlogPolicy.maxWitnesses else {
            throw NoteError.malformedPolicy(line: line, "more than \(TlogPolicy.maxWitnesses) witnesses")
        }
        try define(witness.name, line: line)
        try checkURL(witness.url, line: line)
        try claim(witness.key, for: "witness \(witness.name)", line: line)
        names[Array(witness.name.utf8)] = .witness(witnesses.count)
        witnesses.append(witness)
    }

    mutating func add(_ group: TlogPolicy.Group, line: Int) throws {
        guard groups.count < TlogPolicy.maxGroups else {
            throw NoteError.malformedPolicy(line: line, "more than \(TlogPolicy.maxGroups) groups")
        }
        try define(group.name, line: line)
        let n = group.members.count
        guard n >= 1 else { throw NoteError.malformedPolicy(line: line, "group \(group.name) has no members") }
        if case let .atLeast(k) = group.threshold, !(1...n).contains(k) {
            throw NoteError.malformedPolicy(
                line: line, "group \(group.name) has threshold \(k), which is not between 1 and its \(n) members")
        }
        var members: [[UInt8]] = []
        for member in group.members {
            let key = Array(member.utf8)
            guard !member.sameBytes(as: "none") else {
                throw NoteError.malformedPolicy(line: line, "none cannot be a member of group \(group.name)")
            }
            guard names[key] != nil else {
                throw NoteError.malformedPolicy(
                    line: line, "group \(group.name) lists \(quoted(member)), which is not defined on an earlier line")
            }
            // tlog-policy: each defined name can be listed as a group member at most once.
            if let other = memberOf[key] {
                throw NoteError.malformedPolicy(line: line, "\(member) is already a member of group \(other)")
            }
            guard !members.contains(key) else {
                throw NoteError.malformedPolicy(line: line, "group \(group.name) lists \(member) twice")
            }
            members.append(key)
        }
        for key in members { memberOf[key] = group.name }
        names[Array(group.name.utf8)] = .group(groups.count)
        groups.append(group)
    }

    mutating func set(_ quorum: TlogPolicy.Quorum, line: Int) throws {
        guard self.quorum == nil else { throw NoteError.malformedPolicy(line: line, "a second quorum line") }
        if case let .named(name) = quorum, names[Array(name.utf8)] == nil {
            throw NoteError.malformedPolicy(line: line, "quorum \(quoted(name)) is not defined on an earlier line")
        }
        self.quorum = quorum
    }

    func finish() throws -> TlogPolicy {
        guard let quorum else { throw NoteError.malformedPolicy(line: 0, "no quorum line (exactly one is required)") }
        return TlogPolicy(checkedLogs: logs, witnesses: witnesses, groups: groups, quorum: quorum)
    }

    /// A new witness or group name: a single item, not `none`, not defined before.
    private func define(_ name: String, line: Int) throws {
        guard isPolicyItem(name) else {
            throw NoteError.malformedPolicy(line: line, "\(quoted(name)) is not a valid name")
        }
        guard !name.sameBytes(as: "none") else {
            throw NoteError.malformedPolicy(line: line, "none is a predefined name")
        }
        guard names[Array(name.utf8)] == nil else {
            throw NoteError.malformedPolicy(line: line, "\(name) is already defined")
        }
    }

    private func checkURL(_ url: String?, line: Int) throws {
        if let url, !isPolicyItem(url) {
            throw NoteError.malformedPolicy(line: line, "\(quoted(url)) is not a valid URL item")
        }
    }

    /// tlog-policy §Public key representation: vkeys wrapping the same public key are duplicates,
    /// whatever their names, IDs or types; a key serves one log or one witness only.
    private mutating func claim(_ key: NoteVerifierKey, for holder: String, line: Int) throws {
        let bytes = key.publicKey.bytes
        if let other = keyHolders[bytes] {
            throw NoteError.malformedPolicy(line: line, "the key of \(holder) is the key of \(other)")
        }
        keyHolders[bytes] = holder
    }
}

/// One item of a policy line: non-empty, no space, tab or other control character.
private func isPolicyItem(_ item: String) -> Bool {
    !item.isEmpty && !item.utf8.contains { $0 <= 0x20 || $0 == 0x7F }
}

/// Which names witnessed a checkpoint, given the witnesses whose signatures verified. Names
/// are members of at most one group, so the groups form a forest and each is visited once.
private struct QuorumEvaluation {
    let signedWitnesses: Set<[UInt8]>
    private var groupsByName: [[UInt8]: TlogPolicy.Group] = [:]

    init(policy: TlogPolicy, signedWitnesses: Set<[UInt8]>) {
        self.signedWitnesses = signedWitnesses
        for group in policy.groups { groupsByName[Array(group.name.utf8)] = group }
    }

    func isWitnessed(_ name: String) -> Bool {
        guard let group = groupsByName[Array(name.utf8)] else { return signedWitnesses.contains(Array(name.utf8)) }
        return group.members.filter { isWitnessed($0) }.count >= group.required
    }

    /// One line: what `name` needed, how many of its members witnessed and who, recursively for
    /// member groups that fell short.
    func explainFailure(of name: String) -> String {
        guard let group = groupsByName[Array(name.utf8)] else { return "witness \(name) has not signed" }
        let witnessed = group.members.filter { isWitnessed($0) }
        var text =
            "group \(group.name) needs \(group.required) of \(group.members.count), has \(witnessed.count)"
            + (witnessed.isEmpty ? "" : " (\(witnessed.joined(separator: ", ")))")
        for member in group.members where groupsByName[Array(member.utf8)] != nil && !isWitnessed(member) {
            text += "; " + explainFailure(of: member)
        }
        return text
    }
}
