// The client side: deposit evidence, look up a code, fetch and check an offline proof bundle.
// Talks to a node by URL; signs with an organisation key file.
import ArgumentParser
import CinnabarCrypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Node
import Records
import SignedNote

/// A blocking HTTP exchange with a node (the CLI does one request at a time).
enum NodeClient {
    static func send(_ method: String, _ url: String, body: [UInt8]? = nil,
                     headers: [String: String] = [:]) throws -> (status: Int, body: Data) {
        guard let u = URL(string: url) else { throw CLIError("not a URL: \(url)") }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<(Int, Data), Error> = .failure(CLIError("no response from \(url)"))
        start(method, u, body: body, headers: headers, timeout: 30) { answer in
            result = answer.mapError { CLIError("cannot reach \(u.host ?? url): \($0.localizedDescription)") }
            done.signal()
        }
        done.wait()
        return try result.get()
    }

    /// One request without waiting; `completion` runs on URLSession's queue with the status and
    /// body, or the transport error.
    static func start(_ method: String, _ url: URL, body: [UInt8]?, headers: [String: String] = [:], timeout: TimeInterval,
                      completion: @escaping @Sendable (Result<(Int, Data), Error>) -> Void) {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = method
        if let body { request.httpBody = Data(body); request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let http = response as? HTTPURLResponse {
                completion(.success((http.statusCode, data ?? Data())))
            } else {
                completion(.failure(error ?? CLIError("no response from \(url)")))
            }
        }.resume()
    }

    /// The JSON object of a successful answer; a problem document becomes one CLI error line.
    static func json(_ answer: (status: Int, body: Data)) throws -> [String: Any] {
        let object = (try? JSONSerialization.jsonObject(with: answer.body)) as? [String: Any] ?? [:]
        guard (200..<300).contains(answer.status) else {
            throw CLIError("\(object["code"] as? String ?? "HTTP \(answer.status)"): \(object["detail"] as? String ?? "request failed")")
        }
        return object
    }

    static func printJSON(_ data: Data) {
        FileHandle.standardOutput.write(data)
        if data.last != 0x0A { FileHandle.standardOutput.write(Data([0x0A])) }
    }

    /// A receipt with the record's verification code added (as printed, grouped): the node never
    /// sees a code, only its HMAC, so its receipt cannot carry it; the writer made it and adds it.
    /// The record is logged by now: if the receipt cannot take the code, it is printed as the node
    /// sent it and the code goes to stderr, never lost.
    static func printReceipt(_ data: Data, code: VerificationCode?) {
        guard let code else { return printJSON(data) }
        guard case .object(var receipt)? = try? JSONParser.parse(Array(data), maxBytes: data.count) else {
            printJSON(data)
            FileHandle.standardError.write(Data("code \(code.grouped) (the node's receipt is not a JSON object this client reads; keep the code)\n".utf8))
            return
        }
        receipt["code"] = .string(code.grouped)
        printJSON(Data(CanonicalJSON.serialize(.object(receipt))))
    }
}

func normalisedNode(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }

