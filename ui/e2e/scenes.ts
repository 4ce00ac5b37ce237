// Toy scenes for the end-to-end tests: one plain-coloured shape per photo on a light
// background, written as PNG with Node's own zlib, so the tests need no image library.

import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

export type Colour = 'red' | 'green' | 'blue' | 'yellow' | 'purple' | 'orange';
export type Shape = 'circle' | 'square' | 'triangle';

const RGB: Record<Colour, [number, number, number]> = {
  red: [205, 45, 50],
  green: [50, 160, 70],
  blue: [45, 85, 205],
  yellow: [235, 205, 50],
  purple: [130, 65, 175],
  orange: [240, 130, 40],
};

export interface SceneObject {
  colour: Colour;
  shape: Shape;
  /** `[x0, y0, x1, y1]` in pixels. */
  box: [number, number, number, number];
}

export interface Scene {
  width: number;
  height: number;
  objects: SceneObject[];
}

function inside(shape: Shape, [x0, y0, x1, y1]: SceneObject['box'], x: number, y: number): boolean {
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const half = (x1 - x0) / 2;
  if (shape === 'square') return x >= x0 && x <= x1 && y >= y0 && y <= y1;
  if (shape === 'circle') return (x - cx) ** 2 + (y - cy) ** 2 <= half * half;
  if (y < y0 || y > y1) return false;
  return Math.abs(x - cx) <= ((y - y0) / (y1 - y0)) * half;
}

export function render(scene: Scene): Buffer {
  const { width, height } = scene;
  const pixels = Buffer.alloc(width * height * 3, 246);
  for (const object of scene.objects) {
    const [r, g, b] = RGB[object.colour];
    for (let y = Math.floor(object.box[1]); y <= Math.ceil(object.box[3]) && y < height; y += 1) {
      for (let x = Math.floor(object.box[0]); x <= Math.ceil(object.box[2]) && x < width; x += 1) {
        if (inside(object.shape, object.box, x + 0.5, y + 0.5)) {
          const offset = (y * width + x) * 3;
          pixels[offset] = r;
          pixels[offset + 1] = g;
          pixels[offset + 2] = b;
        }
      }
    }
  }
  return encodePng(width, height, pixels);
}

export function writeScene(path: string, scene: Scene): void {
  writeFileSync(path, render(scene));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Encodes 8-bit RGB pixels as a PNG file. */
export function encodePng(width: number, height: number, rgb: Buffer): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    rows[y * (width * 3 + 1)] = 0; // filter: none
    rgb.copy(rows, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}
