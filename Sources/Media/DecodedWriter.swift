import CFFmpeg
import FFmpegKit
import Foundation
import RoomProtocol

/// `play --decode`: decodes one track and writes raw media for analysis pipelines: video as
/// yuv4mpegpipe (I420 at the stream's size), audio (`--audio-only`) as s16le or f32le PCM or WAV.
/// `--window` uses the same path into libavdevice's sdl2 (or xv) output device, `output` being the title.
/// Every frame is written and flushed as soon as it is decoded.
final class DecodedWriter {
    private let url: String
    private let muxerName: String
    private let kind: TrackKind
    private var track: TrackInfo?
    private var decoder: Decoder?
    private var output: OutputMedia?
    private var encoder: Encoder?
    private var scaler: Scaler?
    private var resampler: Resampler?
    private let decoded: Frame
    private let packet: Packet
    private var waitingForKeyframe = true
    private var lastDts: Int64?
    private var firstPts: Int64?
    private var framesOut: Int64 = 0
    private(set) var videoFramesWritten = 0
    private(set) var audioFramesWritten = 0
    private(set) var framesDropped = 0
    private(set) var mediaMicros: Int64 = 0

    static let audioFormats = ["s16le", "f32le", "wav"]

    /// The raw format for `--format` (or the file name): yuv4mpegpipe for video; s16le, f32le or wav for audio.
    static func muxerName(format: String?, output: String, audio: Bool) throws -> String {
        let ext = URL(fileURLWithPath: output).pathExtension.lowercased()
        let named = OutputFormat.isPipe(output) || ext.isEmpty ? nil : ext
        guard audio else {
            if let format, !["yuv4mpegpipe", "y4m"].contains(format) {
                throw FFmpegError(operation: "--format", message: "--decode writes video as yuv4mpegpipe; \"\(format)\" needs --audio-only (s16le, f32le, wav)")
            }
            // Raw frames in a file named like a container would mislead whoever opens it.
            if format == nil, let named, !["y4m", "yuv"].contains(named) {
                throw FFmpegError(operation: "output \"\(output)\"", message: "--decode writes Y4M video, not .\(named): name the file .y4m, or play without --decode for a container")
            }
            return "yuv4mpegpipe"
        }
        if let format {
            guard audioFormats.contains(format) else {
                throw FFmpegError(operation: "--format", message: "--decode --audio-only writes s16le, f32le or wav, not \"\(format)\"")
            }
            return format
        }
        if let named, !["wav", "pcm", "raw", "s16le", "f32", "f32le"].contains(named) {
            throw FFmpegError(operation: "output \"\(output)\"", message: "--decode --audio-only writes wav, s16le or f32le, not .\(named) (name the file .wav, or give --format)")
        }
        return named == "wav" ? "wav" : "s16le"
    }

    /// Output devices that show video in a window.
    static let windowDevices = ["sdl2", "xv"]

    /// Why `device` cannot open a window here, when that can be told before trying: no display to open it on.
    /// (Without one SDL falls back to a driver that shows nothing, says "XDG_RUNTIME_DIR is invalid" and
    /// carries on.) SDL_VIDEODRIVER is the user's own choice of SDL driver and is trusted.
    static func windowProblem(device: String, environment: [String: String]) -> String? {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if device == "sdl2", value("SDL_VIDEODRIVER") != nil || value("WAYLAND_DISPLAY") != nil { return nil }
        guard let display = value("DISPLAY") else { return "cannot open a window: no display (DISPLAY is not set)" }
        // A local display (":N", "unix:N", ":N.S") is an X server's socket; a remote one is left to the device.
        let local = display.hasPrefix(":") ? display.dropFirst() : display.hasPrefix("unix:") ? display.dropFirst(5) : nil
        if let local, let number = Int(local.prefix { $0.isNumber }) {
            let socket = "/tmp/.X11-unix/X\(number)"
            if !FileManager.default.fileExists(atPath: socket) {
                return "cannot open a window: no X server on display \(display) (no \(socket))"
            }
        }
        return nil
    }

    init(output url: String, format: String?, kind: TrackKind) throws {
        self.url = url
        self.kind = kind
        if let format, Self.windowDevices.contains(format) {
            muxerName = format
        } else {
            muxerName = try Self.muxerName(format: format, output: url, audio: kind == .audio)
        }
        decoded = try Frame()
        packet = try Packet()
    }

    var hasVideo: Bool { kind == .video }

    /// A (re)started stream: wait for a keyframe, and take its timestamps afresh (a restarted publisher
    /// starts again from 0; the raw outputs carry no timestamps, so nothing goes backwards).
    func streamStarted(_ info: StreamInfo) {
        waitingForKeyframe = true
        lastDts = nil
        if track == nil { track = info.tracks.first { $0.kind == kind } }
    }

