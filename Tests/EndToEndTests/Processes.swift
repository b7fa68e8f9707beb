// Running the real `cinnabar` binary as a child process, as users and operators do.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// The built `cinnabar` executable, next to the test bundle in the build folder.
let cinnabarBinary: String = {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cinnabar").path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    // swift test may run the bundle from elsewhere: fall back to the package's debug build.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/cinnabar").path
}()

/// The result of a finished command.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs `cinnabar ARGS` to completion, feeding `input` on standard input.
@discardableResult
func cinnabar(_ arguments: [String], input: String? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: cinnabarBinary)
    process.arguments = arguments
    let out = Pipe(), err = Pipe(), inp = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inp
    try process.run()
    if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
    try inp.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                         stderr: String(decoding: stderr, as: UTF8.self))
}

/// Runs `cinnabar ARGS` and fails the test, showing its error output, unless it exits 0.
func expectSuccess(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
    let result = try cinnabar(arguments)
    XCTAssertEqual(result.status, 0, "cinnabar \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
}

/// Runs `executable ARGS` in `directory` with `environment` added; its exit status and combined output.
func runTool(_ executable: String, _ arguments: [String], in directory: URL,
             environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = directory
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    try process.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
}

/// Runs `python3 ARGS` in `directory` and returns its exit status and combined output.
func python3(_ arguments: [String], in directory: String) throws -> (status: Int32, output: String) {
    try runTool("/usr/bin/env", ["python3"] + arguments, in: URL(fileURLWithPath: directory))
}

/// One HTTP exchange with a live node: status, lower-cased headers and the raw body.
func httpExchange(_ method: String, _ url: String, body: [UInt8]? = nil, headers: [String: String] = [:]) throws
    -> (status: Int, headers: [String: String], body: Data) {
    var req = URLRequest(url: URL(string: url)!)
    req.httpMethod = method
    if let body { req.httpBody = Data(body) }
    for (name, value) in headers { req.setValue(value, forHTTPHeaderField: name) }
    let semaphore = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: (Int, [String: String], Data)?
    URLSession.shared.dataTask(with: req) { data, response, _ in
        if let http = response as? HTTPURLResponse {
            var headers: [String: String] = [:]
            for (k, v) in http.allHeaderFields { headers[String(describing: k).lowercased()] = String(describing: v) }
            result = (http.statusCode, headers, data ?? Data())
        }
        semaphore.signal()
    }.resume()
    semaphore.wait()
    return try XCTUnwrap(result, "\(method) \(url) got no response")
}

/// Like `httpExchange`, with the body as a JSON object (empty if it is not one).
func httpRequest(_ method: String, _ url: String, body: [UInt8]? = nil, headers: [String: String] = [:]) throws
    -> (status: Int, headers: [String: String], json: [String: Any]) {
    let (status, responseHeaders, data) = try httpExchange(method, url, body: body, headers: headers)
    let json = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
    return (status, responseHeaders, json)
}

/// A temporary directory removed on deinit.
final class TemporaryDirectory {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "cinnabar-e2e-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A child process whose standard output is collected line by line while it runs.
final class RunningProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var buffer = Data()
    private var collected: [String] = []
    private let done = DispatchSemaphore(value: 0)

    /// Runs `cinnabar` with `arguments`; its standard error is discarded, or appended to the file
    /// `standardError`.
    init(_ arguments: [String], standardError: String? = nil, executable: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable ?? cinnabarBinary)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        if let standardError {
            if !FileManager.default.fileExists(atPath: standardError) { FileManager.default.createFile(atPath: standardError, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: standardError))
            handle.seekToEndOfFile()
            process.standardError = handle
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        let reader = out.fileHandleForReading
        Thread.detachNewThread { [self] in
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                append(chunk)
            }
            done.signal()
        }
    }

    private func append(_ chunk: Data) {
        lock.lock()
        defer { lock.unlock() }
        buffer.append(chunk)
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            collected.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
            buffer.removeSubrange(buffer.startIndex...newline)
        }
    }

    /// Complete lines printed so far.
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return collected }

    /// Waits (up to `timeout`) for a line containing `text`.
    func waitForLine(containing text: String, timeout: TimeInterval = 30) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let line = lines.first(where: { $0.contains(text) }) { return line }
            if !process.isRunning && lines.allSatisfy({ !$0.contains(text) }) { return nil }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return nil
    }

    /// Sends `signal`, waits for exit and for the output to drain. Lines printed before death are kept.
    func kill(_ signal: Int32 = SIGKILL) {
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
        done.wait()
    }

    /// Waits for a normal exit and the output to drain.
    func wait() {
        process.waitUntilExit()
        done.wait()
    }
}

/// A live demo ledger: `dev init`, `dev demo` (its printed codes kept by label), and a node
/// process serving it on a free loopback port.
final class DemoNode {
    let dir = TemporaryDirectory()
    let ledger: String
    private(set) var server: RunningProcess?
    let url: String
    /// Verification codes printed by `dev demo`, by label (e.g. "notarial-revoked").
    let codes: [String: String]

    init() throws {
        ledger = dir.path + "/ledger"
        try expectSuccess(["dev", "init", "--dir", ledger])
        let demo = try cinnabar(["dev", "demo", "--dir", ledger])
        XCTAssertEqual(demo.status, 0, demo.stderr)
        var codes: [String: String] = [:]
        for line in demo.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, parts[0].count == 19, parts[0].filter({ $0 == "-" }).count == 3 { codes[String(parts[1])] = String(parts[0]) }
        }
        self.codes = codes
        let server = try RunningProcess(["node", "--dir", ledger, "--listen", "127.0.0.1:0"])
        guard let line = server.waitForLine(containing: "serving http://") else {
            server.kill()
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "the node did not start"])
        }
        self.server = server
        url = String(line[line.range(of: "http://")!.lowerBound...]).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    /// Stops the node (SIGTERM); the ledger stays on disk until the object goes away.
    func stop() {
        server?.kill(SIGTERM)
        server = nil
    }

    deinit { stop() }
}
