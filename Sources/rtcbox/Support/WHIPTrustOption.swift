import RoomClient

extension WHIPTrust {
    /// `--ca-file FILE` of publish --whip / play --whep: the system's roots, and the file's certificates when given.
    static func option(_ path: String?) throws -> WHIPTrust {
        guard let path else { return .system }
        do {
            return try WHIPTrust(pemFile: path)
        } catch .unreadable {
            throw CLIError(.noInput, "--ca-file: cannot read \"\(path)\"")
        } catch {
            throw CLIError(.dataError, "--ca-file: \(error)")
        }
    }
}
