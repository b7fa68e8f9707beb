// The validator-set change leaf (Specs/ledger-format.md §2.1, consensus.md §2.10): its exact bytes,
// every malformed leaf refused, approvals from a quorum of the current set, one change at a time.
import CinnabarCrypto
import Ledger
import XCTest

final class ValidatorSetChangeTests: XCTestCase {
    let origin = Members.origin
    let four = Members.set(["a", "b", "c", "d"])
    let five = Members.set(["a", "b", "c", "d", "e"])

    func code(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return (error as? LedgerError)?.code ?? "\(error)" }
        return nil
    }

    func testTheEncodingIsTheSpecifiedLayoutAndRoundTrips() throws {
        let change = Members.change(four, five, approvers: ["d", "a", "c"])
        let bytes = change.leafData
        XCTAssertEqual(Array(bytes[0..<6]), [0x02, 1, 0, 0, 0, 5], "tag, version, u32 count")
        let first = five.validators[0]
        XCTAssertEqual(Array(bytes[6..<8]), [0, UInt8(first.name.utf8.count)])
        XCTAssertEqual(Array(bytes[8 + first.name.utf8.count..<8 + first.name.utf8.count + 32]), first.publicKey.bytes)
        let setBytes = 4 + five.validators.reduce(0) { $0 + 2 + $1.name.utf8.count + 32 }
        XCTAssertEqual(Array(bytes[2 + setBytes..<4 + setBytes]), [0, 3], "u16 approval count")
        XCTAssertEqual(bytes.count, 2 + setBytes + 2 + 3 * (2 + 64))
        XCTAssertEqual(change.approvals.map(\.validator), change.approvals.map(\.validator).sorted(), "approvals in index order")
        let decoded = try ValidatorSetChange(leafData: bytes)
        XCTAssertEqual(decoded, change)
        XCTAssertEqual(decoded.leafData, bytes)
        XCTAssertEqual(decoded.newSet.hash, five.hash)
    }

    func testTruncatedOverlongAndNonCanonicalLeavesAreRefused() throws {
        let good = Members.change(four, five, approvers: ["a", "b", "c"]).leafData
        for cut in 0..<good.count {
            XCTAssertEqual(code { _ = try ValidatorSetChange(leafData: Array(good.prefix(cut))) }, "malformed_set_change", "cut at \(cut)")
        }
        var wrongTag = good; wrongTag[0] = LeafTag.blockTrailer.rawValue
        var wrongVersion = good; wrongVersion[1] = 2
        // The set with its first two validators swapped: the same set, not in key order.
        var w = BinaryWriter()
        w.u8(0x02); w.u8(1); w.u32(2)
        for v in [four.validators[1], four.validators[0]] { w.string(v.name); w.raw(v.publicKey.bytes) }
        w.u16(0)
        let unordered = w.bytes
        // Two approvals by the same index, and approvals out of order.
        func approvals(_ indices: [UInt16]) -> [UInt8] {
            var w = BinaryWriter()
            w.u8(0x02); w.u8(1)
            five.write(to: &w)
            w.u16(UInt16(indices.count))
            for i in indices { w.u16(i); w.raw([UInt8](repeating: 7, count: 64)) }
            return w.bytes
        }
        var empty = BinaryWriter()
        empty.u8(0x02); empty.u8(1); empty.u32(0); empty.u16(0)
        var huge = BinaryWriter()
        huge.u8(0x02); huge.u8(1); huge.u32(UInt32(ValidatorSetChange.maxValidators + 1))
        let cases: [([UInt8], String)] = [
            (wrongTag, "another tag"), (wrongVersion, "another version"), (good + [0], "a trailing byte"),
            (unordered, "a set out of key order"), (approvals([1, 1]), "a repeated approver"), (approvals([2, 1]), "approvals out of order"),
            (empty.bytes, "an empty set"), (huge.bytes, "more validators than the bound"),
            ([UInt8](repeating: 0x02, count: LeafLimits.maxBytes + 1), "over 64 KiB"),
        ]
        for (bytes, what) in cases {
            XCTAssertEqual(code { _ = try ValidatorSetChange(leafData: bytes) }, "malformed_set_change", what)
        }
        XCTAssertNoThrow(try ValidatorSetChange(leafData: approvals([0, 1, 4])), "the same layout in order decodes")
    }

    func testEveryFlippedBitIsRefused() {
        let good = Members.change(four, five, approvers: ["a", "b", "c"]).leafData
        XCTAssertNoThrow(try ValidatorSetChange(leafData: good).check(origin: origin, epoch: 0, current: four))
        for bit in 0..<good.count * 8 {
            var flipped = good
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            let accepted = (try? ValidatorSetChange(leafData: flipped)).flatMap { try? $0.check(origin: origin, epoch: 0, current: four) }
            XCTAssertNil(accepted, "bit \(bit) flipped and still accepted")
        }
    }

    func testAQuorumOfTheCurrentSetMustApprove() throws {
        XCTAssertEqual(four.quorum, 3)
        let ok = Members.change(four, five, approvers: ["a", "b", "c"])
        XCTAssertEqual(ok.verifiedApprovers(origin: origin, epoch: 0, current: four).count, 3)
        XCTAssertEqual(try ok.check(origin: origin, epoch: 0, current: four), .added(Members.validator("e")))
        XCTAssertNoThrow(try Members.change(four, five, approvers: ["a", "b", "c", "d"]).check(origin: origin, epoch: 0, current: four))

        let two = Members.change(four, five, approvers: ["a", "b"])
        XCTAssertEqual(code { try two.check(origin: origin, epoch: 0, current: four) }, "unapproved_set_change")

        // The same approval three times is one approver.
        let a = ok.approvals.first { four.validators[$0.validator].name == "a" }!
        let b = ok.approvals.first { four.validators[$0.validator].name == "b" }!
        let repeated = ValidatorSetChange(newSet: five, approvals: [a, a, b, a])
        XCTAssertEqual(repeated.approvals.count, 2)
        XCTAssertEqual(repeated.verifiedApprovers(origin: origin, epoch: 0, current: four).count, 2)
        XCTAssertEqual(code { try repeated.check(origin: origin, epoch: 0, current: four) }, "unapproved_set_change")
    }

    func testApprovalsByOutsidersOrOverOtherBytesDoNotCount() throws {
        let ok = Members.change(four, five, approvers: ["a", "b", "c"])
        let message = ValidatorSetChange.approvalMessage(origin: origin, epoch: 0, current: four, new: five)
        let index = four.validators.firstIndex { $0.name == "d" }!
        // e is not a member yet: its signature under d's index, and an index past the set.
        let outsider = ValidatorSetChange.Approval(validator: index, signature: Members.key("e").signature(for: message))!
        let pastTheEnd = ValidatorSetChange.Approval(validator: 4, signature: Members.key("e").signature(for: message))!
        XCTAssertNil(ValidatorSetChange.approve(origin: origin, epoch: 0, current: four, new: five, key: Members.key("e")))
        // d's signature over a change to another set, over another origin, over another epoch.
        let six = Members.set(["a", "b", "c", "d", "f"])
        let otherSet = ValidatorSetChange.approve(origin: origin, epoch: 0, current: four, new: six, key: Members.key("d"))!
        let otherOrigin = ValidatorSetChange.approve(origin: "other.example/log", epoch: 0, current: four, new: five, key: Members.key("d"))!
        let otherEpoch = ValidatorSetChange.approve(origin: origin, epoch: 1, current: four, new: five, key: Members.key("d"))!
        for bad in [outsider, pastTheEnd, otherSet, otherOrigin, otherEpoch] {
            let change = ValidatorSetChange(newSet: five, approvals: ok.approvals + [bad])
            let approvers = change.verifiedApprovers(origin: origin, epoch: 0, current: four)
            XCTAssertEqual(approvers.count, 3, "\(bad.validator)")
            XCTAssertFalse(approvers.contains(bad.validator))
            XCTAssertEqual(code { try change.check(origin: origin, epoch: 0, current: four) }, "unapproved_set_change",
                           "a change carrying an approval that fails is refused")
        }
    }

    func testApprovalBytesAreDomainSeparated() {
        let message = ValidatorSetChange.approvalMessage(origin: origin, epoch: 7, current: four, new: five)
        XCTAssertEqual(message[0], 0, "a leading NUL: never note text")
        XCTAssertEqual(Array(message[0..<24]), Array("\u{0}ledger-validator-set/v1".utf8))
        var w = BinaryWriter()
        w.string(origin); w.u64(7); w.hash(four.hash); w.hash(five.hash)
        XCTAssertEqual(Array(message[24...]), w.bytes)
    }

    func testOneValidatorAtATime() throws {
        let rotatedB = Members.set([Members.validator("a"), Members.validator("b", key: "b-2"), Members.validator("c"), Members.validator("d")])
        XCTAssertEqual(try ValidatorSetChange.step(from: four, to: five), .added(Members.validator("e")))
        XCTAssertEqual(try ValidatorSetChange.step(from: five, to: four), .removed(Members.validator("e")))
        XCTAssertEqual(try ValidatorSetChange.step(from: four, to: rotatedB),
                       .rotated(name: "b", from: Members.key("b").publicKey, to: Members.key("b-2").publicKey))
        let refused: [(ValidatorSet, String)] = [
            (four, "no change"),
            (Members.set(["a", "b", "c", "d", "e", "f"]), "two added"),
            (Members.set(["a", "b"]), "two removed"),
            (Members.set(["a", "b", "c", "e"]), "one removed and one added"),
            (Members.set([Members.validator("a"), Members.validator("b"), Members.validator("c"), Members.validator("z", key: "d")]), "a rename"),
            (Members.set([Members.validator("a", key: "a-2"), Members.validator("b", key: "b-2"), Members.validator("c"), Members.validator("d")]), "two re-keyed"),
        ]
        for (new, what) in refused {
            XCTAssertEqual(code { _ = try ValidatorSetChange.step(from: four, to: new) }, "invalid_set_change", what)
            XCTAssertEqual(code { try Members.change(four, new, approvers: ["a", "b", "c", "d"]).check(origin: origin, epoch: 0, current: four) },
                           "invalid_set_change", what)
        }
        // A set of one cannot lose its last validator: an empty set does not exist.
        XCTAssertThrowsError(try ValidatorSet([]))
        let one = Members.set(["a"])
        XCTAssertNoThrow(try Members.change(one, Members.set(["a", "b"]), approvers: ["a"]).check(origin: origin, epoch: 0, current: one))
    }

    func testANewValidatorNeedsANameThatMakesAKeyName() {
        let spaced = Members.set([Members.validator("a"), Members.validator("b"), Members.validator("c"), Members.validator("d"),
                                  Members.validator("new lab", key: "e")])
        XCTAssertEqual(code { try Members.change(four, spaced, approvers: ["a", "b", "c"]).check(origin: origin, epoch: 0, current: four) },
                       "invalid_set_change")
    }
}
