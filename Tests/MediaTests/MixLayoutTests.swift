import FFmpegKit
import Foundation
import XCTest

@testable import Media

/// Where the mixer puts its inputs (pure), and the graphs it builds, run through real libavfilter.
final class MixLayoutTests: XCTestCase {
    func testAGridGivesEachJoinerTheLowestFreeCellAndShrinksFromItsEnd() {
        var a = MixAssignment(layout: .grid, width: 1280, height: 720)
        XCTAssertEqual(a.join("a"), 0)
        XCTAssertEqual(a.rect(of: "a"), MixRect(x: 0, y: 0, width: 1280, height: 720))
        XCTAssertEqual(a.join("b"), 1)
        XCTAssertEqual(a.rect(of: "a"), MixRect(x: 0, y: 0, width: 640, height: 720))
        XCTAssertEqual(a.rect(of: "b"), MixRect(x: 640, y: 0, width: 640, height: 720))
        XCTAssertEqual(a.join("c"), 2)
        XCTAssertEqual(a.rect(of: "c"), MixRect(x: 0, y: 360, width: 640, height: 360))
        XCTAssertEqual(a.join("b"), 1, "a second join keeps the slot")
        a.leave("a")
        XCTAssertNil(a.slot(of: "a"))
        XCTAssertEqual(a.rect(of: "b"), MixRect(x: 640, y: 0, width: 640, height: 360), "the others stay where they were")
        XCTAssertEqual(a.join("d"), 0, "a joiner takes the free cell")
        a.leave("c")
        XCTAssertEqual(a.regionCount, 2)
        XCTAssertEqual(a.rect(of: "d"), MixRect(x: 0, y: 0, width: 640, height: 720))
    }

    func testNineInputsMakeAThreeByThreeGridOfEvenCells() {
        var a = MixAssignment(layout: .grid, width: 1280, height: 720)
        for i in 0..<9 { a.join("s\(i)") }
        XCTAssertEqual(a.rect(of: "s4"), MixRect(x: 426, y: 240, width: 426, height: 240))
        XCTAssertEqual(a.rect(of: "s8"), MixRect(x: 852, y: 480, width: 426, height: 240))
        for i in 0..<9 {
            let r = a.rect(of: "s\(i)")!
            XCTAssertNil(r.problem(inCanvas: 1280, 720))
            XCTAssertEqual(r.width % 2, 0)
        }
    }

    func testFixedStreamsKeepTheirSlotsAndOthersGetNone() {
        var a = MixAssignment(layout: .grid, width: 640, height: 360, fixed: ["red", "blue"])
        XCTAssertEqual(a.regionCount, 2)
        XCTAssertEqual(a.join("blue"), 1)
        XCTAssertNil(a.join("green"))
        a.leave("blue")
        XCTAssertEqual(a.slot(of: "blue"), 1, "a listed stream's cell waits for it")
        XCTAssertEqual(a.rect(of: "red"), MixRect(x: 0, y: 0, width: 320, height: 360))
    }

    func testPictureInPictureFillsWithTheFirstAndStacksTheOthersBottomRight() {
        var a = MixAssignment(layout: .pip, width: 1280, height: 720)
        a.join("host")
        a.join("guest1")
        a.join("guest2")
        XCTAssertEqual(a.rect(of: "host"), MixRect(x: 0, y: 0, width: 1280, height: 720))
        XCTAssertEqual(a.rect(of: "guest1"), MixRect(x: 1280 - 340, y: 720 - 200, width: 320, height: 180))
        XCTAssertEqual(a.rect(of: "guest2"), MixRect(x: 1280 - 680, y: 720 - 200, width: 320, height: 180))
    }

