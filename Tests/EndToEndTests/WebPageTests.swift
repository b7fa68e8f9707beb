// The verification page (issue 6) against a live demo node: its JavaScript verifier under Node.js
// (the Swift verifier's vectors, live bundles, tampered ones: Tests/Web/verifier.test.mjs), and the
// page itself driven in headless Chromium (Tests/Web/browser_test.py), with screenshots of every
// state in .build/artefacts/web/.
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

final class WebPageTests: XCTestCase {
    var packageRoot: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// The full path of `tool` on PATH, if it is installed.
    func installed(_ tool: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The demo's codes as a JSON object, label → code.
    func codesJSON(_ demo: DemoNode) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: demo.codes, options: [.sortedKeys]), as: UTF8.self)
    }

    /// GET `path` from the node: status, headers (lower-case names) and body.
    func get(_ base: String, _ path: String, headers: [String: String] = [:]) throws -> (status: Int, headers: [String: String], body: Data) {
        try httpExchange("GET", base + path, headers: headers)
    }

    /// Every language's message file has zh-Hans's keys and placeholders, in its own script.
    func testEveryMessageFileMatchesTheChineseSource() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (status, output) = try python3([root.appendingPathComponent("Tests/Tools/check_messages.py").path], in: root.path)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("no problems"), output)
    }

    func testThePageIsServedWithAStrictPolicyAndTheQRCodeOfItsHost() throws {
        let demo = try DemoNode()
        let page = try get(demo.url, "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.headers["content-type"], "text/html; charset=utf-8")
        let policy = try XCTUnwrap(page.headers["content-security-policy"])
        XCTAssertTrue(policy.contains("default-src 'none'") && policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"), policy)
        XCTAssertFalse(policy.contains("http") || policy.contains("unsafe"), "no other origin, no inline script: \(policy)")
        XCTAssertEqual(page.headers["referrer-policy"], "no-referrer")
        XCTAssertFalse(String(decoding: page.body, as: UTF8.self).contains("https://"), "the page loads nothing from elsewhere")
        // The QR's URL is the same page, never stored by a cache: it holds a capability.
        let code = try XCTUnwrap(demo.codes["notarial-valid"]).replacingOccurrences(of: "-", with: "")
        let qrPage = try get(demo.url, "/V/\(code)")
        XCTAssertEqual(qrPage.body, page.body)
        XCTAssertEqual(qrPage.headers["cache-control"], "no-store")
        // Static files: the right types, revalidated by ETag, nothing outside the page's folder.
        let script = try get(demo.url, "/static/js/verifier.mjs")
        XCTAssertEqual(script.headers["content-type"], "text/javascript; charset=utf-8")
        let etag = try XCTUnwrap(script.headers["etag"])
        XCTAssertEqual(try get(demo.url, "/static/js/verifier.mjs", headers: ["If-None-Match": etag]).status, 304)
        XCTAssertEqual(try get(demo.url, "/static/i18n/bo.json").headers["content-type"], "application/json")
        XCTAssertEqual(try get(demo.url, "/static/style.css").headers["content-type"], "text/css; charset=utf-8")
        for outside in ["/static/%2e%2e/%2e%2e/Package.swift", "/static/../WebRoutes.swift", "/static/nothing.js"] {
            XCTAssertEqual(try get(demo.url, outside).status, 404, outside)
        }
        // The QR code of the code's URL on the host asked, as an SVG.
        let qr = try get(demo.url, "/v1/qr/\(code).svg")
        XCTAssertEqual(qr.status, 200)
        XCTAssertEqual(qr.headers["content-type"], "image/svg+xml")
        let host = String(demo.url.dropFirst("http://".count)).uppercased()
        XCTAssertTrue(String(decoding: qr.body, as: UTF8.self).contains("<title>HTTPS://\(host)/V/\(code)</title>"))
        var wrong = Array(code)
        wrong[15] = wrong[15] == "0" ? "1" : "0"
        XCTAssertEqual(try get(demo.url, "/v1/qr/\(String(wrong)).svg").status, 400)
    }

    func testTheJavaScriptVerifierPassesTheSwiftVectorsAndCatchesTamperedLiveBundles() throws {
        let node = try XCTUnwrap(installed("node"), "Node.js (node) is needed to test the page's verifier")
        let demo = try DemoNode()
        let (status, output) = try runTool(node, ["--test", "Tests/Web/verifier.test.mjs"], in: packageRoot,
                                           environment: ["CINNABAR_URL": demo.url, "CINNABAR_CODES": try codesJSON(demo)])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("\n# fail 0"), output)
        XCTAssertTrue(output.contains("\n# skipped 0"), "the live-bundle tests ran: \(output)")
    }

    func testThePageInHeadlessChromium() throws {
        for tool in ["chromium", "chromedriver"] where installed(tool) == nil {
            XCTFail("\(tool) is not installed: the browser tests need Debian's chromium and chromium-driver (make test-deps)")
            return
        }
        let python = try XCTUnwrap(installed("python3"))
        let demo = try DemoNode()
        let artefacts = packageRoot.appendingPathComponent(".build/artefacts/web")
        try? FileManager.default.removeItem(at: artefacts)
        let (status, output) = try runTool(python, ["Tests/Web/browser_test.py", "--url", demo.url, "--codes", try codesJSON(demo),
                                                "--ledger", demo.ledger, "--artefacts", artefacts.path], in: packageRoot)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("\n13 passed, 0 failed"), output)
        for picture in ["03-valid", "04-revoked", "05-mistyped", "09-tampered-inclusion", "02-tibetan", "15-scanning", "16-scanned-valid"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: artefacts.appendingPathComponent("\(picture).png").path), "screenshot \(picture)")
        }
    }
}
