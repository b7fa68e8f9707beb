// Running the real `cinnabar` binary as a child process, as users and operators do.
import Foundation
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

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: cinnabarBinary)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
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
