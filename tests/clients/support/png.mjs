// A valid PNG built from scratch (signature, IHDR, zlib-compressed IDAT, IEND), and a reader for
// the fields the test checks.
import { deflateSync } from "node:zlib";

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte;
  for (let bit = 0; bit < 8; bit += 1) {
    crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return crc >>> 0;
});

export function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const typeAndData = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

function header(width, height) {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data.writeUInt8(8, 8); // bit depth
  data.writeUInt8(2, 9); // colour type: RGB
  return data; // compression, filter and interlace methods stay 0
}

function gradientRows(width, height, blue) {
  const rowLength = 1 + width * 3;
  const pixels = Buffer.alloc(rowLength * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = y * rowLength + 1 + x * 3; // each row starts with filter type 0
      pixels[at] = Math.round((255 * x) / (width - 1));
      pixels[at + 1] = Math.round((255 * y) / (height - 1));
      pixels[at + 2] = blue;
    }
  }
  return pixels;
}

/** An RGB gradient image of the given size and blue level (0-255), as PNG file bytes. */
export function makePng(width, height, blue = 128) {
  return Buffer.concat([
    PNG_SIGNATURE,
    chunk("IHDR", header(width, height)),
    chunk("IDAT", deflateSync(gradientRows(width, height, blue))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

export function isPng(bytes) {
  return Buffer.from(bytes.subarray(0, 8)).equals(PNG_SIGNATURE);
}

/** Width and height from the IHDR chunk, which a valid PNG always has first. */
export function pngSize(bytes) {
  const view = Buffer.from(bytes);
  if (view.toString("ascii", 12, 16) !== "IHDR") {
    throw new Error("not a PNG: the first chunk is not IHDR");
  }
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
}
