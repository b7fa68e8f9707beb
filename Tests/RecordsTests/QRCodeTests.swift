// QR codes for verification URLs: the payload stays in the alphanumeric set, its version follows
// from the host's length, and the SVG is well-formed XML that draws exactly the symbol's dark
// modules inside a 4-module quiet zone. Decoding the symbol is out of scope.
#if canImport(FoundationXML)
import FoundationXML
#endif
import Foundation
import Records
import XCTest

/// What XMLParser saw in an SVG document: every element with its attributes, and the title text.
final class SVGOutline: NSObject, XMLParserDelegate {
    private(set) var elements: [(name: String, attributes: [String: String])] = []
    private(set) var title = ""
    private var inTitle = false

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
        qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
    ) {
        elements.append((elementName, attributeDict))
        inTitle = elementName == "title"
    }

    func parser(
        _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
    ) {
        inTitle = false
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inTitle { title += string }
    }
}

final class QRCodeTests: XCTestCase {
    private let example = "HTTPS://VERIFY.SC-LEGAL.EXAMPLE/V/NK7Q3HXD9PRTWM45"

    func testVerificationURLIsAlphanumericAndFitsVersion3AtLevelQ() throws {
        // A 16-character host gives a 43-character URL; version 3 at level Q holds 47.
        for code in seededVerificationCodes(64, seed: 3) {
            let payload = code.qrPayload(host: "sc-legal.example")
            XCTAssertLessThanOrEqual(payload.count, 44)
            XCTAssertTrue(payload.allSatisfy { QRCode.alphanumericCharacters.contains($0) }, payload)
            let symbol = try QRCode(alphanumeric: payload)
            XCTAssertLessThanOrEqual(symbol.version, 3, payload)
            XCTAssertEqual(symbol.size, 17 + 4 * symbol.version)
        }
    }

    func testHostLengthDecidesTheVersion() throws {
        // The URL is 27 characters plus the host. Alphanumeric capacity at level Q (ISO/IEC 18004
        // capacity table): 29 characters in version 2, 47 in version 3, 67 in version 4. So version 3 holds
        // hosts of up to 20 characters, and the 23-character VERIFY.SC-LEGAL.EXAMPLE needs version 4.
        let code = try VerificationCode(parsing: "NK7Q3HXD9PRTWM45")
        let table: [(host: String, payloadLength: Int, version: Int)] = [
            ("A.CN", 31, 3),
            ("SC-LEGAL.EXAMPLE", 43, 3),
            ("VFY.SC-LEGAL.EXAMPLE", 47, 3),
            ("VRFY.SC-LEGAL.EXAMPLE", 48, 4),
            ("VERIFY.SC-LEGAL.EXAMPLE", 50, 4),
        ]
        for row in table {
            let payload = code.qrPayload(host: row.host)
            XCTAssertEqual(payload.count, row.payloadLength, row.host)
            XCTAssertEqual(try QRCode(alphanumeric: payload).version, row.version, row.host)
        }
        XCTAssertEqual(code.qrPayload(host: "verify.sc-legal.example"), example)
    }

    func testSVGIsWellFormedWithTitleViewBoxAndOnePath() throws {
        let symbol = try QRCode(alphanumeric: example)
        let outline = try parse(symbol.svg)
        XCTAssertEqual(outline.elements.map(\.name), ["svg", "title", "rect", "path"])
        let root = outline.elements[0].attributes
        XCTAssertEqual(root["xmlns"], "http://www.w3.org/2000/svg")
        let side = symbol.size + 2 * QRCode.quietZoneModules
        XCTAssertEqual(root["viewBox"], "0 0 \(side) \(side)")
        XCTAssertEqual(side - 8, 17 + 4 * symbol.version, "module count from the viewBox")
        XCTAssertEqual(outline.title, example)
        XCTAssertEqual(outline.elements[2].attributes["fill"], "#fff", "a light background under the quiet zone")
        XCTAssertEqual(outline.elements[2].attributes["width"], "\(side)")
        for outside in ["href", "font", "<text", "url(", "<image", "<style"] {
            XCTAssertFalse(symbol.svg.contains(outside), "no external resources or fonts: \(outside)")
        }
    }

