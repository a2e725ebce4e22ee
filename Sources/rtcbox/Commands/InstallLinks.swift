import ArgumentParser
import Foundation

struct InstallLinks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-links",
        abstract: "Make the links that run a subcommand by name (rtcbox-publish, or publish with --plain).",
        discussion: """
        Creates one symbolic link per subcommand in DIR, pointing at this executable: rtcbox-serve, \
        rtcbox-token, rtcbox-login, rtcbox-publish, rtcbox-play... Invoked through such a link, rtcbox runs \
        that subcommand with the same arguments. --plain also makes the bare names (publish, play...), \
        which may shadow other programs on PATH. Prints each link made on stdout. An existing file of \
        that name is left alone (and reported) unless --force; a link that already points here is kept.
        """)

    @Argument(help: "The directory for the links (created if missing).")
    var directory: String

    @Flag(name: .long, help: "Also make links with the bare subcommand names (publish, play, ...).")
    var plain = false

    @Flag(name: .long, help: "Replace existing files of the same names.")
    var force = false

    /// The subcommands a link can name (not this one, not help).
    static var linkable: [String] {
        Rtcbox.subcommandNames.filter { $0 != "install-links" && $0 != "help" }
    }

    func run() throws {
        let fm = FileManager.default
        let target = Self.executablePath()
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CLIError(.noInput, "cannot create directory \"\(directory)\": \(error.localizedDescription)")
        }
        var names = Self.linkable.map { "rtcbox-\($0)" }
        if plain { names += Self.linkable }
        var skipped: [String] = []
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            if let existing = try? fm.destinationOfSymbolicLink(atPath: path), existing == target {
                print(path)
                continue
            }
            if fm.fileExists(atPath: path) || (try? fm.destinationOfSymbolicLink(atPath: path)) != nil {
                guard force else {
                    skipped.append(path)
                    continue
                }
                try? fm.removeItem(atPath: path)
            }
            do {
                try fm.createSymbolicLink(atPath: path, withDestinationPath: target)
            } catch {
                throw CLIError(.failure, "cannot create link \"\(path)\": \(error.localizedDescription)")
            }
            print(path)
        }
        if !skipped.isEmpty {
            throw CLIError(.failure, "left \(skipped.count) existing file\(skipped.count == 1 ? "" : "s") alone (use --force to replace): \(skipped.joined(separator: ", "))")
        }
    }

    /// This executable, resolved (so links made through a link point at the real binary).
    static func executablePath() -> String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
