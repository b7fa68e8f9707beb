// Standard base64 (RFC 4648 §4): the test vectors of RFC 4648 §10, every length up to three
// groups against Foundation's encoder, and the strict decoder's refusals.
import CinnabarCrypto
import Foundation
import XCTest

final class Base64Tests: XCTestCase {
    func testRFC4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded, plain)
            XCTAssertEqual(Base64.decode(encoded), Array(plain.utf8), encoded)
        }
    }

    func testEveryLengthAndByteMatchesFoundationAndRoundTrips() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Base64.encode(bytes)
            XCTAssertEqual(encoded, Data(bytes).base64EncodedString(), "length \(length)")
            XCTAssertEqual(Base64.decode(encoded), bytes, "length \(length)")
            XCTAssertEqual(Base64.encode(bytes[...]), encoded, "a slice encodes as its array")
        }
        let all = (0...255).map { UInt8($0) }
        XCTAssertEqual(Base64.encode(all), Data(all).base64EncodedString())
    }

    func testTheDecoderIsStrict() {
        for bad in ["Zg", "Zg=", "Zh==", "Zm9=", "Z===", "Zm9v\n", "Zm9v====", "Zm-v", "Zm_v"] {
            XCTAssertNil(Base64.decode(bad), bad)
        }
    }
}