    func testCustomRegionsComeFromTheirIdsAndAreChecked() {
        let layout = MixLayout.custom([("cam", MixRect(x: 0, y: 0, width: 640, height: 360)), ("slides", MixRect(x: 640, y: 0, width: 640, height: 720))])
        var a = MixAssignment(layout: layout, width: 1280, height: 720)
        XCTAssertEqual(a.join("slides"), 1)
        XCTAssertNil(a.join("other"))
        XCTAssertEqual(a.rect(of: "slides"), MixRect(x: 640, y: 0, width: 640, height: 720))
        XCTAssertEqual(MixRect("10, 20,300,200"), MixRect(x: 10, y: 20, width: 300, height: 200))
        XCTAssertNil(MixRect("10,20,300"))
        XCTAssertNil(MixRect("a,b,c,d"))
        XCTAssertEqual(MixRect(x: 1000, y: 0, width: 640, height: 360).problem(inCanvas: 1280, 720), "reaches past the 1280x720 picture")
        XCTAssertEqual(MixRect(x: 0, y: 0, width: 8, height: 360).problem(inCanvas: 1280, 720), "is smaller than 16x16")
        XCTAssertEqual(MixRect(x: -2, y: 0, width: 64, height: 64).problem(inCanvas: 1280, 720), "starts outside the picture")
    }

    func testBackgroundColoursAreCheckedAsFFmpegNamesThem() {
        XCTAssertNil(FilterColor.problem(with: "navy"))
        XCTAssertNil(FilterColor.problem(with: "0x336699"))
        XCTAssertNotNil(FilterColor.problem(with: "notacolour"))
        XCTAssertNotNil(FilterColor.problem(with: "random"))
    }

    /// The video graph composes real pictures: a red and a blue 320x240 into a 640x360 grid on white,
    /// each fitted into its cell (centred, letterboxed).
    func testTheVideoGraphPutsEachPictureInItsRegion() throws {
        let bg = try FilterGraph.single("color=c=white:s=640x360:r=30,format=yuv420p")
        let red = try FilterGraph.single("color=c=red:s=320x240,format=yuv420p")
        let blue = try FilterGraph.single("color=c=blue:s=320x240,format=yuv420p")
        var a = MixAssignment(layout: .grid, width: 640, height: 360)
        a.join("red")
        a.join("blue")
        let regions = [a.rect(of: "red")!, a.rect(of: "blue")!]
        let tb = (num: 1, den: 30)
        func source(_ name: String, _ f: Frame) -> FilterGraph.Input {
            FilterGraph.Input(name: name, media: .video(width: f.width, height: f.height, pixelFormat: f.format), timeBase: tb)
        }
        let graph = try FilterGraph(description: MixGraph.video(regions: regions),
                                    inputs: [source("bg", bg), source("v0", red), source("v1", blue)], outputs: [("out", true)])
        let out = try Frame()
        for tick in 0..<3 {
            for (i, f) in [bg, red, blue].enumerated() {
                f.pts = Int64(tick)
                try graph.push(f, into: i)
            }
            XCTAssertEqual(try graph.pull(from: 0, into: out), .produced, "one picture per tick, at once")
            XCTAssertEqual(out.pts, Int64(tick))
            XCTAssertEqual(try graph.pull(from: 0, into: out), .needsInput)
        }
        func luma(_ x: Int, _ y: Int) -> Int {
            Int(out.pointer.pointee.data.0![y * Int(out.pointer.pointee.linesize.0) + x])
        }
        bg.pts = 3; red.pts = 3; blue.pts = 3
        try graph.push(bg, into: 0)
        try graph.push(red, into: 1)
        try graph.push(blue, into: 2)
        XCTAssertEqual(try graph.pull(from: 0, into: out), .produced)
        XCTAssertEqual([out.width, out.height], [640, 360])
        XCTAssertEqual(luma(160, 180), 81, accuracy: 3, "red in the left cell")
        XCTAssertEqual(luma(480, 180), 41, accuracy: 3, "blue in the right cell")
        XCTAssertEqual(luma(160, 20), 235, accuracy: 3, "the white background above the letterboxed picture")
        XCTAssertEqual(luma(480, 340), 235, accuracy: 3)
    }

    func testABadGraphIsAnErrorWithLibavfiltersWords() {
        XCTAssertThrowsError(try FilterGraph(description: "[in]nosuchfilter[out]",
                                             inputs: [FilterGraph.Input(name: "in", media: .video(width: 64, height: 64, pixelFormat: 0), timeBase: (1, 30))],
                                             outputs: [("out", true)])) { error in
            XCTAssertTrue("\(error)".contains("nosuchfilter"), "\(error)")
        }
    }
}

private func XCTAssertEqual(_ a: Int, _ b: Int, accuracy: Int, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(abs(a - b) <= accuracy, "\(a) is not \(b) ± \(accuracy) \(message)", file: file, line: line)
}
