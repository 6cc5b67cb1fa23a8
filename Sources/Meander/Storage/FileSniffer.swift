/// Recognises the evidence file types Meander accepts from their first bytes, never from a name or a declared type.
enum FileSniffer {
    /// `image/jpeg`, `image/png`, `application/pdf` or `image/heic`; nil for anything else, and for a header that is
    /// cut short.
    ///
    /// HEIC: an ISO base media file whose first box is a complete `ftyp` box naming a HEIF image brand (`heic`,
    /// `heix`, `hevc`, `hevx`, `heim`, `heis`, or the generic `mif1`/`msf1`) as its major or a compatible brand.
    /// AVIF files are HEIF files too, carrying `mif1` besides `avif`/`avis`: any AV1 brand rejects the file, so
    /// `mif1` counts only when no AV1 brand is present.
    static func mediaType(of bytes: some Collection<UInt8>) -> String? {
        let head = Array(bytes.prefix(maxFtypBoxSize))
        if head.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if head.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if head.starts(with: Array("%PDF-".utf8)) { return "application/pdf" }
        if let brands = ftypBrands(head), !brands.contains(where: av1Brands.contains),
            brands.contains(where: heifBrands.contains)
        {
            return "image/heic"
        }
        return nil
    }

    private static let heifBrands: Set<String> = ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"]
    private static let av1Brands: Set<String> = ["avif", "avis", "avio"]
    /// Real `ftyp` boxes are a few dozen bytes; a larger one is not an image we take.
    private static let maxFtypBoxSize = 4096

    /// The major and compatible brands of a complete leading `ftyp` box; nil when there is none.
    private static func ftypBrands(_ head: [UInt8]) -> [String]? {
        guard head.count >= 16, head[4..<8].elementsEqual("ftyp".utf8) else { return nil }
        let size = head[0..<4].reduce(0) { $0 << 8 | Int($1) }
        // 8 bytes of box header, the major brand and the minor version, then whole 4-byte compatible brands.
        guard size >= 16, size <= head.count, (size - 16) % 4 == 0 else { return nil }
        let brandOffsets = [8] + Array(stride(from: 16, to: size, by: 4))
        return brandOffsets.map { String(decoding: head[$0..<$0 + 4], as: UTF8.self) }
    }
}
