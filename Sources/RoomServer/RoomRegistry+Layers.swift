import RoomProtocol

/// Layered video (`publish --layers`: the SDK's big and small video): a publisher sends both layers on one
/// stream (the small one's frames flagged), the server forwards one per player (ServerSession's layer
/// filter), big unless the play asked otherwise, so players and recorders that know nothing of layers get
/// the big one.
extension RoomRegistry {
    /// A player switches layers: from the next keyframe of the new layer on (asked for at once), announced to
    /// it alone with the layer's description just before that keyframe.
    func setPlayLayer(_ session: ServerSession, _ request: SetPlayLayer) {
        lock.withLock {
            guard let login = session.login else { return session.refuse(request.id, .notLoggedIn, "set_play_layer needs a login first") }
            guard session.playing.contains(request.streamID) else {
                return session.refuse(request.id, .streamNotFound, "this session does not play stream \"\(request.streamID)\"")
            }
            let stream = streams[AppScoped(appID: login.appID, id: request.streamID)]
            if let stream, !stream.info.isLayered {
                return session.refuse(request.id, .badRequest, "stream \"\(request.streamID)\" is not published in layers (publish --layers)")
            }
            session.setPlayLayer(request.streamID, request.layer)
            session.send(.result(ResultMessage(id: request.id)))
            guard let stream else { return }   // not live: its play starts with this layer
            let handle = stream.handle
            let announcement = ControlMessage.roomStreamTracksUpdate(
                RoomStreamTracksUpdate(roomID: stream.roomID, streams: [stream.info.described(as: request.layer)]))
            session.eventLoop.execute { session.switchLayer(handle: handle, to: request.layer, announcement: announcement) }
            stream.requestKeyframe()
        }
    }
}
