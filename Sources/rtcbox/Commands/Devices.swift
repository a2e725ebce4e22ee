import ArgumentParser
import FFmpegKit
import Foundation

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the capture devices libavdevice sees (cameras, microphones, screens).",
        discussion: """
        Prints one line per device: format, kind, device name (what -i takes), description, and * for the \
        default. Formats that cannot enumerate (x11grab takes a display such as :0, lavfi a filter graph) are \
        listed at the end. No device is a valid answer (exit 0). --json prints one object with "devices" and \
        "formats".
        """)

    @Flag(name: .long, help: "Print JSON instead of lines.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Only this format (v4l2, alsa, pulse, x11grab...).", valueName: "format"))
    var format: String?

    func run() throws {
        var formats = DeviceList.inputFormats()
        if let format {
            formats = formats.filter { $0.answers(to: format) }
            guard !formats.isEmpty else { throw CLIError(.usage, "libavdevice has no input device format \"\(format)\"") }
        }
        let devices = formats.flatMap { $0.devices ?? [] }
        if json {
            let object: [String: Any] = [
                "devices": devices.map { ["format": $0.format, "kind": $0.kind, "device": $0.name, "description": $0.description,
                                          "default": $0.isDefault] },
                "formats": formats.map { f -> [String: Any] in
                    var o: [String: Any] = ["format": f.name, "kind": f.kind, "description": f.description,
                                            "enumerates": f.devices != nil]
                    if let note = f.note { o["note"] = note }
                    return o
                },
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        for d in devices {
            print([d.format, d.kind, d.name, d.description.isEmpty ? "-" : d.description, d.isDefault ? "*" : ""]
                .joined(separator: "\t").trimmingCharacters(in: .whitespaces))
        }
        let silent = formats.filter { $0.devices == nil || $0.devices?.isEmpty == true }
        if !silent.isEmpty {
            printError("no devices listed by: " + silent.map { f in f.note.map { "\(f.name) (\($0))" } ?? f.name }.joined(separator: ", "))
        }
    }
}
