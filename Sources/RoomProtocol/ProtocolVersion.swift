/// Constants every peer of the room protocol agrees on. See docs/protocol.md.
public enum RoomProtocolConstants {
    /// The four bytes every hello frame starts with.
    public static let magic: [UInt8] = Array("RTCB".utf8)
    /// The protocol version this build speaks.
    public static let version: UInt16 = 1
    /// The oldest protocol version this build still accepts.
    public static let minimumVersion: UInt16 = 1
    /// Largest frame (type byte + payload) a peer accepts unless it announced another bound.
    public static let defaultMaximumFrameLength: UInt32 = 4 * 1024 * 1024
    /// Default TCP port of `rtcbox serve`.
    public static let defaultPort = 7700
    /// The WebSocket subprotocol a browser may ask for on `GET /ws` (`serve --web`).
    public static let webSocketSubprotocol = "rtcbox.v1"
}
