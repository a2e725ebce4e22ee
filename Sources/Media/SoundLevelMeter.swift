import RoomProtocol

/// Measures the sound level of audio as it goes by, over windows of a fixed number of samples: the mean
/// square of each window as -dBov (`SoundLevel`). Pure: samples' mean squares in, a level out at each
/// window's end.
public struct SoundLevelMeter: Sendable {
    public let windowSamples: Int
    private var sum = 0.0
    private var count = 0

    public init(windowSamples: Int) {
        self.windowSamples = max(1, windowSamples)
    }

    /// `samples` more samples whose mean square is `meanSquare`; the level when they complete a window (a
    /// chunk is counted in the window it ends; windows are as long as the chunks that make them up).
    public mutating func add(meanSquare: Double, samples: Int) -> UInt8? {
        guard samples > 0 else { return nil }
        sum += (meanSquare.isFinite ? meanSquare : 0) * Double(samples)
        count += samples
        guard count >= windowSamples else { return nil }
        defer { sum = 0; count = 0 }
        return SoundLevel.dBov(meanSquare: sum / Double(count))
    }
}
