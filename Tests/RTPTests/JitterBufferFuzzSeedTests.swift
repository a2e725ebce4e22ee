import Foundation
import XCTest
@testable import RTP

/// Runs FuzzJitterBuffer's body (JitterBufferFuzzBody.swift, linked from fuzz/) over its seed corpus and
/// over pseudo-random inputs, so the target is compiled and its invariants checked in every `swift test`.
final class JitterBufferFuzzSeedTests: XCTestCase {
    func testSeedCorpus() throws {
        let source = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        let corpus = source.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fuzz/corpus/FuzzJitterBuffer")
        let seeds = try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
        XCTAssertGreaterThanOrEqual(seeds.count, 5)
        var counters: [String: JitterBuffer.Counters] = [:]
        for seed in seeds { counters[seed.lastPathComponent] = fuzzJitterBuffer(Array(try Data(contentsOf: seed))) }
        // The seeds reach the paths they are named after.
        XCTAssertEqual(counters["clean-stream.bin"]?.framesReleased, 13)
        XCTAssertEqual(counters["clean-stream.bin"]?.framesGivenUp, 0)
        XCTAssertEqual(counters["rtx-repair.bin"]?.framesReleased, 4)
        XCTAssertEqual(counters["rtx-repair.bin"]?.framesGivenUp, 0)
        XCTAssertEqual(counters["give-up.bin"]?.freezes, 1)
        XCTAssertGreaterThan(counters["give-up.bin"]?.framesDropped ?? 0, 0)
        XCTAssertGreaterThan(counters["reorder-duplicates.bin"]?.duplicates ?? 0, 0)
        XCTAssertGreaterThan(counters["jumps-overflow.bin"]?.framesGivenUp ?? 0, 8)
    }

    func testPseudoRandomInputs() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for length in stride(from: 0, to: 2000, by: 7) {
            var bytes: [UInt8] = []
            for _ in 0..<length {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes.append(UInt8(truncatingIfNeeded: state >> 56))
            }
            // Small sequence deltas most of the time, as a real stream.
            for index in stride(from: 2, to: bytes.count, by: 4) where bytes[index] & 0x30 != 0 { bytes[index] &= 0x03 }
            fuzzJitterBuffer(bytes)
        }
    }
}
