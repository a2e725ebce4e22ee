import CFFmpeg

/// Converts video frames to a size and pixel format with libswscale (context cached across frames).
public final class Scaler {
    private var context: OpaquePointer?
    public let width: Int
    public let height: Int
    public let pixelFormat: AVPixelFormat
    private let output: Frame

    public init(width: Int, height: Int, pixelFormat: AVPixelFormat) throws {
        self.width = width
        self.height = height
        self.pixelFormat = pixelFormat
        output = try Frame()
    }

    deinit { sws_freeContext(context) }

    /// True when `frame` already has the target size and format.
    public func matches(_ frame: Frame) -> Bool {
        frame.width == width && frame.height == height && frame.format == pixelFormat.rawValue
    }

    /// Returns a converted frame (owned by the scaler, valid until the next call).
    public func scale(_ frame: Frame) throws -> Frame {
        context = sws_getCachedContext(context, Int32(frame.width), Int32(frame.height), AVPixelFormat(rawValue: frame.format),
                                       Int32(width), Int32(height), pixelFormat, SWS_BILINEAR, nil, nil, nil)
        guard context != nil else {
            throw FFmpegError(operation: "swscale", message: "cannot convert \(frame.width)x\(frame.height) format \(frame.format) to \(width)x\(height)")
        }
        try output.allocateVideo(width: width, height: height, pixelFormat: pixelFormat)
        try FFmpegError.check(sws_scale_frame(context, output.pointer, frame.pointer), "sws_scale_frame")
        output.pts = frame.pts
        return output
    }
}