    func write(_ frame: MediaFrame) throws -> Bool {
        let h = frame.header
        guard h.track == kind, let track else { return false }
        if kind == .video && waitingForKeyframe {
            guard h.isKeyframe else {
                framesDropped += 1
                return false
            }
            waitingForKeyframe = false
        }
        if let last = lastDts, h.dts <= last {
            framesDropped += 1
            return false
        }
        lastDts = h.dts
        if decoder == nil {
            let extradata = TrackExtradata.bytes(track)
            decoder = try Decoder(codecName: track.codec, extradata: kind == .audio ? extradata : [])
        }
        guard let decoder else { return false }
        let input = try Packet(copying: frame.payload.readableBytesView)
        input.pts = h.pts
        input.dts = h.dts
        input.isKeyframe = h.isKeyframe
        do {
            try decoder.send(input)
        } catch let e as FFmpegError where e.isInvalidData {
            framesDropped += 1  // a damaged frame: skip it, the decoder resyncs at the next keyframe
            return false
        }
        var wrote = false
        while try decoder.receive(into: decoded) == .produced {
            try emit(decoded, track: track)
            decoded.unref()
            wrote = true
        }
        return wrote
    }

    private func emit(_ frame: Frame, track: TrackInfo) throws {
        let ts = frame.pointer.pointee.best_effort_timestamp
        if ts != cff_nopts_value() {
            if firstPts == nil { firstPts = ts }
            mediaMicros = max(mediaMicros, ts - (firstPts ?? ts))
        }
        if kind == .video { try emitVideo(frame, track: track) } else { try emitAudio(frame) }
    }

    /// The frame rate raw video is written at (yuv4mpegpipe's F header; a reader times frames by it): the
    /// track's, else 30 (fractional rates kept: 29.97 is 2997/100, 30000/1001 stays that).
    static func frameRate(of track: TrackInfo) -> AVRational {
        guard let fps = track.frameRate, fps >= 1, fps <= 240 else { return AVRational(num: 30, den: 1) }
        return av_d2q(fps, 100_000)
    }

    private func emitVideo(_ frame: Frame, track: TrackInfo) throws {
        if output == nil {
            let rate = Self.frameRate(of: track)
            // libavformat 5.1's yuv4mpegpipe takes frames wrapped in packets; window devices take rawvideo.
            let codec = Self.windowDevices.contains(muxerName) ? "rawvideo" : "wrapped_avframe"
            let encoder = try Encoder.raw(video: codec, width: frame.width, height: frame.height,
                                          pixelFormat: AV_PIX_FMT_YUV420P, frameRate: rate)
            let out = try OutputMedia(url: url, format: muxerName, flushEachPacket: !Self.windowDevices.contains(muxerName))
            var p = OutputStreamParameters(kind: .video, codecName: codec)
            p.width = frame.width
            p.height = frame.height
            p.frameRate = rate
            p.timeBase = av_inv_q(rate)  // one tick a frame: yuv4mpegpipe's F header is its inverse
            try out.addStream(p)
            try out.start()
            scaler = try Scaler(width: frame.width, height: frame.height, pixelFormat: AV_PIX_FMT_YUV420P)
            self.encoder = encoder
            output = out
        }
        guard let encoder, let output, let scaler else { return }
        let picture = scaler.matches(frame) ? frame : try scaler.scale(frame)
        picture.pts = framesOut
        framesOut += 1
        try encoder.send(picture)
        try drain(encoder, output)
        videoFramesWritten += 1
    }

    private func emitAudio(_ frame: Frame) throws {
        if output == nil {
            let format = muxerName == "f32le" ? AV_SAMPLE_FMT_FLT : AV_SAMPLE_FMT_S16
            let codec = muxerName == "f32le" ? "pcm_f32le" : "pcm_s16le"
            let rate = Int(frame.pointer.pointee.sample_rate)
            let channels = Int(frame.pointer.pointee.ch_layout.nb_channels)
            let encoder = try Encoder.raw(audio: codec, sampleRate: rate, channels: channels, sampleFormat: format)
            let out = try OutputMedia(url: url, format: muxerName, flushEachPacket: true)
            var p = OutputStreamParameters(kind: .audio, codecName: codec)
            p.sampleRate = rate
            p.channels = channels
            p.sampleFormat = format
            try out.addStream(p)
            try out.start()
            resampler = try Resampler(sampleRate: rate, channels: channels, sampleFormat: format)
            self.encoder = encoder
            output = out
        }
        guard let encoder, let output, let resampler else { return }
        let samples = try resampler.convert(frame)
        samples.pts = framesOut
        framesOut += Int64(samples.pointer.pointee.nb_samples)
        try encoder.send(samples)
        try drain(encoder, output)
        audioFramesWritten += 1
    }

    private func drain(_ encoder: Encoder, _ output: OutputMedia) throws {
        while try encoder.receive(into: packet) == .produced {
            try output.write(packet, stream: 0, timeBase: encoder.timeBase)
            packet.unref()
        }
    }

    func finish() throws {
        if let decoder, let track {
            try? decoder.send(nil)
            while (try? decoder.receive(into: decoded)) == .produced {
                try emit(decoded, track: track)
                decoded.unref()
            }
        }
        try output?.finish()
    }
}

extension DecodedWriter: PlayOutput {}
