/// The version of this rtcbox build.
public enum RtcboxVersion {
    public static let string = "0.1.0"
}
