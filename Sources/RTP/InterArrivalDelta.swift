/// Groups packets into send bursts and yields the deltas between consecutive groups (GCC,
/// draft-ietf-rmcat-gcc-02 section 5.2; libwebrtc's InterArrivalDelta). A group is the packets sent within
/// 5 ms of its first one; a packet that arrives within 5 ms of the previous one with a negative
/// propagation delta (it queued behind it) joins the group too, as long as the group spans under 100 ms
/// of arrivals. Reordered groups are skipped, and three in a row, or a jump of 3 s in the arrival clock
/// against the local one, reset the state. Times in microseconds.
public struct InterArrivalDelta: Sendable, Hashable {
    /// The change between two groups: send times of their last packets, arrival (completion) times, bytes.
    public struct Deltas: Sendable, Hashable {
        public var sendDelta: Int64
        public var arrivalDelta: Int64
        public var sizeDelta: Int
    }

    struct Group: Sendable, Hashable {
        var size = 0
        var firstSendTime: Int64 = 0
        var sendTime: Int64 = 0
        var firstArrival: Int64 = 0
        var completeTime: Int64?
        var lastSystemTime: Int64 = 0
    }

    public static let groupLength: Int64 = 5_000
    public static let burstDeltaThreshold: Int64 = 5_000
    public static let maxBurstDuration: Int64 = 100_000
    static let reorderedResetThreshold = 3
    static let arrivalTimeOffsetThreshold: Int64 = 3_000_000

    var current = Group()
    var previous = Group()
    var consecutiveReordered = 0

    public init() {}

    /// Adds a received packet; `systemTime` is the local time the feedback was processed. Returns the
    /// deltas when this packet starts a new group and the two before it are complete.
    public mutating func add(sendTime: Int64, arrivalTime: Int64, systemTime: Int64, size: Int) -> Deltas? {
        var deltas: Deltas?
        if current.completeTime == nil {
            current.sendTime = sendTime
            current.firstSendTime = sendTime
            current.firstArrival = arrivalTime
        } else if current.firstSendTime > sendTime {
            return nil  // reordered: sent before the current group began
        } else if isNewGroup(arrivalTime: arrivalTime, sendTime: sendTime) {
            if let previousComplete = previous.completeTime, let currentComplete = current.completeTime {
                let sendDelta = current.sendTime - previous.sendTime
                let arrivalDelta = currentComplete - previousComplete
                let systemDelta = current.lastSystemTime - previous.lastSystemTime
                if arrivalDelta - systemDelta >= Self.arrivalTimeOffsetThreshold {
                    self = InterArrivalDelta()
                    return nil
                }
                if arrivalDelta < 0 {
                    consecutiveReordered += 1
                    if consecutiveReordered >= Self.reorderedResetThreshold { self = InterArrivalDelta() }
                    return nil
                }
                consecutiveReordered = 0
                deltas = Deltas(sendDelta: sendDelta, arrivalDelta: arrivalDelta, sizeDelta: current.size - previous.size)
            }
            previous = current
            current = Group(firstSendTime: sendTime, sendTime: sendTime, firstArrival: arrivalTime)
        } else {
            current.sendTime = max(current.sendTime, sendTime)
        }
        current.size += size
        current.completeTime = arrivalTime
        current.lastSystemTime = systemTime
        return deltas
    }

    private func isNewGroup(arrivalTime: Int64, sendTime: Int64) -> Bool {
        guard current.completeTime != nil else { return false }
        if belongsToBurst(arrivalTime: arrivalTime, sendTime: sendTime) { return false }
        return sendTime - current.firstSendTime > Self.groupLength
    }

    private func belongsToBurst(arrivalTime: Int64, sendTime: Int64) -> Bool {
        guard let complete = current.completeTime else { return false }
        let arrivalDelta = arrivalTime - complete
        let sendDelta = sendTime - current.sendTime
        if sendDelta == 0 { return true }
        let propagationDelta = arrivalDelta - sendDelta
        return propagationDelta < 0 && arrivalDelta <= Self.burstDeltaThreshold
            && arrivalTime - current.firstArrival < Self.maxBurstDuration
    }
}
