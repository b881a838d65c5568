import Foundation

/// What a screenshot shows, measured without an image library: python3's
/// standard library inflates the PNG (Foundation on Linux has no zlib API)
/// and counts pixels. Enough to tell a drawn page from a blank one.
struct PNGStatistics: Decodable {
    var width: Int
    var height: Int
    /// Share of pixels that differ from the most common colour (the background).
    var nonBackgroundShare: Double
    var distinctColours: Int
    /// For each colour asked about (`#rrggbb`), how many pixels are within a small distance of it.
    var near: [String: Int]
    /// For each colour asked about, the leftmost and rightmost column holding such a pixel (absent when none does).
    var columns: [String: [Int]]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func python() -> String? {
        for p in ["/usr/bin/python3", "/usr/local/bin/python3"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    static func measure(_ png: URL, near colours: [String]) throws -> PNGStatistics {
        guard let python = python() else { throw Failure(description: "python3 not found (scripts/install-deps installs it)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, png.path] + colours
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "PNG decoder exit \(process.terminationStatus)") }
        return try JSONDecoder().decode(PNGStatistics.self, from: data)
    }

    /// Non-interlaced 8-bit RGB or RGBA, which is what Chromium writes.
    static let script = #"""
    import json, struct, sys, zlib
    from collections import Counter
    data = open(sys.argv[1], 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
    pos, idat = 8, b''
    while pos < len(data):
        length, kind = struct.unpack('>I4s', data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b'IHDR':
            width, height, depth, colour, _, _, interlace = struct.unpack('>IIBBBBB', body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, 'unsupported PNG layout'
        elif kind == b'IDAT':
            idat += body
        pos += 12 + length
    bpp = 4 if colour == 6 else 3
    raw, stride = zlib.decompress(idat), width * bpp
    prev, pixels, extent = bytearray(stride), Counter(), {}
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        for x in range(width):
            p = bytes(line[x * bpp:x * bpp + 3])
            pixels[p] += 1
            e = extent.get(p)
            if e is None:
                extent[p] = [x, x]
            elif x > e[1]:
                e[1] = x
        prev = line
    total = width * height
    background = pixels.most_common(1)[0][1]
    near, columns = {}, {}
    for hexcolour in sys.argv[2:]:
        r, g, b = (int(hexcolour[i:i + 2], 16) for i in (1, 3, 5))
        close = [p for p in pixels if abs(p[0] - r) + abs(p[1] - g) + abs(p[2] - b) <= 24]
        near[hexcolour] = sum(pixels[p] for p in close)
        if close:
            columns[hexcolour] = [min(extent[p][0] for p in close), max(extent[p][1] for p in close)]
    print(json.dumps({'width': width, 'height': height, 'nonBackgroundShare': 1 - background / total,
                      'distinctColours': len(pixels), 'near': near, 'columns': columns}))
    """#
}
