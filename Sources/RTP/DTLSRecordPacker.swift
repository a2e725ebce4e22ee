/// Cuts the byte stream OpenSSL writes into a memory BIO back into DTLS records and packs them into
/// datagrams of at most the MTU (RFC 6347 section 4.1.1: a datagram may carry several records, a
/// record never spans two). OpenSSL already fragments handshake messages so that each record fits.
enum DTLSRecordPacker {
    /// The DTLS record header: type, version (2), epoch (2), sequence number (6), length (2).
    static let headerLength = 13

    /// The datagrams for `records`, in order. Bytes that do not parse as whole records (never from
    /// OpenSSL) go out as they are, in one last datagram.
    static func datagrams(records: ArraySlice<UInt8>, mtu: Int) -> [[UInt8]] {
        var datagrams: [[UInt8]] = []
        var current: [UInt8] = []
        var index = records.startIndex
        while index < records.endIndex {
            let remaining = records.endIndex - index
            guard remaining >= headerLength else { break }
            let length = Int(records[index + 11]) << 8 | Int(records[index + 12])
            let recordLength = headerLength + length
            guard recordLength <= remaining else { break }
            if !current.isEmpty, current.count + recordLength > mtu {
                datagrams.append(current)
                current = []
            }
            current.append(contentsOf: records[index..<index + recordLength])
            index += recordLength
        }
        if index < records.endIndex {
            current.append(contentsOf: records[index...])
        }
        if !current.isEmpty {
            datagrams.append(current)
        }
        return datagrams
    }
}
