import RoomProtocol

extension Scenario {
    /// The settings a publish user could give explicitly, so that the scenario leaves them alone.
    public enum Field: Sendable, Hashable {
        /// `.layers` also stands for "layers cannot be sent here" (--copy, --no-video, UDP, WHIP).
        case size, frameRate, videoBitRate, gop, audioBitRate, minVideoBitRate, layers
    }

    /// `settings` with this scenario's values, except for the `given` fields (and the audio channels,
    /// which have no flag of their own).
    public func apply(to settings: inout PublishSettings, keeping given: Set<Field>) {
        let p = preset
        if !given.contains(.size) {
            settings.width = p.width
            settings.height = p.height
        }
        if !given.contains(.frameRate) { settings.frameRate = p.frameRate }
        if !given.contains(.videoBitRate) { settings.videoBitRate = p.videoBitRate }
        if !given.contains(.gop) { settings.gopSeconds = p.gopSeconds }
        if !given.contains(.audioBitRate) { settings.audioBitRate = p.audioBitRate }
        if !given.contains(.minVideoBitRate) { settings.minVideoBitRate = min(p.minVideoBitRate, settings.videoBitRate) }
        if !given.contains(.layers) { settings.smallLayer = p.layers > 1 ? PublishSettings.SmallLayer() : nil }
        settings.audioChannels = p.audioChannels
    }
}
