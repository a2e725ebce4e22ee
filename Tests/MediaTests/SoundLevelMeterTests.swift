import XCTest

@testable import Media

final class SoundLevelMeterTests: XCTestCase {
    func testALevelAtEachWindowsEndOverItsSamples() {
        var meter = SoundLevelMeter(windowSamples: 4800)
        // 1024-sample chunks: the fifth completes the first window (5120 samples).
        for _ in 0..<4 { XCTAssertNil(meter.add(meanSquare: 0.5, samples: 1024)) }
        XCTAssertEqual(meter.add(meanSquare: 0.5, samples: 1024), 0, "a full-scale sine")
        // The next window: half of it silent, half a full-scale sine: the mean square halves, 3 dB down.
        for _ in 0..<2 { XCTAssertNil(meter.add(meanSquare: 0.5, samples: 1024)) }
        XCTAssertNil(meter.add(meanSquare: 0, samples: 1024))
        XCTAssertNil(meter.add(meanSquare: 0, samples: 1024))
        XCTAssertEqual(meter.add(meanSquare: 0.25, samples: 1024), 3)
        for _ in 0..<4 { _ = meter.add(meanSquare: 0, samples: 1024) }
        XCTAssertEqual(meter.add(meanSquare: 0, samples: 1024), 127, "silence")
        XCTAssertNil(meter.add(meanSquare: .nan, samples: 0), "an empty chunk adds nothing")
    }
}
