import Foundation
import NIOCore
import XCTest

@testable import RTP

/// Runs FuzzTransportFeedback's body (TransportFeedbackCheck.swift, linked from fuzz/Sources) over its
/// seeds and over mutations of them, so the target is compiled and exercised with the unit tests.
final class FuzzTransportFeedbackSeedTests: XCTestCase {
    /// The seed corpus of fuzz/corpus/FuzzTransportFeedback:
    /// RTCBOX_FUZZ_SEED_DIR=fuzz/corpus/FuzzTransportFeedback swift test --filter FuzzTransportFeedbackSeedTests
    static var seeds: [(name: String, bytes: [UInt8])] {
        var built = TransportFeedbackBuilder(configuration: .init(senderSSRC: 5, mediaSSRC: 6))
        for sequence in 0..<300 where sequence % 17 != 3 {
            built.onPacket(sequenceNumber: UInt16(truncatingIfNeeded: 65400 + sequence), arrivalTime: 1_000_000 + Int64(sequence) * 2_700)
        }
        let fromBuilder = built.poll(now: 2_000_000).first?.serialized().goldenBytes ?? []
        return [
            ("pion-example1", TransportFeedbackTests.pionExample1),
            ("pion-example4", TransportFeedbackTests.pionExample4),
            ("pion-example6", TransportFeedbackTests.pionExample6),
            ("pion-example7", TransportFeedbackTests.pionExample7),
            ("one-bit-vector-wrap", TransportFeedbackTests.oneBitVectorWrapping),
            ("two-bit-vector-negative", TransportFeedbackTests.twoBitVectorNegativeDelta),
            ("run-length", TransportFeedbackTests.runLength),
            ("builder-300", fromBuilder),
        ]
    }

    func testSeeds() throws {
        let seeds = Self.seeds
        XCTAssertGreaterThan(seeds.last?.bytes.count ?? 0, 100)
        for seed in seeds {
            XCTAssertNoThrow(try TransportFeedback.parse(golden(seed.bytes)), seed.name)
            checkTransportFeedback(golden(seed.bytes))
        }
        if let directory = ProcessInfo.processInfo.environment["RTCBOX_FUZZ_SEED_DIR"] {
            for seed in seeds {
                try Data(seed.bytes).write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(seed.name).bin"))
            }
        }
    }

    func testCheckedInCorpus() throws {
        // The test file may be reached through a scratch package's symbolic links: resolve them.
        let corpus = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("fuzz/corpus/FuzzTransportFeedback")
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: corpus.path) else {
            throw XCTSkip("no corpus at \(corpus.path)")
        }
        XCTAssertGreaterThanOrEqual(files.count, Self.seeds.count)
        for file in files {
            let bytes = try Data(contentsOf: corpus.appendingPathComponent(file))
            checkTransportFeedback(ByteBuffer(bytes: bytes))
        }
    }

    func testMutations() {
        var rng = SplitMix64(seed: 15)
        for seed in Self.seeds {
            for _ in 0..<300 {
                var bytes = seed.bytes
                for _ in 0..<(1 + rng.next() % 4) where !bytes.isEmpty {
                    let index = Int(rng.next() % UInt64(bytes.count))
                    switch rng.next() % 3 {
                    case 0: bytes[index] ^= UInt8(1 << (rng.next() % 8))
                    case 1: bytes[index] = UInt8(truncatingIfNeeded: rng.next())
                    default: bytes.removeLast(Int(rng.next() % UInt64(min(bytes.count, 8))))
                    }
                }
                if bytes.count >= 4 {
                    // Keep the header plausible so the mutation reaches the chunks and deltas.
                    bytes[0] = 0x80 | (bytes[0] & 0x20) | 15
                    bytes[1] = 205
                }
                checkTransportFeedback(golden(bytes))
            }
        }
    }
}
