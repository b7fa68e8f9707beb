// Bulk deposits from a CSV: one evidence record per row, posted a hundred to a request
// (`POST /v1/batches`) with several requests in flight, progress on standard error, and every
// row's code written to a results file as soon as its receipt arrives — a rerun skips the rows
// already there, so an interrupted import is resumed, never duplicated.
import API
import ArgumentParser
import CinnabarCrypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Node
import Records

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Deposit many files from a CSV; write each row's code and receipt to a results CSV.",
        discussion: """
            The CSV has a header row. Columns: path (a file to hash here; it is never sent) or sha256 + size_bytes;
            optional media_type, case (a K… case code) and label. Results go to --out as
            row,label,code,record_id,leaf_index,sha256,status; rows already there are skipped on a rerun.
            """)
    @Argument(help: "The CSV of deposits.") var csv: String
    @Option(name: .customLong("as"), help: "The organisation key file (orgs/<name>.key).") var keyFile: String
    @Option(help: "The consortium code key file (codes.key).") var codeKey: String
    @Option(help: "The node URL.") var node: String
    @Option(help: "The results CSV (appended to; keep it: codes are shown only once).") var out: String
    @Option(help: "Requests in flight.") var concurrency = 4
    @Option(help: "Records per request (POST /v1/batches).") var batch = 100

    func run() throws {
        guard (1...256).contains(concurrency) else { throw CLIError("--concurrency must be 1…256") }
        try checkBatchSize(batch)
        guard let text = try? String(contentsOfFile: csv, encoding: .utf8) else { throw CLIError("cannot read \(csv) as UTF-8 text") }
        let rows = try CSV.parse(text)
        guard let header = rows.first else { throw CLIError("\(csv) is empty") }
        let column = Dictionary(header.enumerated().map { ($1.trimmingCharacters(in: .whitespaces).lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        guard column["path"] != nil || (column["sha256"] != nil && column["size_bytes"] != nil) else {
            throw CLIError("\(csv): the header needs a path column, or sha256 and size_bytes")
        }
        let writer = try RecordWriter(key: try OrganisationKey.load(keyFile), codeKey: try CodeKey.load(codeKey))
        let base = normalisedNode(node)
        guard let batchesURL = URL(string: "\(base)/v1/batches") else { throw CLIError("not a URL: \(node)") }
        let done = try Self.rowsDone(out)
        let results = try ResultsFile(path: out)

        // Build every record first, so a bad row stops the import before anything is sent.
        var caseIDs: [String: String] = [:]
        var skipped = 0
        var jobs: [(row: Int, label: String, sha256: String, record: (id: String, code: VerificationCode, bytes: [UInt8]))] = []
        for (n, fields) in rows.enumerated().dropFirst() where !(fields.count == 1 && fields[0].isEmpty) {
            func field(_ name: String) -> String? {
                column[name].flatMap { $0 < fields.count ? fields[$0].trimmingCharacters(in: .whitespaces) : nil }.flatMap { $0.isEmpty ? nil : $0 }
            }
            let label = field("label") ?? ""
            var sha256: String
            var size: Int64
            if let path = field("path") {
                guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("row \(n): cannot read \(path)") }
                sha256 = SHA256.hash(Array(data)).hex
                size = Int64(data.count)
            } else {
                guard let digest = field("sha256").flatMap(Hash.init(hex:)), let s = field("size_bytes").flatMap(Int64.init), s >= 0 else {
                    throw CLIError("row \(n): sha256 must be 64 hex digits and size_bytes a whole number")
                }
                sha256 = digest.hex
                size = s
            }
            if done.contains("\(n)|\(sha256)") { skipped += 1; continue }
            var caseID: String?
            if let caseCode = field("case") {
                let parsed: VerificationCode
                do { parsed = try VerificationCode(parsing: caseCode) } catch { throw CLIError("row \(n): case: \(error)") }
                if caseIDs[parsed.value] == nil {
                    caseIDs[parsed.value] = try NodeClient.json(try NodeClient.send("GET", "\(base)/v1/verify/\(parsed.value)"))["record_id"] as? String
                }
                caseID = caseIDs[parsed.value]
            }
            let media = field("media_type") ?? "application/octet-stream"
            jobs.append((n, label, sha256, writer.evidence(sha256: sha256, sizeBytes: size, mediaType: media, caseID: caseID)))
        }
        if skipped > 0 { FileHandle.standardError.write(Data("skipping \(skipped) rows already in \(out)\n".utf8)) }

        let progress = ImportProgress(total: jobs.count)
        let slots = DispatchSemaphore(value: concurrency)
        let group = DispatchGroup()
        for start in stride(from: 0, to: jobs.count, by: batch) {
            let chunk = jobs[start..<min(start + batch, jobs.count)]
            slots.wait()
            group.enter()
            let body = Array(chunk.map(\.record.bytes).joined(separator: [0x0A]))
            NodeClient.start("POST", batchesURL, body: body, headers: ["Content-Type": "application/x-ndjson"], timeout: 120) { answer in
                let (status, data) = (try? answer.get()) ?? (0, Data())
                let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
                // Line k of the batch is the chunk's k-th job; a batch refused whole fails every row.
                var lines: [Int: [String: Any]] = [:]
                for result in object["results"] as? [[String: Any]] ?? [] {
                    if let line = result["line"] as? Int { lines[line] = result }
                }
                let whole = object["code"] as? String ?? (status == 0 ? "unreachable" : "http_\(status)")
                for (k, job) in chunk.enumerated() {
                    let result = status == 200 ? lines[k + 1] : nil
                    let receipt = result?["receipt"] as? [String: Any]
                    let ok = receipt != nil
                    let outcome = ok ? "ok" : ((result?["problem"] as? [String: Any])?["code"] as? String ?? whole)
                    results.append([String(job.row), job.label, ok ? job.record.code.grouped : "", job.record.id,
                                    ok ? "\(receipt?["leaf_index"] ?? "")" : "", job.sha256, outcome])
                    progress.tick(failed: !ok)
                }
                slots.signal()
                group.leave()
            }
        }
        group.wait()
        try results.close()
        progress.finish()
        if progress.failed > 0 { throw CLIError("\(progress.failed) of \(jobs.count) rows failed; see the status column of \(out), fix them and run again") }
        say("imported \(jobs.count) deposits; codes in \(out)")
    }

    /// "row|sha256" of the rows an existing results file shows as imported: a row is skipped only
    /// if it still names the same file.
    static func rowsDone(_ path: String) throws -> Set<String> {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return Set(try CSV.parse(text).dropFirst().compactMap { $0.count == 7 && $0[6] == "ok" ? "\($0[0])|\($0[5])" : nil })
    }
}

/// The results CSV: appended line by line and flushed, so what is acknowledged is on disk.
final class ResultsFile: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: Data("row,label,code,record_id,leaf_index,sha256,status\n".utf8)) else {
                throw CLIError("cannot create \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw CLIError("cannot write \(path)") }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    func append(_ fields: [String]) {
        lock.lock()
        defer { lock.unlock() }
        handle.write(Data((fields.map(CSV.quote).joined(separator: ",") + "\n").utf8))
    }

