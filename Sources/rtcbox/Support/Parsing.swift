import ArgumentParser
import Foundation
import RoomClient

/// "10", "10s", "500ms", "2m", "1h", "1m30s", "00:01:30.5" → seconds.
struct DurationValue: ExpressibleByArgument, Sendable {
    var seconds: Double

    init?(argument: String) {
        guard let s = Self.parse(argument), s > 0 else { return nil }
        seconds = s
    }

    init(seconds: Double) { self.seconds = seconds }

    /// How a default shows in --help: "1h", "90s", "1.5s".
    var defaultValueDescription: String {
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }

    static func parse(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        if t.isEmpty { return nil }
        if t.contains(":") {
            var total = 0.0
            for part in t.split(separator: ":", omittingEmptySubsequences: false) {
                guard let v = Double(part), v >= 0 else { return nil }
                total = total * 60 + v
            }
            return total
        }
        if let v = Double(t) { return v }
        var total = 0.0
        var number = ""
        var i = t.startIndex
        while i < t.endIndex {
            let c = t[i]
            if c.isNumber || c == "." {
                number.append(c)
                i = t.index(after: i)
                continue
            }
            var unit = String(c)
            let next = t.index(after: i)
            if c == "m", next < t.endIndex, t[next] == "s" { unit = "ms"; i = next }
            guard let v = Double(number) else { return nil }
            switch unit {
            case "h": total += v * 3600
            case "m": total += v * 60
            case "s": total += v
            case "ms": total += v / 1000
            default: return nil
            }
            number = ""
            i = t.index(after: i)
        }
        if !number.isEmpty { return nil }
        return total
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

/// "2M", "800k", "64000" → bits per second. A number out of range parses (so that the error can say why,
/// not only that the value is invalid); `check` refuses it. Options of this type take `parsing: .unconditional`,
/// or ArgumentParser reads "-5" as a flag and reports a missing value.
struct BitRateValue: ExpressibleByArgument, CustomStringConvertible, Sendable {
    var bitsPerSecond: Int

    static let range = 1000...1_000_000_000

    init(bitsPerSecond: Int) { self.bitsPerSecond = bitsPerSecond }

    init?(argument: String) {
        let t = argument.trimmingCharacters(in: .whitespaces).lowercased()
        var multiplier = 1.0
        var digits = Substring(t)
        if t.hasSuffix("k") { multiplier = 1000; digits = digits.dropLast() }
        else if t.hasSuffix("m") { multiplier = 1_000_000; digits = digits.dropLast() }
        guard let v = Double(digits), v.isFinite, abs(v * multiplier) < 1e15 else { return nil }
        bitsPerSecond = Int(v * multiplier)
    }

    /// Refuses a rate that is not positive or out of range, naming the option.
    func check(_ option: String) throws {
        guard bitsPerSecond > 0 else { throw ValidationError("\(option) must be positive (e.g. 2M, 800k)") }
        guard Self.range.contains(bitsPerSecond) else {
            throw ValidationError("\(option) must be between \(Self(bitsPerSecond: Self.range.lowerBound)) and \(Self(bitsPerSecond: Self.range.upperBound))")
        }
    }

    /// As it is written: "2M", "64k", "1500"; what --help shows as the default.
    var description: String {
        if bitsPerSecond != 0, bitsPerSecond % 1_000_000 == 0 { return "\(bitsPerSecond / 1_000_000)M" }
        if bitsPerSecond != 0, bitsPerSecond % 1000 == 0 { return "\(bitsPerSecond / 1000)k" }
        return "\(bitsPerSecond)"
    }

    var defaultValueDescription: String { description }
}

/// "1280x720" → width and height.
struct VideoSizeValue: ExpressibleByArgument, Sendable {
    var width: Int
    var height: Int

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), (16...8192).contains(w), (16...8192).contains(h) else {
            return nil
        }
        width = w
        height = h
    }

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    var defaultValueDescription: String { "\(width)x\(height)" }
}

/// ffmpeg's rule for inputs: a `-f FMT` and input options (`--video-size`, `--framerate`, `--pixel-format`,
/// `--sample-rate`, `--channels`, `--input-option KEY=VALUE`) apply to the next `-i INPUT`. ArgumentParser
/// keeps each option's values in order but not their interleaving, so the pairing is read from the raw arguments.
enum InputPairing {
    struct Input: Equatable {
        var url: String
        var format: String?
        var options: [String: String]
    }

