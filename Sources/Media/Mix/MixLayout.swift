import Foundation

/// A rectangle of the mixed picture, in pixels from its top left corner.
public struct MixRect: Sendable, Equatable, Codable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    /// `x,y,w,h` as `--region` takes it.
    public init?(_ text: String) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 4, let x = parts[0], let y = parts[1], let w = parts[2], let h = parts[3] else { return nil }
        self.init(x: x, y: y, width: w, height: h)
    }

    public var description: String { "\(x),\(y),\(width),\(height)" }

    /// Why this rectangle cannot be a region of a `width`x`height` picture, or nil.
    public func problem(inCanvas width: Int, _ height: Int) -> String? {
        if x < 0 || y < 0 { return "starts outside the picture" }
        if self.width < 16 || self.height < 16 { return "is smaller than 16x16" }
        if x + self.width > width || y + self.height > height { return "reaches past the \(width)x\(height) picture" }
        return nil
    }
}

/// How the mixer places its inputs: a grid of equal cells, a picture-in-picture (the first input fills
/// the picture, the others small along the bottom right), or regions named by stream id (drawn in the
/// order given, later ones on top).
public enum MixLayout: Sendable, Equatable {
    case grid
    case pip
    case custom([(streamID: String, rect: MixRect)])

    public var name: String {
        switch self {
        case .grid: return "grid"
        case .pip: return "pip"
        case .custom: return "custom"
        }
    }

    public static func == (a: MixLayout, b: MixLayout) -> Bool {
        switch (a, b) {
        case (.grid, .grid), (.pip, .pip): return true
        case (.custom(let x), .custom(let y)): return x.map(\.streamID) == y.map(\.streamID) && x.map(\.rect) == y.map(\.rect)
        default: return false
        }
    }
}

/// Which input shows where: a stream that joins takes the lowest free slot (its own with `--streams` or a
/// custom region), keeps it while it is away (the mixer frees it once the hold is over), and the regions
/// follow from the layout and the slots in use. Pure: the mixer tells it joins and leaves.
public struct MixAssignment: Sendable, Equatable {
    public let layout: MixLayout
    public let width: Int
    public let height: Int
    /// `--streams` (or the custom regions' ids): slot i always belongs to fixed[i].
    public let fixed: [String]?
    public private(set) var slots: [String?]

    public init(layout: MixLayout, width: Int, height: Int, fixed: [String]? = nil) {
        self.layout = layout
        self.width = width
        self.height = height
        if case .custom(let regions) = layout {
            self.fixed = regions.map(\.streamID)
        } else {
            self.fixed = fixed
        }
        slots = self.fixed ?? []
    }

    /// The slot `id` shows in; nil when it has none (not in `--streams`, no custom region).
    public func slot(of id: String) -> Int? { slots.firstIndex(of: id) }

    /// Gives `id` a slot (the one it has, its fixed one, or the lowest free); nil when it gets none.
    @discardableResult
    public mutating func join(_ id: String) -> Int? {
        if let s = slot(of: id) { return s }
        guard fixed == nil else { return nil }
        if let free = slots.firstIndex(where: { $0 == nil }) {
            slots[free] = id
            return free
        }
        slots.append(id)
        return slots.count - 1
    }

    /// Frees `id`'s slot (a fixed slot stays its own). Trailing free slots go, so a grid shrinks from its end.
    public mutating func leave(_ id: String) {
        guard fixed == nil, let s = slot(of: id) else { return }
        slots[s] = nil
        while let last = slots.last, last == nil { slots.removeLast() }
    }

    /// How many regions the layout has now.
    public var regionCount: Int { max(1, slots.count) }

    /// The rectangle of slot `slot` in the current layout.
    public func rect(ofSlot slot: Int) -> MixRect {
        func even(_ v: Int) -> Int { v - v % 2 }
        switch layout {
        case .custom(let regions):
            return regions[slot].rect
        case .grid:
            let n = regionCount
            let cols = Int(Double(n).squareRoot().rounded(.up))
            let rows = (n + cols - 1) / cols
            let cw = even(width / cols), ch = even(height / rows)
            return MixRect(x: (slot % cols) * cw, y: (slot / cols) * ch, width: cw, height: ch)
        case .pip:
            if slot == 0 { return MixRect(x: 0, y: 0, width: width, height: height) }
            let w = even(width / 4), h = even(height / 4), margin = max(2, even(width / 64))
            let perRow = max(1, (width - margin) / (w + margin))
            let k = slot - 1
            return MixRect(x: width - (k % perRow + 1) * (w + margin), y: height - (k / perRow + 1) * (h + margin), width: w, height: h)
        }
    }

    /// The rectangle `id` shows in now, if it has a slot.
    public func rect(of id: String) -> MixRect? { slot(of: id).map { rect(ofSlot: $0) } }
}

/// The libavfilter graphs of a mix, as filtergraph text.
public enum MixGraph {
    /// The picture: `[bg]` (the background, the whole canvas) and one `[vN]` source per region shown, each
    /// scaled to fit its rectangle (aspect kept, centred), overlaid in order; out `[out]` in yuv420p.
    public static func video(regions: [MixRect]) -> String {
        var parts: [String] = []
        var canvas = "bg"
        for (i, r) in regions.enumerated() {
            parts.append("[v\(i)]scale=w=\(r.width):h=\(r.height):force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1[s\(i)]")
            let next = "c\(i)"
            parts.append("[\(canvas)][s\(i)]overlay=x=\(r.x)+(\(r.width)-overlay_w)/2:y=\(r.y)+(\(r.height)-overlay_h)/2:eof_action=pass:repeatlast=0[\(next)]")
            canvas = next
        }
        parts.append("[\(canvas)]format=yuv420p[out]")
        return parts.joined(separator: ";")
    }

    /// The sound: one `[aN]` source per input with its volume (1 = as it came), mixed by amix (which
    /// divides by the number of inputs, so that a full chorus does not clip); out `[out]` as planar float.
    public static func audio(volumes: [Double], sampleRate: Int, channels: Int) -> String {
        let format = "aformat=sample_fmts=fltp:sample_rates=\(sampleRate):channel_layouts=\(channels == 1 ? "mono" : "stereo")"
        var parts: [String] = []
        for (i, v) in volumes.enumerated() {
            parts.append("[a\(i)]volume=\(String(format: "%.4f", v))[w\(i)]")
        }
        let inputs = volumes.indices.map { "[w\($0)]" }.joined()
        parts.append("\(inputs)amix=inputs=\(volumes.count):normalize=1:dropout_transition=0,\(format)[out]")
        return parts.joined(separator: ";")
    }
}
