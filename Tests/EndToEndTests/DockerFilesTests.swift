// The docker files against what this machine builds: no Docker engine runs where the tests do, so
// Tests/Tools/check_docker.py checks the Dockerfile's stages against the real binary's libraries and
// the dpkg database, and the compose file against a real `cinnabar dev init`.
import Foundation
import XCTest

final class DockerFilesTests: XCTestCase {
    var packageRoot: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
    var script: String { packageRoot.appendingPathComponent("Tests/Tools/check_docker.py").path }

    func testTheImageAndTheComposeFileMatchTheBuild() throws {
        let (status, text) = try python3([script, packageRoot.path, cinnabarBinary], in: NSTemporaryDirectory())
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains(", 0 problems"), text)
    }

    /// The check is not vacuous: a runtime stage without libcurl, a build stage without the test
    /// targets' folder, sources left out of the build context by .dockerignore, or a node whose
    /// port the compose file does not publish, is caught.
    func testAMissingLibraryFolderOrPortIsCaught() throws {
        let copy = TemporaryDirectory()
        try FileManager.default.copyItem(atPath: packageRoot.appendingPathComponent("docker").path, toPath: copy.path + "/docker")
        try FileManager.default.copyItem(atPath: packageRoot.appendingPathComponent("Package.swift").path, toPath: copy.path + "/Package.swift")
        for folder in ["Sources", "Tests"] {
            try FileManager.default.createSymbolicLink(atPath: copy.path + "/" + folder, withDestinationPath: packageRoot.appendingPathComponent(folder).path)
        }
        try ".build*\nSources\n".write(toFile: copy.path + "/.dockerignore", atomically: true, encoding: .utf8)
        let dockerfile = copy.path + "/docker/Dockerfile", compose = copy.path + "/docker/compose.yaml"
        let image = try String(contentsOfFile: dockerfile, encoding: .utf8)
        XCTAssertTrue(image.contains(" libcurl4 "))
        XCTAssertTrue(image.contains("COPY Tests ./Tests\n"))
        try image.replacingOccurrences(of: " libcurl4 ", with: " ").replacingOccurrences(of: "COPY Tests ./Tests\n", with: "")
            .write(toFile: dockerfile, atomically: true, encoding: .utf8)
        let services = try String(contentsOfFile: compose, encoding: .utf8)
        XCTAssertTrue(services.contains("\"8083:8083\""))
        try services.replacingOccurrences(of: "\"8083:8083\"", with: "\"8085:8085\"").write(toFile: compose, atomically: true, encoding: .utf8)

        let (status, text) = try python3([script, copy.path, cinnabarBinary], in: NSTemporaryDirectory())
        XCTAssertEqual(status, 1, text)
        XCTAssertTrue(text.contains("loads libcurl.so.4 from libcurl4"), text)
        XCTAssertTrue(text.contains("court: the API port 8083 is not published"), text)
        XCTAssertTrue(text.contains("does not copy Tests/"), text)
        XCTAssertTrue(text.contains("COPY Sources: not in the build context"), text)
    }
}
