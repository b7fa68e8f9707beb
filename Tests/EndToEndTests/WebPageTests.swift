// The verification page (issue 6) against a live demo node: its JavaScript verifier under Node.js
// (the Swift verifier's vectors, live bundles, tampered ones: Tests/Web/verifier.test.mjs), and the
// page itself driven in headless Chromium (Tests/Web/browser_test.py), with screenshots of every
// state in .build/artefacts/web/.
import Foundation
import XCTest

final class WebPageTests: XCTestCase {
    var packageRoot: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// The full path of `tool` on PATH, if it is installed.
    func installed(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `executable ARGS` in the package root with `environment` added; returns its status and combined output.
    func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = packageRoot
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    /// The demo's codes as a JSON object, label → code.
    func codesJSON(_ demo: DemoNode) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: demo.codes, options: [.sortedKeys]), as: UTF8.self)
    }

    func testTheJavaScriptVerifierPassesTheSwiftVectorsAndCatchesTamperedLiveBundles() throws {
        let node = try XCTUnwrap(installed("node"), "Node.js (node) is needed to test the page's verifier")
        let demo = try DemoNode()
        let (status, output) = try run(node, ["--test", "Tests/Web/verifier.test.mjs"],
                                       environment: ["CINNABAR_URL": demo.url, "CINNABAR_CODES": try codesJSON(demo)])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("\n# fail 0"), output)
        XCTAssertTrue(output.contains("\n# skipped 0"), "the live-bundle tests ran: \(output)")
    }

    func testThePageInHeadlessChromium() throws {
        for tool in ["chromium", "chromedriver"] where installed(tool) == nil {
            XCTFail("\(tool) is not installed: the browser tests need Debian's chromium and chromium-driver (make deps)")
            return
        }
        let python = try XCTUnwrap(installed("python3"))
        let demo = try DemoNode()
        let artefacts = packageRoot.appendingPathComponent(".build/artefacts/web")
        try? FileManager.default.removeItem(at: artefacts)
        let (status, output) = try run(python, ["Tests/Web/browser_test.py", "--url", demo.url, "--codes", try codesJSON(demo),
                                                "--ledger", demo.ledger, "--artefacts", artefacts.path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("\n11 passed, 0 failed"), output)
        for picture in ["03-valid", "04-revoked", "05-mistyped", "09-tampered-inclusion", "02-tibetan"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: artefacts.appendingPathComponent("\(picture).png").path), "screenshot \(picture)")
        }
    }
}