    func testPathDrawsExactlyTheDarkModulesInsideTheQuietZone() throws {
        let symbol = try QRCode(alphanumeric: example)
        let path = try XCTUnwrap(parse(symbol.svg).elements.first { $0.name == "path" }?.attributes["d"])
        let quiet = QRCode.quietZoneModules
        var drawn = Set<[Int]>()
        for run in runs(path) {
            for x in run.x..<(run.x + run.length) {
                XCTAssertTrue(drawn.insert([run.y, x]).inserted, "module drawn twice")
            }
        }
        let side = symbol.size + 2 * quiet
        let inside = quiet..<(side - quiet)
        XCTAssertTrue(drawn.allSatisfy { $0.allSatisfy(inside.contains) }, "quiet zone kept clear")
        var expected = Set<[Int]>()
        for row in 0..<symbol.size {
            for column in 0..<symbol.size where symbol.isDark(row: row, column: column) {
                expected.insert([row + quiet, column + quiet])
            }
        }
        XCTAssertEqual(drawn, expected)
        XCTAssertEqual(drawn.count, symbol.darkModuleCount)
        // Masking (ISO/IEC 18004) keeps the dark share near half.
        let share = Double(symbol.darkModuleCount) / Double(symbol.size * symbol.size)
        XCTAssertTrue((0.35...0.65).contains(share), "dark share \(share)")
    }

    func testSymbolHasFinderAndTimingPatterns() throws {
        let symbol = try QRCode(alphanumeric: example)
        let n = symbol.size
        // Finder patterns (ISO/IEC 18004): 7×7 dark ring, light ring, 3×3 dark core, at
        // three corners, each with a light separator.
        for (top, left) in [(0, 0), (0, n - 7), (n - 7, 0)] {
            for r in -1...7 {
                for c in -1...7 where (0..<n).contains(top + r) && (0..<n).contains(left + c) {
                    let ring = max(abs(r - 3), abs(c - 3))
                    let dark = ring == 3 || ring <= 1
                    let module = symbol.isDark(row: top + r, column: left + c)
                    XCTAssertEqual(module, dark, "finder \(top),\(left): \(r),\(c)")
                }
            }
        }
        // Timing patterns: row 6 and column 6 alternate, dark on even indices.
        for i in 8..<(n - 8) {
            XCTAssertEqual(symbol.isDark(row: 6, column: i), i % 2 == 0)
            XCTAssertEqual(symbol.isDark(row: i, column: 6), i % 2 == 0)
        }
    }

    func testRenderingIsDeterministic() throws {
        let first = try QRCode(alphanumeric: example)
        let second = try QRCode(alphanumeric: example)
        XCTAssertEqual(first, second)
        XCTAssertEqual(first.svg, second.svg)
        let other = try QRCode(alphanumeric: "HTTPS://VERIFY.SC-LEGAL.EXAMPLE/V/NK7Q3HXD9PRTWM46")
        XCTAssertNotEqual(first.modules, other.modules)
    }

    func testRejectionsHaveStableCodes() throws {
        // Version 40 at level Q holds 2,420 alphanumeric characters.
        XCTAssertEqual(try QRCode(alphanumeric: String(repeating: "A", count: 2_420)).version, 40)
        let table: [(input: String, error: QRCodeError, code: String)] = [
            ("", .empty, "qr_empty"),
            ("https://verify.example/V/X", .notAlphanumeric("h", position: 1), "qr_not_alphanumeric"),
            ("HTTPS://VERIFY.EXAMPLE/V/X?Y", .notAlphanumeric("?", position: 27), "qr_not_alphanumeric"),
            ("HTTPS://核验.EXAMPLE", .notAlphanumeric("核", position: 9), "qr_not_alphanumeric"),
            (String(repeating: "A", count: 2_421), .tooLong(characters: 2_421), "qr_too_long"),
        ]
        for row in table {
            do {
                let symbol = try QRCode(alphanumeric: row.input)
                XCTFail("\(row.input.prefix(40)) encoded as version \(symbol.version)")
            } catch {
                XCTAssertEqual(error, row.error)
                XCTAssertEqual(error.code, row.code)
                XCTAssertFalse(error.description.isEmpty || error.description.contains("\n"), "\(error)")
            }
        }
    }

    /// Parses `svg` as XML, failing the test if it is not well-formed.
    private func parse(_ svg: String) throws -> SVGOutline {
        let parser = XMLParser(data: Data(svg.utf8))
        let outline = SVGOutline()
        parser.delegate = outline
        XCTAssertTrue(parser.parse(), "not well-formed XML: \(String(describing: parser.parserError))")
        return outline
    }

    /// The horizontal runs of a path made only of `M<x> <y>h<length>v1h-<length>z` commands.
    private func runs(_ path: String) -> [(x: Int, y: Int, length: Int)] {
        XCTAssertTrue(path.hasPrefix("M"))
        return path.split(separator: "M").compactMap { command in
            guard let match = command.wholeMatch(of: /(\d+) (\d+)h(\d+)v1h-(\d+)z/), match.3 == match.4,
                  let x = Int(match.1), let y = Int(match.2), let length = Int(match.3), length > 0
            else {
                XCTFail("unexpected path command M\(command)")
                return nil
            }
            return (x, y, length)
        }
    }
}
