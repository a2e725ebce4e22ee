import NIOCore

/// A buffer holding `bytes`, for golden tests.
func golden(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

extension ByteBuffer {
    /// The readable bytes as an array, for comparison with golden bytes.
    var goldenBytes: [UInt8] { Array(readableBytesView) }
}
