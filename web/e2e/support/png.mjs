// Test pictures made from scratch: a small landscape PNG (sky, sun, hills) as the reference image.
import { deflateSync } from "node:zlib";

const crcTable = Array.from({ length: 256 }, (_, byte) => {
  let crc = byte;
  for (let bit = 0; bit < 8; bit += 1) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  return crc >>> 0;
});

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

const mix = (a, b, t) => Math.round(a + (b - a) * t);

function pixel(x, y, width, height) {
  const u = x / width;
  const v = y / height;
  const sun = Math.hypot(x - width * 0.7, y - height * 0.32) < height * 0.11;
  const far = height * (0.62 + 0.06 * Math.sin(u * 7));
  const near = height * (0.74 + 0.05 * Math.sin(u * 4 + 1.5));
  if (y > near) return [mix(56, 30, v), mix(120, 80, v), mix(70, 45, v)];
  if (y > far) return [mix(96, 70, v), mix(150, 120, v), mix(110, 90, v)];
  if (sun) return [255, 214, 120];
  return [mix(120, 250, v), mix(160, 190, v), mix(230, 190, v)];
}

/** A width × height RGB PNG of a landscape. */
export function landscapePng(width = 512, height = 384) {
  const rowLength = 1 + width * 3;
  const pixels = Buffer.alloc(rowLength * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = y * rowLength + 1 + x * 3;
      const [r, g, b] = pixel(x, y, width, height);
      pixels[at] = r;
      pixels[at + 1] = g;
      pixels[at + 2] = b;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8);
  header.writeUInt8(2, 9);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(pixels)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