    func close() throws {
        try handle.synchronize()
        try handle.close()
    }
}

/// Progress on standard error, at most twice a second.
final class ImportProgress: @unchecked Sendable {
    private let total: Int
    private let lock = NSLock()
    private var count = 0
    private(set) var failed = 0
    private let started = Date()
    private var printed = Date.distantPast

    init(total: Int) { self.total = total }

    func tick(failed: Bool) {
        lock.lock()
        defer { lock.unlock() }
        count += 1
        if failed { self.failed += 1 }
        if Date().timeIntervalSince(printed) >= 0.5 || count == total { line(); printed = Date() }
    }

    /// Prints the final line if no request ran (the last tick already printed it otherwise).
    func finish() { lock.lock(); if total == 0 { line(); FileHandle.standardError.write(Data("\n".utf8)) }; lock.unlock() }

    private func line() {
        let seconds = max(Date().timeIntervalSince(started), 0.001)
        let percent = total == 0 ? 100 : count * 100 / total
        let text = "\r\(count)/\(total) (\(percent)%)  \(Int(Double(count) / seconds))/s  \(failed) failed"
        FileHandle.standardError.write(Data(text.utf8))
        if count == total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

/// RFC 4180 CSV: fields separated by commas, optionally in double quotes with "" for a quote.
enum CSV {
    static func parse(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = Array(text).makeIterator()
        var pending: Character?
        func next() -> Character? { if let p = pending { pending = nil; return p }; return chars.next() }
        while let c = next() {
            if quoted {
                if c == "\"" {
                    let after = next()
                    if after == "\"" { field.append("\"") } else { quoted = false; pending = after }
                } else {
                    field.append(c)
                }
            } else if c == "\"" && field.isEmpty {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\n" || c == "\r\n" {
                row.append(field); rows.append(row); row = []; field = ""
            } else if c != "\r" {
                field.append(c)
            }
        }
        if quoted { throw CLIError("the CSV ends inside a quoted field") }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    static func quote(_ field: String) -> String {
        field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}

/// `--batch` within what `POST /v1/batches` takes.
func checkBatchSize(_ batch: Int) throws {
    guard (1...BatchLimits.maxRecords).contains(batch) else { throw CLIError("--batch must be 1…\(BatchLimits.maxRecords)") }
}
