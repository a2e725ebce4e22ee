import NIOCore
import RoomProtocol

/// Layered streams (`publish --layers`): a play asks for the big or the small layer, switches under way, or
/// lets a `LayerSelector` pick from its downlink (`auto`).
extension RoomClient {
    /// Switches a play of a layered stream to a layer (at the stream's next keyframe); `auto` hands the
    /// choice to the downlink.
    public func setPlayLayer(streamID: String, _ layer: PlayLayer) async throws {
        let connection = try currentConnection()
        let wanted: VideoLayerChoice = state.withLockedValue { s in
            s.playLayerModes[streamID] = layer
            switch layer {
            case .fixed(let l):
                s.layerSelectors[streamID] = nil
                return l
            case .auto:
                let selector = LayerSelector()
                s.layerSelectors[streamID] = selector
                return selector.layer
            }
        }
        _ = try await connection.request(timeoutSeconds: configuration.requestTimeoutSeconds) {
            .setPlayLayer(SetPlayLayer(id: $0, streamID: streamID, layer: wanted))
        }
    }

    /// The layer a play request asks for now (big for a play that never chose).
    func requestedLayer(_ streamID: String) -> VideoLayerChoice? {
        state.withLockedValue { s in
            switch s.playLayerModes[streamID] {
            case .fixed(let l): return l
            case .auto: return s.layerSelectors[streamID]?.layer ?? .big
            case nil: return nil
            }
        }
    }

    /// Every traffic tick: each `auto` play's selector sees what its downlink did since the last tick.
    func layerTick() {
        let now = Double(NIODeadline.now().uptimeNanoseconds) / 1e9
        let switches: [(String, VideoLayerChoice, String)] = state.withLockedValue { s in
            var out: [(String, VideoLayerChoice, String)] = []
            for (id, var selector) in s.layerSelectors {
                guard s.layeredPlays.contains(id), let queue = s.players[id] else { continue }
                let c = queue.counters
                let key = "layer:" + id
                let previous = s.lastQuality[key]?.counters ?? c
                s.lastQuality[key] = (c, .now())
                let samples = c.latencySamples - previous.latencySamples
                var queued: Double?
                if samples > 0 {
                    let latency = Double(c.latencyTotalMicroseconds - previous.latencyTotalMicroseconds) / Double(samples) / 1000
                    let quietest = min(s.quietestLatency[id] ?? latency, latency)
                    s.quietestLatency[id] = quietest
                    queued = latency - quietest
                }
                let dropped = c.framesDroppedUpstream - previous.framesDroppedUpstream
                if let layer = selector.update(now: now, droppedByServer: dropped, queueMs: queued) {
                    out.append((id, layer, layer == .small ? "the downlink backed up" : "the downlink stayed calm"))
                }
                s.layerSelectors[id] = selector
            }
            return out
        }
        guard !switches.isEmpty, let connection = state.withLockedValue({ $0.connection }) else { return }
        for (id, layer, reason) in switches {
            logger.info("play \(id): the \(layer.rawValue) layer (\(reason))")
            emit(.playerLayerChanged(streamID: id, layer: layer.rawValue, reason: reason))
            connection.send(.setPlayLayer(SetPlayLayer(id: 0, streamID: id, layer: layer)))
        }
    }
}

/// What a play asks of a layered stream: one layer, or the one the downlink carries.
public enum PlayLayer: Sendable, Equatable {
    case fixed(VideoLayerChoice)
    case auto
}
