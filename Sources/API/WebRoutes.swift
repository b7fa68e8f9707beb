// The verification page (issue 6, domain.md §6.5): `/` and `/V/{code}` (the QR's URL) serve the
// one page, `/static/…` its files, `/v1/qr/{code}.svg` the QR of a code. The page checks proofs
// itself (Web/js/verifier.mjs); these handlers only serve bytes, with a strict
// Content-Security-Policy: nothing from any other origin, no inline script or style.
import CinnabarCrypto
import Foundation
import HTTPTypes
import Hummingbird
import Records

/// Registers the page's routes.
public struct WebRoutes: Sendable {
    /// The paths served here and their one method, for the 405 answers to the others.
    public static let served: [(String, HTTPRequest.Method)] = [
        ("/", .get), ("/V/{code}", .get), ("/static/**", .get), ("/v1/qr/{code}.svg", .get),
    ]

    /// Every page answer: scripts, styles, images and requests from this origin only; no
    /// plug-ins, frames, forms or base URL. `img-src data:` is for the favicon-less `data:,` icon.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    let files: WebFiles

    /// Serves the files under `root` (default: the `Web` resources installed beside the binary).
    public init(root: URL? = WebFiles.installedRoot()) {
        files = WebFiles(root: root)
    }

    public func register(on router: Router<NodeRequestContext>) {
        // A verification code is a capability: a URL holding one is never stored by a cache.
        router.get("/") { request, _ in try file("index.html", request, cacheControl: "no-cache") }
        router.get("/V/{code}") { request, _ in try file("index.html", request, cacheControl: "no-store") }
        router.get("/static/**") { request, context in
            try file(context.parameters.getCatchAll().joined(separator: "/"), request, cacheControl: "no-cache")
        }
        router.get("/v1/qr/{code}.svg") { request, context in try qr(context.parameters.get("code") ?? "", request) }
    }

    /// One of the page's files, revalidated by its ETag (a 304 costs no body).
    func file(_ path: String, _ request: Request, cacheControl: String) throws -> Response {
        guard let root = files.root else {
            throw Problem(.serviceUnavailable, code: "web_page_missing", title: "Page not installed",
                          detail: "the page's files (\(WebFiles.resourceFolder)/Web) are not installed beside the cinnabar binary")
        }
        guard let file = files.files[path] else { throw Problem.notFound("no_such_file", "no file \(path) under \(root.lastPathComponent)/") }
        var headers = Self.securityHeaders
        headers[.contentType] = file.contentType
        headers[.cacheControl] = cacheControl
        headers[.eTag] = file.etag
        if request.headers[.ifNoneMatch] == file.etag {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }

    static var securityHeaders: HTTPFields {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        // The page's own URL may hold a code (/V/…): never send it anywhere.
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("Permissions-Policy")!] = "camera=(self), microphone=(), geolocation=()"
        headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        return headers
    }

    /// `GET /v1/qr/{code}.svg`: the QR of the code's URL on the host the request was sent to,
    /// `HTTPS://<HOST>/V/<CODE>` in alphanumeric mode (domain.md §6.6), for the printed report.
    func qr(_ input: String, _ request: Request) throws -> Response {
        let code: VerificationCode
        do { code = try VerificationCode(parsing: input.removingPercentEncoding ?? input) } catch {
            throw Problem.badRequest(error.code, error.description)
        }
        let host = request.head.authority ?? ""
        let hostCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-:".utf8)
        guard !host.isEmpty, host.utf8.count <= 255, host.utf8.allSatisfy({ hostCharacters.contains($0) })
        else { throw Problem.badRequest("qr_bad_host", "the request's Host (\(host)) is not a DNS name or address with a port") }
        let symbol: QRCode
        do { symbol = try QRCode(alphanumeric: code.qrPayload(host: host)) } catch {
            throw Problem.badRequest(error.code, error.description)
        }
        var headers = Self.securityHeaders
        headers[.contentType] = "image/svg+xml"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: symbol.svg)))
    }
}

/// The page's files, read once at start-up: a few dozen kilobytes, served from memory.
public struct WebFiles: Sendable {
    /// The folder SwiftPM copies the API target's resources to, beside the executable.
    public static let resourceFolder = "Cinnabar_API.resources"

    struct File: Sendable {
        let bytes: [UInt8]
        let contentType: String
        /// A strong validator: the first 128 bits of the file's SHA-256.
        let etag: String
    }

    /// The folder read, or nil when it was not found.
    let root: URL?
    /// By path relative to the root, `/`-separated: `index.html`, `js/app.mjs`, `i18n/en.json`.
    let files: [String: File]

    /// Where the page's files are: `$CINNABAR_WEB_ROOT` if set, else the `Web` folder of the API
    /// target's resources beside the running executable (where `swift build` puts them; an
    /// installation copies that folder with the binary). Nil if neither exists.
    public static func installedRoot() -> URL? {
        if let override = ProcessInfo.processInfo.environment["CINNABAR_WEB_ROOT"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        let executable = Bundle.main.executableURL?.resolvingSymlinksInPath()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let root = executable.deletingLastPathComponent().appendingPathComponent(resourceFolder).appendingPathComponent("Web")
        return FileManager.default.fileExists(atPath: root.appendingPathComponent("index.html").path) ? root : nil
    }

    static let contentTypes = [
        "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "js": "text/javascript; charset=utf-8", "json": "application/json", "svg": "image/svg+xml", "png": "image/png",
    ]

    init(root: URL?) {
        var files: [String: File] = [:]
        if let root, let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true,
                      let type = Self.contentTypes[url.pathExtension], let data = FileManager.default.contents(atPath: url.path)
                else { continue }
                let path = url.standardizedFileURL.pathComponents.dropFirst(root.standardizedFileURL.pathComponents.count).joined(separator: "/")
                let bytes = Array(data)
                files[path] = File(bytes: bytes, contentType: type, etag: "\"\(SHA256.hash(bytes).hex.prefix(32))\"")
            }
        }
        self.root = files["index.html"] == nil ? nil : root
        self.files = files
    }
}
