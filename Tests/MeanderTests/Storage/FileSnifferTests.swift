import Foundation
import Testing

@testable import Meander

extension StorageTests {
    @Suite("File type sniffing")
    struct FileSnifferTests {
        /// Builds bytes from hex groups and ASCII text: `bytes(hex: "FF D8", "JFIF")`.
        static func bytes(hex: String = "", _ texts: String...) -> [UInt8] {
            hex.split(separator: " ").map { UInt8($0, radix: 16)! } + texts.flatMap { Array($0.utf8) }
        }

        /// A complete `ftyp` box: size, `ftyp`, the major brand, minor version 0, the compatible brands.
        static func ftyp(_ major: String, _ compatible: [String], minor: [UInt8] = [0, 0, 0, 0]) -> [UInt8] {
            let size = 16 + 4 * compatible.count
            return [0, 0, 0, UInt8(size)] + Array("ftyp\(major)".utf8) + minor + compatible.flatMap { Array($0.utf8) }
        }

        /// What follows the `ftyp` box in an iPhone photo: the start of the `meta` box.
        static let metaBox = bytes(hex: "00 00 0F 2E", "meta")

        static let recognised: [(String, [UInt8], String)] = [
            // JPEG: JFIF (APP0) and Exif (APP1, as cameras and phones write it)
            ("JPEG/JFIF", bytes(hex: "FF D8 FF E0 00 10", "JFIF") + [0, 1, 1], "image/jpeg"),
            ("JPEG/Exif", bytes(hex: "FF D8 FF E1 2F FE", "Exif") + [0, 0, 0x4D, 0x4D], "image/jpeg"),
            ("JPEG, 3 bytes", bytes(hex: "FF D8 FF"), "image/jpeg"),
            // PNG: signature, then the IHDR chunk
            ("PNG", bytes(hex: "89 50 4E 47 0D 0A 1A 0A 00 00 00 0D", "IHDR"), "image/png"),
            // PDF: version line and the binary comment line writers add
            ("PDF 1.7", bytes("%PDF-1.7\n") + [0x25, 0xE2, 0xE3, 0xCF, 0xD3, 0x0A], "application/pdf"),
            ("PDF 2.0", bytes("%PDF-2.0\r%"), "application/pdf"),
            // HEIC as an iPhone writes it: major heic, compatible mif1 heic
            ("HEIC (iPhone)", ftyp("heic", ["mif1", "heic"]) + metaBox, "image/heic"),
            // Samsung: major mif1, compatible heic
            ("HEIC (mif1 + heic)", ftyp("mif1", ["mif1", "heic", "miaf"]) + metaBox, "image/heic"),
            ("HEIF 10-bit (heix)", ftyp("heix", ["mif1", "heix", "miaf"]), "image/heic"),
            ("HEIC sequence (msf1 + hevc)", ftyp("msf1", ["msf1", "hevc"]), "image/heic"),
            ("HEIF, generic brand only", ftyp("mif1", ["mif1"]), "image/heic"),
            ("HEIC, brand only as major", ftyp("heic", []), "image/heic"),
        ]

        @Test("recognises real file headers", arguments: recognised)
        func recognises(name: String, bytes: [UInt8], expected: String) {
            #expect(FileSniffer.mediaType(of: bytes) == expected, "\(name)")
        }

        static let rejected: [(String, [UInt8])] = [
            ("empty", [UInt8]()),
            ("text claiming to be a PNG", bytes("PNG image, honestly\n")),
            ("text", bytes("hello, world")),
            ("GIF", bytes("GIF89a") + [1, 0, 1, 0]),
            ("WebP", bytes("RIFF") + [0x24, 0, 0, 0] + bytes("WEBPVP8 ")),
            ("ZIP (a .docx)", bytes(hex: "50 4B 03 04 14 00")),
            ("BMP", bytes("BM") + [0x36, 0, 0, 0]),
            ("PDF after a byte-order mark", bytes(hex: "EF BB BF", "%PDF-1.4")),
            ("JPEG, 2 bytes", bytes(hex: "FF D8")),
            ("PNG, 7 bytes", bytes(hex: "89 50 4E 47 0D 0A 1A")),
            ("PNG with a wrong line ending", bytes(hex: "89 50 4E 47 0D 0A 0A 0A")),
            ("PDF, 4 bytes", bytes("%PDF")),
            ("HEIC, 11 bytes", Array(ftyp("heic", ["mif1", "heic"]).prefix(11))),
            ("HEIC, box cut short", Array(ftyp("heic", ["mif1", "heic"]).prefix(20))),
            // AVIF is HEIF with AV1: it carries mif1, but any AV1 brand rejects it
            ("AVIF", ftyp("avif", ["avif", "mif1", "miaf", "MA1B"])),
            ("AVIF as mif1 + avif", ftyp("mif1", ["mif1", "avif", "miaf"])),
            ("AVIF sequence", ftyp("avis", ["avis", "msf1", "miaf"])),
            ("MP4 video", ftyp("isom", ["isom", "iso2", "avc1", "mp41"])),
            ("QuickTime video", ftyp("qt  ", ["qt  "])),
            ("ftyp at the wrong offset", [0] + ftyp("heic", ["mif1", "heic"])),
            ("ftyp with a 64-bit size", [0, 0, 0, 1] + Array(ftyp("heic", ["heic"]).dropFirst(4))),
            ("ftyp whose size is not whole brands", [0, 0, 0, 18] + Array(ftyp("heic", ["heic"]).dropFirst(4))),
        ]

        @Test("rejects other types, truncated headers and lookalikes", arguments: rejected)
        func rejects(name: String, bytes: [UInt8]) {
            #expect(FileSniffer.mediaType(of: bytes) == nil, "\(name)")
        }

        @Test("looks only at the bytes: a PDF named .jpg is a PDF; any collection of bytes works")
        func onlyBytes() {
            // given: what a client sent as `receipt.jpg` with `Content-Type: image/jpeg`
            let upload = Data("%PDF-1.4\n".utf8)
            // a slice whose indices do not start at 0
            let framed = Array(repeating: UInt8(0), count: 5) + Self.bytes(hex: "89 50 4E 47 0D 0A 1A 0A")
            let slice = framed[5...]

            // then
            #expect(FileSniffer.mediaType(of: upload) == "application/pdf")
            #expect(FileSniffer.mediaType(of: slice) == "image/png")
        }
    }
}
