import CFFmpeg
import FFmpegKit
import Foundation
import NIOCore
import RoomProtocol
import XCTest

@testable import Media

/// Opus audio, as browsers publish it (raw packets, no extradata), written by the player's muxer: kept in the
/// containers that carry it, transcoded to AAC for FLV or on request.
final class OpusOutputTests: XCTestCase {
    static let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rtcbox-opus-\(getpid())")

    override class func tearDown() {
        try? FileManager.default.removeItem(at: directory)
        super.tearDown()
    }

    /// H.264 Annex-B + Opus frames of a 2 s clip, in µs, as a room would deliver them.
    func roomFrames() throws -> (StreamInfo, [MediaFrame]) {
        let dir = Self.directory
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let source = dir.appendingPathComponent("source.ts").path
        let made = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
                                               "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "2",
                                               "-c:v", "libx264", "-bf", "0", "-g", "30", "-c:a", "libopus", "-ac", "1",
                                               "-b:a", "48k", source])
        XCTAssertEqual(made.status, 0, made.err)
        let input = try InputMedia(url: source, format: nil, interrupt: InterruptFlag())
        let packet = try Packet()
        var frames: [MediaFrame] = []
        let us = AVRational(num: 1, den: 1_000_000)
        while try input.read(into: packet) {
            if packet.dts == cff_nopts_value() { packet.dts = packet.pts }
            let kind: TrackKind = packet.streamIndex == 0 ? .video : .audio
            let tb = input.timeBase(ofStream: packet.streamIndex)
            let header = MediaFrameHeader(streamHandle: 1, track: kind, flags: packet.isKeyframe || kind == .audio ? .keyframe : [],
                                          pts: av_rescale_q(packet.pts, tb, us), dts: av_rescale_q(packet.dts, tb, us), captureTime: 0)
            frames.append(MediaFrame(header: header, payload: ByteBuffer(bytes: packet.bytes)))
        }
        let info = StreamInfo(streamID: "web", user: UserInfo(userID: "u", userName: "u"), tracks: [
            TrackInfo(kind: .video, codec: "h264", width: 320, height: 240, frameRate: 30),
            TrackInfo(kind: .audio, codec: "opus", sampleRate: 48000, channels: 1),
        ])
        return (info, frames)
    }

    func run(_ tool: String, _ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    /// "codec,frames" per stream, as ffprobe decodes them.
    func probe(_ path: String) throws -> [String] {
        let r = try run("/usr/bin/ffprobe", ["-v", "error", "-count_frames", "-show_entries", "stream=codec_name,nb_read_frames",
                                             "-of", "csv=p=0", path])
        XCTAssertEqual(r.status, 0, r.err)
        // MPEG-TS lists its streams twice (in the program and on their own).
        var seen = Set<String>()
        return r.out.split(separator: "\n").map(String.init).filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    func write(_ ext: String, audioCodec: String? = nil) throws -> (path: String, notes: [String]) {
        let (info, frames) = try roomFrames()
        let path = Self.directory.appendingPathComponent("out-\(UUID().uuidString).\(ext)").path
        var notes: [String] = []
        let muxer = try StreamMuxer(output: path, format: nil, audioCodec: audioCodec, onNote: { notes.append($0) })
        muxer.streamStarted(info)
        for f in frames { try muxer.write(f) }
        try muxer.finish()
        return (path, notes)
    }

    func testOpusIsKeptWhereTheContainerCarriesIt() throws {
        for ext in ["mkv", "mp4", "ts", "nut"] {
            let (path, notes) = try write(ext)
            XCTAssertEqual(notes, [], ext)
            let streams = try probe(path)
            XCTAssertEqual(streams.count, 2, "\(ext): \(streams)")
            XCTAssertTrue(streams.contains("h264,60"), "\(ext): \(streams)")
            // 2 s of 20 ms packets, every one decodable (the OpusHead was built from the track's channels).
            let opus = streams.first { $0.hasPrefix("opus,") }.flatMap { Int($0.dropFirst(5)) } ?? 0
            XCTAssertGreaterThanOrEqual(opus, 98, "\(ext): \(streams)")
            let decode = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", path, "-f", "null", "-"])
            XCTAssertEqual(decode.err, "", "\(ext) decodes without errors")
        }
    }

    func testOpusBecomesAACForFLVAndOnRequest() throws {
        for (ext, codec, why) in [("flv", nil as String?, "(flv cannot carry opus)"), ("mkv", "aac", "(--audio-codec aac)")] {
            let (path, notes) = try write(ext, audioCodec: codec)
            XCTAssertEqual(notes, ["opus audio is transcoded to AAC \(why)"], ext)
            let streams = try probe(path)
            XCTAssertTrue(streams.contains("h264,60"), "\(ext): \(streams)")
            // 2 s at 48 kHz is 93.75 AAC frames; the encoder's priming frame is dropped, its tail kept.
            let aac = streams.first { $0.hasPrefix("aac,") }.flatMap { Int($0.dropFirst(4)) } ?? 0
            XCTAssertGreaterThanOrEqual(aac, 90, "\(ext): \(streams)")
            XCTAssertLessThanOrEqual(aac, 96, "\(ext): \(streams)")
            let decode = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", path, "-f", "null", "-"])
            XCTAssertEqual(decode.err, "", "\(ext) decodes without errors")
        }
    }
}