struct Deposit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deposit a file's SHA-256 (the file never leaves this machine) as evidence; print its code and receipt.")
    @Argument(help: "The evidence file.") var file: String
    @Option(name: .customLong("as"), help: "The organisation key file (orgs/<name>.key).") var keyFile: String
    @Option(help: "The consortium code key file (codes.key).") var codeKey: String
    @Option(help: "The node URL, e.g. http://127.0.0.1:8080.") var node: String
    @Option(help: "The case (一案一码) code this evidence belongs to.") var `case`: String?
    @Flag(help: "Print the receipt as JSON.") var json = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
        let writer = try RecordWriter(key: try OrganisationKey.load(keyFile), codeKey: try CodeKey.load(codeKey))
        let base = normalisedNode(node)
        var caseID: String?
        if let code = `case` {
            let parsed: VerificationCode
            do { parsed = try VerificationCode(parsing: code) } catch { throw CLIError("--case: \(error)") }
            caseID = try NodeClient.json(try NodeClient.send("GET", "\(base)/v1/verify/\(parsed.value)"))["record_id"] as? String
        }
        let record = writer.evidence(sha256: SHA256.hash(Array(data)).hex, sizeBytes: Int64(data.count),
                                     mediaType: "application/octet-stream", caseID: caseID)
        let answer = try NodeClient.send("POST", "\(base)/v1/records", body: record.bytes)
        let receipt = try NodeClient.json(answer)
        if json { return NodeClient.printReceipt(answer.body, code: record.code) }
        say("deposited \(file) (SHA-256 \(SHA256.hash(Array(data)).hex))")
        say("code        \(record.code.grouped)   (keep it: it is the only way to look this deposit up)")
        say("record      \(record.id)")
        say("leaf        \(receipt["leaf_index"] ?? "?") in a tree of \(receipt["tree_size"] ?? "?"), logged at \(receipt["logged_at"] ?? "?")")
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Look up a code on a node (optionally matching a file), or check an offline proof bundle with no network.",
        discussion: "cinnabar verify CODE --node URL [--file FILE]\ncinnabar verify --file FILE --node URL\ncinnabar verify --bundle FILE --policy FILE [--today YYYY-MM-DD]")
    @Argument(help: "A verification code, as printed (spaces, hyphens, lower case are fine); without it, --file is looked up by its digest.") var code: String?
    @Option(help: "The node URL.") var node: String?
    @Option(help: "A file to compare with the recorded digests.") var file: String?
    @Option(help: "An offline proof bundle (from `cinnabar bundle`).") var bundle: String?
    @Option(help: "The C2SP tlog-policy pinning the validators (for --bundle).") var policy: String?
    @Option(help: "The date to derive status on (default: today, China Standard Time).") var today: String?
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        if let bundle { return try verifyBundle(bundle) }
        if code == nil, let file, let node { return try lookUpFile(file, node: node) }
        guard let code, let node else { throw CLIError("give CODE and --node URL, --file FILE and --node URL, or --bundle FILE --policy FILE") }
        let parsed: VerificationCode
        do { parsed = try VerificationCode(parsing: code) } catch { throw CLIError("\(error)") }
        let answer = try NodeClient.send("GET", "\(normalisedNode(node))/v1/verify/\(parsed.value)")
        let body = try NodeClient.json(answer)
        if !json {
            say("\(parsed.grouped): \(body["result"] as? String ?? "?")")
            for key in ["kind", "document_type", "document_number", "issuer_name", "issuer", "issued_at", "valid_until", "holder", "revoked_from"] {
                if let v = body[key] as? String { say("  \(key.replacingOccurrences(of: "_", with: " ")): \(v)") }
            }
            for event in body["history"] as? [[String: Any]] ?? [] {
                say("  history: \(event["date"] as? String ?? "") \(event["type"] as? String ?? "") \(event["decision_number"] as? String ?? "")")
            }
        }
        // With --json the file is checked all the same: a mismatch is an error, a match prints the answer.
        if let file {
            let digest = try fileDigest(file)
            let check = try NodeClient.json(try NodeClient.send(
                "POST", "\(normalisedNode(node))/v1/verify", body: Array("{\"code\":\"\(parsed.value)\",\"sha256\":\"\(digest)\"}".utf8)))
            let matches = check["matches"] as? [[String: Any]] ?? []
            guard let match = matches.first(where: { $0["current"] as? Bool ?? true }) else {
                if matches.isEmpty { throw CLIError("\(file) does not match: its SHA-256 \(digest) is not recorded for \(parsed.grouped)") }
                throw CLIError("\(file) does not match the current version: it is an earlier rendition of \(parsed.grouped), replaced by a correction")
            }
            if !json { say("  file: \(file) matches the recorded SHA-256: \(describe(match))") }
        }
        if json { NodeClient.printJSON(answer.body); return }
        if let caveat = body["caveat"] as? String { say("  note: \(caveat)") }
    }

    /// `verify --file FILE --node URL`: which documents or deposits list this file.
    func lookUpFile(_ file: String, node: String) throws {
        let digest = try fileDigest(file)
        let answer = try NodeClient.send("POST", "\(normalisedNode(node))/v1/verify", body: Array("{\"sha256\":\"\(digest)\"}".utf8))
        let body = try NodeClient.json(answer)
        if json { NodeClient.printJSON(answer.body); return }
        let matches = body["matches"] as? [[String: Any]] ?? []
        guard !matches.isEmpty else { throw CLIError("no document or deposit on this ledger lists \(file) (SHA-256 \(digest))") }
        say("\(file) (SHA-256 \(digest)):")
        for match in matches {
            say("  \(match["result"] as? String ?? "?")  \(match["document_type"] as? String ?? match["kind"] as? String ?? "")  \(match["document_number"] as? String ?? "")  \(describe(match))")
        }
    }

    func fileDigest(_ file: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
        return SHA256.hash(Array(data)).hex
    }

    func describe(_ match: [String: Any]) -> String {
        var out = "record \(match["record_id"] as? String ?? "?")"
        if let r = match["rendition"] as? [String: Any] {
            out += ", rendition \(r["role"] as? String ?? "?") \(r["format"] as? String ?? "") \(r["lang"] as? String ?? "")"
        }
        if match["current"] as? Bool == false { out += " (replaced by a later correction)" }
        out += ", issued by \(match["issuer_name"] as? String ?? match["issuer"] as? String ?? "?")"
        return out
    }

    func verifyBundle(_ path: String) throws {
        guard let policyPath = policy else { throw CLIError("--bundle needs --policy FILE (the validators you trust)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        let parsed: ProofBundle
        do { parsed = try JSONDecoder().decode(ProofBundle.self, from: data) } catch { throw CLIError("\(path) is not a proof bundle") }
        let policyText = try String(contentsOfFile: policyPath, encoding: .utf8)
        let trusted: TlogPolicy
        do { trusted = try TlogPolicy(parsing: policyText) } catch { throw CLIError("\(policyPath): \(error)") }
        let report = parsed.verify(policy: trusted, today: today ?? RecordWriter.today())
        for check in report.checks { say("\(check.passed ? "ok  " : "FAIL") \(check.what)") }
        if let failure = report.failure { throw CLIError("bundle rejected: \(failure)") }
        say("bundle verified offline\(report.status.map { ": \($0)" } ?? "")")
    }
}

struct BundleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle", abstract: "Fetch the offline proof bundle of a code (pin the policy yourself: cinnabar policy).")
    @Argument(help: "The verification code.") var code: String
    @Option(help: "The node URL.") var node: String
    @Option(name: .shortAndLong, help: "Output file.") var output: String

    func run() throws {
        let parsed: VerificationCode
        do { parsed = try VerificationCode(parsing: code) } catch { throw CLIError("\(error)") }
        let answer = try NodeClient.send("GET", "\(normalisedNode(node))/v1/bundles/\(parsed.value)")
        _ = try NodeClient.json(answer)
        try answer.body.write(to: URL(fileURLWithPath: output))
        say("wrote \(output); check it with: cinnabar verify --bundle \(output) --policy POLICY-FILE")
    }
}