    /// The per-input flags and the libavformat/libavdevice option each sets.
    static let optionFlags: [String: String] = [
        "--video-size": "video_size", "--framerate": "framerate", "--pixel-format": "pixel_format",
        "--sample-rate": "sample_rate", "--channels": "channels",
    ]

    static func pair(arguments: [String]) throws -> [Input] {
        var result: [Input] = []
        var pendingFormat: String?
        var pendingOptions: [String: String] = [:]
        var i = 0
        func value(_ flag: String, _ inline: String?) throws -> String {
            if let inline { return inline }
            guard i + 1 < arguments.count else { throw ValidationError("\(flag) needs a value") }
            i += 1
            return arguments[i]
        }
        while i < arguments.count {
            let raw = arguments[i]
            if raw == "--" { break }
            let (flag, inline): (String, String?) = raw.hasPrefix("--") && raw.contains("=")
                ? (String(raw[..<raw.firstIndex(of: "=")!]), String(raw[raw.index(after: raw.firstIndex(of: "=")!)...]))
                : (raw, nil)
            switch flag {
            case "-f", "--format-in":
                let v = try value(flag, inline)
                if let pendingFormat { throw ValidationError("-f \(pendingFormat) is not followed by -i") }
                pendingFormat = v
            case "-i", "--input":
                let v = try value(flag, inline)
                result.append(Input(url: v, format: pendingFormat, options: pendingOptions))
                pendingFormat = nil
                pendingOptions = [:]
            case "--input-option":
                let v = try value(flag, inline)
                guard let eq = v.firstIndex(of: "="), eq != v.startIndex else {
                    throw ValidationError("--input-option \"\(v)\" is not KEY=VALUE")
                }
                pendingOptions[String(v[..<eq])] = String(v[v.index(after: eq)...])
            default:
                if let key = optionFlags[flag] { pendingOptions[key] = try value(flag, inline) }
            }
            i += 1
        }
        if let pendingFormat { throw ValidationError("-f \(pendingFormat) is not followed by -i") }
        if let flag = pendingOptions.keys.sorted().first {
            throw ValidationError("input option \(flag) is not followed by -i (input options go before the -i they apply to)")
        }
        return result
    }
}

/// "on" or "off" (also yes/no, true/false, 1/0).
enum Switch: String, ExpressibleByArgument, Sendable, CaseIterable {
    case on, off

    init?(argument: String) {
        switch argument.lowercased() {
        case "on", "yes", "true", "1": self = .on
        case "off", "no", "false", "0": self = .off
        default: return nil
        }
    }

    var isOn: Bool { self == .on }
}

extension Switch {
    /// Whether traffic control is on for publish and mix: the flag, else RTCBOX_TRAFFIC_CONTROL, else on.
    static func trafficControl(_ flag: Switch?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Bool {
        if let flag { return flag.isOn }
        guard let text = environment["RTCBOX_TRAFFIC_CONTROL"], !text.isEmpty else { return true }
        guard let value = Switch(argument: text) else {
            throw CLIError(.config, "RTCBOX_TRAFFIC_CONTROL must be on or off, not \"\(text)\"")
        }
        return value.isOn
    }
}

/// `--layers 2` (a small layer at half size) or `--layers BIG,SMALL` (each WxH or NNNp, 16:9).
struct LayersValue: ExpressibleByArgument, Sendable {
    var big: VideoSizeValue?
    var small: VideoSizeValue?

    init?(argument: String) {
        if argument == "2" { return }
        let parts = argument.split(separator: ",").map(String.init)
        guard parts.count == 2, let b = Self.size(parts[0]), let s = Self.size(parts[1]),
              s.width <= b.width, s.height <= b.height, s.width * s.height < b.width * b.height else { return nil }
        big = b
        small = s
    }

    /// "1280x720", or "720p" (16:9, even width).
    static func size(_ text: String) -> VideoSizeValue? {
        if text.hasSuffix("p"), let h = Int(text.dropLast()), (16...4320).contains(h), h % 2 == 0 {
            let w = (h * 16 / 9 + 1) & ~1
            return VideoSizeValue(width: w, height: h)
        }
        return VideoSizeValue(argument: text)
    }

    static var defaultCompletionKind: CompletionKind { .list(["2", "720p,360p", "1080p,540p"]) }
}

/// `play --layer big|small|auto`.
struct PlayLayerValue: ExpressibleByArgument, Sendable {
    var value: PlayLayer
    init?(argument: String) {
        switch argument {
        case "big": value = .fixed(.big)
        case "small": value = .fixed(.small)
        case "auto": value = .auto
        default: return nil
        }
    }
    static var allValueStrings: [String] { ["big", "small", "auto"] }
}
