import CFFmpeg

/// What libavdevice offers: its capture formats and, where a format can enumerate, its devices.
public enum DeviceList {
    public struct Device: Sendable, Equatable {
        public var format: String
        public var kind: String
        public var name: String
        public var description: String
        public var isDefault: Bool
    }

    public struct Format: Sendable, Equatable {
        public var name: String
        public var kind: String
        public var description: String
        /// Devices found; nil when the format cannot enumerate (x11grab, lavfi...) or enumeration failed.
        public var devices: [Device]?
        /// Why enumeration gave nothing, when it failed.
        public var note: String?

        /// Whether `-f NAME` means this format: its name or any of its comma-separated names ("v4l2").
        public func answers(to name: String) -> Bool { FFmpegLibrary.formatName(self.name, answers: name) }
    }

    /// Every input device format, each with the devices it can list. libav's own messages are silenced
    /// while probing (a missing PulseAudio server or ALSA card is an empty answer, not an error).
    public static func inputFormats() -> [Format] {
        FFmpegLibrary.registerDevices()
        let previous = av_log_get_level()
        av_log_set_level(FFmpegLibrary.LogLevel.quiet.rawValue)
        defer { av_log_set_level(previous) }
        var formats: [Format] = []
        var seen = Set<String>()
        func collect(_ kind: String, _ next: (UnsafePointer<AVInputFormat>?) -> UnsafePointer<AVInputFormat>?) {
            var f = next(nil)
            while let format = f {
                let name = String(cString: format.pointee.name)
                let description = format.pointee.long_name.map { String(cString: $0) } ?? ""
                if seen.insert(kind + name).inserted {
                    var entry = Format(name: name, kind: kind, description: description, devices: nil, note: nil)
                    var list: UnsafeMutablePointer<AVDeviceInfoList>?
                    let ret = avdevice_list_input_sources(format, nil, nil, &list)
                    if ret >= 0, let list {
                        var devices: [Device] = []
                        for i in 0..<Int(list.pointee.nb_devices) {
                            guard let info = list.pointee.devices[i] else { continue }
                            devices.append(Device(format: name, kind: kind,
                                                  name: info.pointee.device_name.map { String(cString: $0) } ?? "",
                                                  description: info.pointee.device_description.map { String(cString: $0) } ?? "",
                                                  isDefault: Int32(i) == list.pointee.default_device))
                        }
                        entry.devices = devices
                    } else if ret < 0 && ret != cff_averror(ENOSYS) {
                        entry.devices = []
                        entry.note = FFmpegError.text(for: ret)
                    }
                    avdevice_free_list_devices(&list)
                    formats.append(entry)
                }
                f = next(format)
            }
        }
        collect("video") { av_input_video_device_next($0) }
        collect("audio") { av_input_audio_device_next($0) }
        return formats
    }
}
