import RoomProtocol

/// Remote camera and microphone states (the SDK's onRemoteCameraStateUpdate / onRemoteMicStateUpdate): what a
/// stream's tracks and `muted` say, reported when a stream comes (also those live at login) and when it changes.
extension RoomClient {
    /// A room_stream_update as an event, with the device states of the streams it adds.
    func emitStreamUpdate(_ update: RoomStreamUpdate) {
        emit(.roomStreamUpdate(update))
        for info in update.streams {
            if update.updateType == .delete {
                state.withLockedValue { _ = $0.deviceStates.removeValue(forKey: info.streamID) }
            } else {
                noteDeviceStates(roomID: update.roomID, info)
            }
        }
    }

    /// Reports the camera and microphone state of a stream where it is new or changed.
    func noteDeviceStates(roomID: String, _ info: StreamInfo) {
        let now: [TrackKind: DeviceState] = [.video: info.deviceState(.video), .audio: info.deviceState(.audio)]
        let before = state.withLockedValue { s -> [TrackKind: DeviceState]? in
            defer { s.deviceStates[info.streamID] = now }
            return s.deviceStates[info.streamID]
        }
        for kind in TrackKind.allCases where before?[kind] != now[kind] {
            emit(.remoteDeviceStateUpdate(kind: kind, roomID: roomID, streamID: info.streamID, userID: info.user.userID,
                                          state: now[kind] ?? .disable))
        }
    }
}
