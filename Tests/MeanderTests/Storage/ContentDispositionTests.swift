import Testing

@testable import Meander

extension StorageTests {
    @Suite("Content-Disposition for downloads")
    struct ContentDispositionTests {
        @Test(
            "names the file in ASCII and in UTF-8",
            arguments: [
                ("kvittering.pdf", #"attachment; filename="kvittering.pdf"; filename*=UTF-8''kvittering.pdf"#),
                ("Møte på Ås.jpg", #"attachment; filename="M_te p_ _s.jpg"; filename*=UTF-8''M%C3%B8te%20p%C3%A5%20%C3%85s.jpg"#),
                (#"a"b\c/d.png"#, #"attachment; filename="a_b_c_d.png"; filename*=UTF-8''a%22b%5Cc%2Fd.png"#),
                ("x\r\nSet-Cookie: y", #"attachment; filename="x__Set-Cookie: y"; filename*=UTF-8''x%0D%0ASet-Cookie%3A%20y"#),
                ("", #"attachment; filename="file"; filename*=UTF-8''file"#),
            ])
        func attachment(fileName: String, expected: String) {
            #expect(ContentDisposition.attachment(fileName: fileName) == expected)
        }
    }
}
